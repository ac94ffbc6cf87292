"""``canarystats judge --state FILE``: one sequential look per call, for pipelines that poll.

A pipeline step calls the same command again and again (GitHub Actions, GoCD, an Argo analysis
run): each call fetches (or reads) the data so far, takes the looks that are due in data time
(:mod:`canarystats.sequential`), writes the state atomically, and exits 0 pass, 1 fail,
3 no verdict or **4 undecided: call again**.  Extra calls between looks add no look; once
decided, every call repeats the decision.  The first call needs ``--start``; later calls read it
from the state.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from canarystats.cli.console import Console, isatty
from canarystats.cli.inputs import (
    fetch_frame,
    load_config_file,
    name_missing_cohorts,
    naming_the_data,
    pre_window,
    read_data,
)
from canarystats.cli.inputs import scopes as cohort_scopes
from canarystats.cli.monitor_states import monitor_states
from canarystats.cli.post_event import post_verdict
from canarystats.errors import ConfigError, SourceError
from canarystats.exit_codes import ExitCode
from canarystats.report.context import iso
from canarystats.report.sequential_status import render_status

if TYPE_CHECKING:
    from canarystats.config import CanaryConfig
    from canarystats.frame import Window
    from canarystats.sequential import SequentialJudgment
    from canarystats.sequential.state import SequentialState

__all__ = [
    "INGEST_DELAY_S",
    "Poll",
    "conclude",
    "data_reach",
    "poll",
    "run_with_state",
    "sequential_setup",
]

#: how far behind the present Datadog's latest buckets may still be filling in: a look is due
#: only once its data time is this old
INGEST_DELAY_S = 120
#: seconds a canary start may lie ahead of this machine's clock (the deploy tool's clock may
#: run ahead a little); further ahead it is a mistake
CLOCK_SKEW_S = 60


@dataclass
class Poll:
    """One poll of a sequential judgment: the data so far, and where the judgment stands."""

    result: SequentialJudgment
    state: SequentialState
    frame: pd.DataFrame
    window: Window | None
    scopes: dict[str, str]
    decided_before: bool
    #: why the canary ends without a verdict: the next due look has waited for its data longer
    #: than ``--late-limit`` (None while the data may still arrive)
    late: str | None = None


def sequential_setup(
    args: argparse.Namespace, flag: str, console: Console
) -> tuple[CanaryConfig, SequentialState, pd.Timestamp]:
    """The config (with its pre-window), the state to continue and the canary start.

    ``--state`` names a file that may not exist yet (then ``--start`` is needed); without it
    (``watch`` with no state file) a fresh state is kept in memory.
    """
    from canarystats.sequential.state import (
        SequentialState,
        config_digest,
        iso_start,
        read_state,
    )
    from canarystats.timeparse import parse_time

    config = load_config_file(args, console)
    overrides = {
        key: getattr(args, key, None) for key in ("method", "pass_score", "marginal_score")
    }
    if any(value is not None for value in overrides.values()):
        config = config.with_judge(**overrides)
    if config.sequential is None:
        raise ConfigError(
            f"{args.config}: {flag} needs a sequential plan in the config; add "
            "sequential: {horizon: 30m, look_every: 5m}"
        )
    if args.lookback is not None:
        raise ConfigError(f"{flag} looks from --start to the data's end; drop --lookback")
    start = None if args.start is None else pd.Timestamp(parse_time(args.start, flag="--start"))
    now = pd.Timestamp.now(tz="UTC")
    ahead = pd.Timedelta(seconds=CLOCK_SKEW_S)
    if start is not None and getattr(args, "data", None) is None and start > now + ahead:
        # Against Datadog a start still to come would be undecided call after call.
        raise ConfigError(
            f"--start {start.isoformat()} is in the future (now is {now.isoformat()}); give the "
            "time the canary started"
        )
    if args.state is not None:
        state = read_state(args.state, config, start)
    elif start is None:
        raise ConfigError(f"{flag} needs --start, the canary start")
    else:
        state = SequentialState(config_digest(config), iso_start(start))
    args.start = state.start  # the window's start, for fetching or cutting the data
    config = config.with_judge(pre_window=pre_window(config, args))
    return config, state, pd.Timestamp(state.start)


def poll(
    config: CanaryConfig,
    args: argparse.Namespace,
    console: Console,
    state: SequentialState,
    start: pd.Timestamp,
) -> Poll:
    """Fetch (or read) the data so far and take the looks it makes due.

    Raises :class:`canarystats.errors.SourceError` when the source fails past its retries.
    """
    from canarystats.frame import empty_frame
    from canarystats.sequential import judge_sequential
    from canarystats.sequential.looks import due_looks

    plan = config.sequential
    assert plan is not None  # sequential_setup refused a config without one
    wall = pd.Timestamp.now(tz="UTC")
    now = wall - pd.Timedelta(seconds=INGEST_DELAY_S)
    # Between looks no new look can be due: nothing is asked, so a pipeline that calls every
    # few seconds costs the source one query per look, and the call repeats where the looks
    # stand.  A first call asks anyway, so wrong keys or scopes show at once, unless Datadog
    # cannot hold any of the canary window yet (minutes after the deploy).
    times = plan.look_times()
    due = due_looks(times, start, max(now, start))
    idle = (
        args.data is None
        and state.decision is None
        and len(due) <= len(state.looks)
        and (state.calls > 0 or now <= start)
    )
    if args.data is not None:
        frame, window, scopes = read_data(config, args, console)
        end = window[1] if window is not None else start
    elif idle:
        reached = start + pd.Timedelta(seconds=times[len(due) - 1] if due else 0)
        frame, end, scopes = empty_frame(), reached, cohort_scopes(config, args)
        window = (start.to_pydatetime(), reached.to_pydatetime())
        if len(state.looks) < plan.n_looks:
            ready = start + pd.Timedelta(seconds=times[len(state.looks)] + INGEST_DELAY_S)
            console.progress(
                f"no new look is due before {ready.strftime('%H:%M:%SZ')} (minute "
                f"{times[len(state.looks)] / 60:g}, once its data is in); the source was not asked"
            )
    else:
        args.end = min(now.ceil("s"), start + pd.Timedelta(seconds=plan.horizon)).isoformat()
        frame, fetched, scopes = fetch_frame(config, args, console)
        end = data_reach(frame, config.step, fetched[1])
        window = (fetched[0], end.to_pydatetime())
        if state.calls == 0:
            name_missing_cohorts(frame, console, scopes=scopes)
    states = None if idle else monitor_states(config, args, console, window)
    with naming_the_data(args):
        result, updated = judge_sequential(
            config, frame, start=start, end=end, state=state, monitors=states
        )
    updated, late = _waiting(updated, state, args, len(due), wall, end)
    return Poll(result, updated, frame, window, scopes, state.decision is not None, late)


def _waiting(
    updated: SequentialState,
    before: SequentialState,
    args: argparse.Namespace,
    due: int,
    wall: pd.Timestamp,
    end: datetime | pd.Timestamp,
) -> tuple[SequentialState, str | None]:
    """The state with the time its next due look has waited for data since, and why the canary
    ends without a verdict when that is longer than ``--late-limit`` (None otherwise).

    An intake delay passes, a broken agent does not.  The wait is counted on this machine's
    clock from the first call that found the look due without its data, so a replay served as
    of a moving clock waits no longer than a live canary does.
    """
    limit = args.late_limit
    taken = len(updated.looks)
    if args.data is not None or updated.decision is not None or taken >= due:
        return replace(updated, waiting_since=None), None
    kept = before.waiting_since if taken == len(before.looks) else None
    since = wall if kept is None else pd.Timestamp(kept)
    updated = replace(updated, waiting_since=iso(since))
    waited = (wall - since).total_seconds()
    if waited <= limit:
        return updated, None
    return updated, (
        f"no data for look {taken + 1} has arrived in {waited / 60:.0f} min of waiting (the data "
        f"reaches {pd.Timestamp(end).strftime('%H:%M:%SZ')}; --late-limit {limit / 60:g} min)"
    )


def run_with_state(args: argparse.Namespace, console: Console) -> int:
    """Take the due looks of the canary in ``--state``, report, and return the exit code.

    Examples
    --------
    >>> run_with_state(args, console)  # doctest: +SKIP
    4
    """
    from canarystats.cli.finish import Finish
    from canarystats.sequential.state import write_state

    config, state, start = sequential_setup(args, "--state", console)
    try:
        polled = poll(config, args, console, state, start)
    except SourceError as exc:
        console.note(f"error: {exc}")
        finish = Finish(args, console, None, int(exc.exit_code))
        finish.soft_fail_note()
        return finish.code
    write_state(args.state, polled.state)
    if polled.late is None and polled.state.waiting_since is not None:
        # A pipeline's call should say why it took no look (watch polls again by itself).
        console.progress(
            f"look {len(polled.state.looks) + 1} is due but its data has not arrived yet "
            f"(waiting since {polled.state.waiting_since}; --late-limit "
            f"{args.late_limit / 60:g} min)"
        )
    if polled.late is not None:
        console.note(
            f"error: {polled.late}; no verdict. The looks are kept in {args.state}: call again "
            "to go on once the data arrives"
        )
        finish = Finish(args, console, None, int(ExitCode.NO_VERDICT))
        finish.soft_fail_note()
        return finish.code
    return conclude(config, args, console, polled)


def conclude(config: CanaryConfig, args: argparse.Namespace, console: Console, polled: Poll) -> int:
    """Print (or write) the report of a poll, record and post a new decision; the exit code."""
    from canarystats.cli.finish import Finish
    from canarystats.report import render

    result = polled.result
    code = result.exit_code(marginal_ok=args.marginal_ok)
    finish = Finish(args, console, result.judgment, code)
    polled = judged_part(polled)
    if result.verdict == "undecided" or result.judgment is None:
        report = render_status(result, config.name, args.format)
    else:
        report = render(
            result.judgment,
            args.format,
            frame=polled.frame,
            config=config,
            window=polled.window,
            scopes=polled.scopes,
            sequential=result,
            color=args.output is None and isatty(console.stdout) and "NO_COLOR" not in os.environ,
            exit_code=finish.code,
            would_exit=finish.would_exit,
        )
    finish.deliver(report)
    if code != int(ExitCode.UNDECIDED):
        finish.soft_fail_note()
        if not polled.decided_before and result.judgment is not None:
            # The decision is recorded and posted once, by the call that made it.
            finish.record(config, polled.window, polled.scopes)
            if args.post_event or args.post_score:
                markdown = render(
                    result.judgment,
                    "markdown",
                    frame=polled.frame,
                    config=config,
                    window=polled.window,
                    scopes=polled.scopes,
                    sequential=result,
                )
                post_verdict(args, console, result.judgment, markdown)
    return finish.code


def judged_part(polled: Poll) -> Poll:
    """The poll cut to the data of its deciding look: what the report's window, plots and links
    show.

    A call that takes several looks at once (a replay, a pipeline that called late) holds data
    past the look that decided; the judgment it reports saw none of it.
    """
    decision = polled.result.decision
    if polled.result.verdict == "undecided" or polled.window is None:
        return polled
    end = pd.Timestamp(polled.result.start) + pd.Timedelta(seconds=decision.at)
    if end >= pd.Timestamp(polled.window[1]):
        return polled
    frame = polled.frame[polled.frame["timestamp"] < end]
    return replace(polled, frame=frame, window=(polled.window[0], end.to_pydatetime()))


def data_reach(frame: pd.DataFrame, step: int, asked: datetime) -> pd.Timestamp:
    """How far a fetched frame reaches: the end of its last bucket, at most what was asked.

    A look is due only where the data has arrived, so a source that lags (or a replay served
    as of a moving clock) never has a look taken on a half-empty window.

    Examples
    --------
    >>> t = pd.Timestamp("2026-01-01T00:00Z")
    >>> f = pd.DataFrame({"metric": "m", "cohort": "canary", "host": "a",
    ...                   "timestamp": [t, t + pd.Timedelta(minutes=1)], "value": 1.0})
    >>> str(data_reach(f, 60, t + pd.Timedelta(minutes=10)))
    '2026-01-01 00:02:00+00:00'
    """
    from canarystats.frame import frame_window

    span = frame_window(frame, step)
    limit = pd.Timestamp(asked)
    return limit if span is None else min(pd.Timestamp(span[1]), limit)
