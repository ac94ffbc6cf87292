"""``method: hosts`` (the default) -- each host is one unit; the canary hosts against the baseline
hosts, measured by how much healthy hosts differ.

Points from one host are not independent witnesses: hosts of a service differ persistently and
a host's points are autocorrelated.  This method summarises each host's window (location, trend
and jitter) and compares the canary hosts with the baseline hosts in one batched
:func:`canarystats.stats.host_test` over every metric; count metrics are compared as rates per
exposure by one batched :func:`canarystats.stats.count_rate_test` (quiet buckets of known hosts
are zeros); :func:`canarystats.stats.adjust_p_values` controls multiplicity across each run's
gating metrics.  A metric is High/Low when its adjusted p-value is below ``judge.alpha`` and the
change reaches its ``min_effect``; a decision the data cannot support (too few baseline hosts,
no data) is Nodata with the kernel's reason, never a silent Pass.  Thresholds,
``must_have_data`` and ``critical`` work as in the kayenta method; ``effect_size`` does not apply
(``min_effect`` is this method's gate).  ``docs/methods.md`` has the reasoning and the measured
false-alarm and detection rates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from canarystats.align import HostCubes, fill_count_rows
from canarystats.config import JudgeSettings, MetricConfig
from canarystats.labels import Label
from canarystats.methods.base import Evidence, MetricClassification, Samples, pooled_evidence
from canarystats.methods.diagnostics import HostDiagnostics, LazyDiagnostics, finite_or_none
from canarystats.methods.hosts_text import HostNumbers, HostSentences
from canarystats.methods.thresholds import breach, threshold_statistics
from canarystats.methods.wording import threshold_sentence
from canarystats.stats import (
    CountTestResult,
    HostTestResult,
    adjust_p_values,
    count_rate_test,
    host_test,
)
from canarystats.stats.host_change import (
    PreWindowDrift,
    host_change_test,
    moved_with_the_canary,
    positive_rows,
    pre_window_drift,
)
from canarystats.stats.host_summaries import coarse_median_rows
from canarystats.stats.rows import quietly, select_rows
from canarystats.stats.shift_interval import shift_interval
from canarystats.windows import CanaryWindows, StartLike, lay_out

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

__all__ = ["DRIFT_ALPHA", "HostsEvidence", "HostsMethod"]

#: below this p-value the canary counts as drifting within its pre-deploy window
DRIFT_ALPHA = 0.01


@dataclass(frozen=True)
class HostsEvidence(Evidence):
    """What the hosts method decides on, arrays over rows (metric ``i`` of run ``r`` is row
    ``r * len(metrics) + i``).

    ``hosts`` is the one batched host test over every row (its decision is used for gauges, its
    diagnostics for all); ``counts`` the one batched rate test over the count rows
    (``count_rows`` maps its rows back).  ``p_raw`` is each metric's p-value (NaN for an
    inconclusive metric), ``p_adjusted`` the same after the multiplicity adjustment over the
    ``family`` gating (non-muted, decidable) metrics of the row's run.  ``canary_hosts`` names
    each run's canary host slots (for the sentences).  ``changed`` marks the rows decided by
    each host's change from its own past (:func:`canarystats.stats.host_change.host_change_test`;
    ``hosts`` then holds that test's result), the others by window levels (``level``, always the
    level test); ``relative`` marks the rows whose changes are ratios; ``inferred`` the rows
    judged as counts because their values look like counts.  Where hosts have a past,
    ``pre_drift`` says how surely and how far the canary already moved within its pre-deploy
    window, ``drifted`` marks the rows where that is significant and of practical size, and
    ``moved`` marks the baseline hosts that changed at the canary start too (their slots).
    """

    hosts: HostTestResult
    counts: CountTestResult | None
    count_rows: NDArray[np.int64]
    p_raw: NDArray[np.float64]
    p_adjusted: NDArray[np.float64]
    family: NDArray[np.int64]
    diagnostics: HostDiagnostics
    canary_hosts: tuple[tuple[str, ...], ...]
    level: HostTestResult
    changed: NDArray[np.bool_]
    relative: NDArray[np.bool_]
    inferred: NDArray[np.bool_]
    windows: CanaryWindows | None
    pre_drift: PreWindowDrift | None = None
    drifted: NDArray[np.bool_] | None = None
    moved: NDArray[np.bool_] | None = None


class HostsMethod:
    """Hosts as units, multiplicity control, minimum practical effects.

    Examples
    --------
    >>> from canarystats.methods.registry import get_method
    >>> m = get_method("hosts")
    >>> m.name, m.units
    ('hosts', 'hosts')
    """

    name = "hosts"
    units = "hosts"

    def samples(
        self,
        frame: pd.DataFrame,
        metrics: Sequence[MetricConfig],
        settings: JudgeSettings,
        *,
        run: str | None,
        start: StartLike | Mapping[Any, StartLike] | None,
    ) -> Samples:
        """The canary window's cubes with the quiet count buckets filled, their pooled values
        for the report, and the pre-deploy window where there is one."""
        layout = lay_out(frame, metrics, settings, run=run, start=start)
        cubes = layout.cubes
        fill_count_rows(cubes, layout.counts)
        return Samples(
            cubes,
            cubes.pooled("canary"),
            cubes.pooled("baseline"),
            windows=layout.windows,
            pre=layout.pre,
            counts=layout.counts,
            inferred=layout.inferred,
        )

    def evidence(
        self, metrics: Sequence[MetricConfig], samples: Samples, settings: JudgeSettings
    ) -> HostsEvidence:
        """Host tests (window levels, or each host's change where a past exists), one count
        test and one multiplicity adjustment over every row."""
        cubes = samples.cubes
        per_run, runs = len(metrics), cubes.n_runs
        rows = tuple(metrics) * runs
        n = len(rows)
        rel = np.array([m.min_effect.relative for m in rows], dtype=np.float64)
        absolute = np.array([m.min_effect.absolute for m in rows], dtype=np.float64)
        counts = (
            samples.counts
            if samples.counts is not None
            else np.array([m.kind == "count" for m in rows], dtype=bool)
        )
        level, hres, changed, relative = _host_tests(samples, rows, settings, counts)
        pre_drift = moved = drifted = None
        if samples.pre is not None:
            pre_drift = pre_window_drift(samples.pre[0], samples.pre[1], relative)
            # A practical size too: the minimum effect, on the changes' scale.  A canary that
            # moved 1 % within its past, however surely, is no weak yardstick for a change of
            # the minimum effect or more.
            rel_floor = np.array([m.min_effect.relative for m in rows], dtype=np.float64)
            pre_level = np.abs(quietly(np.nanmedian, samples.pre[1], axis=(1, 2)))
            floor = np.where(relative, np.log1p(rel_floor), rel_floor * pre_level)
            moved = moved_with_the_canary(hres.baseline.location, floor=floor)
            moved &= changed[:, None]
            with np.errstate(invalid="ignore"):
                drifted = (pre_drift.p_value < DRIFT_ALPHA) & (np.abs(pre_drift.drift) >= floor)
        p_raw = np.array(hres.p_value, dtype=np.float64, copy=True)
        count_rows = np.flatnonzero(counts).astype(np.int64)
        count_result = None
        if len(count_rows):
            # errstate: the kernel multiplies an infinite rate ratio (events against a zero
            # baseline) by the minimum ratio, which is harmless but warns.
            with np.errstate(over="ignore"):
                count_result = _count_test(cubes, metrics, count_rows, rows, rel, absolute)
            p_raw[count_rows] = count_result.p_value
        muted = np.array([m.muted for m in rows], dtype=bool)
        # One family per run: a (runs, metrics) array, adjusted along each run's row.
        family_p = np.where(muted, np.nan, p_raw).reshape(runs, per_run)
        adjusted = (
            adjust_p_values(family_p, settings.multiplicity)  # type: ignore[arg-type]
            if n
            else np.zeros((runs, 0))
        )
        family = np.repeat(np.sum(~np.isnan(family_p), axis=1), per_run).astype(np.int64)
        inferred = samples.inferred if samples.inferred is not None else np.zeros(n, dtype=bool)
        return HostsEvidence(
            **pooled_evidence(samples),
            hosts=hres,
            counts=count_result,
            count_rows=count_rows,
            p_raw=p_raw,
            p_adjusted=np.asarray(adjusted, dtype=np.float64).reshape(n),
            family=family,
            diagnostics=HostDiagnostics(level, cubes),
            canary_hosts=cubes.canary_host_table,
            level=level,
            changed=changed,
            relative=relative,
            inferred=inferred,
            windows=samples.windows,
            pre_drift=pre_drift,
            drifted=drifted,
            moved=moved,
        )

    def classify(
        self, rows: Sequence[MetricConfig], evidence: Evidence, settings: JudgeSettings
    ) -> list[MetricClassification]:
        """High/Low where the adjusted p-value is below ``alpha`` and the change is practical.

        Nodata (NodataFailMetric with ``must_have_data`` and no data) with the test's reason
        where no decision is supported; Pass otherwise.  Every number the sentences need is
        read over all rows at once (:class:`~canarystats.methods.hosts_text.HostNumbers`); the
        loop over rows only decides and formats.
        """
        if not isinstance(evidence, HostsEvidence):
            raise TypeError("the hosts method classifies HostsEvidence (see evidence())")
        n = len(rows)
        numbers = HostNumbers(evidence, n)
        table = _Diagnostics(evidence, settings)
        thresholds = threshold_statistics(rows, evidence.canary_stats)
        n_c = np.asarray(evidence.canary_stats.n, dtype=np.int64).reshape(n).tolist()
        p_shown = np.where(np.isnan(evidence.p_adjusted), evidence.p_raw, evidence.p_adjusted)
        p_shown_, p_raw_ = p_shown.tolist(), evidence.p_raw.tolist()
        changed = evidence.changed.tolist()
        low, high = _intervals(evidence, settings, n)
        out = []
        for i, metric in enumerate(rows):
            text = HostSentences(metric, settings, numbers, i)
            label, crit, reason = _decide(metric, settings, text, thresholds[i], n_c[i] > 0)
            out.append(
                MetricClassification(
                    label,
                    crit,
                    reason,
                    estimate=text.shift,
                    ci_low=math.nan if text.count else low[i],
                    ci_high=math.nan if text.count else high[i],
                    bound=text.floor,
                    effect=text.ratio,
                    threshold_value=thresholds[i],
                    p_value=p_shown_[i],
                    p_raw=p_raw_[i],
                    diagnostics=LazyDiagnostics(partial(table.row, i, metric)),
                    units="host changes" if changed[i] else None,
                )
            )
        return out


def _intervals(
    evidence: HostsEvidence, settings: JudgeSettings, n: int
) -> tuple[list[float], list[float]]:
    """Each row's shift interval at the judge's ``confidence`` (NaN where there is none)."""
    relative = evidence.relative if len(evidence.relative) == n else np.zeros(n, dtype=bool)
    low, high = shift_interval(
        evidence.hosts, confidence=settings.confidence, ratio_rows=evidence.changed & relative
    )
    return low.tolist(), high.tolist()


def _decide(
    metric: MetricConfig,
    settings: JudgeSettings,
    text: HostSentences,
    threshold_value: float | None,
    has_canary: bool,
) -> tuple[Label, bool, str]:
    """One row's label, critical flag and reason: threshold, then inconclusive, then the test."""
    crossed = breach(metric, threshold_value) if has_canary else None
    if crossed is not None:
        label = Label.HIGH if crossed == "max" else Label.LOW
        return label, metric.critical, threshold_sentence(metric, crossed, threshold_value or 0.0)
    if text.inconclusive:
        if text.no_data and metric.must_have_data and not metric.critical:
            return Label.NODATA_FAIL, False, text.nodata(Label.NODATA_FAIL)
        return Label.NODATA, metric.critical, text.nodata(Label.NODATA)
    p_adj = text.p_adjusted if not metric.muted else text.p_raw
    if text.practical and p_adj < settings.alpha:
        label = Label.HIGH if text.sign > 0 else Label.LOW
        return label, metric.critical, text.changed(p_adj)
    return Label.PASS, False, text.passed(p_adj)


def _host_tests(
    samples: Samples,
    rows: Sequence[MetricConfig],
    settings: JudgeSettings,
    counts: NDArray[np.bool_],
) -> tuple[HostTestResult, HostTestResult, NDArray[np.bool_], NDArray[np.bool_]]:
    """The level test of every row and, where the hosts have a past, the change test.

    Returns the level test, the result each row is decided by, the rows decided by the change
    test and the rows whose changes are ratios.  A gauge is decided by its hosts' changes where
    every canary host that is a unit of the level test has a pre-deploy window too and enough
    baseline hosts have one; otherwise by window levels (new instances have no past).
    """
    cubes = samples.cubes
    options = {
        "direction": [m.direction for m in rows],
        "min_abs_effect": np.array([m.min_effect.absolute for m in rows], dtype=np.float64),
        "min_rel_effect": np.array([m.min_effect.relative for m in rows], dtype=np.float64),
        "weights": settings.weights,
    }
    robust = settings.robust
    # Window levels keep the root-mean-square jitter: compared on a log scale across hosts, a
    # median step of 0 (a quantised or integer metric) would be no yardstick (measured on the
    # real-fleet data, benchmarks/quality.py).  A host's change is a difference, robust to both.
    level = host_test(
        cubes.canary,
        cubes.baseline,
        location="median" if robust else "mean",
        jitter_measure="rms",
        trend_fit="late" if robust else "window",
        robust_rows=positive_rows(cubes.canary, cubes.baseline)
        & ~coarse_median_rows(cubes.canary, cubes.baseline),
        **options,  # type: ignore[arg-type]
    )
    none = np.zeros(len(rows), dtype=bool)
    if samples.pre is None:
        return level, level, none, none
    canary_pre, baseline_pre = samples.pre
    relative = positive_rows(canary_pre, cubes.canary, baseline_pre, cubes.baseline)
    change = host_change_test(
        canary_pre,
        cubes.canary,
        baseline_pre,
        cubes.baseline,
        relative=relative,
        location="median" if robust else "mean",
        jitter_measure="robust" if robust else "rms",
        **options,  # type: ignore[arg-type]
    )
    changed = (
        ~counts
        & ~change.inconclusive
        & (level.n_canary_hosts > 0)
        & (change.n_canary_hosts == level.n_canary_hosts)
    )
    return level, select_rows(changed, level, change), changed, relative


def _count_test(
    cubes: HostCubes,
    metrics: Sequence[MetricConfig],
    count_rows: NDArray[np.int64],
    rows: Sequence[MetricConfig],
    rel: NDArray[np.float64],
    absolute: NDArray[np.float64],
) -> CountTestResult:
    return count_rate_test(
        cubes.canary[count_rows],
        cubes.baseline[count_rows],
        canary_exposure=cubes.exposure_totals(metrics, "canary", count_rows),
        baseline_exposure=cubes.exposure_totals(metrics, "baseline", count_rows),
        direction=[rows[i].direction for i in count_rows],
        min_rate_ratio=1.0 + rel[count_rows],
        min_rate_diff=absolute[count_rows],
        # As for gauges: a unit needs 3 buckets, a decision 3 baseline units.
        min_points=3,
        few_hosts="inconclusive",
    )


class _Diagnostics:
    """The hosts method's diagnostics of every row: the host part plus the test's numbers.

    Holds the batched results, not the evidence's pooled arrays, so a judgment's lazily built
    diagnostics keep only what they show.
    """

    def __init__(self, ev: HostsEvidence, settings: JudgeSettings) -> None:
        self.hosts, self.h, self.counts, self.settings = (
            ev.diagnostics,
            ev.hosts,
            ev.counts,
            settings,
        )
        self.count_row = {int(r): j for j, r in enumerate(ev.count_rows)}
        self.p_raw, self.p_adjusted, self.family = ev.p_raw, ev.p_adjusted, ev.family
        self.changed, self.inferred, self.windows = ev.changed, ev.inferred, ev.windows
        self.relative, self.pre_drift, self.moved = ev.relative, ev.pre_drift, ev.moved
        self.drifted = ev.drifted

    def row(self, i: int, metric: MetricConfig) -> dict[str, Any]:
        """Everything the hosts method reports of row ``i``: hosts, test, p-values, effects."""
        h, settings, f = self.h, self.settings, finite_or_none
        out = self.hosts.row(i)
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
                "p_raw": f(self.p_raw[i]),
                "p_adjusted": f(self.p_adjusted[i]),
                "multiplicity": settings.multiplicity,
                "family_size": int(self.family[i]),
                "alpha": settings.alpha,
                "effect_abs": f(shift),
                "effect_rel": f(ratio - 1.0),
                "min_effect": {
                    "relative": metric.min_effect.relative,
                    "absolute": metric.min_effect.absolute,
                },
                "practical": practical,
            }
        )
        out.update(self._windows(i, metric))
        if j is not None and self.counts is not None:
            out["counts"] = self._counts(j, metric)
        else:
            out["components"] = {
                "p_location": f(h.p_location[i]),
                "p_trend": f(h.p_trend[i]),
                "p_jitter": f(h.p_jitter[i]),
                "trend_effect_abs": f(h.trend_effect_abs[i]),
                "jitter_effect_abs": f(h.jitter_effect_abs[i]),
                "baseline_centre": f(h.baseline_centre[i]),
                "baseline_scale": f(h.baseline_scale[i]),
            }
        return out

    def _windows(self, i: int, metric: MetricConfig) -> dict[str, Any]:
        """What of the run's time the metric was judged on, how, and as what kind."""
        out: dict[str, Any] = {
            "kind": "count" if i in self.count_row else "gauge",
            "kind_inferred": bool(self.inferred[i]) if len(self.inferred) else False,
        }
        if self.windows is None:
            return out
        per_run = len(self.windows.warmup)
        kept = bool(self.windows.kept_warmup[i])
        out["warmup_s"] = 0 if kept else int(self.windows.warmup[i % per_run])
        if bool(self.changed[i]):
            out["units"] = "host changes"
            out["pre_window_s"] = int(self.windows.pre_window)
            out["changes_are_ratios"] = bool(self.relative[i])
            out["changes"] = self._changes(i)
            out.update(self._past_checks(i))
        return out

    def _past_checks(self, i: int) -> dict[str, Any]:
        """Whether the hosts' past is a fair yardstick: the canary did not already drift before
        the deploy (p of its drift within the pre-deploy window), and which baseline hosts
        changed at the start too."""
        out: dict[str, Any] = {}
        if self.pre_drift is not None and self.drifted is not None:
            out["pre_window_drift_p"] = finite_or_none(self.pre_drift.p_value[i])
            drift = float(self.pre_drift.drift[i])
            # As a share of the level where changes are ratios, like the hosts' changes.
            out["pre_window_drift"] = finite_or_none(
                math.expm1(drift) if bool(self.relative[i]) and math.isfinite(drift) else drift
            )
            out["canary_drifted_before"] = bool(self.drifted[i])
        if self.moved is not None:
            run = i // self.hosts.per_run
            names = self.hosts.baseline_names[run] if self.hosts.baseline_names else ()
            moved = self.moved[i].tolist()
            out["baseline_moved_at_start"] = [h for j, h in enumerate(names) if moved[j]]
        return out

    def _changes(self, i: int) -> list[dict[str, Any]]:
        """Each host's change since its pre-deploy window (ratio - 1 where changes are ratios)."""
        f = finite_or_none
        rel = bool(self.relative[i])
        table = self.hosts.canary_names, self.hosts.baseline_names
        run = i // self.hosts.per_run
        out = []
        for cohort, names, summ in (
            ("canary", table[0], self.h.canary),
            ("baseline", table[1], self.h.baseline),
        ):
            values = summ.location[i].tolist()
            for j, host in enumerate(names[run] if names else ()):
                if values[j] == values[j]:
                    change = math.expm1(values[j]) if rel else values[j]
                    out.append({"host": host, "cohort": cohort, "change": f(change)})
        return out

    def _counts(self, j: int, metric: MetricConfig) -> dict[str, Any]:
        c, f = self.counts, finite_or_none
        assert c is not None
        return {
            "canary_events": f(c.canary_events[j]),
            "baseline_events": f(c.baseline_events[j]),
            "canary_exposure": f(c.canary_exposure[j]),
            "baseline_exposure": f(c.baseline_exposure[j]),
            "canary_rate": f(c.canary_rate[j]),
            "baseline_rate": f(c.baseline_rate[j]),
            "dispersion": f(c.dispersion[j]),
            "burstiness": f(c.burstiness[j]),
            "exposure": metric.exposure or "buckets",
        }
