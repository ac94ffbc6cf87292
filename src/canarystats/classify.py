"""Per-metric classification: Pass, High, Low, Nodata, NodataFailMetric or Error, with a reason.

A judging method is one function ``classify_<method>(metrics, evidence, settings)`` that looks
at every metric at once (numpy masks over rows, never the statistics in a Python loop) and
returns one :class:`MetricClassification` per metric.  :data:`CLASSIFIERS` maps the config's
``judge.method`` to that function.  Classification knows nothing of groups or scores.

The ``kayenta`` method follows NetflixACAJudge's MannWhitneyClassifier, decision by decision
(see ``docs/judging.md`` for where it deliberately differs):

1. no data on either side: Nodata, or NodataFailMetric when the metric must have data;
2. identical samples, or one value shared by both: Pass;
3. the Mann-Whitney shift interval against the tolerance bound ``tolerance * |estimate|``:
   High when the interval lies wholly above ``+bound``, Low when wholly below ``-bound``;
4. the direction must allow the change, and the effect size (mean ratio or CLES) must reach
   the allowed increase/decrease, or the label falls back to Pass;
5. a critical metric whose High/Low reaches the critical effect size fails the canary;
6. an absolute ``threshold`` on the canary gives High/Low on its own, whatever the test says.

The ``hosts`` method (the default; ``docs/methods.md``) treats each host as one unit: one batched
:func:`canarystats.stats.hosts.host_test` over every metric's ``(metric, host, time)`` cube
(location, trend and jitter of each canary host against the spread of the baseline hosts), one
batched :func:`canarystats.stats.counts.count_rate_test` for count metrics (rates, quiet buckets
of known hosts as zeros), and :func:`canarystats.stats.multiplicity.adjust_p_values` across the
run's gating metrics.  A metric is High/Low when its adjusted p-value is below ``judge.alpha``
and the change reaches its ``min_effect``; a decision the data cannot support (too few baseline
hosts, no data) is Nodata with the kernel's reason, never a silent Pass.  Thresholds,
``must_have_data`` and ``critical`` work as in the kayenta method; ``effect_size`` does not apply
(``min_effect`` is this method's gate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from canarystats.align import HostCubes
from canarystats.config import JudgeSettings, MetricConfig
from canarystats.stats import Description, MannWhitneyResult
from canarystats.stats._arrays import row_values
from canarystats.stats.counts import CountTestResult, count_rate_test
from canarystats.stats.hosts import HostTestResult, host_test
from canarystats.stats.multiplicity import adjust_p_values

PASS = "Pass"
HIGH = "High"
LOW = "Low"
NODATA = "Nodata"
NODATA_FAIL = "NodataFailMetric"
ERROR = "Error"
#: Kayenta's metric labels, the strings users see in reports
LABELS = (PASS, HIGH, LOW, NODATA, NODATA_FAIL, ERROR)


@dataclass(frozen=True)
class Evidence:
    """What the classifiers look at, arrays over metrics (rows in config order).

    ``canary`` and ``baseline`` are the preprocessed samples (NaN = no value); ``test`` is the
    one batched :func:`canarystats.stats.mann_whitney` call over all rows; the effect sizes and
    descriptions are batched likewise.
    """

    canary: NDArray[np.float64]
    baseline: NDArray[np.float64]
    test: MannWhitneyResult
    mean_ratio: NDArray[np.float64]
    cles: NDArray[np.float64]
    canary_stats: Description
    baseline_stats: Description
    hosts: HostEvidence | None = None


@dataclass(frozen=True)
class HostEvidence:
    """What the ``hosts`` method decides on, arrays over metrics (rows in config order).

    ``hosts`` is the one batched host test over every row (its decision is used for gauges, its
    diagnostics for all); ``counts`` the one batched rate test over the count rows
    (``count_rows`` maps its rows back).  ``p_raw`` is each metric's p-value (NaN for an
    inconclusive or muted metric), ``p_adjusted`` the same after multiplicity adjustment over
    the ``family`` gating metrics of the row's run (an array over rows).
    """

    cubes: HostCubes
    hosts: HostTestResult
    counts: CountTestResult | None
    count_rows: NDArray[np.int64]
    p_raw: NDArray[np.float64]
    p_adjusted: NDArray[np.float64]
    family: NDArray[np.int64]


@dataclass(frozen=True)
class MetricClassification:
    """One metric's label and the numbers the decision used.

    ``critical`` is Kayenta's flag: this result fails the whole canary on its own.
    ``estimate``/``ci_low``/``ci_high`` are the shift (canary minus baseline) actually compared
    with ``bound`` (the tolerance bound); ``effect`` is the effect size the gates compared;
    ``threshold_value`` is the canary statistic compared with the absolute threshold.
    """

    label: str
    critical: bool
    reason: str
    estimate: float
    ci_low: float
    ci_high: float
    bound: float
    effect: float
    threshold_value: float | None
    diagnostics: Mapping[str, Any] | None = None


Classifier = Callable[[Sequence[MetricConfig], Evidence, JudgeSettings], list[MetricClassification]]


def classify(
    method: str,
    metrics: Sequence[MetricConfig],
    evidence: Evidence,
    settings: JudgeSettings,
) -> list[MetricClassification]:
    """Classify every metric with the judging method called ``method``.

    Examples
    --------
    >>> sorted(CLASSIFIERS)
    ['hosts', 'kayenta']
    """
    return CLASSIFIERS[method](metrics, evidence, settings)


def _floats(values: object) -> list[float]:
    # One conversion per array: the per-metric loops then read Python floats, not numpy scalars.
    return np.asarray(values, dtype=np.float64).reshape(-1).tolist()


def _statistic(stats: Description, name: str) -> NDArray[np.float64]:
    pct = name in ("p95", "p99")
    value = stats.percentiles[float(name[1:])] if pct else getattr(stats, name)
    return np.asarray(value, dtype=np.float64).reshape(-1)


def threshold_statistic(metric: MetricConfig, stats: Description, i: int) -> float | None:
    """The canary statistic named by ``metric.threshold`` for row ``i`` (None without one)."""
    if metric.threshold is None:
        return None
    return float(_statistic(stats, metric.threshold.statistic)[i])


def threshold_statistics(metrics: Sequence[MetricConfig], stats: Description) -> list[float | None]:
    """:func:`threshold_statistic` of every metric (row ``i`` is ``metrics[i]``), each column once.

    Examples
    --------
    >>> from canarystats.config import Threshold
    >>> from canarystats.stats import describe
    >>> d = describe(np.array([[1.0, 3.0], [2.0, 6.0]]))
    >>> ms = [MetricConfig("a", "q", threshold=Threshold("max", max=2.0)), MetricConfig("b", "q")]
    >>> threshold_statistics(ms, d)
    [3.0, None]
    """
    columns: dict[str, list[float]] = {}
    out: list[float | None] = []
    for i, m in enumerate(metrics):
        if m.threshold is None:
            out.append(None)
            continue
        name = m.threshold.statistic
        if name not in columns:
            columns[name] = _floats(_statistic(stats, name))
        out.append(columns[name][i])
    return out


def _identical_rows(
    canary: NDArray[np.float64], baseline: NDArray[np.float64]
) -> NDArray[np.bool_]:
    width = max(canary.shape[1], baseline.shape[1])
    c = np.full((canary.shape[0], width), np.nan)
    b = np.full((baseline.shape[0], width), np.nan)
    c[:, : canary.shape[1]] = np.sort(canary, axis=1)
    b[:, : baseline.shape[1]] = np.sort(baseline, axis=1)
    same = (c == b) | (np.isnan(c) & np.isnan(b))
    return np.asarray(same.all(axis=1))


def classify_kayenta(
    metrics: Sequence[MetricConfig], evidence: Evidence, settings: JudgeSettings
) -> list[MetricClassification]:
    """Kayenta's Mann-Whitney classifier, vectorised over metrics, deterministic.

    Parameters
    ----------
    metrics : sequence of MetricConfig
        One per row of the evidence.
    evidence : Evidence
        Samples and batched statistics.
    settings : JudgeSettings
        ``tolerance`` and ``confidence`` (the level the interval was computed at).

    Returns
    -------
    list of MetricClassification

    Notes
    -----
    Kayenta adds unseeded Gaussian noise when both samples are constant, so that its root
    finder has something to rank.  canarystats is deterministic instead: when each side is
    constant every pairwise difference equals the gap between the two values, so the shift,
    and both ends of its interval, are exactly that gap.  With a tolerance below 1 this gives
    the labels Kayenta's tests assert (High when the canary's value is above, Low when below),
    still subject to direction and effect-size gates.
    """
    n = len(metrics)
    cs, bs = evidence.canary_stats, evidence.baseline_stats
    n_c = np.asarray(cs.n, dtype=np.int64).reshape(n)
    n_b = np.asarray(bs.n, dtype=np.int64).reshape(n)
    cmin, cmax = row_values(cs.min, n), row_values(cs.max, n)
    bmin, bmax = row_values(bs.min, n), row_values(bs.max, n)

    empty = (n_c == 0) | (n_b == 0)
    # Only samples of the same size can be identical: the others need no sorting.
    same_size = ~empty & (n_c == n_b)
    identical = np.zeros(n, dtype=bool)
    identical[same_size] = _identical_rows(evidence.canary[same_size], evidence.baseline[same_size])
    single = ~empty & ~identical & (np.fmin(cmin, bmin) == np.fmax(cmax, bmax))
    constant = ~empty & ~identical & ~single & (cmin == cmax) & (bmin == bmax)

    est = row_values(evidence.test.estimate, n)
    lo = row_values(evidence.test.ci_low, n)
    hi = row_values(evidence.test.ci_high, n)
    gap = cmin - bmin
    est = np.where(constant, gap, est)
    lo = np.where(constant, gap, lo)
    hi = np.where(constant, gap, hi)

    judged = ~empty & ~identical & ~single
    error = judged & (np.isnan(est) | np.isnan(lo) | np.isnan(hi))
    tested = judged & ~error

    use_cles = np.array([m.effect_size.measure == "cles" for m in metrics], dtype=bool)
    effect = np.where(use_cles, row_values(evidence.cles, n), row_values(evidence.mean_ratio, n))
    # Samples without a difference have the neutral effect, whatever 0/0 would say (Kayenta
    # reports deviation 1.0 for them).
    effect = np.where(identical | single, np.where(use_cles, 0.5, 1.0), effect)
    allowed_inc = np.array([m.effect_size.allowed_increase for m in metrics], dtype=np.float64)
    allowed_dec = np.array([m.effect_size.allowed_decrease for m in metrics], dtype=np.float64)
    crit_inc = np.array([m.effect_size.critical_increase for m in metrics], dtype=np.float64)
    crit_dec = np.array([m.effect_size.critical_decrease for m in metrics], dtype=np.float64)
    up_ok = np.array([m.direction in ("increase", "either") for m in metrics], dtype=bool)
    down_ok = np.array([m.direction in ("decrease", "either") for m in metrics], dtype=bool)

    bound = settings.tolerance * np.abs(est)
    with np.errstate(invalid="ignore"):
        # Kayenta's rule: the interval must clear a quarter of the estimate, strictly.
        sig_up = tested & (lo > bound)
        sig_down = tested & ~sig_up & (hi < -bound)
        # A NaN effect (zero baseline mean) skips the gate, as in Kayenta.
        gate_up = np.isnan(effect) | (effect >= allowed_inc)
        gate_down = np.isnan(effect) | (effect <= allowed_dec)
        high = sig_up & up_ok & gate_up
        low = sig_down & down_ok & gate_down
        crit_up = np.isnan(effect) | (effect >= crit_inc)
        crit_down = np.isnan(effect) | (effect <= crit_dec)

    thresholds = threshold_statistics(metrics, cs)
    # Everything the loop reads, converted to Python scalars once: the loop only formats.
    est_, lo_, hi_, bound_, effect_ = (_floats(a) for a in (est, lo, hi, bound, effect))
    c_mean, b_mean = _floats(row_values(cs.mean, n)), _floats(row_values(bs.mean, n))
    ratio, cmin_ = _floats(row_values(evidence.mean_ratio, n)), _floats(cmin)
    nc, nb = n_c.tolist(), n_b.tolist()
    empty_, identical_, single_, error_ = (a.tolist() for a in (empty, identical, single, error))
    high_, low_, sig_up_, sig_down_ = (a.tolist() for a in (high, low, sig_up, sig_down))
    up_ok_, down_ok_, crit_up_, crit_down_ = (
        a.tolist() for a in (up_ok, down_ok, crit_up, crit_down)
    )
    results: list[MetricClassification] = []
    for i, metric in enumerate(metrics):
        fields: dict[str, Any] = {
            "estimate": est_[i],
            "ci_low": lo_[i],
            "ci_high": hi_[i],
            "bound": bound_[i],
            "effect": effect_[i],
            "threshold_value": thresholds[i],
        }
        text = _Text(metric, settings, (c_mean[i], b_mean[i]), (nc[i], nb[i]), ratio[i], cmin_[i])
        breach = _threshold_breach(metric, thresholds[i]) if nc[i] > 0 else None
        if breach is not None:
            label = HIGH if breach == "max" else LOW
            reason = text.threshold(breach, thresholds[i])
            results.append(MetricClassification(label, metric.critical, reason, **fields))
            continue
        critical = metric.critical
        if empty_[i]:
            if metric.must_have_data and not critical:
                label, crit = NODATA_FAIL, False
            else:
                label, crit = NODATA, critical
            reason = text.nodata(label, nc[i], nb[i])
        elif identical_[i]:
            label, crit, reason = PASS, False, text.identical()
        elif single_[i]:
            label, crit, reason = PASS, False, text.single_value()
        elif error_[i]:
            label, crit, reason = ERROR, critical, text.error()
        elif high_[i]:
            crit = critical and crit_up_[i]
            label, reason = HIGH, text.changed(HIGH, fields, crit)
        elif low_[i]:
            crit = critical and crit_down_[i]
            label, reason = LOW, text.changed(LOW, fields, crit)
        else:
            label, crit = PASS, False
            if sig_up_[i] and not up_ok_[i]:
                reason = text.wrong_direction(HIGH, fields)
            elif sig_down_[i] and not down_ok_[i]:
                reason = text.wrong_direction(LOW, fields)
            elif sig_up_[i] or sig_down_[i]:
                reason = text.below_effect(HIGH if sig_up_[i] else LOW, fields)
            else:
                reason = text.not_significant(fields)
        results.append(MetricClassification(label, bool(crit), reason, **fields))
    return results


def _threshold_breach(metric: MetricConfig, value: float | None) -> str | None:
    t = metric.threshold
    if t is None or value is None or math.isnan(value):
        return None
    if t.max is not None and value > t.max:
        return "max"
    if t.min is not None and value < t.min:
        return "min"
    return None


# --------------------------------------------------------------------------- reasons


def fmt_number(x: float) -> str:
    """Format a number for a sentence: three significant digits, no float noise.

    Examples
    --------
    >>> fmt_number(4.1), fmt_number(1234.5), fmt_number(0.000123), fmt_number(-2.0)
    ('4.1', '1234', '0.000123', '-2')
    """
    if x is None or math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "infinity" if x > 0 else "-infinity"
    if x == 0:
        return "0"
    a = abs(x)
    if 1e-4 <= a < 1e6:
        digits = 2 - math.floor(math.log10(a))
        if digits <= 0:
            return format(x, ".0f")
        # Reasons format tens of thousands of numbers per run: the specs are built once.
        spec = _FIXED[digits] if digits < len(_FIXED) else f".{digits}f"
        return format(x, spec).rstrip("0").rstrip(".")
    return format(x, ".3g")


#: format specs of fmt_number's fixed-point branch, by number of decimals
_FIXED = tuple(f".{d}f" for d in range(8))


def fmt_signed(x: float) -> str:
    """Format a shift with its sign (``+2.8``, ``-0.5``, ``0``)."""
    text = fmt_number(x)
    return f"+{text}" if x > 0 else text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class _Text:
    """Builds the one-sentence reasons of one metric."""

    def __init__(
        self,
        metric: MetricConfig,
        settings: JudgeSettings,
        means: tuple[float, float],
        counts: tuple[int, int],
        ratio: float,
        canary_min: float,
    ) -> None:
        self.m = metric
        self.settings = settings
        self.c_mean, self.b_mean = means
        self.c_n, self.b_n = counts
        self.ratio = ratio
        self.c_min = canary_min

    def _v(self, x: float) -> str:
        unit = f" {self.m.unit}" if self.m.unit else ""
        return f"{fmt_number(x)}{unit}"

    def _means(self) -> str:
        if math.isnan(self.ratio):
            return f"Canary mean {self._v(self.c_mean)} vs the baseline's {self._v(self.b_mean)}"
        return (
            f"Canary mean {self._v(self.c_mean)} is {fmt_number(self.ratio)}x "
            f"the baseline's {self._v(self.b_mean)}"
        )

    def _interval(self, f: dict[str, Any]) -> str:
        level = f"{self.settings.confidence * 100:g}%"
        return (
            f"shift {fmt_signed(float(f['estimate'] or 0.0))}, {level} CI "
            f"{fmt_signed(float(f['ci_low'] or 0.0))} to {fmt_signed(float(f['ci_high'] or 0.0))}"
        )

    def _effect(self, f: dict[str, Any]) -> str:
        value = float(f["effect"] if f["effect"] is not None else math.nan)
        if self.m.effect_size.measure == "cles":
            return f"CLES {fmt_number(value)} (chance a canary value exceeds a baseline value)"
        return f"mean ratio {fmt_number(value)}x"

    def _tolerance(self, f: dict[str, Any]) -> str:
        pct = f"{self.settings.tolerance * 100:g}%"
        return f"tolerance bound ±{fmt_number(float(f['bound'] or 0.0))} ({pct} of the shift)"

    def nodata(self, label: str, n_c: int, n_b: int) -> str:
        sides = []
        if n_c == 0:
            sides.append("canary")
        if n_b == 0:
            sides.append("baseline")
        which = " and ".join(sides)
        text = (
            f"No usable {which} data (canary {_count(n_c, 'value')}, "
            f"baseline {_count(n_b, 'value')})"
        )
        if label == NODATA_FAIL:
            return f"{text}, and must_have_data is set, so the metric counts as failed."
        if self.m.critical:
            return f"{text}; the metric is critical, so the canary cannot pass without it."
        return f"{text}, so the metric was not judged."

    def identical(self) -> str:
        return (
            f"Canary and baseline values are identical ({_count(self.c_n, 'value')} each, "
            f"mean {self._v(self.c_mean)}), so there is no difference."
        )

    def single_value(self) -> str:
        return (
            f"Every canary and baseline value is {self._v(self.c_min)} "
            f"({_count(self.c_n, 'canary value')}, {_count(self.b_n, 'baseline value')}), "
            "so there is no difference."
        )

    def error(self) -> str:
        return (
            "The shift of the canary could not be computed (the samples hold infinite or "
            "otherwise unusable values), so the metric was not judged."
        )

    def threshold(self, which: str, value: float | None) -> str:
        t = self.m.threshold
        assert t is not None and value is not None
        limit = t.max if which == "max" else t.min
        side = "above the absolute maximum" if which == "max" else "below the absolute minimum"
        crit = "; the metric is critical, so the canary fails" if self.m.critical else ""
        return (
            f"Canary {t.statistic} {self._v(value)} is {side} {self._v(float(limit or 0.0))} "
            f"(threshold.{which}){crit}."
        )

    def changed(self, label: str, f: dict[str, Any], critical: bool) -> str:
        es = self.m.effect_size
        bound = float(f["bound"] or 0.0)
        if label == HIGH:
            where = f"entirely above the tolerance bound +{fmt_number(bound)}"
            allowed = f"allowed increase is {fmt_number(es.allowed_increase)}"
        else:
            where = f"entirely below the tolerance bound -{fmt_number(bound)}"
            allowed = f"allowed decrease is {fmt_number(es.allowed_decrease)}"
        if es.measure == "cles":
            gate = f"{self._effect(f)}, {allowed}"
        elif math.isnan(float(f["effect"])):
            gate = f"no mean ratio (zero baseline mean), so the {allowed}x does not apply"
        else:
            gate = f"{allowed}x"
        crit = "; the metric is critical, so the canary fails" if critical else ""
        return f"{self._means()} ({self._interval(f)}, {where}); {gate}{crit}."

    def wrong_direction(self, label: str, f: dict[str, Any]) -> str:
        change, judged = ("increase", "decreases") if label == HIGH else ("decrease", "increases")
        return (
            f"{self._means()} ({self._interval(f)}): a clear {change}, but only {judged} "
            f"are judged for this metric (direction: {self.m.direction})."
        )

    def below_effect(self, label: str, f: dict[str, Any]) -> str:
        es = self.m.effect_size
        if label == HIGH:
            change, limit = (
                "increase",
                f"below the allowed increase of {fmt_number(es.allowed_increase)}",
            )
        else:
            change, limit = (
                "decrease",
                f"above the allowed decrease of {fmt_number(es.allowed_decrease)}",
            )
        return (
            f"{self._means()} ({self._interval(f)}): a clear {change}, but the "
            f"{self._effect(f)} is {limit}, so it is accepted."
        )

    def not_significant(self, f: dict[str, Any]) -> str:
        return (
            f"{self._means()} ({self._interval(f)}); the interval does not clear the "
            f"{self._tolerance(f)}, so there is no clear change."
        )


# --------------------------------------------------------------------------- hosts method

_MULTIPLICITY_NAMES = {"holm": "Holm", "bonferroni": "Bonferroni", "bh": "Benjamini-Hochberg"}


def host_evidence(
    metrics: Sequence[MetricConfig], cubes: HostCubes, settings: JudgeSettings
) -> HostEvidence:
    """Run the hosts method's tests over every metric at once and adjust for multiplicity.

    Parameters
    ----------
    metrics : sequence of MetricConfig
        The config's metrics: row ``r * len(metrics) + i`` of ``cubes`` is metric ``i`` of run
        ``r``.
    cubes : HostCubes
        From :func:`canarystats.align.align_hosts` (quiet count buckets already filled).
    settings : JudgeSettings
        ``multiplicity`` names the adjustment over each run's gating (non-muted, decidable)
        metrics.

    Returns
    -------
    HostEvidence
    """
    per_run, runs = len(metrics), cubes.n_runs
    config_metrics = metrics
    metrics = tuple(metrics) * runs
    n = len(metrics)
    directions = [m.direction for m in metrics]
    rel = np.array([m.min_effect.relative for m in metrics], dtype=np.float64)
    absolute = np.array([m.min_effect.absolute for m in metrics], dtype=np.float64)
    hres = host_test(
        cubes.canary,
        cubes.baseline,
        direction=directions,
        min_abs_effect=absolute,
        min_rel_effect=rel,
    )
    p_raw = np.array(hres.p_value, dtype=np.float64, copy=True)
    count_rows = np.array([i for i, m in enumerate(metrics) if m.kind == "count"], dtype=np.int64)
    counts = None
    if len(count_rows):
        sel = [metrics[i] for i in count_rows]
        # errstate: the kernel multiplies an infinite rate ratio (events against a zero
        # baseline) by the minimum ratio, which is harmless but warns.
        with np.errstate(over="ignore"):
            counts = _count_test(cubes, config_metrics, count_rows, sel, rel, absolute)
        p_raw[count_rows] = counts.p_value
    muted = np.array([m.muted for m in metrics], dtype=bool)
    # One family per run: a (runs, metrics) array, adjusted along each run's row.
    family_p = np.where(muted, np.nan, p_raw).reshape(runs, per_run)
    adjusted = adjust_p_values(family_p, settings.multiplicity) if n else np.zeros((runs, 0))  # type: ignore[arg-type]
    family = np.repeat(np.sum(~np.isnan(family_p), axis=1), per_run).astype(np.int64)
    return HostEvidence(
        cubes=cubes,
        hosts=hres,
        counts=counts,
        count_rows=count_rows,
        p_raw=p_raw,
        p_adjusted=np.asarray(adjusted, dtype=np.float64).reshape(n),
        family=family,
    )


def _count_test(
    cubes: HostCubes,
    metrics: Sequence[MetricConfig],
    rows: NDArray[np.int64],
    sel: list[MetricConfig],
    rel: NDArray[np.float64],
    absolute: NDArray[np.float64],
) -> CountTestResult:
    return count_rate_test(
        cubes.canary[rows],
        cubes.baseline[rows],
        canary_exposure=cubes.exposure_totals(metrics, "canary", rows),
        baseline_exposure=cubes.exposure_totals(metrics, "baseline", rows),
        direction=[m.direction for m in sel],
        min_rate_ratio=1.0 + rel[rows],
        min_rate_diff=absolute[rows],
    )


def _f(x: Any) -> float | None:
    v = float(x)
    return v if math.isfinite(v) else None


def host_diagnostics(ev: HostEvidence, i: int) -> dict[str, Any]:
    """Diagnostics of metric ``i``: units, per-host summaries, host variance share, lag-1 ACF.

    The numbers are those of the host test whatever the method, so a ``kayenta`` run shows
    too how much its hosts differ and how autocorrelated its points are.  Judgments build the
    same dict through :class:`DiagnosticsTable` when a metric's diagnostics are first read.
    """
    return DiagnosticsTable(ev).hosts_part(i)


class DiagnosticsTable:
    """What the diagnostics of every row are built from: the batched results, not the cubes.

    A :class:`LazyDiagnostics` keeps a reference to this table; the cubes (the bulk of a
    judgment's memory) are free to go once the statistics are done.
    """

    def __init__(self, ev: HostEvidence, settings: JudgeSettings | None = None) -> None:
        self.h, self.counts, self.settings = ev.hosts, ev.counts, settings
        cubes = ev.cubes
        self.per_run = max(len(cubes.names), 1)
        self.canary_names, self.baseline_names = cubes.canary_host_table, cubes.baseline_host_table
        self.count_row = {int(r): j for j, r in enumerate(ev.count_rows)}
        self.p_raw, self.p_adjusted, self.family = ev.p_raw, ev.p_adjusted, ev.family

    def hosts_part(self, i: int) -> dict[str, Any]:
        """The per-host part: :func:`host_diagnostics` of row ``i``."""
        h = self.h
        run = i // self.per_run
        per_host = []
        for cohort, table, summ in (
            ("canary", self.canary_names, h.canary),
            ("baseline", self.baseline_names, h.baseline),
        ):
            names = table[run] if table else ()
            # One row as Python numbers, rather than a numpy scalar per host and field.
            points, location = summ.n_points[i].tolist(), summ.location[i].tolist()
            trend, jitter = summ.trend[i].tolist(), summ.jitter[i].tolist()
            for j, host in enumerate(names):
                if points[j] == 0:
                    continue
                per_host.append(
                    {
                        "host": host,
                        "cohort": cohort,
                        "n_points": int(points[j]),
                        "location": _f(location[j]),
                        "trend": _f(trend[j]),
                        "jitter": _f(jitter[j]),
                    }
                )
        return {
            "units": "hosts",
            "n_canary_hosts": int(h.n_canary_hosts[i]),
            "n_baseline_hosts": int(h.n_baseline_hosts[i]),
            "between_host_share": _f(h.between_host_share[i]),
            "lag1_autocorrelation": _f(h.lag1_autocorrelation[i]),
            "hosts": per_host,
        }

    def hosts_method(self, i: int, metric: MetricConfig) -> dict[str, Any]:
        """Everything the hosts method reports of row ``i``: hosts, test, p-values, effects."""
        assert self.settings is not None
        h, settings = self.h, self.settings
        out = self.hosts_part(i)
        j = self.count_row.get(i)
        if j is not None and self.counts is not None:
            c = self.counts
            test, component = "count-rate", None
            shift, ratio = float(c.rate_diff[j]), float(c.rate_ratio[j])
            practical = bool(c.practical[j])
        else:
            centre = float(h.baseline_centre[i])
            test, component = f"hosts-{h.location_test[i]}", str(h.component[i]) or None
            shift = float(h.effect_abs[i])
            ratio = (centre + shift) / centre if centre != 0 else math.nan
            practical = bool(h.practical[i])
        out.update(
            {
                "test": test,
                "component": component,
                "p_raw": _f(self.p_raw[i]),
                "p_adjusted": _f(self.p_adjusted[i]),
                "multiplicity": settings.multiplicity,
                "family_size": int(self.family[i]),
                "alpha": settings.alpha,
                "effect_abs": _f(shift),
                "effect_rel": _f(ratio - 1.0),
                "min_effect": {
                    "relative": metric.min_effect.relative,
                    "absolute": metric.min_effect.absolute,
                },
                "practical": practical,
            }
        )
        if j is not None and self.counts is not None:
            c = self.counts
            out["counts"] = {
                "canary_events": _f(c.canary_events[j]),
                "baseline_events": _f(c.baseline_events[j]),
                "canary_exposure": _f(c.canary_exposure[j]),
                "baseline_exposure": _f(c.baseline_exposure[j]),
                "canary_rate": _f(c.canary_rate[j]),
                "baseline_rate": _f(c.baseline_rate[j]),
                "dispersion": _f(c.dispersion[j]),
                "exposure": metric.exposure or "buckets",
            }
        else:
            out["components"] = {
                "p_location": _f(h.p_location[i]),
                "p_trend": _f(h.p_trend[i]),
                "p_jitter": _f(h.p_jitter[i]),
                "trend_effect_abs": _f(h.trend_effect_abs[i]),
                "jitter_effect_abs": _f(h.jitter_effect_abs[i]),
                "baseline_centre": _f(h.baseline_centre[i]),
                "baseline_scale": _f(h.baseline_scale[i]),
            }
        return out

    def pooled_method(self, i: int) -> dict[str, Any]:
        """What a ``kayenta`` run reports of row ``i``: the host diagnostics, units points."""
        out = self.hosts_part(i)
        out["units"] = "points"
        out["test"] = "mann-whitney-pooled"
        return out


class LazyDiagnostics(Mapping[str, Any]):
    """A metric's diagnostics, built from the batched results when first read.

    A judgment of 100,000 metrics would otherwise hold a dict per host per metric, more memory
    than the points themselves; most are never read.  Reads like the dict it stands for.

    Examples
    --------
    >>> d = LazyDiagnostics(lambda: {"units": "hosts"})
    >>> d["units"], dict(d), d == {"units": "hosts"}
    ('hosts', {'units': 'hosts'}, True)
    """

    __slots__ = ("_build", "_data")

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build: Callable[[], dict[str, Any]] | None = build
        self._data: dict[str, Any] | None = None

    def _dict(self) -> dict[str, Any]:
        if self._data is None:
            assert self._build is not None
            self._data, self._build = self._build(), None
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __repr__(self) -> str:
        return repr(self._dict())

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (sent to a Dask worker, saved) as the plain dict it stands for.
        return (dict, (self._dict(),))


def _component_sign(h: HostTestResult) -> NDArray[np.float64]:
    # The sign of the deciding component's effect: it labels a failure High or Low.
    comp = np.asarray(h.component)
    return np.where(
        comp == "trend",
        np.sign(h.trend_effect_abs),
        np.where(comp == "jitter", 1.0, np.sign(h.effect_abs)),
    ).astype(np.float64)


def _component_summaries(
    comp: NDArray[np.str_],
    trend: NDArray[np.float64],
    jitter: NDArray[np.float64],
    location: NDArray[np.float64],
) -> NDArray[np.float64]:
    # Each row's per-host summaries of its deciding component (location without one).
    return np.where(
        (comp == "trend")[:, None], trend, np.where((comp == "jitter")[:, None], jitter, location)
    )


def _worst_hosts(
    values: NDArray[np.float64], sign: NDArray[np.float64]
) -> tuple[list[int], list[float]]:
    """Per row, the host slot that moved furthest in the direction of the change, and its value.

    The slot is -1 where no host has a value.  Ties go to the first slot, as ``argmax`` does.
    """
    rows, width = values.shape
    if width == 0:
        return [-1] * rows, [math.nan] * rows
    ok = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        keyed = np.where(ok, values * np.where(sign != 0, sign, 1.0)[:, None], -np.inf)
    j = np.argmax(keyed, axis=1)
    value = np.take_along_axis(values, j[:, None], axis=1)[:, 0]
    return np.where(ok.any(axis=1), j, -1).tolist(), _floats(value)


def _centre_spread(values: NDArray[np.float64]) -> tuple[list[float], list[float]]:
    """Mean and sample standard deviation of each row's non-missing values (NaN without data).

    Only rows with enough values reach ``nanmean``/``nanstd``, so no empty-slice warnings.
    """
    present = np.sum(~np.isnan(values), axis=1)
    centre = np.full(len(values), np.nan)
    spread = np.full(len(values), np.nan)
    some, several = present > 0, present > 1
    with np.errstate(all="ignore"):
        centre[some] = np.nanmean(values[some], axis=1)
        spread[several] = np.nanstd(values[several], axis=1, ddof=1)
    return _floats(centre), _floats(spread)


class _HostRows:
    """Every number the hosts method's per-metric loop reads, as Python lists (built once).

    Lists over metrics come from the host test (and the p-values); lists over count rows from
    the rate test, indexed by ``count_row[i]`` (None: the metric is not judged as a count).
    """

    def __init__(self, ev: HostEvidence, n: int) -> None:
        h, c = ev.hosts, ev.counts
        count_pos = {int(r): j for j, r in enumerate(ev.count_rows)} if c is not None else {}
        self.count_row: list[int | None] = [count_pos.get(i) for i in range(n)]
        self.p_raw, self.p_adjusted = _floats(ev.p_raw), _floats(ev.p_adjusted)
        self.centre, self.shift = _floats(h.baseline_centre), _floats(h.effect_abs)
        self.practical = np.asarray(h.practical, dtype=bool).tolist()
        self.inconclusive = np.asarray(h.inconclusive, dtype=bool).tolist()
        self.reason = [str(r) for r in h.reason.tolist()]
        self.component = [str(x) for x in np.asarray(h.component).tolist()]
        self.test = [f"hosts-{t}" for t in h.location_test.tolist()]
        self.trend_effect, self.jitter_effect = (
            _floats(h.trend_effect_abs),
            _floats(h.jitter_effect_abs),
        )
        self.n_canary_hosts = np.asarray(h.n_canary_hosts, dtype=np.int64).tolist()
        sign = _component_sign(h)
        self.sign = _floats(sign)
        comp = np.asarray(h.component)
        canary = _component_summaries(comp, h.canary.trend, h.canary.jitter, h.canary.location)
        baseline = _component_summaries(
            comp, h.baseline.trend, h.baseline.jitter, h.baseline.location
        )
        self.worst_slot, self.worst_value = _worst_hosts(canary, sign)
        self.cubes = ev.cubes
        self.family = np.asarray(ev.family, dtype=np.int64).tolist()
        self.base_centre, self.base_spread = _centre_spread(baseline)
        if c is not None:
            self._counts(c)

    def _counts(self, c: CountTestResult) -> None:
        self.c_rate, self.b_rate = _floats(c.canary_rate), _floats(c.baseline_rate)
        self.rate_diff, self.rate_ratio = _floats(c.rate_diff), _floats(c.rate_ratio)
        self.c_practical = np.asarray(c.practical, dtype=bool).tolist()
        self.c_inconclusive = np.asarray(c.inconclusive, dtype=bool).tolist()
        self.c_reason = [str(r) for r in c.reason.tolist()]
        self.c_sign = _floats(np.sign(c.rate_diff))
        self.no_data = (
            (c.canary_events + c.baseline_events == 0)
            & ((c.canary_exposure == 0) | (c.baseline_exposure == 0))
        ).tolist()
        self.c_events, self.b_events = _floats(c.canary_events), _floats(c.baseline_events)
        self.c_exposure, self.b_exposure = _floats(c.canary_exposure), _floats(c.baseline_exposure)


def classify_hosts(
    metrics: Sequence[MetricConfig], evidence: Evidence, settings: JudgeSettings
) -> list[MetricClassification]:
    """The host-aware method: hosts as units, multiplicity control, minimum practical effects.

    Parameters
    ----------
    metrics : sequence of MetricConfig
        One per row of the evidence.
    evidence : Evidence
        ``evidence.hosts`` from :func:`host_evidence`; the pooled descriptions give thresholds.
    settings : JudgeSettings
        ``alpha`` and ``multiplicity``.

    Returns
    -------
    list of MetricClassification
        High/Low where the adjusted p-value is below ``alpha`` and the change reaches the
        minimum effect; Nodata (NodataFailMetric with ``must_have_data`` and no data) with the
        test's reason where no decision is supported; Pass otherwise.

    Notes
    -----
    Every number the sentences need is computed over all metrics at once (:class:`_HostRows`);
    the loop over metrics only decides and formats.  Diagnostics are built when first read
    (:class:`LazyDiagnostics` over a :class:`DiagnosticsTable`).
    """
    ev = evidence.hosts
    if ev is None:
        raise ValueError("the hosts method needs Evidence.hosts (see host_evidence)")
    n = len(metrics)
    rows = _HostRows(ev, n)
    table = DiagnosticsTable(ev, settings)
    thresholds = threshold_statistics(metrics, evidence.canary_stats)
    n_c = np.asarray(evidence.canary_stats.n, dtype=np.int64).reshape(n).tolist()
    results: list[MetricClassification] = []
    for i, metric in enumerate(metrics):
        text = _HostText(metric, settings, ev, rows, i)
        diag = LazyDiagnostics(partial(table.hosts_method, i, metric))
        threshold_value = thresholds[i]
        breach = _threshold_breach(metric, threshold_value) if n_c[i] > 0 else None
        if breach is not None:
            label, crit = (HIGH if breach == "max" else LOW), metric.critical
            reason = _Text(metric, settings, (0.0, 0.0), (0, 0), math.nan, 0.0).threshold(
                breach, threshold_value
            )
        elif text.inconclusive:
            if text.no_data and metric.must_have_data and not metric.critical:
                label, crit = NODATA_FAIL, False
            else:
                label, crit = NODATA, metric.critical
            reason = text.nodata(label)
        else:
            p_adj = rows.p_adjusted[i] if not metric.muted else rows.p_raw[i]
            if text.practical and p_adj < settings.alpha:
                label, crit = (HIGH if text.sign > 0 else LOW), metric.critical
                reason = text.changed(label, p_adj)
            else:
                label, crit, reason = PASS, False, text.passed(p_adj)
        results.append(
            MetricClassification(
                label,
                crit,
                reason,
                estimate=text.shift,
                ci_low=math.nan,
                ci_high=math.nan,
                bound=text.floor,
                effect=text.ratio,
                threshold_value=threshold_value,
                diagnostics=diag,
            )
        )
    return results


class _HostText:
    """Numbers and sentences of one metric judged by the hosts method (read from ``rows``)."""

    # One instance per metric and run: slots make building and reading them cheaper.
    __slots__ = (
        "b_rate",
        "c_rate",
        "count",
        "ev",
        "floor",
        "i",
        "inconclusive",
        "j",
        "kernel_reason",
        "m",
        "no_data",
        "p_raw",
        "practical",
        "ratio",
        "rows",
        "settings",
        "shift",
        "sign",
        "test",
    )

    def __init__(
        self,
        metric: MetricConfig,
        settings: JudgeSettings,
        ev: HostEvidence,
        rows: _HostRows,
        i: int,
    ) -> None:
        self.m, self.settings, self.ev, self.rows, self.i = metric, settings, ev, rows, i
        j = rows.count_row[i]
        self.j = j
        self.count = j is not None
        self.p_raw = rows.p_raw[i]
        if j is not None:
            self.c_rate, self.b_rate = rows.c_rate[j], rows.b_rate[j]
            self.shift = rows.rate_diff[j]
            self.ratio = rows.rate_ratio[j]
            self.practical = rows.c_practical[j]
            self.inconclusive = rows.c_inconclusive[j]
            self.kernel_reason = rows.c_reason[j]
            self.sign = rows.c_sign[j]
            self.floor = max(metric.min_effect.absolute, 0.0)
            self.test = "count-rate"
            self.no_data = rows.no_data[j]
        else:
            centre = rows.centre[i]
            self.shift = rows.shift[i]
            self.ratio = (centre + self.shift) / centre if centre != 0 else math.nan
            self.practical = rows.practical[i]
            self.inconclusive = rows.inconclusive[i]
            self.kernel_reason = rows.reason[i]
            self.sign = rows.sign[i]
            self.floor = max(metric.min_effect.absolute, metric.min_effect.relative * abs(centre))
            self.test = rows.test[i]
            self.no_data = "no data" in self.kernel_reason
        if metric.muted:
            self.inconclusive = self.inconclusive and self.no_data

    def _v(self, x: float) -> str:
        unit = f" {self.m.unit}" if self.m.unit else ""
        return f"{fmt_number(x)}{unit}"

    def _p(self, p_adj: float) -> str:
        fam = self.rows.family[self.i]
        name = _MULTIPLICITY_NAMES.get(self.settings.multiplicity)
        if self.m.muted or name is None or fam <= 1:
            return f"p={fmt_number(p_adj)}"
        raw = f", raw p={fmt_number(self.p_raw)}" if self.p_raw != p_adj else ""
        return f"p={fmt_number(p_adj)} after {name} over {fam} metrics{raw}"

    def _min(self) -> str:
        me = self.m.min_effect
        parts = []
        if me.relative > 0:
            parts.append(f"{me.relative * 100:g}%")
        if me.absolute > 0:
            parts.append(self._v(me.absolute))
        return "minimum effect " + (" and ".join(parts) if parts else "none")

    def _pct(self) -> str:
        comp = "" if self.count else self.rows.component[self.i]
        if comp in ("trend", "jitter"):
            rows, i = self.rows, self.i
            diff = rows.trend_effect[i] if comp == "trend" else rows.jitter_effect[i]
            return f"difference {fmt_signed(diff)}"
        if math.isnan(self.ratio) or math.isinf(self.ratio):
            return fmt_signed(self.shift)
        return f"{fmt_signed(100.0 * (self.ratio - 1.0))}%"

    def _describe(self) -> str:
        rows, i, j = self.rows, self.i, self.j
        if j is not None:
            # A count's unit is a rate ("failed jobs/min"); its total is of the thing counted.
            unit = (self.m.unit or "events").split("/")[0].strip() or "events"
            if self.m.exposure:
                over, per = f"{self.m.exposure}", "per request"
            else:
                # Without an exposure metric each reported host-bucket is one unit.
                bucket = "host-minutes" if self.m.step == 60 else f"host-buckets of {self.m.step} s"
                over, per = bucket, f"per {bucket.removesuffix('s').replace('buckets', 'bucket')}"
            return (
                f"Canary {fmt_number(rows.c_events[j])} {unit} over "
                f"{fmt_number(rows.c_exposure[j])} {over} ({fmt_number(self.c_rate)} "
                f"{per}) against baseline {fmt_number(rows.b_events[j])} over "
                f"{fmt_number(rows.b_exposure[j])} ({fmt_number(self.b_rate)} {per})"
            )
        comp = rows.component[i] or "location"
        k = rows.n_canary_hosts[i]
        if comp == "trend":
            verb, noun = "moves by", "across the window"
        elif comp == "jitter":
            verb, noun = "jitters by", "step to step"
        else:
            verb, noun = "averages", ""
        base = f"baseline hosts {fmt_number(rows.base_centre[i])}±{self._v(rows.base_spread[i])}"
        suffix = f" {noun}" if noun else ""
        slot = rows.worst_slot[i]
        if slot < 0:
            return f"Canary hosts against {base}{suffix}"
        host, value = rows.cubes.hosts("canary", i)[slot], rows.worst_value[i]
        who = f"Canary host {host}" if k <= 1 else f"Canary host {host} (of {k})"
        return f"{who} {verb} {self._v(value)}{suffix} against {base}"

    def changed(self, label: str, p_adj: float) -> str:
        crit = "; the metric is critical, so the canary fails" if self.m.critical else ""
        return f"{self._describe()} ({self._pct()}, {self._p(p_adj)}); {self._min()}{crit}."

    def passed(self, p_adj: float) -> str:
        if self.m.muted:
            return f"{self._describe()} ({self._pct()}, {self._p(p_adj)}); muted, so not judged."
        harmless = (self.m.direction == "increase" and self.shift < 0) or (
            self.m.direction == "decrease" and self.shift > 0
        )
        if not self.practical and harmless:
            why = f"only {self.m.direction}s are judged for this metric"
        elif not self.practical:
            why = f"the change is below the {self._min()}"
        else:
            why = f"not significant at alpha {fmt_number(self.settings.alpha)}"
        return f"{self._describe()} ({self._pct()}, {self._p(p_adj)}); {why}, so it passes."

    def nodata(self, label: str) -> str:
        reason = self.kernel_reason or "no decision is supported by the data"
        text = f"Inconclusive: {reason}"
        if label == NODATA_FAIL:
            return f"{text}, and must_have_data is set, so the metric counts as failed."
        if self.m.critical:
            return f"{text}; the metric is critical, so the canary cannot pass without it."
        return f"{text}, so the metric was not judged."


#: judging methods by the name used in ``judge.method``
CLASSIFIERS: dict[str, Classifier] = {"hosts": classify_hosts, "kayenta": classify_kayenta}
