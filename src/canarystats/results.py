"""What a judgment returns: the verdict, the score, and every metric's result with its reason.

:class:`Judgment` is a plain frozen value: reports render it, the history records it, a Dask
worker sends it back pickled, and :meth:`Judgment.to_dict` lays it out as the JSON report
(``schemas/judgment.schema.json``).  Nothing here computes a statistic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from canarystats.labels import FAILING, Label, Verdict, report_rank
from canarystats.monitors.results import MonitorGate

__all__ = [
    "SCHEMA_VERSION",
    "CohortSummary",
    "Judgment",
    "MetricResult",
    "failing_first",
    "json_safe",
]

#: version of the layout of :meth:`Judgment.to_dict` (``schemas/judgment.schema.json``)
SCHEMA_VERSION = "1.1"


@dataclass(frozen=True)
class CohortSummary:
    """Descriptive statistics of one cohort's judged values (after NaN strategy and outliers).

    ``data_points`` counts the points the source returned, nulls included; ``n`` the values
    actually judged.  Statistics of an empty cohort are NaN.
    """

    data_points: int
    n: int
    mean: float
    median: float
    std: float
    min: float
    max: float
    p95: float
    p99: float


@dataclass(frozen=True)
class MetricResult:
    """One metric's judgment: the label, why, and the numbers behind it.

    ``unit`` is the config's unit of the values (may be empty).
    ``critical`` is set when this result alone fails (or, for missing data, blocks) the canary.
    ``estimate``/``ci_low``/``ci_high`` are the shift canary minus baseline and its
    ``confidence`` interval; ``tolerance_bound`` is what the interval had to clear;
    ``effect_size`` is the value the gates compared (``effect_measure``), ``mean_ratio`` is
    always reported.  ``threshold`` echoes the absolute bounds and ``threshold_value`` is the
    canary statistic compared with them.

    With the ``hosts`` method ``units`` is ``"hosts"``, ``estimate`` is the canary hosts' shift
    from the baseline hosts' mean with its t interval at ``confidence`` (a rate difference for
    counts, without an interval), ``tolerance_bound`` the minimum practical effect in the
    metric's unit, ``effect_size`` the ratio canary/baseline,
    ``p_value`` the p-value after the multiplicity adjustment and ``p_raw`` before it.
    ``diagnostics`` holds, for every method, the per-host summaries, the share of variance
    between hosts, the lag-1 autocorrelation and (hosts method) the test's components: a
    read-only mapping built when first read (a plain dict once pickled).
    """

    name: str
    classification: Label
    critical: bool
    reason: str
    muted: bool
    groups: tuple[str, ...]
    direction: str
    unit: str
    canary: CohortSummary
    baseline: CohortSummary
    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    tolerance_bound: float
    effect_measure: str
    effect_size: float
    mean_ratio: float
    cles: float
    allowed_increase: float
    allowed_decrease: float
    threshold: Mapping[str, Any] | None
    threshold_value: float | None
    units: str = "points"
    p_raw: float = math.nan
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    @property
    def data_points(self) -> dict[str, int]:
        """Points received per cohort, nulls included."""
        return {"canary": self.canary.data_points, "baseline": self.baseline.data_points}


@dataclass(frozen=True)
class Judgment:
    """The outcome of a canary run.

    ``verdict`` is ``pass``, ``marginal``, ``fail`` or ``nodata``; ``score`` is 0-100;
    ``group_scores`` maps groups to scores (None for a group where nothing counted);
    ``metrics`` holds a :class:`MetricResult` per configured metric, in config order.
    ``canary_start`` (ISO 8601 UTC, None where not given) is where the canary window began;
    ``pre_window`` and ``warmup`` (seconds) are the judge's settings that then applied (0
    without a start): each metric's own warm-up is in its diagnostics.  ``monitors`` is the
    monitor gate (:mod:`canarystats.monitors.gate`), None where the config names no monitors.
    """

    config_name: str
    verdict: Verdict
    score: float
    reason: str
    group_scores: Mapping[str, float | None]
    metrics: tuple[MetricResult, ...]
    method: str
    confidence: float
    tolerance: float
    pass_score: float
    marginal_score: float
    multiplicity: str = "hommel"
    alpha: float = 0.05
    schema_version: str = field(default=SCHEMA_VERSION)
    canary_start: str | None = None
    pre_window: int = 0
    warmup: int = 0
    monitors: MonitorGate | None = None

    def metric(self, name: str) -> MetricResult:
        """Return the result of the metric called ``name`` (``KeyError`` if none)."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN and infinities become null), laid out as the JSON schema.

        Examples
        --------
        >>> import json
        >>> import pandas as pd
        >>> from canarystats import judge, load_config
        >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "q"}]})
        >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
        >>> d = judge(cfg, frame).to_dict()
        >>> d["verdict"], d["metrics"][0]["classification"], d["schema_version"]
        ('nodata', 'Nodata', '1.1')
        >>> _ = json.dumps(d, allow_nan=False)
        """
        return {
            "schema_version": self.schema_version,
            "config": self.config_name,
            "verdict": self.verdict,
            "score": _safe(self.score),
            "reason": self.reason,
            "group_scores": {g: _safe(s) for g, s in self.group_scores.items()},
            "settings": {
                "method": self.method,
                "confidence": self.confidence,
                "tolerance": self.tolerance,
                "pass_score": self.pass_score,
                "marginal_score": self.marginal_score,
                "multiplicity": self.multiplicity,
                "alpha": self.alpha,
                "pre_window_s": self.pre_window,
                "warmup_s": self.warmup,
            },
            "canary_start": self.canary_start,
            "metrics": [_metric_dict(m) for m in self.metrics],
            # Only where the config names monitors: other judgments keep their JSON as it was.
            **({} if self.monitors is None else {"monitors": self.monitors.to_dict()}),
        }


def _safe(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _cohort_dict(c: CohortSummary) -> dict[str, Any]:
    return {k: _safe(v) for k, v in c.__dict__.items()}


def _metric_dict(m: MetricResult) -> dict[str, Any]:
    return {
        "name": m.name,
        "classification": m.classification,
        "critical": m.critical,
        "reason": m.reason,
        "muted": m.muted,
        "groups": list(m.groups),
        "direction": m.direction,
        "unit": m.unit,
        "data_points": m.data_points,
        "canary": _cohort_dict(m.canary),
        "baseline": _cohort_dict(m.baseline),
        "units": m.units,
        "shift": {
            "estimate": _safe(m.estimate),
            "ci_low": _safe(m.ci_low),
            "ci_high": _safe(m.ci_high),
            "confidence": m.confidence,
            "p_value": _safe(m.p_value),
            "p_raw": _safe(m.p_raw),
            "tolerance_bound": _safe(m.tolerance_bound),
        },
        "effect_size": {
            "measure": m.effect_measure,
            "value": _safe(m.effect_size),
            "mean_ratio": _safe(m.mean_ratio),
            "cles": _safe(m.cles),
            "allowed_increase": m.allowed_increase,
            "allowed_decrease": m.allowed_decrease,
        },
        "threshold": None
        if m.threshold is None
        else {**m.threshold, "value": _safe(m.threshold_value)},
        "diagnostics": json_safe(dict(m.diagnostics)),
    }


def json_safe(x: Any) -> Any:
    """``x`` with numpy scalars as Python ones and non-finite floats as None, recursively.

    Examples
    --------
    >>> json_safe({"p": [np.float64(0.5), float("nan")], "n": np.int64(3)})
    {'p': [0.5, None], 'n': 3}
    """
    if isinstance(x, Mapping):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return _safe(float(x))
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def failing_first(metrics: Iterable[MetricResult]) -> list[MetricResult]:
    """Order metrics as a reader needs them: failing, then unjudged, then passing.

    Critical failures come before other failures; otherwise config order is kept.

    Examples
    --------
    >>> from types import SimpleNamespace as M
    >>> [m.name for m in failing_first([M(name="a", classification="Pass", critical=False),
    ...                                 M(name="b", classification="High", critical=False)])]
    ['b', 'a']
    """
    return sorted(
        metrics,
        key=lambda m: (
            report_rank(m.classification),
            0 if (m.critical and m.classification in FAILING) else 1,
        ),
    )
