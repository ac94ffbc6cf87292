"""``judge(config, frame)``: samples -> evidence -> classify -> score -> :class:`Judgment`.

The judging method named by ``judge.method`` (:mod:`canarystats.methods`) lays the tidy frame
out, computes its evidence over every metric at once and classifies each metric; this module
turns the classifications into per-metric results and scores each run.  It knows nothing of any
particular method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from canarystats.config import CanaryConfig, JudgeSettings, MetricConfig, load_config
from canarystats.methods.base import Evidence, JudgingMethod, MetricClassification
from canarystats.methods.registry import get_method
from canarystats.monitors.gate import gate_judgment
from canarystats.results import CohortSummary, Judgment, MetricResult
from canarystats.score import ScoredMetric, score
from canarystats.stats import Description
from canarystats.stats.rows import row_values
from canarystats.windows import StartLike

# load_config is re-exported: the docstring examples and most callers use it with judge.
__all__ = ["judge", "judge_runs", "judge_with_evidence", "load_config"]


def judge(
    config: CanaryConfig,
    frame: pd.DataFrame,
    *,
    start: StartLike | None = None,
    monitors: pd.DataFrame | None = None,
    **overrides: Any,
) -> Judgment:
    """Judge a canary run: every configured metric, canary against baseline.

    Parameters
    ----------
    config : CanaryConfig
        From :func:`canarystats.config.load_config`.
    frame : pandas.DataFrame
        The tidy frame (metric, cohort, host, timestamp, value) of both cohorts.
    start : datetime, pandas.Timestamp or ISO 8601 str, optional
        The canary start.  Points before it are the pre-deploy window (every host on the old
        version: each host's own past, up to ``judge.pre_window``), points from it on the
        canary window, of which each metric's first ``warmup`` is left out.  None (default):
        every point is the canary window, and nothing is left out.
    monitors : pandas.DataFrame, optional
        The states of the monitors the config's ``monitors:`` names
        (:mod:`canarystats.monitors.states`), fetched by the caller: a monitor that fired on a
        canary host during the canary window fails the run (:mod:`canarystats.monitors.gate`).
        Without them a config's monitors are reported as not checked.
    **overrides
        Judge settings that replace the config's for this run: ``method``, ``confidence``,
        ``tolerance``, ``pass_score``, ``marginal_score``, ``multiplicity``, ``alpha``,
        ``pre_window``, ``warmup``, ``robust``, ``weights`` (None leaves a setting as
        configured).

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
    with np.errstate(all="ignore"):
        judgment = _judge_runs(config, frame, None, start)[1][0]
    return gate_judgment(judgment, config, frame, monitors, start)


def judge_runs(
    config: CanaryConfig,
    frame: pd.DataFrame,
    run: str = "run",
    *,
    start: StartLike | Mapping[Any, StartLike] | None = None,
    **overrides: Any,
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
    start : time or mapping, optional
        The canary start of every run, or a mapping run key -> start (as in :func:`judge`).
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
    # Floating-point warnings are expected on real data (an empty window, a zero baseline) and
    # handled where they arise; none is news to the caller.
    with np.errstate(all="ignore"):
        runs, judgments = _judge_runs(config, frame, run, start)
    return dict(zip(runs, judgments, strict=True))


def _judge_runs(
    config: CanaryConfig,
    frame: pd.DataFrame,
    run: str | None,
    start: StartLike | Mapping[Any, StartLike] | None,
) -> tuple[tuple[Any, ...], list[Judgment]]:
    """Every run of ``frame`` in one batched pass of the configured method, then scored."""
    runs, judgments, _ = judge_with_evidence(config, frame, run, start)
    return runs, judgments


def judge_with_evidence(
    config: CanaryConfig,
    frame: pd.DataFrame,
    run: str | None,
    start: StartLike | Mapping[Any, StartLike] | None,
) -> tuple[tuple[Any, ...], list[Judgment], Evidence]:
    """:func:`judge_runs` with the method's evidence beside the judgments, for judges built on
    top of one (the sequential judge reads each look's statistics from it).

    Returns the run keys, a judgment per run, and the evidence over every row
    (``run * len(config.metrics) + metric``).  Floating-point warnings are the caller's to
    silence (:func:`judge` and :func:`judge_runs` do).

    Examples
    --------
    >>> cfg = load_config({"name": "web", "metrics": [{"name": "latency", "query": "q"}]})
    >>> frame = pd.DataFrame({"metric": "latency", "cohort": ["canary", "baseline"],
    ...                       "host": ["a", "b"], "timestamp": pd.Timestamp(0, tz="UTC"),
    ...                       "value": [1.0, 1.0]})
    >>> runs, judgments, evidence = judge_with_evidence(cfg, frame, None, None)
    >>> runs, evidence.canary_points.tolist()
    ((), [1])
    """
    method: JudgingMethod = get_method(config.judge.method)
    metrics = config.metrics
    samples = method.samples(frame, metrics, config.judge, run=run, start=start)
    n_runs = samples.cubes.n_runs
    rows = metrics * n_runs  # the config of each row
    evidence = method.evidence(metrics, samples, config.judge)
    classes = method.classify(rows, evidence, config.judge)
    results = _metric_results(rows, classes, evidence, config.judge, method.units)
    per_run = len(metrics)
    windows = samples.windows
    judgments = [
        _scored(
            config,
            method.name,
            results[r * per_run : (r + 1) * per_run],
            None if windows is None else windows.starts[r],
        )
        for r in range(n_runs)
    ]
    return samples.cubes.runs, judgments, evidence


def _metric_results(
    rows: Sequence[MetricConfig],
    classes: Sequence[MetricClassification],
    evidence: Evidence,
    settings: JudgeSettings,
    units: str,
) -> list[MetricResult]:
    """A :class:`MetricResult` per row: its classification with the pooled numbers beside it."""
    canary = _summaries(evidence.canary_stats, evidence.canary_points)
    baseline = _summaries(evidence.baseline_stats, evidence.baseline_points)
    mean_ratios, cles = evidence.mean_ratio.tolist(), evidence.cles.tolist()
    thresholds: dict[str, Mapping[str, Any] | None] = {
        m.name: None
        if m.threshold is None
        else {"statistic": m.threshold.statistic, "max": m.threshold.max, "min": m.threshold.min}
        for m in rows
    }
    return [
        MetricResult(
            name=m.name,
            classification=c.label,
            critical=c.critical,
            reason=c.reason,
            muted=m.muted,
            groups=m.groups,
            direction=m.direction,
            unit=m.unit,
            canary=canary[i],
            baseline=baseline[i],
            estimate=c.estimate,
            ci_low=c.ci_low,
            ci_high=c.ci_high,
            confidence=settings.confidence,
            p_value=c.p_value,
            tolerance_bound=c.bound,
            effect_measure=m.effect_size.measure,
            effect_size=c.effect,
            mean_ratio=mean_ratios[i],
            cles=cles[i],
            allowed_increase=m.effect_size.allowed_increase,
            allowed_decrease=m.effect_size.allowed_decrease,
            threshold=thresholds[m.name],
            threshold_value=c.threshold_value,
            units=c.units or units,
            p_raw=c.p_raw,
            # Not "diagnostics or {}": truth-testing lazy diagnostics would build them.
            diagnostics={} if c.diagnostics is None else c.diagnostics,
        )
        for i, (m, c) in enumerate(zip(rows, classes, strict=True))
    ]


def _scored(
    config: CanaryConfig,
    method: str,
    results: Sequence[MetricResult],
    start: pd.Timestamp | None,
) -> Judgment:
    """One run's :class:`Judgment`: its metrics' results scored into a verdict."""
    settings = config.judge
    scored = score(
        [
            ScoredMetric(r.name, r.classification, r.groups, critical=r.critical, muted=r.muted)
            for r in results
        ],
        config.groups,
        settings.pass_score,
        settings.marginal_score,
    )
    return Judgment(
        config_name=config.name,
        verdict=scored.verdict,
        score=scored.score,
        reason=scored.reason,
        group_scores=scored.group_scores,
        metrics=tuple(results),
        method=method,
        confidence=settings.confidence,
        tolerance=settings.tolerance,
        pass_score=settings.pass_score,
        marginal_score=settings.marginal_score,
        multiplicity=settings.multiplicity,
        alpha=settings.alpha,
        canary_start=None if start is None else start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pre_window=0 if start is None else settings.pre_window,
        warmup=0 if start is None else settings.warmup,
    )


def _summaries(d: Description, points: np.ndarray) -> list[CohortSummary]:
    k = len(points)
    # Python floats once per column: item access on numpy arrays per row is the slow part.
    columns = [
        row_values(v, k).tolist()
        for v in (d.mean, d.median, d.std, d.min, d.max, d.percentiles[95.0], d.percentiles[99.0])
    ]
    n = np.asarray(d.n, dtype=np.int64).reshape(k).tolist()
    received = np.asarray(points, dtype=np.int64).tolist()
    return [CohortSummary(received[i], n[i], *(c[i] for c in columns)) for i in range(k)]
