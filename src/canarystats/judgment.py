"""``judge(config, frame)``: align -> preprocess -> statistics -> classify -> score -> Judgment.

All metrics go through the statistics core together.  The ``hosts`` method (the default) lays
every metric out as ``(metric, host, time)`` cubes and makes one batched host test, one batched
count-rate test and one multiplicity adjustment; the ``kayenta`` method pools each cohort's points
and makes one call of :func:`canarystats.stats.mann_whitney` over a 2-D array with a row per
metric.  Effect sizes and descriptions of the pooled values are batched likewise for both.
The :class:`Judgment` carries the verdict, the score and, for every metric, its classification,
the numbers behind it, diagnostics and one sentence saying why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from canarystats import stats
from canarystats.align import HostCubes, align_hosts, fill_count_buckets
from canarystats.classify import (
    DiagnosticsTable,
    Evidence,
    LazyDiagnostics,
    classify,
    host_evidence,
)
from canarystats.config import CanaryConfig, JudgeSettings, MetricConfig, load_config
from canarystats.score import ScoredMetric, score
from canarystats.stats._arrays import row_values
from canarystats.stats.outliers import remove_outliers

# load_config is re-exported: the docstring examples and most callers use it with judge.
__all__ = [
    "CohortSummary",
    "Judgment",
    "MetricResult",
    "exit_code",
    "judge",
    "judge_runs",
    "load_config",
]

#: version of the layout of :meth:`Judgment.to_dict` (``schemas/judgment.schema.json``)
SCHEMA_VERSION = "1"
#: canary/baseline percentiles every judgment reports
PERCENTILES = (50.0, 95.0, 99.0)


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
    from the baseline hosts' mean (a rate difference for counts; no interval), ``tolerance_bound``
    the minimum practical effect in the metric's unit, ``effect_size`` the ratio canary/baseline,
    ``p_value`` the p-value after the multiplicity adjustment and ``p_raw`` before it.
    ``diagnostics`` holds, for every method, the per-host summaries, the share of variance
    between hosts, the lag-1 autocorrelation and (hosts method) the test's components: a
    read-only mapping built when first read (a plain dict once pickled).
    """

    name: str
    classification: str
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
    """

    config_name: str
    verdict: str
    score: float
    reason: str
    group_scores: Mapping[str, float | None]
    metrics: tuple[MetricResult, ...]
    method: str
    confidence: float
    tolerance: float
    pass_score: float
    marginal_score: float
    multiplicity: str = "holm"
    alpha: float = 0.05
    schema_version: str = field(default=SCHEMA_VERSION)

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
        >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "q"}]})
        >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
        >>> d = judge(cfg, frame).to_dict()
        >>> d["verdict"], d["metrics"][0]["classification"], d["schema_version"]
        ('nodata', 'Nodata', '1')
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
            },
            "metrics": [_metric_dict(m) for m in self.metrics],
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
        "diagnostics": _json_safe(dict(m.diagnostics)),
    }


def _json_safe(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return _safe(float(x))
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def judge(config: CanaryConfig, frame: pd.DataFrame, **overrides: Any) -> Judgment:
    """Judge a canary run: every configured metric, canary against baseline.

    Parameters
    ----------
    config : CanaryConfig
        From :func:`canarystats.config.load_config`.
    frame : pandas.DataFrame
        The tidy frame (metric, cohort, host, timestamp, value) of both cohorts.
    **overrides
        Judge settings that replace the config's for this run: ``method``, ``confidence``,
        ``tolerance``, ``pass_score``, ``marginal_score``, ``multiplicity``, ``alpha`` (None
        leaves a setting as configured).

    Returns
    -------
    Judgment

    Raises
    ------
    canarystats.errors.ConfigError
        For an invalid override.
    canarystats.errors.DataError
        When ``frame`` is not a tidy frame.

    Examples
    --------
    >>> cfg = load_config({"name": "web", "metrics": [{"name": "latency", "query": "q"}]})
    >>> levels = {"c1": ("canary", 45.0), "b1": ("baseline", 30.0),
    ...           "b2": ("baseline", 31.0), "b3": ("baseline", 29.0), "b4": ("baseline", 30.5)}
    >>> frame = pd.DataFrame([
    ...     {"metric": "latency", "cohort": cohort, "host": host,
    ...      "timestamp": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(minutes=t),
    ...      "value": level + (t % 3) * 0.5}
    ...     for host, (cohort, level) in levels.items() for t in range(10)])
    >>> j = judge(cfg, frame)
    >>> j.verdict, j.metric("latency").classification, j.metric("latency").units
    ('fail', 'High', 'hosts')
    """
    if overrides:
        config = config.with_judge(**overrides)
    return _judge_rows(config, *_aligned(config, frame, None))[0]


def judge_runs(
    config: CanaryConfig, frame: pd.DataFrame, run: str = "run", **overrides: Any
) -> dict[Any, Judgment]:
    """Judge many runs (deploys) in one batch: each as :func:`judge` would judge it alone.

    Every run's metrics are rows of the same statistics calls, so a history of thousands of
    deploys costs a handful of batched calls, not thousands of :func:`judge` calls.  Each run has
    its own hosts, time grid, multiplicity family and score, exactly as if judged alone.

    Parameters
    ----------
    config : CanaryConfig
        From :func:`canarystats.config.load_config`.
    frame : pandas.DataFrame
        A tidy frame of many runs with a column ``run`` that tells them apart.
    run : str
        The name of that column (e.g. ``"deploy"``).
    **overrides
        As in :func:`judge`.

    Returns
    -------
    dict
        Run key -> :class:`Judgment`, in sorted key order.  A run without rows in ``frame``
        has no entry.

    Raises
    ------
    canarystats.errors.DataError
        When ``frame`` is not a tidy frame or has no column ``run``.

    Examples
    --------
    >>> cfg = load_config({"name": "web", "metrics": [{"name": "latency", "query": "q"}]})
    >>> t0 = pd.Timestamp("2026-01-01", tz="UTC")
    >>> frame = pd.DataFrame([
    ...     {"deploy": d, "metric": "latency", "cohort": cohort, "host": f"{cohort}{h}",
    ...      "timestamp": t0 + pd.Timedelta(minutes=t),
    ...      "value": 30.0 + h + (t % 3) * 0.5 + (15.0 if d == "bad" and cohort == "canary" else 0)}
    ...     for d in ("good", "bad") for cohort, hosts in (("canary", 1), ("baseline", 4))
    ...     for h in range(hosts) for t in range(10)])
    >>> {d: j.verdict for d, j in judge_runs(cfg, frame, run="deploy").items()}
    {'bad': 'fail', 'good': 'pass'}
    """
    if overrides:
        config = config.with_judge(**overrides)
    cubes, canary, baseline = _aligned(config, frame, run)
    return dict(zip(cubes.runs, _judge_rows(config, cubes, canary, baseline), strict=True))


def _aligned(
    config: CanaryConfig, frame: pd.DataFrame, run: str | None
) -> tuple[HostCubes, NDArray[np.float64], NDArray[np.float64]]:
    """The cubes of ``frame`` and the pooled samples the method compares, a row per metric."""
    metrics = config.metrics
    if config.judge.method == "hosts":
        cubes = align_hosts(frame, metrics, run=run)
        # The pooled values of the cubes (quiet count buckets of known hosts as zeros) feed the
        # descriptions, thresholds and effect sizes; the decision is on hosts.
        return cubes, cubes.pooled("canary"), cubes.pooled("baseline")
    # Kayenta pools the points the source returned; the count buckets are filled afterwards for
    # the host diagnostics only (_preprocess copies the pooled values first).
    cubes = align_hosts(frame, metrics, run=run, fill_counts=False)
    rows = metrics * cubes.n_runs
    canary, baseline = _preprocess(cubes.pooled("canary"), cubes.pooled("baseline"), rows)
    fill_count_buckets(cubes, metrics)
    return cubes, canary, baseline


def _judge_rows(
    config: CanaryConfig,
    cubes: HostCubes,
    canary: NDArray[np.float64],
    baseline: NDArray[np.float64],
) -> list[Judgment]:
    """Judge every run of ``cubes``: one batched pass over all rows, then a Judgment per run."""
    settings = config.judge
    metrics = config.metrics
    per_run = len(metrics)
    runs = cubes.n_runs
    rows = metrics * runs  # the config of each row
    n = len(rows)
    test = stats.mann_whitney(
        canary,
        baseline,
        # Kayenta always uses the normal approximation with continuity correction; the
        # interval's ends are exact pairwise differences, where Kayenta's root finder stops
        # within 1e-4 of them.
        exact=False,
        continuity=True,
        confidence=settings.confidence,
        # The hosts method decides, and reports its shift, on hosts: the pooled interval of
        # every metric would be computed for nothing.
        conf_int=settings.method != "hosts",
    )
    evidence = Evidence(
        canary=canary,
        baseline=baseline,
        test=test,
        mean_ratio=row_values(stats.mean_ratio(canary, baseline), n),
        cles=row_values(stats.cles(canary, baseline), n),
        canary_stats=stats.describe(canary, PERCENTILES),
        baseline_stats=stats.describe(baseline, PERCENTILES),
        hosts=host_evidence(metrics, cubes, settings) if settings.method == "hosts" else None,
    )
    classes = classify(settings.method, rows, evidence, settings)
    diagnostics: list[Mapping[str, Any] | None] = [c.diagnostics for c in classes]
    if settings.method != "hosts":
        diagnostics = list(_pooled_diagnostics(metrics, cubes, settings))
    p_values = row_values(test.p_value, n)
    p_raw = p_values.copy()
    if evidence.hosts is not None:
        p_raw = evidence.hosts.p_raw
        p_values = np.where(np.isnan(evidence.hosts.p_adjusted), p_raw, evidence.hosts.p_adjusted)
    canary_summaries = _summaries(evidence.canary_stats, cubes.canary_points)
    baseline_summaries = _summaries(evidence.baseline_stats, cubes.baseline_points)
    units = "hosts" if settings.method == "hosts" else "points"
    p_values_list, p_raw_list = p_values.tolist(), np.asarray(p_raw).tolist()
    mean_ratios, cles = evidence.mean_ratio.tolist(), evidence.cles.tolist()
    thresholds = [
        None
        if m.threshold is None
        else {"statistic": m.threshold.statistic, "max": m.threshold.max, "min": m.threshold.min}
        for m in metrics
    ]
    results = []
    for i, (m, c) in enumerate(zip(rows, classes, strict=True)):
        results.append(
            MetricResult(
                name=m.name,
                classification=c.label,
                critical=c.critical,
                reason=c.reason,
                muted=m.muted,
                groups=m.groups,
                direction=m.direction,
                unit=m.unit,
                canary=canary_summaries[i],
                baseline=baseline_summaries[i],
                estimate=c.estimate,
                ci_low=c.ci_low,
                ci_high=c.ci_high,
                confidence=settings.confidence,
                p_value=p_values_list[i],
                tolerance_bound=c.bound,
                effect_measure=m.effect_size.measure,
                effect_size=c.effect,
                mean_ratio=mean_ratios[i],
                cles=cles[i],
                allowed_increase=m.effect_size.allowed_increase,
                allowed_decrease=m.effect_size.allowed_decrease,
                threshold=thresholds[i % per_run],
                threshold_value=c.threshold_value,
                units=units,
                p_raw=p_raw_list[i],
                diagnostics=_or_empty(diagnostics[i]),
            )
        )
    judgments = []
    for r in range(runs):
        mine = results[r * per_run : (r + 1) * per_run]
        scored = score(
            [
                ScoredMetric(m.name, x.classification, m.groups, critical=x.critical, muted=m.muted)
                for m, x in zip(metrics, mine, strict=True)
            ],
            config.groups,
            settings.pass_score,
            settings.marginal_score,
        )
        judgments.append(
            Judgment(
                config_name=config.name,
                verdict=scored.verdict,
                score=scored.score,
                reason=scored.reason,
                group_scores=scored.group_scores,
                metrics=tuple(mine),
                method=settings.method,
                confidence=settings.confidence,
                tolerance=settings.tolerance,
                pass_score=settings.pass_score,
                marginal_score=settings.marginal_score,
                multiplicity=settings.multiplicity,
                alpha=settings.alpha,
            )
        )
    return judgments


def _or_empty(d: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # Not "d or {}": truth-testing a LazyDiagnostics would build it.
    return {} if d is None else d


def _pooled_diagnostics(
    metrics: tuple[MetricConfig, ...], cubes: HostCubes, settings: JudgeSettings
) -> list[Mapping[str, Any]]:
    # A kayenta run decides on pooled points, but its report still shows how much the hosts
    # differ and how autocorrelated the points are: the reasons pooling can mislead.
    table = DiagnosticsTable(host_evidence(metrics, cubes, settings))
    return [
        LazyDiagnostics(partial(table.pooled_method, i)) for i in range(len(metrics) * cubes.n_runs)
    ]


def _preprocess(
    canary: NDArray[np.float64], baseline: NDArray[np.float64], metrics: tuple[MetricConfig, ...]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    # Outliers are removed per side, after the NaN strategy (which align applied), as Kayenta.
    rows = np.array([m.outliers == "remove" for m in metrics], dtype=bool)
    factor = np.array([m.outlier_factor for m in metrics], dtype=np.float64)
    return remove_outliers(canary, factor, rows), remove_outliers(baseline, factor, rows)


def _summaries(d: stats.Description, points: NDArray[np.int64]) -> list[CohortSummary]:
    k = len(points)
    # Python floats once per column: item access on numpy arrays per row is the slow part.
    columns = [
        row_values(v, k).tolist()
        for v in (d.mean, d.median, d.std, d.min, d.max, d.percentiles[95.0], d.percentiles[99.0])
    ]
    n = np.asarray(d.n, dtype=np.int64).reshape(k).tolist()
    received = np.asarray(points, dtype=np.int64).tolist()
    return [CohortSummary(received[i], n[i], *(c[i] for c in columns)) for i in range(k)]


def exit_code(verdict: str, *, marginal_ok: bool = False) -> int:
    """The exit code ``canarystats judge`` gives a verdict (DESIGN.md): 0, 1 or 3.

    ``marginal`` counts as a failure unless ``marginal_ok``; ``nodata`` is "no verdict".

    Examples
    --------
    >>> exit_code("pass"), exit_code("marginal"), exit_code("marginal", marginal_ok=True)
    (0, 1, 0)
    >>> exit_code("fail"), exit_code("nodata")
    (1, 3)
    """
    if verdict == "pass" or (verdict == "marginal" and marginal_ok):
        return 0
    if verdict in ("marginal", "fail"):
        return 1
    return 3
