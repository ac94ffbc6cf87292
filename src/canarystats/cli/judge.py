"""``canarystats judge``: judge a canary, print the report, exit with the verdict.

The exit code is the verdict's (:func:`canarystats.exit_codes.for_verdict`); ``--soft-fail``
turns 1 and 3 into 0 and says which code it hid, and ``--history`` records both, so a team can
watch what the judge would have stopped before letting it stop anything.  With a canary start and
a ``sequential`` plan in the config, the report adds one line on what the plan would have
decided on the same data; the verdict and the exit code stay the one-shot judge's.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from canarystats.cli.console import Console, isatty
from canarystats.cli.finish import Finish
from canarystats.cli.inputs import (
    canary_start,
    fetch_frame,
    load_config_file,
    name_missing_data,
    naming_the_data,
    pre_window,
    read_data,
)
from canarystats.cli.monitor_states import add_monitor_flags, monitor_states
from canarystats.cli.options import (
    EPILOG,
    REPORT_FORMATS,
    add_late_limit_flag,
    add_window_flags,
    score,
)
from canarystats.cli.post_event import add_post_flags, post_verdict
from canarystats.methods.registry import method_names

if TYPE_CHECKING:
    import pandas as pd

    from canarystats.config import CanaryConfig
    from canarystats.sequential import SequentialJudgment

__all__ = ["NAME", "add_parser", "run", "sequential_preview"]

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
        "--data",
        metavar="FILE",
        help="judge a saved tidy frame (.csv/.parquet/.json, .csv.gz/.json.gz) offline",
    )
    parser.add_argument(
        "--format",
        choices=REPORT_FORMATS,
        default="text",
        help="report format: %(choices)s (default %(default)s)",
    )
    parser.add_argument("--output", metavar="FILE", help="write the report here (atomically)")
    parser.add_argument(
        "--soft-fail",
        action="store_true",
        help="exit 0 instead of 1 or 3, printing the code it would have returned",
    )
    parser.add_argument("--marginal-ok", action="store_true", help="a marginal verdict passes")
    parser.add_argument(
        "--pass-score",
        type=score,
        metavar="N",
        help="lowest score (0-100) that passes, instead of the config's judge.pass_score",
    )
    parser.add_argument(
        "--marginal-score",
        type=score,
        metavar="N",
        help="lowest score (0-100) that is marginal rather than a fail, instead of the "
        "config's judge.marginal_score",
    )
    parser.add_argument(
        "--method",
        choices=method_names(),
        metavar="NAME",
        help="judging method instead of the config's judge.method: %(choices)s",
    )
    parser.add_argument("--history", metavar="FILE", help="append the run to this SQLite file")
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="judge sequentially (the config's sequential plan): take the looks due so far, "
        "keep them in FILE, exit 4 while undecided; call again until 0, 1 or 3",
    )
    add_late_limit_flag(parser, scope="with --state: ")
    add_monitor_flags(parser)
    add_post_flags(parser)
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

    if args.state is not None:
        from canarystats.cli.judge_state import run_with_state

        return run_with_state(args, console)
    config = load_config_file(args, console)
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
            name_missing_data(config, frame, console, scopes=scopes)
        states = monitor_states(config, args, console, window)
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
    with naming_the_data(args):
        judgment = judge(config, frame, start=start, monitors=states)
        preview = sequential_preview(config, frame, start, states, console)
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
        sequential_preview=preview,
        exit_code=finish.code,
        would_exit=finish.would_exit,
    )
    finish.deliver(report)
    if args.post_event or args.post_score:
        # The event's text is the Markdown report, whatever --format printed.
        markdown = (
            report
            if args.format == "markdown"
            else render(
                judgment,
                "markdown",
                frame=frame,
                config=config,
                window=window,
                scopes=scopes,
                sequential_preview=preview,
            )
        )
        post_verdict(args, console, judgment, markdown)
    finish.soft_fail_note()
    finish.record(config, window, scopes)
    return finish.code


def sequential_preview(
    config: CanaryConfig,
    frame: pd.DataFrame,
    start: datetime | None,
    states: pd.DataFrame | None,
    console: Console,
) -> SequentialJudgment | None:
    """What the config's sequential plan would have decided on a one-shot judge's data.

    None without a plan or a canary start (the looks count from the start).  A plan the data
    cannot be judged under (another method than ``hosts``, say) is one note on stderr, not an
    error: the preview is a by-product and must not change the one-shot verdict or exit code.

    Examples
    --------
    >>> import io
    >>> from canarystats import load_config
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "q"}]})
    >>> sequential_preview(cfg, None, None, None, Console(io.StringIO(), io.StringIO())) is None
    True
    """
    if config.sequential is None or start is None:
        return None
    # Imported only for a plan: most one-shot judgments have none.
    from canarystats.errors import CanaryStatsError
    from canarystats.sequential import judge_sequential

    try:
        return judge_sequential(config, frame, start=start, monitors=states)[0]
    except CanaryStatsError as exc:
        console.note(f"warning: no sequential preview: {exc}")
        return None
