"""The looks of a sequential plan: which are due in data time, and the evidence each one holds.

Looks are indexed by **data time** since the canary start (``k * look_every``), never by how
often the judge is called: a look is due once the data reaches its time, and each look is the
one-shot judge's evidence on the points up to it (with the same pre-deploy window and warm-up).
All due looks are judged in one batch: the frame is stacked once per look, each copy cut at its
look, and judged as many runs (:func:`canarystats.judgment.judge_with_evidence`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from canarystats.config import CanaryConfig, MetricConfig
from canarystats.errors import ConfigError
from canarystats.frame import validate_frame
from canarystats.labels import Label
from canarystats.results import Judgment, MetricResult, json_safe
from canarystats.stats.host_change import positive_rows
from canarystats.stats.noninferiority import unit_margin_test

__all__ = ["LOOK_COLUMN", "Look", "LookMetric", "due_looks", "gather_looks"]

#: the column that tells the stacked looks apart (never a user's column: it starts with "__")
LOOK_COLUMN = "__look"


@dataclass(frozen=True)
class LookMetric:
    """One metric at one look: what the sequential decision reads.

    ``kind`` is ``"gauge"`` (decided by ``p_fail``, the one-shot test's p-value in the direction
    of harm, and ``p_pass``, the p-value that its shift is below the minimum practical effect),
    ``"count"`` (decided by the cumulative events and exposure of each cohort, their burstiness
    so far, and the one-shot count test's ``p_fail``, which looks at hosts and bursts) or
    ``"none"`` (not judged at this look: no data, too few hosts).  ``breached`` says an
    absolute threshold was crossed; ``label`` and ``sign`` are the one-shot label and the sign
    of its effect.
    """

    kind: str
    p_fail: float = math.nan
    p_pass: float = math.nan
    canary_events: float = 0.0
    canary_exposure: float = 0.0
    baseline_events: float = 0.0
    baseline_exposure: float = 0.0
    canary_burstiness: float = 1.0
    baseline_burstiness: float = 1.0
    breached: bool = False
    label: str = str(Label.NODATA)
    sign: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as None)."""
        return dict(json_safe(self.__dict__))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LookMetric:
        """The inverse of :meth:`as_dict`.

        Raises ``TypeError`` or ``ValueError`` naming the field when ``data`` is not what
        :meth:`as_dict` writes (a state file edited or damaged).

        Examples
        --------
        >>> LookMetric.from_dict({"kind": "gauge", "p_fail": 0.01, "p_pass": None}).p_fail
        0.01
        >>> LookMetric.from_dict({"kind": "gauge", "p_fail": "low"})
        Traceback (most recent call last):
        TypeError: p_fail is 'low', not a number
        """
        values: dict[str, Any] = {k: (math.nan if v is None else v) for k, v in data.items()}
        look = cls(**values)
        for name in _NUMBERS:
            value = getattr(look, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} is {value!r}, not a number")
            if name.startswith("p_"):
                if not (math.isnan(value) or 0.0 <= value <= 1.0):
                    raise ValueError(f"{name} is {value!r}, not a p-value")
                continue
            positive = name.endswith("burstiness")
            if not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
                bound = "above 0" if positive else "0 or more"
                raise ValueError(f"{name} is {value!r}, not a finite number {bound}")
        if look.kind not in ("gauge", "count", "none"):
            raise ValueError(f"kind is {look.kind!r}, not gauge, count or none")
        if look.label not in {str(label) for label in Label}:
            raise ValueError(f"label is {look.label!r}, not a label")
        if not isinstance(look.breached, bool) or look.sign not in (-1, 0, 1):
            raise ValueError(f"breached {look.breached!r} or sign {look.sign!r} is not one")
        return look


#: the fields of a look's metric that hold numbers (NaN where none)
_NUMBERS = tuple(f.name for f in fields(LookMetric) if f.type == "float")


@dataclass(frozen=True)
class Look:
    """The evidence of look ``k`` (1-based), ``at`` seconds after the canary start."""

    k: int
    at: int
    metrics: dict[str, LookMetric] = field(default_factory=dict)
    judgment: Judgment | None = None


def due_looks(look_times: Sequence[int], start: datetime, data_end: datetime) -> list[int]:
    """The looks (1-based) whose time the data has reached.

    Examples
    --------
    >>> t0 = pd.Timestamp("2026-01-01T00:00Z")
    >>> due_looks([300, 600, 900], t0, t0 + pd.Timedelta(minutes=11))
    [1, 2]
    """
    reached = (pd.Timestamp(data_end) - pd.Timestamp(start)).total_seconds()
    return [k for k, at in enumerate(look_times, start=1) if at <= reached]


def gather_looks(
    config: CanaryConfig,
    frame: pd.DataFrame,
    start: datetime,
    looks: Sequence[tuple[int, int]],
) -> list[Look]:
    """The evidence of each ``(k, seconds after start)`` look, judged in one batch.

    Parameters
    ----------
    config : CanaryConfig
        Judged with its ``hosts`` method (the sequential judge needs hosts as units).
    frame : pandas.DataFrame
        The tidy frame: the pre-deploy window and the canary window up to the last look.
    start : datetime
        The canary start.
    looks : sequence of (int, int)
        The looks to judge.

    Returns
    -------
    list of Look
        In the order given.
    """
    from canarystats.judgment import judge_with_evidence

    if config.judge.method != "hosts":
        raise ConfigError(
            f"{config.source}: the sequential plan needs judge.method hosts, not "
            f"{config.judge.method}; remove sequential or the method"
        )
    if not looks:
        return []
    frame = validate_frame(frame)
    t0 = pd.Timestamp(start)
    copies = [
        frame[frame["timestamp"] < t0 + pd.Timedelta(seconds=at)].assign(**{LOOK_COLUMN: k})
        for k, at in looks
    ]
    stacked = pd.concat(copies, ignore_index=True)
    with np.errstate(all="ignore"):
        runs, judgments, evidence = judge_with_evidence(config, stacked, LOOK_COLUMN, start)
    by_run = {int(r): i for i, r in enumerate(runs)}
    out = []
    for k, at in looks:
        i = by_run.get(k)
        if i is None:  # no point at all before this look
            out.append(Look(k, at, {m.name: LookMetric("none") for m in config.metrics}))
            continue
        rows = range(i * len(config.metrics), (i + 1) * len(config.metrics))
        metrics = {
            m.name: _look_metric(m, row, judgments[i].metric(m.name), evidence)
            for m, row in zip(config.metrics, rows, strict=True)
        }
        out.append(Look(k, at, metrics, judgments[i]))
    return out


def _look_metric(m: MetricConfig, row: int, result: MetricResult, evidence: Any) -> LookMetric:
    """What the decision needs of one metric at one look, from the hosts method's evidence."""
    label = str(result.classification)
    breached = _breached(m, result)
    sign = int(np.sign(result.estimate)) if math.isfinite(result.estimate) else 0
    counts = evidence.counts
    count_rows = evidence.count_rows.tolist()
    if row in count_rows and counts is not None:
        j = count_rows.index(row)
        if bool(counts.inconclusive[j]) and not counts.canary_exposure[j] > 0:
            return LookMetric("none", breached=breached, label=label, sign=sign)
        return LookMetric(
            "count",
            p_fail=float(evidence.p_raw[row]),
            canary_events=float(counts.canary_events[j]),
            canary_exposure=float(counts.canary_exposure[j]),
            baseline_events=float(counts.baseline_events[j]),
            baseline_exposure=float(counts.baseline_exposure[j]),
            canary_burstiness=float(counts.burstiness[j]),
            baseline_burstiness=float(counts.baseline_burstiness[j]),
            breached=breached,
            label=label,
            sign=sign,
        )
    p_fail = float(evidence.p_raw[row])
    if math.isnan(p_fail):
        return LookMetric("none", breached=breached, label=label, sign=sign)
    return LookMetric(
        "gauge",
        p_fail=p_fail,
        p_pass=_p_pass(m, row, evidence),
        breached=breached,
        label=label,
        sign=sign,
    )


def _p_pass(m: MetricConfig, row: int, evidence: Any) -> float:
    """The non-inferiority p-value of a gauge: its shift is below the minimum practical effect.

    Each host's change where hosts have a past (a log ratio for a positive metric), else each
    host's level -- on the log scale where every level is positive.  A relative margin on the
    level scale would be a share of the baseline's estimated centre, and a canary slower by a
    factor is also noisier by it: both make the test ``c - b >= rel * b`` rule out a canary at
    its margin too often (hosts with multiplicative noise, a nominal 5 %: 6-8 % at a margin of
    8 %, 11 % at 50 %); on the log scale the margin is fixed and the spreads alike (5 %).
    """
    result = evidence.hosts
    centre = abs(float(result.baseline_centre[row]))
    rel, absolute = m.min_effect.relative, m.min_effect.absolute
    canary = result.canary.location[row : row + 1]
    baseline = result.baseline.location[row : row + 1]
    changed = bool(evidence.changed[row])
    ratio = bool(evidence.relative[row]) if changed else bool(positive_rows(canary, baseline)[0])
    if ratio:
        floor = math.log1p(absolute / centre) if centre > 0 else 0.0
        margin = max(math.log1p(rel), floor)
        if not changed:
            canary, baseline = np.log(canary), np.log(baseline)
    else:
        margin = max(absolute, rel * centre)
    return float(unit_margin_test(canary, baseline, margin, direction=m.direction)[0])


def _breached(m: MetricConfig, result: MetricResult) -> bool:
    """Whether the metric's absolute threshold is crossed at this look."""
    t, value = m.threshold, result.threshold_value
    if t is None or value is None or not math.isfinite(value):
        return False
    return (t.max is not None and value > t.max) or (t.min is not None and value < t.min)
