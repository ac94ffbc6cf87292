"""Where the command's messages go: the report on stdout, progress and errors on stderr.

Progress lines (what the command is doing, a request retried and how long it waits) go to
stderr whether or not it is a terminal, so a CI log shows what a long fetch is waiting for: one
line per event, each starting ``canarystats:``, with no control characters.  How much is said
is the :class:`Verbosity`: ``--quiet`` keeps only warnings and errors, ``-v`` adds the
library's debug details (each request, warnings from numpy or pandas).  Every message passes
through :func:`scrub`, so no Datadog key is ever printed.

On a terminal, long work (a fetch of many metrics, a backtest of many deploys) also shows a
progress bar (:meth:`Console.bar`, drawn by :class:`~canarystats.cli.progress.ProgressBar`):
one line redrawn in place and wiped at the end; a message meanwhile wipes it, takes its own
line, and the bar is drawn again below it.  Never off a terminal, never with ``--quiet``.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from typing import TextIO

from canarystats.cli.progress import ProgressBar

__all__ = ["Console", "Verbosity", "isatty", "logging_to", "scrub"]

#: environment variables whose values must never appear in a message
KEY_VARIABLES = (
    "DD_API_KEY",
    "DD_APP_KEY",
    "DD_APPLICATION_KEY",
    "DATADOG_API_KEY",
    "DATADOG_APP_KEY",
)


class Verbosity(enum.IntEnum):
    """How much the command says on stderr besides its errors and warnings.

    Each is the lowest :mod:`logging` level shown.

    Examples
    --------
    >>> Verbosity.QUIET > Verbosity.NORMAL > Verbosity.VERBOSE
    True
    """

    #: ``--quiet``: warnings and errors only
    QUIET = logging.WARNING
    #: the default: progress and retries too
    NORMAL = logging.INFO
    #: ``-v``: the library's debug details too
    VERBOSE = logging.DEBUG


class Console:
    """Where messages go: progress unless quiet, warnings and errors always, keys never.

    Parameters
    ----------
    stdout, stderr : text streams
        The report goes to ``stdout``; progress, notes and errors to ``stderr``.
    verbosity : Verbosity
        How much progress to show (default :attr:`Verbosity.NORMAL`).

    Examples
    --------
    >>> import io
    >>> console = Console(io.StringIO(), io.StringIO())
    >>> console.progress("fetching\\x1b[2K 3 metrics")
    >>> console.note("done")
    >>> console.stderr.getvalue()
    'canarystats: fetching[2K 3 metrics\\ncanarystats: done\\n'
    >>> quiet = Console(io.StringIO(), io.StringIO(), Verbosity.QUIET)
    >>> quiet.progress("fetching")
    >>> quiet.stderr.getvalue()
    ''
    """

    def __init__(
        self, stdout: TextIO, stderr: TextIO, verbosity: Verbosity = Verbosity.NORMAL
    ) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.tty = isatty(stderr)
        self.verbosity = verbosity
        self._bar: ProgressBar | None = None

    def progress(self, message: str) -> None:
        """Say what the command is doing, in one line, unless quiet."""
        if self.verbosity <= Verbosity.NORMAL:
            self.line(f"canarystats: {scrub(message)}")

    def note(self, message: str) -> None:
        """Say something the user must see (a warning, where the report went), keys removed."""
        self.line(f"canarystats: {scrub(message)}")

    def line(self, text: str) -> None:
        """Write one finished line to stderr, below a progress bar that is being drawn."""
        bar = self._bar
        if bar is not None:
            bar.clear()
        print(text, file=self.stderr, flush=True)
        if bar is not None:
            bar.draw()

    @contextlib.contextmanager
    def bar(
        self, label: str, total: int, *, unit: str, minimum: int = 1
    ) -> Iterator[Callable[[int], None] | None]:
        """A progress bar for the work inside the block; yields ``update(done)``, or None.

        The bar is drawn only on a terminal, unless quiet, and for at least ``minimum`` units of
        work (a short fetch would only flicker); otherwise the block gets None, and may then do
        its work in one piece.  The bar is wiped when the block ends, also on an error.

        Examples
        --------
        >>> import io
        >>> console = Console(io.StringIO(), io.StringIO())
        >>> with console.bar("fetching", 30, unit="metrics") as update:
        ...     print(update)
        None
        """
        shown = self.tty and self.verbosity <= Verbosity.NORMAL and total >= max(minimum, 1)
        if not shown or self._bar is not None:
            yield None
            return
        bar = ProgressBar(self.stderr, label, total, unit=unit)
        self._bar = bar
        try:
            bar.update(0)
            yield bar.update
        finally:
            self._bar = None
            bar.close()


@contextlib.contextmanager
def logging_to(console: Console) -> Iterator[None]:
    """Route the library's log records to the console while a command runs.

    Examples
    --------
    >>> import io
    >>> console = Console(io.StringIO(), io.StringIO())
    >>> with logging_to(console):
    ...     logging.getLogger("canarystats").info("retrying in\\n2 s")
    >>> console.stderr.getvalue()
    'canarystats: retrying in 2 s\\n'
    """
    # The library logs retries (info), request details (debug) and what it could not do
    # (warnings): they are the command's progress, one scrubbed line each, as much as the
    # verbosity asks for.  The logger is restored afterwards: main() is also called in-process
    # (tests, notebooks).
    logger = logging.getLogger("canarystats")
    saved = (logger.propagate, logger.level)
    handler = _ConsoleHandler(console)
    handler.setFormatter(_OneLine("canarystats: %(message)s"))
    logger.setLevel(int(console.verbosity))
    logger.propagate = False
    logger.addHandler(handler)
    try:
        # A numpy or pandas warning is about the code, not the user's data: it goes to the log
        # at debug level (never a terminal's stderr between the report's lines).
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = _log_warning
            yield
    finally:
        logger.removeHandler(handler)
        logger.propagate, _ = saved
        logger.setLevel(saved[1])


class _ConsoleHandler(logging.Handler):
    # Through the console, so that a retry line during a fetch's progress bar gets a line of
    # its own instead of being written over the bar.
    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.line(self.format(record))
        except Exception:  # what logging.StreamHandler does: never let a log line end the run
            self.handleError(record)


class _OneLine(logging.Formatter):
    # A record is one line without keys or control characters, however its text came.
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def _log_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    logging.getLogger("canarystats").debug(
        "%s: %s (%s:%d)", category.__name__, message, filename, lineno
    )


def isatty(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (False for streams that cannot tell).

    Examples
    --------
    >>> import io
    >>> isatty(io.StringIO())
    False
    """
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def scrub(text: str) -> str:
    """Remove key values (``DD_API_KEY``, ``DATADOG_APP_KEY``, ...) and control characters from
    a message, and keep one line.

    Examples
    --------
    >>> os.environ["DD_API_KEY"] = "sekrit-123"
    >>> scrub("bad key sekrit-123\\nmore")
    'bad key *** more'
    >>> del os.environ["DD_API_KEY"]
    """
    for var in KEY_VARIABLES:
        value = os.environ.get(var, "")
        if len(value) >= 4:
            text = text.replace(value, "***")
    # Whitespace (newlines, tabs) becomes one space; other control characters (a server's
    # escape sequences, a bell) are dropped, so a line cannot rewrite a terminal or a CI log.
    text = " ".join(text.split())
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
