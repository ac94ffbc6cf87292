"""``method: kayenta`` -- Netflix Kayenta's Mann-Whitney judge, on every point pooled.

Each cohort's points are pooled across hosts (timestamps only order them), outliers removed
where configured, and the metric follows NetflixACAJudge's MannWhitneyClassifier, decision by
decision (``docs/judging.md`` says where it deliberately differs):

1. no data on either side: Nodata, or NodataFailMetric when the metric must have data;
2. identical samples, or one value shared by both: Pass;
3. the Mann-Whitney shift interval against the tolerance bound ``tolerance * |estimate|``:
   High when the interval lies wholly above ``+bound``, Low when wholly below ``-bound``;
4. the direction must allow the change, and the effect size (mean ratio or CLES) must reach
   the allowed increase/decrease, or the label falls back to Pass;
5. a critical metric whose High/Low reaches the critical effect size fails the canary;
6. an absolute ``threshold`` on the canary gives High/Low on its own, whatever the test says.

Pooling treats 60 points of one host as 60 independent witnesses, so ordinary differences
between hosts look significant; the report therefore also shows the host diagnostics (how much
the hosts differ, how autocorrelated the points are), from the same batched host test the
``hosts`` method decides on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from canarystats.align import fill_count_rows
from canarystats.config import JudgeSettings, MetricConfig
from canarystats.labels import Label
from canarystats.methods.base import (
    Evidence,
    MetricClassification,
    Samples,
    pooled_evidence,
)
from canarystats.methods.diagnostics import HostDiagnostics, LazyDiagnostics
from canarystats.methods.thresholds import breach, threshold_statistics
from canarystats.methods.wording import (
    CRITICAL_FAILS,
    fmt_number,
    fmt_signed,
    nodata_sentence,
    plural,
    threshold_sentence,
    with_unit,
)
from canarystats.stats import MannWhitneyResult, host_test, mann_whitney
from canarystats.stats.outliers import remove_outliers
from canarystats.stats.rows import row_values
from canarystats.windows import StartLike, lay_out

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

__all__ = ["KayentaEvidence", "KayentaMethod"]


@dataclass(frozen=True)
class KayentaEvidence(Evidence):
    """The pooled Mann-Whitney test of every row, and the host diagnostics (None: not computed)."""

    test: MannWhitneyResult
    hosts: HostDiagnostics | None = None


class KayentaMethod:
    """Kayenta's judge: pooled points, the shift interval against a tolerance, effect gates.

    Examples
    --------
    >>> from canarystats.methods.registry import get_method
    >>> m = get_method("kayenta")
    >>> m.name, m.units
    ('kayenta', 'points')
    """

    name = "kayenta"
    units = "points"

    def samples(
        self,
        frame: pd.DataFrame,
        metrics: Sequence[MetricConfig],
        settings: JudgeSettings,
        *,
        run: str | None,
        start: StartLike | Mapping[Any, StartLike] | None,
    ) -> Samples:
        """Pool the points the source returned in the canary window (after the warm-up);
        outliers removed per cohort where configured.  Kayenta has no use for a past."""
        layout = lay_out(frame, metrics, settings, run=run, start=start, infer_kinds=False)
        cubes = layout.cubes
        rows = tuple(metrics) * cubes.n_runs
        # Outliers are removed per side, after the NaN strategy (which align applied), as
        # Kayenta; removal copies, so filling the count buckets afterwards (for the host
        # diagnostics only) leaves the pooled points as the source returned them.
        remove = np.array([m.outliers == "remove" for m in rows], dtype=bool)
        factor = np.array([m.outlier_factor for m in rows], dtype=np.float64)
        canary = remove_outliers(cubes.pooled("canary"), factor, remove)
        baseline = remove_outliers(cubes.pooled("baseline"), factor, remove)
        fill_count_rows(cubes, layout.counts)
        return Samples(cubes, canary, baseline, windows=layout.windows, counts=layout.counts)

    def evidence(
        self, metrics: Sequence[MetricConfig], samples: Samples, settings: JudgeSettings
    ) -> KayentaEvidence:
        """One batched Mann-Whitney over the pooled rows, and one host test for diagnostics."""
        test = mann_whitney(
            samples.canary,
            samples.baseline,
            # Kayenta always uses the normal approximation with continuity correction; the
            # interval's ends are exact pairwise differences, where Kayenta's root finder stops
            # within 1e-4 of them.
            exact=False,
            continuity=True,
            confidence=settings.confidence,
            conf_int=True,
        )
        rows = tuple(metrics) * samples.cubes.n_runs
        hosts = host_test(
            samples.cubes.canary,
            samples.cubes.baseline,
            direction=[m.direction for m in rows],
            min_abs_effect=np.array([m.min_effect.absolute for m in rows], dtype=np.float64),
            min_rel_effect=np.array([m.min_effect.relative for m in rows], dtype=np.float64),
        )
        return KayentaEvidence(
            **pooled_evidence(samples), test=test, hosts=HostDiagnostics(hosts, samples.cubes)
        )

    def classify(
        self, rows: Sequence[MetricConfig], evidence: Evidence, settings: JudgeSettings
    ) -> list[MetricClassification]:
        """Kayenta's classifier, vectorised over rows, deterministic.

        Notes
        -----
        Kayenta adds unseeded Gaussian noise when both samples are constant, so that its root
        finder has something to rank.  canarystats is deterministic instead: when each side is
        constant every pairwise difference equals the gap between the two values, so the shift,
        and both ends of its interval, are exactly that gap.  With a tolerance below 1 this
        gives the labels Kayenta's tests assert (High when the canary's value is above, Low when
        below), still subject to direction and effect-size gates.
        """
        if not isinstance(evidence, KayentaEvidence):
            raise TypeError("the kayenta method classifies KayentaEvidence (see evidence())")
        d = _Decisions(rows, evidence, settings)
        p = row_values(evidence.test.p_value, len(rows)).tolist()
        diagnostics = evidence.hosts
        out = []
        for i, metric in enumerate(rows):
            c = d.classify(i, metric)
            diag = (
                None if diagnostics is None else LazyDiagnostics(partial(_pooled, diagnostics, i))
            )
            out.append(MetricClassification(**c, p_value=p[i], p_raw=p[i], diagnostics=diag))
        return out


def _pooled(hosts: HostDiagnostics, i: int) -> dict[str, Any]:
    out = hosts.row(i)
    out["units"] = "points"
    out["test"] = "mann-whitney-pooled"
    return out


def _floats(values: object) -> list[float]:
    # One conversion per array: the per-metric loop then reads Python floats, not numpy scalars.
    return np.asarray(values, dtype=np.float64).reshape(-1).tolist()


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


def _flags(rows: Sequence[MetricConfig], attribute: str) -> NDArray[np.float64]:
    return np.array([getattr(m.effect_size, attribute) for m in rows], dtype=np.float64)


class _Decisions:
    """Every decision of Kayenta's classifier as masks over rows, read back as Python values."""

    def __init__(
        self, rows: Sequence[MetricConfig], ev: KayentaEvidence, settings: JudgeSettings
    ) -> None:
        n = len(rows)
        self.settings = settings
        cs, bs = ev.canary_stats, ev.baseline_stats
        n_c = np.asarray(cs.n, dtype=np.int64).reshape(n)
        n_b = np.asarray(bs.n, dtype=np.int64).reshape(n)
        cmin, cmax = row_values(cs.min, n), row_values(cs.max, n)
        bmin, bmax = row_values(bs.min, n), row_values(bs.max, n)
        empty = (n_c == 0) | (n_b == 0)
        # Only samples of the same size can be identical: the others need no sorting.
        same_size = ~empty & (n_c == n_b)
        identical = np.zeros(n, dtype=bool)
        identical[same_size] = _identical_rows(ev.canary[same_size], ev.baseline[same_size])
        single = ~empty & ~identical & (np.fmin(cmin, bmin) == np.fmax(cmax, bmax))
        constant = ~empty & ~identical & ~single & (cmin == cmax) & (bmin == bmax)
        gap = cmin - bmin
        est = np.where(constant, gap, row_values(ev.test.estimate, n))
        lo = np.where(constant, gap, row_values(ev.test.ci_low, n))
        hi = np.where(constant, gap, row_values(ev.test.ci_high, n))
        judged = ~empty & ~identical & ~single
        error = judged & (np.isnan(est) | np.isnan(lo) | np.isnan(hi))
        effect = self._effect(rows, ev, identical | single)
        self._gates(rows, settings, est, lo, hi, judged & ~error, effect)
        self.thresholds = threshold_statistics(rows, cs)
        # Everything the loop reads, converted to Python scalars once: the loop only formats.
        bound = settings.tolerance * np.abs(est)
        self.est, self.lo, self.hi = _floats(est), _floats(lo), _floats(hi)
        self.bound, self.effect = _floats(bound), _floats(effect)
        self.c_mean, self.b_mean = _floats(row_values(cs.mean, n)), _floats(row_values(bs.mean, n))
        self.ratio, self.cmin = _floats(row_values(ev.mean_ratio, n)), _floats(cmin)
        self.nc, self.nb = n_c.tolist(), n_b.tolist()
        self.empty, self.identical = empty.tolist(), identical.tolist()
        self.single, self.error = single.tolist(), error.tolist()

    @staticmethod
    def _effect(
        rows: Sequence[MetricConfig], ev: KayentaEvidence, neutral: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        n = len(rows)
        use_cles = np.array([m.effect_size.measure == "cles" for m in rows], dtype=bool)
        effect = np.where(use_cles, row_values(ev.cles, n), row_values(ev.mean_ratio, n))
        # Samples without a difference have the neutral effect, whatever 0/0 would say (Kayenta
        # reports deviation 1.0 for them).
        return np.where(neutral, np.where(use_cles, 0.5, 1.0), effect)

    def _gates(
        self,
        rows: Sequence[MetricConfig],
        settings: JudgeSettings,
        est: NDArray[np.float64],
        lo: NDArray[np.float64],
        hi: NDArray[np.float64],
        tested: NDArray[np.bool_],
        effect: NDArray[np.float64],
    ) -> None:
        up_ok = np.array([m.direction in ("increase", "either") for m in rows], dtype=bool)
        down_ok = np.array([m.direction in ("decrease", "either") for m in rows], dtype=bool)
        bound = settings.tolerance * np.abs(est)
        with np.errstate(invalid="ignore"):
            # Kayenta's rule: the interval must clear a quarter of the estimate, strictly.
            sig_up = tested & (lo > bound)
            sig_down = tested & ~sig_up & (hi < -bound)
            # A NaN effect (zero baseline mean) skips the gate, as in Kayenta.
            gate_up = np.isnan(effect) | (effect >= _flags(rows, "allowed_increase"))
            gate_down = np.isnan(effect) | (effect <= _flags(rows, "allowed_decrease"))
            crit_up = np.isnan(effect) | (effect >= _flags(rows, "critical_increase"))
            crit_down = np.isnan(effect) | (effect <= _flags(rows, "critical_decrease"))
        self.high = (sig_up & up_ok & gate_up).tolist()
        self.low = (sig_down & down_ok & gate_down).tolist()
        self.sig_up, self.sig_down = sig_up.tolist(), sig_down.tolist()
        self.up_ok, self.down_ok = up_ok.tolist(), down_ok.tolist()
        self.crit_up, self.crit_down = crit_up.tolist(), crit_down.tolist()

    def classify(self, i: int, metric: MetricConfig) -> dict[str, Any]:
        """Row ``i``'s label, critical flag, reason and numbers, in Kayenta's order."""
        fields: dict[str, Any] = {
            "estimate": self.est[i],
            "ci_low": self.lo[i],
            "ci_high": self.hi[i],
            "bound": self.bound[i],
            "effect": self.effect[i],
            "threshold_value": self.thresholds[i],
        }
        text = _Text(metric, self.settings, self, i)
        crossed = breach(metric, self.thresholds[i]) if self.nc[i] > 0 else None
        if crossed is not None:
            label = Label.HIGH if crossed == "max" else Label.LOW
            reason = threshold_sentence(metric, crossed, float(self.thresholds[i] or 0.0))
            return {"label": label, "critical": metric.critical, "reason": reason, **fields}
        critical = metric.critical
        if self.empty[i]:
            fail = metric.must_have_data and not critical
            label, crit = (Label.NODATA_FAIL, False) if fail else (Label.NODATA, critical)
            reason = text.nodata(label)
        elif self.identical[i]:
            label, crit, reason = Label.PASS, False, text.identical()
        elif self.single[i]:
            label, crit, reason = Label.PASS, False, text.single_value()
        elif self.error[i]:
            label, crit, reason = Label.ERROR, critical, text.error()
        elif self.high[i] or self.low[i]:
            label = Label.HIGH if self.high[i] else Label.LOW
            crit = critical and (self.crit_up[i] if self.high[i] else self.crit_down[i])
            reason = text.changed(label, crit)
        else:
            label, crit, reason = Label.PASS, False, self._pass_reason(i, text)
        return {"label": label, "critical": bool(crit), "reason": reason, **fields}

    def _pass_reason(self, i: int, text: _Text) -> str:
        if self.sig_up[i] and not self.up_ok[i]:
            return text.wrong_direction(Label.HIGH)
        if self.sig_down[i] and not self.down_ok[i]:
            return text.wrong_direction(Label.LOW)
        if self.sig_up[i] or self.sig_down[i]:
            return text.below_effect(Label.HIGH if self.sig_up[i] else Label.LOW)
        return text.not_significant()


class _Text:
    """The one-sentence reasons of row ``i`` of a Kayenta judgment."""

    def __init__(
        self, metric: MetricConfig, settings: JudgeSettings, d: _Decisions, i: int
    ) -> None:
        self.m, self.settings, self.d, self.i = metric, settings, d, i

    def _v(self, x: float) -> str:
        return with_unit(x, self.m)

    def _means(self) -> str:
        d, i = self.d, self.i
        if math.isnan(d.ratio[i]):
            return f"Canary mean {self._v(d.c_mean[i])} vs the baseline's {self._v(d.b_mean[i])}"
        return (
            f"Canary mean {self._v(d.c_mean[i])} is {fmt_number(d.ratio[i])}x "
            f"the baseline's {self._v(d.b_mean[i])}"
        )

    def _interval(self) -> str:
        d, i = self.d, self.i
        level = f"{self.settings.confidence * 100:g}%"
        return (
            f"shift {fmt_signed(d.est[i] or 0.0)}, {level} CI "
            f"{fmt_signed(d.lo[i] or 0.0)} to {fmt_signed(d.hi[i] or 0.0)}"
        )

    def _effect(self) -> str:
        value = self.d.effect[self.i]
        if self.m.effect_size.measure == "cles":
            return f"CLES {fmt_number(value)} (chance a canary value exceeds a baseline value)"
        return f"mean ratio {fmt_number(value)}x"

    def _tolerance(self) -> str:
        pct = f"{self.settings.tolerance * 100:g}%"
        return f"tolerance bound ±{fmt_number(self.d.bound[self.i] or 0.0)} ({pct} of the shift)"

    def nodata(self, label: Label) -> str:
        n_c, n_b = self.d.nc[self.i], self.d.nb[self.i]
        sides = [s for s, n in (("canary", n_c), ("baseline", n_b)) if n == 0]
        text = (
            f"No usable {' and '.join(sides)} data (canary {plural(n_c, 'value')}, "
            f"baseline {plural(n_b, 'value')})"
        )
        return nodata_sentence(text, label, self.m)

    def identical(self) -> str:
        d, i = self.d, self.i
        return (
            f"Canary and baseline values are identical ({plural(d.nc[i], 'value')} each, "
            f"mean {self._v(d.c_mean[i])}), so there is no difference."
        )

    def single_value(self) -> str:
        d, i = self.d, self.i
        return (
            f"Every canary and baseline value is {self._v(d.cmin[i])} "
            f"({plural(d.nc[i], 'canary value')}, {plural(d.nb[i], 'baseline value')}), "
            "so there is no difference."
        )

    def error(self) -> str:
        return (
            "The shift of the canary could not be computed (the samples hold infinite or "
            "otherwise unusable values), so the metric was not judged."
        )

    def changed(self, label: Label, critical: bool) -> str:
        es = self.m.effect_size
        bound = self.d.bound[self.i] or 0.0
        if label == Label.HIGH:
            where = f"entirely above the tolerance bound +{fmt_number(bound)}"
            allowed = f"allowed increase is {fmt_number(es.allowed_increase)}"
        else:
            where = f"entirely below the tolerance bound -{fmt_number(bound)}"
            allowed = f"allowed decrease is {fmt_number(es.allowed_decrease)}"
        if es.measure == "cles":
            gate = f"{self._effect()}, {allowed}"
        elif math.isnan(self.d.effect[self.i]):
            gate = f"no mean ratio (zero baseline mean), so the {allowed}x does not apply"
        elif (es.allowed_increase if label == Label.HIGH else es.allowed_decrease) == 1:
            gate = f"{allowed}x (no effect-size allowance: any change past the tolerance counts)"
        else:
            gate = f"{allowed}x"
        crit = CRITICAL_FAILS if critical else ""
        return f"{self._means()} ({self._interval()}, {where}); {gate}{crit}."

    def wrong_direction(self, label: Label) -> str:
        change, judged = (
            ("increase", "decreases") if label == Label.HIGH else ("decrease", "increases")
        )
        return (
            f"{self._means()} ({self._interval()}): a clear {change}, but only {judged} "
            f"are judged for this metric (direction: {self.m.direction})."
        )

    def below_effect(self, label: Label) -> str:
        es = self.m.effect_size
        if label == Label.HIGH:
            change = "increase"
            limit = f"below the allowed increase of {fmt_number(es.allowed_increase)}"
        else:
            change = "decrease"
            limit = f"above the allowed decrease of {fmt_number(es.allowed_decrease)}"
        return (
            f"{self._means()} ({self._interval()}): a clear {change}, but the "
            f"{self._effect()} is {limit}, so it is accepted."
        )

    def not_significant(self) -> str:
        return (
            f"{self._means()} ({self._interval()}); the interval does not clear the "
            f"{self._tolerance()}, so there is no clear change."
        )
