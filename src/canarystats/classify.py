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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from canarystats.config import JudgeSettings, MetricConfig
from canarystats.stats import Description, MannWhitneyResult

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
    ['kayenta']
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


#: judging methods by the name used in ``judge.method``
CLASSIFIERS: dict[str, Classifier] = {"kayenta": classify_kayenta}
