"""Sequential judging: a canary looked at as its data arrives, decided at the first boundary.

Re-running a fixed-sample test every few minutes inflates false alarms with every look; judging
once after a fixed wait is slow for healthy canaries and late for broken ones.  A config's
``sequential`` plan (:class:`canarystats.config.sequential.SequentialPlan`) looks at the canary
every ``look_every`` of data time up to ``horizon``, with the judge's ``alpha`` spent over the
looks (:mod:`canarystats.stats.sequential`) and counts watched by an anytime-valid e-process
(:mod:`canarystats.stats.eprocess`).  Four modules: :mod:`~canarystats.sequential.looks` (which
looks are due, the evidence of each), :mod:`~canarystats.sequential.decide` (fail, pass early,
or wait), :mod:`~canarystats.sequential.early_pass` (what holds an early pass back) and
:mod:`~canarystats.sequential.state` (the looks taken, between calls).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd

from canarystats.config import CanaryConfig
from canarystats.config.sequential import SequentialPlan, plan_as_dict
from canarystats.errors import ConfigError
from canarystats.exit_codes import ExitCode, for_verdict
from canarystats.frame import frame_window
from canarystats.labels import Verdict
from canarystats.monitors.gate import gate_judgment
from canarystats.monitors.states import states_window
from canarystats.results import Judgment
from canarystats.sequential.decide import UNDECIDED, Decision, decide, path_as_dict
from canarystats.sequential.looks import Look, due_looks, gather_looks
from canarystats.sequential.state import SequentialState, config_digest, iso_start
from canarystats.windows import utc_timestamp

__all__ = [
    "UNDECIDED",
    "Decision",
    "SequentialJudgment",
    "SequentialState",
    "judge_sequential",
]


@dataclass(frozen=True)
class SequentialJudgment:
    """Where a sequential judgment stands after the looks due so far.

    ``decision`` holds the verdict (``undecided`` while no boundary is reached and the horizon
    is ahead), the look that decided and each metric's path; ``judgment`` is the one-shot
    judgment at that look with the sequential labels (None before the first look);
    ``new_looks`` counts the looks this call took.
    """

    plan: SequentialPlan
    start: str
    decision: Decision
    new_looks: int

    @property
    def verdict(self) -> str:
        """``pass``, ``marginal``, ``fail``, ``nodata`` or ``undecided``."""
        return self.decision.verdict

    @property
    def judgment(self) -> Judgment | None:
        """The labelled one-shot judgment at the deciding (or latest) look."""
        return self.decision.judgment

    def exit_code(self, *, marginal_ok: bool = False) -> int:
        """0 pass, 1 fail, 3 no verdict, 4 undecided (call again at the next look).

        Examples
        --------
        >>> from canarystats.sequential.decide import Decision
        >>> d = Decision("undecided", 1, 300, False, (), "", {}, None)
        >>> SequentialJudgment(SequentialPlan(), "2026-01-01T00:00:00Z", d, 1).exit_code()
        4
        """
        if self.verdict == UNDECIDED:
            return int(ExitCode.UNDECIDED)
        return int(for_verdict(self.verdict, marginal_ok=marginal_ok))

    def as_dict(self) -> dict[str, Any]:
        """The sequential part of a JSON report."""
        d = self.decision
        return {
            "plan": plan_as_dict(self.plan),
            "canary_start": self.start,
            "verdict": d.verdict,
            "look": d.look,
            "minute": d.at / 60,
            "early": d.early,
            "failed": list(d.failed),
            "reason": d.reason,
            "held_back": d.held_back,
            "metrics": {name: path_as_dict(p) for name, p in d.paths.items()},
        }


def judge_sequential(
    config: CanaryConfig,
    frame: pd.DataFrame,
    *,
    start: datetime | pd.Timestamp | str,
    end: datetime | pd.Timestamp | str | None = None,
    state: SequentialState | None = None,
    monitors: pd.DataFrame | None = None,
) -> tuple[SequentialJudgment, SequentialState]:
    """Take the looks that are due and decide; return the judgment and the updated state.

    Parameters
    ----------
    config : CanaryConfig
        With a ``sequential`` plan and the ``hosts`` method.
    frame : pandas.DataFrame
        The tidy frame: each host's pre-deploy window and the canary window so far.
    start : time
        The canary start; looks are at ``k * look_every`` of data time after it.
    end : time, optional
        How far the data reaches (default: the end of the frame's last bucket).  A look is due
        once ``end`` reaches it.
    state : SequentialState, optional
        The looks already taken (from :func:`canarystats.sequential.state.read_state`); they
        are kept as they were first judged.  None: a fresh judgment over every due look, as a
        replay of a saved incident.
    monitors : pandas.DataFrame, optional
        The states of the config's monitors (:mod:`canarystats.monitors.states`): a monitor
        that fired on a canary host fails the canary at the look that sees it, and one that
        fired on every host ends it without a verdict, as in the one-shot judge.

    Returns
    -------
    (SequentialJudgment, SequentialState)

    Examples
    --------
    >>> import numpy as np
    >>> from canarystats.config import load_config
    >>> cfg = load_config({"name": "web", "sequential": {"horizon": "20m", "look_every": "5m"},
    ...                    "judge": {"warmup": 0},
    ...                    "metrics": [{"name": "latency", "query": "q", "direction": "increase"}]})
    >>> t0 = pd.Timestamp("2026-01-01T00:00Z")
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame([
    ...     {"metric": "latency", "cohort": c, "host": f"{c}{h}",
    ...      "timestamp": t0 + pd.Timedelta(minutes=t),
    ...      "value": 100 + 5 * h + (60 if c == "canary" else 0) + rng.normal(0, 1)}
    ...     for c, n in (("canary", 2), ("baseline", 5)) for h in range(n) for t in range(20)])
    >>> result, _ = judge_sequential(cfg, frame, start=t0)
    >>> result.verdict, result.decision.look
    ('fail', 3)
    """
    plan = config.sequential
    if plan is None:
        raise ConfigError(
            f"{config.source}: no sequential plan; add sequential: {{horizon: 30m, look_every: 5m}}"
        )
    t0 = utc_timestamp(start)
    if state is None:
        state = SequentialState(config_digest(config), iso_start(t0))
    times, taken = plan.look_times(), len(state.looks)
    due = due_looks(times, t0, _data_end(frame, config, t0, end))
    new = [] if state.decision is not None else [k for k in due if k > taken]
    # Without a new look the latest is judged again for its one-shot judgment (a decided state
    # read back reports its deciding look, the last it kept), where the frame holds its data (a
    # caller that asked the source nothing passes an empty frame).
    wanted = new or ([taken] if taken and not frame.empty else [])
    fresh = {
        look.k: look
        for look in gather_looks(config, frame, t0, [(k, times[k - 1]) for k in wanted])
    }
    looks = [
        Look(k, times[k - 1], metrics, fresh[k].judgment if k in fresh else None)
        for k, metrics in enumerate(state.looks, start=1)
    ] + [fresh[k] for k in new]
    decision = decide(config, plan, looks, config.judge.alpha)
    if config.monitors is not None:
        # Looks taken by earlier calls were gated by them; a decided record is final.
        first = max(taken, 1) if state.decision is None else decision.look
        decision = _monitored(config, looks, decision, frame, monitors, t0, first=first)
    kept = looks if decision.verdict == UNDECIDED else looks[: decision.look]
    if state.decision is not None:  # decided before: the record is final, whatever comes
        decision = _recorded(decision, state.decision)
    result = SequentialJudgment(plan, state.start, decision, max(0, len(kept) - taken))
    updated = replace(
        state,
        looks=tuple(look.metrics for look in kept),
        decision=_record(decision),
        calls=state.calls + 1,
    )
    return result, updated


def _monitored(
    config: CanaryConfig,
    looks: list[Look],
    decision: Decision,
    frame: pd.DataFrame,
    monitors: pd.DataFrame | None,
    start: pd.Timestamp,
    *,
    first: int,
) -> Decision:
    """The decision with the monitor gate applied look by look, from look ``first`` on.

    A monitor that fired on a canary host decides at the first look whose window holds its
    firing, as a pipeline polling look by look would have seen it; so one call over a whole
    saved run and many calls between looks decide at the same look.  Looks before ``first``
    were gated by the calls that took them.
    """
    assert config.sequential is not None
    last = len(looks) if decision.verdict == UNDECIDED else decision.look
    if monitors is None:  # nothing read: the gate only says so, at the latest look
        first = last
    for k in range(first, last + 1):
        at = (
            decision
            if k == last
            else decide(config, config.sequential, looks[:k], config.judge.alpha)
        )
        if at.judgment is None:
            continue
        gated = _gated(at, config, frame, monitors, start)
        if k == last or gated.verdict != at.verdict:
            return gated
    return decision


def _gated(
    decision: Decision,
    config: CanaryConfig,
    frame: pd.DataFrame,
    monitors: pd.DataFrame | None,
    start: pd.Timestamp,
) -> Decision:
    """The decision with the monitor gate applied to the judgment at its look.

    The gate sees the canary window up to the look's time, not up to the data's end: a monitor
    that fires between two looks decides at the next look, however often the caller asks.
    """
    assert decision.judgment is not None
    at = start + pd.Timedelta(seconds=decision.at)
    if monitors is not None:
        saved = states_window(monitors)
        begin = start if saved is None else pd.Timestamp(saved[0])
        end = at if saved is None else min(pd.Timestamp(saved[1]), at)
        monitors = monitors.copy()
        monitors.attrs["window"] = (begin.to_pydatetime(), end.to_pydatetime())
    seen = frame[frame["timestamp"] < at] if len(frame) else frame
    gated = gate_judgment(decision.judgment, config, seen, monitors, start)
    changed = gated.verdict != decision.judgment.verdict
    if not changed or decision.verdict in (Verdict.FAIL, Verdict.MARGINAL):
        return replace(decision, judgment=gated)
    failed = tuple(m.name for m in gated.monitors.failed) if gated.monitors else ()
    return replace(
        decision,
        verdict=str(gated.verdict),
        early=False,
        failed=failed,
        reason=gated.reason,
        judgment=gated,
        held_back="",
    )


def _recorded(decision: Decision, record: dict[str, Any]) -> Decision:
    """The decision as a state file recorded it."""
    return replace(
        decision,
        verdict=str(record["verdict"]),
        look=int(record["look"]),
        at=int(record["at"]),
        early=bool(record["early"]),
        failed=tuple(record["failed"]),
        reason=str(record["reason"]),
        held_back=str(record.get("held_back", "")),
    )


def _record(decision: Decision) -> dict[str, Any] | None:
    """What a state file keeps of a decision (None while undecided)."""
    if decision.verdict == UNDECIDED:
        return None
    return {
        "verdict": decision.verdict,
        "look": decision.look,
        "at": decision.at,
        "early": decision.early,
        "failed": list(decision.failed),
        "reason": decision.reason,
        "held_back": decision.held_back,
    }


def _data_end(
    frame: pd.DataFrame,
    config: CanaryConfig,
    start: pd.Timestamp,
    end: datetime | pd.Timestamp | str | None,
) -> pd.Timestamp:
    """How far the data reaches: ``end``, else the end of the frame's last bucket."""
    if end is not None:
        return utc_timestamp(end)
    span = frame_window(frame, config.step)
    return start if span is None else pd.Timestamp(span[1])
