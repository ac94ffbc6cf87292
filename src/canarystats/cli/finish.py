"""The end of a judged run: its exit code, its report delivered, its record in the history.

Shared by ``judge`` and its sequential form (``judge --state``) so both keep the verdict
whatever happens to the files.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from canarystats.cli.console import Console
from canarystats.errors import DataError
from canarystats.exit_codes import ExitCode

if TYPE_CHECKING:
    from canarystats.config import CanaryConfig
    from canarystats.results import Judgment

__all__ = ["Finish"]


class Finish:
    """A judged run at its finish: its exit code, its report, its record in the history.

    Writing the report and recording the run are by-products of the verdict: when either
    fails, one warning line says what failed, what to do and what the verdict was, and the
    exit code stays the verdict's.  This holds even for a ``--history`` file that is not a
    canarystats history, a mistake that would otherwise be a usage error (exit 2): a pipeline
    that judged a deploy must not lose its verdict to the file it keeps notes in.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``judge`` flags.
    console : Console
        Where the report and the messages go.
    judgment : Judgment or None
        None when the source failed and there is no verdict.
    would_exit : int
        The verdict's exit code, before ``--soft-fail``.

    Examples
    --------
    >>> import io
    >>> from canarystats.cli import build_parser
    >>> args = build_parser().parse_args(["judge", "web.yaml", "--soft-fail"])
    >>> Finish(args, Console(io.StringIO(), io.StringIO()), None, 3).code
    0
    """

    def __init__(
        self,
        args: argparse.Namespace,
        console: Console,
        judgment: Judgment | None,
        would_exit: int,
    ) -> None:
        self.args = args
        self.console = console
        self.judgment = judgment
        self.would_exit = would_exit
        hidden = args.soft_fail and would_exit in (ExitCode.FAIL, ExitCode.NO_VERDICT)
        #: what the command exits with
        self.code = int(ExitCode.PASS) if hidden else would_exit

    @property
    def outcome(self) -> str:
        """The verdict and the exit code, as the end of a warning line."""
        codes = (
            f"exit {self.code}"
            if self.code == self.would_exit
            else f"exit {self.code} with --soft-fail, {self.would_exit} without"
        )
        if self.judgment is None:
            return f"there was no verdict (the source failed; {codes})"
        return f"the verdict was {str(self.judgment.verdict).upper()} ({codes})"

    def deliver(self, report: str) -> None:
        """Write the report to ``--output``, or print it; on stdout too when the file fails."""
        from canarystats.frame import write_atomic
        from canarystats.report.context import score_text

        if self.args.output is not None:
            try:
                write_atomic(self.args.output, report)
            except DataError as exc:
                self.console.note(
                    f"warning: {exc}; the report is on stdout instead; {self.outcome}"
                )
            else:
                verdict = self.judgment
                summary = (
                    f"{verdict.verdict} (score {score_text(verdict.score)})"
                    if verdict
                    else "no verdict"
                )
                self.console.note(f"{summary}; report written to {self.args.output}")
                return
        try:
            self.console.stdout.write(report)
            self.console.stdout.flush()
        except OSError as exc:
            # A reader that went away (a closed pipe) needs no message; a full disk behind a
            # redirection does.  Either way the verdict still decides the exit code.
            if exc.errno != errno.EPIPE:
                reason = exc.strerror or str(exc)
                self.console.note(f"warning: cannot print the report ({reason}); {self.outcome}")
            _discard_stream(self.console.stdout)

    def soft_fail_note(self) -> None:
        """Say which exit code ``--soft-fail`` hid, if it hid one."""
        if self.code != self.would_exit:
            what = (
                self.judgment.verdict if self.judgment is not None else "no verdict (source failed)"
            )
            self.console.note(
                f"soft-fail: {what} would have exited {self.would_exit}; exiting 0 "
                "(drop --soft-fail to stop deploys)"
            )

    def record(
        self,
        config: CanaryConfig,
        window: tuple[datetime, datetime] | None,
        scopes: Mapping[str, str],
    ) -> None:
        """Append the run to ``--history``, waiting up to ``--deadline`` for a lock."""
        if self.args.history is None:
            return
        from canarystats.history import append

        try:
            append(
                self.args.history,
                self.judgment,
                config_name=config.name,
                exit_code=self.code,
                would_exit=self.would_exit,
                soft_fail=bool(self.args.soft_fail),
                window=window,
                scopes=scopes,
                lock_timeout=self.args.deadline,
            )
        except DataError as exc:
            self.console.note(f"warning: --history {exc}; the run was not recorded; {self.outcome}")


def _discard_stream(stream: TextIO) -> None:
    # The interpreter flushes stdout once more at exit: what a failed stream still buffers
    # would fail again there, with a traceback and exit status 120 (Python's rule for an
    # error after SystemExit), so the stream's descriptor is pointed at the null device.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)
