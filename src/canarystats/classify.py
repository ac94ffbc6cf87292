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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from canarystats.align import HostCubes
from canarystats.config import JudgeSettings, MetricConfig
from canarystats.stats import Description, MannWhitneyResult
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
    the ``family`` gating metrics.
    """

    cubes: HostCubes
    hosts: HostTestResult
    counts: CountTestResult | None
    count_rows: NDArray[np.int64]
    p_raw: NDArray[np.float64]
    p_adjusted: NDArray[np.float64]
    family: int


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
    diagnostics: dict[str, Any] | None = None


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


def _row(values: object, n: int) -> NDArray[np.float64]:
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)).astype(np.float64)


def threshold_statistic(metric: MetricConfig, stats: Description, i: int) -> float | None:
    """The canary statistic named by ``metric.threshold`` for row ``i`` (None without one)."""
    if metric.threshold is None:
        return None
    name = metric.threshold.statistic
    pct = name in ("p95", "p99")
    value = stats.percentiles[float(name[1:])] if pct else getattr(stats, name)
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[i])


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
    cmin, cmax = _row(cs.min, n), _row(cs.max, n)
    bmin, bmax = _row(bs.min, n), _row(bs.max, n)

    empty = (n_c == 0) | (n_b == 0)
    identical = ~empty & (n_c == n_b) & _identical_rows(evidence.canary, evidence.baseline)
    single = ~empty & ~identical & (np.fmin(cmin, bmin) == np.fmax(cmax, bmax))
    constant = ~empty & ~identical & ~single & (cmin == cmax) & (bmin == bmax)

    est = _row(evidence.test.estimate, n)
    lo = _row(evidence.test.ci_low, n)
    hi = _row(evidence.test.ci_high, n)
    gap = cmin - bmin
    est = np.where(constant, gap, est)
    lo = np.where(constant, gap, lo)
    hi = np.where(constant, gap, hi)

    judged = ~empty & ~identical & ~single
    error = judged & (np.isnan(est) | np.isnan(lo) | np.isnan(hi))
    tested = judged & ~error

    use_cles = np.array([m.effect_size.measure == "cles" for m in metrics], dtype=bool)
    effect = np.where(use_cles, _row(evidence.cles, n), _row(evidence.mean_ratio, n))
    # Samples without a difference have the neutral effect, whatever 0/0 would say (Kayenta
    # reports deviation 1.0 for them).
    effect = np.where(identical | single, np.where(use_cles, 0.5, 1.0), effect)
    allowed_inc = np.array([m.effect_size.allowed_increase for m in metrics], dtype=np.float64)
    allowed_dec = np.array([m.effect_size.allowed_decrease for m in metrics], dtype=np.float64)
    crit_inc = np.array([m.effect_size.critical_increase for m in metrics], dtype=np.float64)
    crit_dec = np.array([m.effect_size.critical_decrease for m in metrics], dtype=np.float64)
    up_ok = np.array([m.direction in ("increase", "either") for m in metrics], dtype=bool)
    down_ok = np.array([m.direction in ("decrease", "either") for m in metrics], dtype=bool)
    is_critical = np.array([m.critical for m in metrics], dtype=bool)

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

    thresholds = [threshold_statistic(m, cs, i) for i, m in enumerate(metrics)]
    c_mean, b_mean = _row(cs.mean, n), _row(bs.mean, n)
    ratio = _row(evidence.mean_ratio, n)
    results: list[MetricClassification] = []
    for i, metric in enumerate(metrics):
        fields: dict[str, Any] = {
            "estimate": float(est[i]),
            "ci_low": float(lo[i]),
            "ci_high": float(hi[i]),
            "bound": float(bound[i]),
            "effect": float(effect[i]),
            "threshold_value": thresholds[i],
        }
        text = _Text(
            metric,
            settings,
            (float(c_mean[i]), float(b_mean[i])),
            (int(n_c[i]), int(n_b[i])),
            float(ratio[i]),
            float(cmin[i]),
        )
        breach = _threshold_breach(metric, thresholds[i]) if n_c[i] > 0 else None
        if breach is not None:
            label = HIGH if breach == "max" else LOW
            reason = text.threshold(breach, thresholds[i])
            results.append(MetricClassification(label, metric.critical, reason, **fields))
            continue
        if empty[i]:
            if metric.must_have_data and not metric.critical:
                label, crit = NODATA_FAIL, False
            else:
                label, crit = NODATA, bool(is_critical[i])
            reason = text.nodata(label, int(n_c[i]), int(n_b[i]))
        elif identical[i]:
            label, crit, reason = PASS, False, text.identical()
        elif single[i]:
            label, crit, reason = PASS, False, text.single_value()
        elif error[i]:
            label, crit, reason = ERROR, bool(is_critical[i]), text.error()
        elif high[i]:
            crit = bool(is_critical[i] and crit_up[i])
            label, reason = HIGH, text.changed(HIGH, fields, crit)
        elif low[i]:
            crit = bool(is_critical[i] and crit_down[i])
            label, reason = LOW, text.changed(LOW, fields, crit)
        else:
            label, crit = PASS, False
            if sig_up[i] and not up_ok[i]:
                reason = text.wrong_direction(HIGH, fields)
            elif sig_down[i] and not down_ok[i]:
                reason = text.wrong_direction(LOW, fields)
            elif sig_up[i] or sig_down[i]:
                reason = text.below_effect(HIGH if sig_up[i] else LOW, fields)
            else:
                reason = text.not_significant(fields)
        results.append(MetricClassification(label, crit, reason, **fields))
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
        digits = max(0, 2 - math.floor(math.log10(a)))
        text = f"{x:.{digits}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    return f"{x:.3g}"


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
        One per row of ``cubes``.
    cubes : HostCubes
        From :func:`canarystats.align.align_hosts` (quiet count buckets already filled).
    settings : JudgeSettings
        ``multiplicity`` names the adjustment over the gating (non-muted, decidable) metrics.

    Returns
    -------
    HostEvidence
    """
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
            counts = _count_test(cubes, metrics, count_rows, sel, rel, absolute)
        p_raw[count_rows] = counts.p_value
    muted = np.array([m.muted for m in metrics], dtype=bool)
    family_p = np.where(muted, np.nan, p_raw)
    adjusted = adjust_p_values(family_p, settings.multiplicity) if n else np.zeros(0)  # type: ignore[arg-type]
    return HostEvidence(
        cubes=cubes,
        hosts=hres,
        counts=counts,
        count_rows=count_rows,
        p_raw=p_raw,
        p_adjusted=np.asarray(adjusted, dtype=np.float64),
        family=int(np.sum(~np.isnan(family_p))),
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
        canary_exposure=cubes.exposure_totals(metrics, "canary")[rows],
        baseline_exposure=cubes.exposure_totals(metrics, "baseline")[rows],
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
    too how much its hosts differ and how autocorrelated its points are.
    """
    h = ev.hosts
    cubes = ev.cubes
    per_host = []
    for cohort, names, summ in (
        ("canary", cubes.canary_hosts, h.canary),
        ("baseline", cubes.baseline_hosts, h.baseline),
    ):
        for j, host in enumerate(names):
            if summ.n_points[i, j] == 0:
                continue
            per_host.append(
                {
                    "host": host,
                    "cohort": cohort,
                    "n_points": int(summ.n_points[i, j]),
                    "location": _f(summ.location[i, j]),
                    "trend": _f(summ.trend[i, j]),
                    "jitter": _f(summ.jitter[i, j]),
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


def _component_sign(h: HostTestResult, i: int) -> float:
    comp = str(h.component[i])
    if comp == "trend":
        return float(np.sign(h.trend_effect_abs[i]))
    if comp == "jitter":
        return 1.0
    return float(np.sign(h.effect_abs[i]))


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
    """
    ev = evidence.hosts
    if ev is None:
        raise ValueError("the hosts method needs Evidence.hosts (see host_evidence)")
    count_pos = {int(r): j for j, r in enumerate(ev.count_rows)}
    cs = evidence.canary_stats
    n_c = np.asarray(cs.n, dtype=np.int64).reshape(len(metrics))
    results: list[MetricClassification] = []
    for i, metric in enumerate(metrics):
        text = _HostText(metric, settings, ev, i, count_pos.get(i))
        diag = host_diagnostics(ev, i)
        diag.update(text.numbers())
        threshold_value = threshold_statistic(metric, cs, i)
        fields: dict[str, Any] = {
            "estimate": text.shift,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "bound": text.floor,
            "effect": text.ratio,
            "threshold_value": threshold_value,
            "diagnostics": diag,
        }
        breach = _threshold_breach(metric, threshold_value) if n_c[i] > 0 else None
        if breach is not None:
            label = HIGH if breach == "max" else LOW
            reason = _Text(metric, settings, (0.0, 0.0), (0, 0), math.nan, 0.0).threshold(
                breach, threshold_value
            )
            results.append(MetricClassification(label, metric.critical, reason, **fields))
            continue
        if text.inconclusive:
            no_data = text.no_data
            if no_data and metric.must_have_data and not metric.critical:
                label, crit = NODATA_FAIL, False
            else:
                label, crit = NODATA, metric.critical
            results.append(MetricClassification(label, crit, text.nodata(label), **fields))
            continue
        p_adj = float(ev.p_adjusted[i]) if not metric.muted else float(ev.p_raw[i])
        failed = text.practical and p_adj < settings.alpha
        if failed:
            label = HIGH if text.sign > 0 else LOW
            results.append(
                MetricClassification(label, metric.critical, text.changed(label, p_adj), **fields)
            )
        else:
            results.append(MetricClassification(PASS, False, text.passed(p_adj), **fields))
    return results


class _HostText:
    """Numbers and sentences of one metric judged by the hosts method."""

    def __init__(
        self,
        metric: MetricConfig,
        settings: JudgeSettings,
        ev: HostEvidence,
        i: int,
        count_row: int | None,
    ) -> None:
        self.m, self.settings, self.ev, self.i = metric, settings, ev, i
        h = ev.hosts
        self.count = count_row is not None and ev.counts is not None
        self.p_raw = float(ev.p_raw[i])
        if self.count:
            assert ev.counts is not None and count_row is not None
            c, j = ev.counts, count_row
            self.c_rate, self.b_rate = float(c.canary_rate[j]), float(c.baseline_rate[j])
            self.shift = float(c.rate_diff[j])
            self.ratio = float(c.rate_ratio[j])
            self.practical = bool(c.practical[j])
            self.inconclusive = bool(c.inconclusive[j])
            self.kernel_reason = str(c.reason[j])
            self.sign = float(np.sign(self.shift))
            self.floor = max(metric.min_effect.absolute, 0.0)
            self.test = "count-rate"
            self.no_data = bool(
                c.canary_events[j] + c.baseline_events[j] == 0
                and (c.canary_exposure[j] == 0 or c.baseline_exposure[j] == 0)
            )
        else:
            centre = float(h.baseline_centre[i])
            self.shift = float(h.effect_abs[i])
            self.ratio = (centre + self.shift) / centre if centre != 0 else math.nan
            self.practical = bool(h.practical[i])
            self.inconclusive = bool(h.inconclusive[i])
            self.kernel_reason = str(h.reason[i])
            self.sign = _component_sign(h, i)
            self.floor = max(metric.min_effect.absolute, metric.min_effect.relative * abs(centre))
            self.test = f"hosts-{h.location_test[i]}"
            self.no_data = "no data" in self.kernel_reason
        if metric.muted:
            self.inconclusive = self.inconclusive and self.no_data

    def numbers(self) -> dict[str, Any]:
        h, i = self.ev.hosts, self.i
        out: dict[str, Any] = {
            "test": self.test,
            "component": None if self.count else (str(h.component[i]) or None),
            "p_raw": _f(self.ev.p_raw[i]),
            "p_adjusted": _f(self.ev.p_adjusted[i]),
            "multiplicity": self.settings.multiplicity,
            "family_size": self.ev.family,
            "alpha": self.settings.alpha,
            "effect_abs": _f(self.shift),
            "effect_rel": _f(self.ratio - 1.0),
            "min_effect": {
                "relative": self.m.min_effect.relative,
                "absolute": self.m.min_effect.absolute,
            },
            "practical": self.practical,
        }
        if self.count:
            c, j = self.ev.counts, int(np.searchsorted(self.ev.count_rows, i))
            assert c is not None
            out["counts"] = {
                "canary_events": _f(c.canary_events[j]),
                "baseline_events": _f(c.baseline_events[j]),
                "canary_exposure": _f(c.canary_exposure[j]),
                "baseline_exposure": _f(c.baseline_exposure[j]),
                "canary_rate": _f(c.canary_rate[j]),
                "baseline_rate": _f(c.baseline_rate[j]),
                "dispersion": _f(c.dispersion[j]),
                "exposure": self.m.exposure or "buckets",
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

    def _v(self, x: float) -> str:
        unit = f" {self.m.unit}" if self.m.unit else ""
        return f"{fmt_number(x)}{unit}"

    def _p(self, p_adj: float) -> str:
        fam = self.ev.family
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
        h, i = self.ev.hosts, self.i
        comp = "" if self.count else str(h.component[i])
        if comp in ("trend", "jitter"):
            diff = h.trend_effect_abs[i] if comp == "trend" else h.jitter_effect_abs[i]
            return f"difference {fmt_signed(float(diff))}"
        if math.isnan(self.ratio) or math.isinf(self.ratio):
            return fmt_signed(self.shift)
        return f"{fmt_signed(100.0 * (self.ratio - 1.0))}%"

    def _canary_host(self, values: NDArray[np.float64]) -> tuple[str, float] | None:
        names = self.ev.cubes.canary_hosts
        row = values[self.i]
        ok = ~np.isnan(row)
        if not ok.any():
            return None
        keyed = np.where(ok, row * (self.sign if self.sign != 0 else 1.0), -np.inf)
        j = int(np.argmax(keyed))
        return names[j], float(row[j])

    def _describe(self) -> str:
        h, i = self.ev.hosts, self.i
        if self.count:
            c, j = self.ev.counts, int(np.searchsorted(self.ev.count_rows, i))
            assert c is not None
            # A count's unit is a rate ("failed jobs/min"); its total is of the thing counted.
            unit = (self.m.unit or "events").split("/")[0].strip() or "events"
            if self.m.exposure:
                over, per = f"{self.m.exposure}", "per request"
            else:
                # Without an exposure metric each reported host-bucket is one unit.
                bucket = "host-minutes" if self.m.step == 60 else f"host-buckets of {self.m.step} s"
                over, per = bucket, f"per {bucket.removesuffix('s').replace('buckets', 'bucket')}"
            return (
                f"Canary {fmt_number(float(c.canary_events[j]))} {unit} over "
                f"{fmt_number(float(c.canary_exposure[j]))} {over} ({fmt_number(self.c_rate)} "
                f"{per}) against baseline {fmt_number(float(c.baseline_events[j]))} over "
                f"{fmt_number(float(c.baseline_exposure[j]))} ({fmt_number(self.b_rate)} {per})"
            )
        comp = str(h.component[i]) or "location"
        k = int(h.n_canary_hosts[i])
        if comp == "trend":
            summ_c, summ_b = h.canary.trend, h.baseline.trend
            verb, noun = "moves by", "across the window"
        elif comp == "jitter":
            summ_c, summ_b = h.canary.jitter, h.baseline.jitter
            verb, noun = "jitters by", "step to step"
        else:
            summ_c, summ_b = h.canary.location, h.baseline.location
            verb, noun = "averages", ""
        worst = self._canary_host(summ_c)
        b = summ_b[i]
        with np.errstate(all="ignore"):
            centre = float(np.nanmean(b)) if np.any(~np.isnan(b)) else math.nan
            spread = float(np.nanstd(b, ddof=1)) if np.sum(~np.isnan(b)) > 1 else math.nan
        base = f"baseline hosts {fmt_number(centre)}±{self._v(spread)}"
        suffix = f" {noun}" if noun else ""
        if worst is None:
            return f"Canary hosts against {base}{suffix}"
        host, value = worst
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
