"""``canarystats watch``: follow a canary look by look until the sequential plan decides.

``watch CONFIG --start T0`` polls the source (one request per metric per poll), takes each look
of the config's ``sequential`` plan once its data has arrived, prints one line per look, and
exits at the first boundary: 1 fail, 0 pass (early, or at the horizon), 3 no verdict (no data,
or the source down past its retries).  With ``--state FILE`` every look is kept as it is taken,
so a watch stopped by Ctrl-C, SIGTERM or a crash resumes where it stopped (``watch`` or
``judge --state`` with the same file).
"""

from __future__ import annotations

import argparse
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from canarystats.cli.console import Console
from canarystats.cli.monitor_states import add_monitor_flags
from canarystats.cli.options import (
    EPILOG,
    REPORT_FORMATS,
    add_late_limit_flag,
    add_window_flags,
    positive_seconds,
)
from canarystats.cli.post_event import add_post_flags
from canarystats.errors import SourceError
from canarystats.exit_codes import ExitCode

__all__ = ["NAME", "add_parser", "look_line", "run"]

NAME = "watch"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``watch`` to the subcommands ``commands`` (from ``add_subparsers``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="canarystats")
    >>> watch = add_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["watch", "web.yaml", "--start", "now", "--poll", "5"]).poll
    5.0
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="follow a canary look by look (sequential plan); exit 0 pass, 1 fail, 3 no verdict",
        description="Ask the source once each look of the config's sequential plan is due "
        "(again every --poll seconds at most while its data is late), take the look, print one "
        "line per look, and exit at the first boundary.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", metavar="CONFIG", help="canary config with a sequential plan")
    add_window_flags(parser)
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="keep the looks in FILE, so a stopped watch resumes (watch or judge --state)",
    )
    parser.add_argument(
        "--poll",
        type=positive_seconds("poll"),
        default=30.0,
        metavar="DUR",
        help="longest wait between polls while a due look's data is late: seconds or a "
        "duration such as 1m (default 30 s)",
    )
    add_late_limit_flag(parser)
    parser.add_argument(
        "--format",
        choices=REPORT_FORMATS,
        default="text",
        help="format of the final report: %(choices)s (default %(default)s)",
    )
    parser.add_argument("--output", metavar="FILE", help="write the final report here")
    parser.add_argument("--marginal-ok", action="store_true", help="a marginal verdict passes")
    parser.add_argument("--history", metavar="FILE", help="append the decision to this file")
    add_monitor_flags(parser)
    add_post_flags(parser)
    # What judge's helpers read and watch does not offer.
    parser.set_defaults(data=None, soft_fail=False)
    return parser


def run(args: argparse.Namespace, console: Console) -> int:
    """Poll until decided; return the decision's exit code (130 when interrupted).

    Examples
    --------
    >>> run(args, console)  # doctest: +SKIP
    1
    """
    import pandas as pd

    from canarystats.cli.judge_state import conclude, poll, sequential_setup
    from canarystats.sequential.state import write_state

    config, state, start = sequential_setup(args, "watch", console)
    plan = config.sequential
    assert plan is not None
    times = plan.look_times()
    late = 0  # polls since the next look fell due without its data
    with _terminate_as_interrupt():
        try:
            while True:
                try:
                    polled = poll(config, args, console, state, start)
                except SourceError as exc:
                    console.note(f"error: {exc}; no verdict ({_where(state, plan.horizon)})")
                    return int(exc.exit_code)
                taken = len(state.looks)
                state = polled.state
                if args.state is not None:
                    write_state(args.state, state)
                result = polled.result
                if len(state.looks) > taken or result.verdict != "undecided":
                    console.note(look_line(result))
                if polled.late is not None:
                    console.note(
                        f"error: {polled.late}; no verdict ({_where(state, plan.horizon)}); "
                        + _kept(args.state)
                    )
                    return int(ExitCode.NO_VERDICT)
                if result.verdict != "undecided":
                    return conclude(config, args, console, polled)
                late = 0 if len(state.looks) > taken else late
                due = start + pd.Timedelta(seconds=times[len(state.looks)])
                wait, overdue = _wait(due, args.poll, late)
                late += overdue
                time.sleep(wait)
        except KeyboardInterrupt:
            console.note(f"watch: interrupted {_where(state, plan.horizon)}; {_kept(args.state)}")
            return int(ExitCode.INTERRUPTED)


def look_line(result: Any) -> str:
    """One line for the look just taken: where the canary stands, metric by metric.

    Examples
    --------
    >>> look_line(result)  # doctest: +SKIP
    'look 2 of 6, minute 10 of 30: undecided; latency open, errors ruled out'
    """
    d, plan = result.decision, result.plan
    parts = [f"{name} {path.status[-1]}" for name, path in d.paths.items() if path.status]
    verdict = "undecided" if result.verdict == "undecided" else str(result.verdict).upper()
    return (
        f"look {d.look} of {plan.n_looks}, minute {d.at / 60:g} of {plan.horizon / 60:g}: "
        f"{verdict}; " + ", ".join(parts)
    )


def _kept(path: str | None) -> str:
    if path is None:
        return "without --state the looks are lost"
    return f"the looks are in {path}; run the same command to resume"


def _where(state: Any, horizon: int) -> str:
    taken = len(state.looks)
    return f"after {taken} look{'s' if taken != 1 else ''} of the {horizon / 60:g}-minute plan"


def _wait(due: Any, poll: float, late: int, now: Any = None) -> tuple[float, bool]:
    """Seconds to sleep before the next poll, and whether the next look is overdue.

    Until the next look's data should be in, that long: a poll before then could take no look,
    so it would only cost the source a query (one request per metric per look is the aim).
    Past it, the source is late (an integration that lags, a replay behind its clock): wait
    1 s, then 2, 4, ... up to ``poll`` over the ``late`` polls so far, so a late source is asked
    again soon but never many times a second.

    Examples
    --------
    >>> import pandas as pd
    >>> now = pd.Timestamp("2026-01-01T00:10:00Z")
    >>> _wait(now - pd.Timedelta(minutes=5), 30.0, 3, now)
    (8.0, True)
    >>> _wait(now + pd.Timedelta(seconds=60), 30.0, 0, now)  # due in 60 s + the ingest delay
    (180.0, False)
    """
    import pandas as pd

    from canarystats.cli.judge_state import INGEST_DELAY_S

    ready = due + pd.Timedelta(seconds=INGEST_DELAY_S)
    left = (ready - (now if now is not None else pd.Timestamp.now(tz="UTC"))).total_seconds()
    if left > 0:
        return float(left), False
    return float(min(poll, 2.0 ** min(late, 30))), True


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a pipeline cancelling the step) stops the watch like Ctrl-C: cleanly."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
