"""The monitor gate: a monitor that fired on a canary host during the canary window fails it.

Metrics can look fine while a monitor pages someone about the canary servers.  The gate reads
the monitor states a judgment is given (:mod:`canarystats.monitors.states`) and, per monitor,
finds the groups that were triggered during the canary window:

- a group's host is its ``host:`` tag (``host:web-04,env:prod`` -> ``web-04``; the tag key is
  ``monitors.host_tag``), a **canary** host or a **baseline** host when the metrics show it in
  that cohort, another host otherwise; a group without a host tag names no host;
- a group was triggered during the window ``[start, end]`` when it is in Alert now (or Warn,
  with ``level: warn``) and triggered before the end, or when it triggered and resolved with
  the two moments around the window's start or its trigger inside the window.  Datadog keeps
  only each group's *latest* trigger and resolution, and not the level of a trigger that has
  resolved: a resolved trigger counts as an Alert.

A monitor triggered on canary hosts only **fails** the canary (score 0), whatever the metrics
say.  One triggered on canary hosts and on others as well means the environment is in
trouble, not the new version: by default the run then has **no verdict** (``environment:
nodata``; ``fail`` or ``pass`` instead).  One triggered only on other hosts is reported and
passes.  The monitors are a group of their own in ``group_scores`` (the share of judged
monitors that passed), beside the metric groups; they gate the verdict rather than weigh in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from canarystats.config import CanaryConfig
from canarystats.config.monitor_settings import MonitorSettings
from canarystats.frame import frame_window
from canarystats.labels import Verdict
from canarystats.monitors.results import MONITOR_GROUP, MonitorFiring, MonitorGate, MonitorResult
from canarystats.monitors.states import MONITOR_COLUMNS, states_window
from canarystats.windows import StartLike, run_starts

if TYPE_CHECKING:
    from canarystats.results import Judgment

__all__ = ["check_monitors", "gate_judgment"]

_ACTIVE = {"alert": ("Alert",), "warn": ("Alert", "Warn")}
_OUTCOME = {"nodata": "unjudged", "fail": "fail", "pass": "pass"}


def gate_judgment(
    judgment: Judgment,
    config: CanaryConfig,
    frame: pd.DataFrame,
    states: pd.DataFrame | None,
    start: StartLike | None = None,
) -> Judgment:
    """The judgment with its monitor gate applied (unchanged where the config names none).

    Examples
    --------
    >>> from canarystats import judge, load_config
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "q"}],
    ...                    "monitors": {"ids": [1001]}})
    >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    >>> judge(cfg, frame).monitors.reason
    'Monitors 1001 were not checked: no monitor states were given.'
    """
    if config.monitors is None:
        return judgment
    gate = check_monitors(config.monitors, states, frame, start=start, step=config.step)
    return _applied(judgment, gate, config.monitors)


def check_monitors(
    settings: MonitorSettings,
    states: pd.DataFrame | None,
    frame: pd.DataFrame,
    *,
    start: StartLike | None = None,
    step: int = 60,
) -> MonitorGate:
    """What each monitor's groups did during the canary window, and what that means.

    Parameters
    ----------
    settings : MonitorSettings
        The config's ``monitors:``.
    states : pandas.DataFrame or None
        The monitor states (:func:`canarystats.monitors.states.monitor_frame`); None: not read.
    frame : pandas.DataFrame
        The judged tidy frame: it tells canary hosts from baseline hosts, and gives the window
        where the states carry none.
    start : time, optional
        The canary start: the window begins here.
    step : int
        The metrics' bucket, for the window the frame covers.

    Returns
    -------
    MonitorGate

    Examples
    --------
    >>> from canarystats.monitors.states import monitor_frame
    >>> states = monitor_frame([{"monitor_id": 7, "monitor": "5xx", "group": "host:c1",
    ...     "status": "OK", "triggered": "2026-01-01T00:03:00Z",
    ...     "resolved": "2026-01-01T00:05:00Z"}])
    >>> frame = pd.DataFrame({"metric": "m", "cohort": ["canary", "baseline"],
    ...     "host": ["c1", "b1"], "timestamp": pd.Timestamp("2026-01-01", tz="UTC"),
    ...     "value": 1.0})
    >>> gate = check_monitors(MonitorSettings(ids=(7,)), states, frame, step=600)
    >>> gate.monitors[0].state, gate.monitors[0].outcome
    ('canary', 'fail')
    """
    if states is None:
        return MonitorGate(
            checked=False,
            level=settings.level,
            reason=f"{settings.describe().capitalize()} were not checked: no monitor states "
            "were given.",
        )
    window = _window(states, frame, start, step)
    if window is None:
        return MonitorGate(
            checked=False,
            level=settings.level,
            reason=f"{settings.describe().capitalize()} were not checked: there is no canary "
            "window (no data and no window saved with the states).",
        )
    hosts = _cohort_hosts(frame, settings.host_tag)
    results = [
        _monitor(settings, rows, window, hosts)
        for _id, rows in states.loc[:, list(MONITOR_COLUMNS)].groupby("monitor_id", sort=False)
    ]
    judged = [r for r in results if r.outcome != "unjudged"]
    score = 100.0 * sum(r.outcome == "pass" for r in judged) / len(judged) if judged else None
    return MonitorGate(
        checked=True,
        level=settings.level,
        reason=_summary(results),
        window=(_iso(window[0]) or "", _iso(window[1]) or ""),
        monitors=tuple(results),
        score=score,
    )


def _window(
    states: pd.DataFrame, frame: pd.DataFrame, start: StartLike | None, step: int
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    saved = states_window(states)
    span = saved or frame_window(frame, step)
    if span is None:
        return None
    begin = run_starts(start, [])[0] if start is not None else pd.Timestamp(span[0])
    end = pd.Timestamp(span[1])
    return (begin, end) if end > begin else None


def _host(group: str, host_tag: str) -> str | None:
    """The host a group (``host:web-1,env:prod``) or a frame host (``web-1``) names."""
    if ":" not in group:
        return group or None
    for tag in group.split(","):
        key, _, value = tag.strip().partition(":")
        if key == host_tag and value:
            return value
    return None


def _cohort_hosts(frame: pd.DataFrame, host_tag: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"canary": set(), "baseline": set()}
    if frame is None or len(frame) == 0:
        return out
    pairs = frame[["cohort", "host"]].astype(str).drop_duplicates()
    for cohort, value in pairs.itertuples(index=False):
        host = _host(value, host_tag)
        if cohort in out and host:
            out[cohort].add(host)
    return out


def _fired(row: pd.Series, level: str, window: tuple[pd.Timestamp, pd.Timestamp]) -> bool:
    """Whether the group was triggered (at ``level``) at some moment of the window."""
    start, end = window
    triggered, resolved = row["triggered"], row["resolved"]
    if row["status"] in _ACTIVE[level]:
        # Firing now: since its trigger (unknown: the whole window).
        return pd.isna(triggered) or triggered <= end
    if pd.isna(triggered) or row["status"] == "Warn":
        # In Warn now, below the level: its latest trigger was a Warn, not an Alert.
        return False
    if not pd.isna(resolved) and resolved >= triggered:
        return triggered <= end and resolved >= start
    return start <= triggered <= end


def _monitor(
    settings: MonitorSettings,
    rows: pd.DataFrame,
    window: tuple[pd.Timestamp, pd.Timestamp],
    hosts: dict[str, set[str]],
) -> MonitorResult:
    first = rows.iloc[0]
    firings = []
    for _, row in rows.iterrows():
        if not _fired(row, settings.level, window):
            continue
        host = _host(str(row["group"]), settings.host_tag) if row["group"] != "*" else None
        cohort = next((c for c in ("canary", "baseline") if host in hosts[c]), "other")
        firings.append(
            MonitorFiring(
                group=str(row["group"]),
                host=host,
                cohort=cohort if host else "",
                status=str(row["status"]),
                triggered=_iso(row["triggered"]),
                resolved=_iso(row["resolved"]),
            )
        )
    canary = [f for f in firings if f.cohort == "canary"]
    others = [f for f in firings if f.cohort in ("baseline", "other")]
    if canary and others:
        state, outcome = "environment", _OUTCOME[settings.environment]
    elif canary:
        state, outcome = "canary", "fail"
    else:
        state, outcome = ("elsewhere" if firings else "quiet"), "pass"
    name, url, monitor_id = str(first["monitor"]), str(first["url"]), int(first["monitor_id"])
    return MonitorResult(
        monitor_id=monitor_id,
        name=name,
        url=url,
        state=state,
        outcome=outcome,
        reason=_sentence(f"Monitor {name!r} ({url or monitor_id})", state, canary, others, firings),
        firings=tuple(firings),
    )


def _when(f: MonitorFiring) -> str:
    text = f"{f.host or f.group} at {f.triggered or 'an unknown time'}"
    if f.resolved and f.status not in ("Alert", "Warn"):
        text += f" (resolved {f.resolved})"
    elif f.status in ("Alert", "Warn"):
        text += f" ({f.status} still)"
    return text


def _hosts(label: str, firings: Sequence[MonitorFiring], limit: int = 4) -> str:
    shown = ", ".join(_when(f) for f in firings[:limit])
    more = f" and {len(firings) - limit} more" if len(firings) > limit else ""
    return f"{label} host{'s' if len(firings) > 1 else ''} {shown}{more}"


def _sentence(
    who: str,
    state: str,
    canary: Sequence[MonitorFiring],
    others: Sequence[MonitorFiring],
    firings: Sequence[MonitorFiring],
) -> str:
    if state == "canary":
        return f"{who} fired on {_hosts('canary', canary)}"
    if state == "environment":
        cohorts = sorted({f.cohort for f in others})
        other = _hosts(" and ".join(cohorts), others)
        return (
            f"{who} fired on {_hosts('canary', canary)} and on {other} as well: the "
            "environment is in trouble, not only the canary"
        )
    if state == "elsewhere":
        where = [f for f in firings if f.cohort != "canary"]
        return f"{who} fired on {_hosts('non-canary', where)}, none of them a canary host"
    return f"{who} did not fire on any host during the canary window"


def _summary(results: Sequence[MonitorResult]) -> str:
    failed = [r for r in results if r.outcome == "fail"]
    troubled = [r for r in results if r.state == "environment"]
    if failed:
        more = f" (and {len(failed) - 1} more monitors)" if len(failed) > 1 else ""
        return f"{failed[0].reason}{more}."
    if troubled:
        return troubled[0].reason + "."
    if not results:
        return "No monitor matched, so none was checked."
    return f"No monitor fired on a canary host ({len(results)} checked)."


def _applied(judgment: Judgment, gate: MonitorGate, settings: MonitorSettings) -> Judgment:
    """The judgment with the gate's group score, and its verdict and reason where it decides."""
    groups = dict(judgment.group_scores)
    if gate.checked:
        groups[MONITOR_GROUP] = gate.score
    verdict, score, reason = judgment.verdict, judgment.score, judgment.reason
    troubled = [m for m in gate.monitors if m.state == "environment"]
    if gate.failed:
        verdict, score = Verdict.FAIL, 0.0
        reason = f"{gate.reason[:-1]}, so the canary fails. Metrics alone: {judgment.reason}"
    elif troubled and settings.environment == "nodata" and verdict != Verdict.FAIL:
        verdict, score = Verdict.NODATA, 0.0
        reason = f"{gate.reason[:-1]}, so the run has no verdict. Metrics alone: {judgment.reason}"
    elif troubled and settings.environment == "nodata":
        reason = f"{judgment.reason} {gate.reason}"
    return replace(
        judgment, verdict=verdict, score=score, reason=reason, group_scores=groups, monitors=gate
    )


def _iso(value: object) -> str | None:
    if value is None or value is pd.NaT:
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    if pd.isna(stamp):
        return None
    return stamp.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
