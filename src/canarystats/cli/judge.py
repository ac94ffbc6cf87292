"""``canarystats judge``: judge a canary, print the report, exit with the verdict.

The exit code is the verdict's (:func:`canarystats.exit_codes.for_verdict`); ``--soft-fail``
turns 1 and 3 into 0 and says which code it hid, and ``--history`` records both, so a team can
watch what the judge would have stopped before letting it stop anything.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from canarystats.cli.console import Console, isatty
from canarystats.cli.inputs import (
    canary_start,
    fetch_frame,
    load_config_file,
    pre_window,
    read_data,
)
from canarystats.cli.options import EPILOG, REPORT_FORMATS, add_window_flags, score
from canarystats.errors import DataError
from canarystats.exit_codes import ExitCode

if TYPE_CHECKING:
    from canarystats.config import CanaryConfig
    from canarystats.results import Judgment

__all__ = ["NAME", "Finish", "add_parser", "run"]

NAME = "judge"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``judge`` to the subcommands ``commands`` (from ``add_subparsers``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="canarystats")
    >>> judge = add_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["judge", "web.yaml", "--soft-fail"]).soft_fail
    True
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="judge a canary and exit 0 pass, 1 fail, 2 usage, 3 no verdict",
        description="Fetch (or read) the metrics of both cohorts, judge them, print the "
        "report and exit with the verdict.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", metavar="CONFIG", help="canary config (YAML or JSON)")
    add_window_flags(parser)
    parser.add_argument(
        "--data", metavar="FILE", help="judge a saved tidy frame (.csv/.parquet/.json) offline"
    )
    parser.add_argument("--format", choices=REPORT_FORMATS, default="text", help="report format")
    parser.add_argument("--output", metavar="FILE", help="write the report here (atomically)")
    parser.add_argument(
        "--soft-fail",
        action="store_true",
        help="exit 0 instead of 1 or 3, printing the code it would have returned",
    )
    parser.add_argument("--marginal-ok", action="store_true", help="a marginal verdict passes")
    parser.add_argument("--pass-score", type=score, metavar="N", help="override pass_score")
    parser.add_argument("--marginal-score", type=score, metavar="N", help="override marginal")
    parser.add_argument("--method", metavar="NAME", help="judging method override")
    parser.add_argument("--history", metavar="FILE", help="append the run to this SQLite file")
    return parser


def run(args: argparse.Namespace, console: Console) -> int:
    """Judge, print or write the report, record the run; return the exit code.

    The exit code is the verdict's whatever happens to the files: a report that cannot be
    written to ``--output`` is printed on stdout instead, a run that cannot be recorded in
    ``--history`` is not, and each says so in one warning line that names the verdict.

    Examples
    --------
    >>> import sys
    >>> from canarystats.cli import build_parser
    >>> args = build_parser().parse_args(
    ...     ["judge", "examples/web.yaml", "--data", "fixtures/seed-incident.csv"])
    >>> run(args, Console(sys.stdout, sys.stderr))  # doctest: +SKIP
    1
    """
    from canarystats.errors import SourceError
    from canarystats.exit_codes import for_verdict
    from canarystats.judgment import judge
    from canarystats.report import render

    config = load_config_file(args)
    if args.method is not None or args.pass_score is not None or args.marginal_score is not None:
        config = config.with_judge(
            method=args.method, pass_score=args.pass_score, marginal_score=args.marginal_score
        )
    window: tuple[datetime, datetime] | None = None
    scopes: dict[str, str] = {}
    try:
        if args.data is not None:
            frame, window, scopes = read_data(config, args, console)
        else:
            frame, window, scopes = fetch_frame(config, args, console)
    except SourceError as exc:
        console.note(f"error: {exc}")
        finish = Finish(args, console, None, int(exc.exit_code))
        finish.soft_fail_note()
        finish.record(config, window, scopes)
        return finish.code
    console.progress(f"judging {len(config.metrics)} metrics")
    start = canary_start(args)
    if start is not None:
        config = config.with_judge(pre_window=pre_window(config, args))
    judgment = judge(config, frame, start=start)
    finish = Finish(
        args, console, judgment, int(for_verdict(judgment.verdict, marginal_ok=args.marginal_ok))
    )
    report = render(
        judgment,
        args.format,
        frame=frame,
        config=config,
        window=window,
        scopes=scopes,
        color=args.output is None and isatty(console.stdout) and "NO_COLOR" not in os.environ,
    )
    finish.deliver(report)
    finish.soft_fail_note()
    finish.record(config, window, scopes)
    return finish.code


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
