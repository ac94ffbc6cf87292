"""``canarystats judge``: judge a canary, print the report, exit with the verdict.

The exit code is the verdict's (:func:`canarystats.exit_codes.for_verdict`); ``--soft-fail``
turns 1 and 3 into 0 and says which code it hid, and ``--history`` records both, so a team can
watch what the judge would have stopped before letting it stop anything.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

__all__ = ["NAME", "add_parser", "run"]

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
    from canarystats.frame import write_atomic
    from canarystats.judgment import judge
    from canarystats.report import render

    if args.history is not None and Path(args.history).is_dir():
        raise DataError(f"--history {args.history} is a folder; give a file name")
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
        return _finish(args, console, None, config, int(exc.exit_code), window, scopes)
    console.progress(f"judging {len(config.metrics)} metrics")
    start = canary_start(args)
    if start is not None:
        config = config.with_judge(pre_window=pre_window(config, args))
    judgment = judge(config, frame, start=start)
    code = int(for_verdict(judgment.verdict, marginal_ok=args.marginal_ok))
    report = render(
        judgment,
        args.format,
        frame=frame,
        config=config,
        window=window,
        scopes=scopes,
        color=args.output is None and isatty(console.stdout) and "NO_COLOR" not in os.environ,
    )
    if args.output is not None:
        write_atomic(args.output, report)
        console.note(
            f"{judgment.verdict} (score {judgment.score:.0f}); report written to {args.output}"
        )
    else:
        console.stdout.write(report)
        console.stdout.flush()
    return _finish(args, console, judgment, config, code, window, scopes)


def _finish(
    args: argparse.Namespace,
    console: Console,
    judgment: Judgment | None,
    config: CanaryConfig,
    would_exit: int,
    window: tuple[datetime, datetime] | None,
    scopes: Mapping[str, str],
) -> int:
    """Apply ``--soft-fail`` and record the run in ``--history``; return the exit code."""
    code = would_exit
    if args.soft_fail and would_exit in (ExitCode.FAIL, ExitCode.NO_VERDICT):
        code = int(ExitCode.PASS)
        what = judgment.verdict if judgment is not None else "no verdict (source failed)"
        console.note(
            f"soft-fail: {what} would have exited {would_exit}; exiting 0 "
            "(drop --soft-fail to stop deploys)"
        )
    if args.history is not None:
        from canarystats.history import append

        append(
            args.history,
            judgment,
            config_name=config.name,
            exit_code=code,
            would_exit=would_exit,
            soft_fail=bool(args.soft_fail),
            window=window,
            scopes=scopes,
        )
    return code
