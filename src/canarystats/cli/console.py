"""Where the command's messages go: the report on stdout, progress and errors on stderr.

Progress lines appear only when stderr is a terminal, so a CI log shows one line per error and
nothing else; every message passes through :func:`scrub`, so no Datadog key is ever printed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from typing import TextIO

__all__ = ["Console", "isatty", "logging_to", "scrub"]

#: environment variables whose values must never appear in a message
KEY_VARIABLES = ("DD_API_KEY", "DD_APP_KEY", "DD_APPLICATION_KEY", "DATADOG_API_KEY")


class Console:
    """Where messages go: progress only on a terminal, errors always, keys never.

    Parameters
    ----------
    stdout, stderr : text streams
        The report goes to ``stdout``; progress, notes and errors to ``stderr``.

    Examples
    --------
    >>> import io
    >>> console = Console(io.StringIO(), io.StringIO())
    >>> console.progress("fetching")  # not a terminal: nothing
    >>> console.note("done")
    >>> console.stderr.getvalue()
    'canarystats: done\\n'
    """

    def __init__(self, stdout: TextIO, stderr: TextIO) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.tty = isatty(stderr)

    def progress(self, message: str) -> None:
        """Say what the command is doing, on a terminal only."""
        if self.tty:
            print(f"canarystats: {message}", file=self.stderr, flush=True)

    def note(self, message: str) -> None:
        """Say something the user must see (a warning, where the report went), keys removed."""
        print(f"canarystats: {scrub(message)}", file=self.stderr, flush=True)


@contextlib.contextmanager
def logging_to(console: Console) -> Iterator[None]:
    """Route the library's log records to the console while a command runs.

    Examples
    --------
    >>> import io
    >>> with logging_to(Console(io.StringIO(), io.StringIO())):
    ...     logging.getLogger("canarystats").warning("retrying")
    """
    # The library logs retries and request counts; on a terminal they are progress, elsewhere
    # they would add lines to a CI log that must show one line per error (and Python's
    # last-resort handler would print warnings), so they go nowhere.  The logger is restored
    # afterwards: main() is also called in-process (tests, notebooks).
    logger = logging.getLogger("canarystats")
    saved = (logger.propagate, logger.level)
    handler: logging.Handler
    if console.tty:
        handler = logging.StreamHandler(console.stderr)
        handler.setFormatter(logging.Formatter("canarystats: %(message)s"))
        logger.setLevel(logging.INFO)
    else:
        handler = logging.NullHandler()
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
    """Remove key values (``DD_API_KEY``, ``DD_APP_KEY``) from a message and keep one line.

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
    return " ".join(text.split())
