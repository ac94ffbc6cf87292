"""``method: hosts`` (the default) -- each host is one unit; the canary hosts against the spread of
the baseline hosts.

Points from one host are not independent witnesses: hosts of a service differ persistently and
a host's points are autocorrelated.  This method summarises each host's window (location, trend
and jitter) and compares the canary hosts with the spread of the baseline hosts in one batched
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

from canarystats.align import HostCubes, align_hosts
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

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HostsEvidence", "HostsMethod"]


@dataclass(frozen=True)
class HostsEvidence(Evidence):
    """What the hosts method decides on, arrays over rows (metric ``i`` of run ``r`` is row
    ``r * len(metrics) + i``).

    ``hosts`` is the one batched host test over every row (its decision is used for gauges, its
    diagnostics for all); ``counts`` the one batched rate test over the count rows
    (``count_rows`` maps its rows back).  ``p_raw`` is each metric's p-value (NaN for an
    inconclusive metric), ``p_adjusted`` the same after the multiplicity adjustment over the
    ``family`` gating (non-muted, decidable) metrics of the row's run.  ``canary_hosts`` names
    each run's canary host slots (for the sentences).
    """

    hosts: HostTestResult
    counts: CountTestResult | None
    count_rows: NDArray[np.int64]
    p_raw: NDArray[np.float64]
    p_adjusted: NDArray[np.float64]
    family: NDArray[np.int64]
    diagnostics: HostDiagnostics
    canary_hosts: tuple[tuple[str, ...], ...]


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
        self, frame: pd.DataFrame, metrics: Sequence[MetricConfig], *, run: str | None
    ) -> Samples:
        """The cubes with the quiet count buckets filled; their pooled values for the report."""
        cubes = align_hosts(frame, metrics, run=run)
        return Samples(cubes, cubes.pooled("canary"), cubes.pooled("baseline"))

    def evidence(
        self, metrics: Sequence[MetricConfig], samples: Samples, settings: JudgeSettings
    ) -> HostsEvidence:
        """One host test, one count test and one multiplicity adjustment over every row."""
        cubes = samples.cubes
        per_run, runs = len(metrics), cubes.n_runs
        rows = tuple(metrics) * runs
        n = len(rows)
        rel = np.array([m.min_effect.relative for m in rows], dtype=np.float64)
        absolute = np.array([m.min_effect.absolute for m in rows], dtype=np.float64)
        hres = host_test(
            cubes.canary,
            cubes.baseline,
            direction=[m.direction for m in rows],
            min_abs_effect=absolute,
            min_rel_effect=rel,
        )
        p_raw = np.array(hres.p_value, dtype=np.float64, copy=True)
        count_rows = np.array([i for i, m in enumerate(rows) if m.kind == "count"], dtype=np.int64)
        counts = None
        if len(count_rows):
            # errstate: the kernel multiplies an infinite rate ratio (events against a zero
            # baseline) by the minimum ratio, which is harmless but warns.
            with np.errstate(over="ignore"):
                counts = _count_test(cubes, metrics, count_rows, rows, rel, absolute)
            p_raw[count_rows] = counts.p_value
        muted = np.array([m.muted for m in rows], dtype=bool)
        # One family per run: a (runs, metrics) array, adjusted along each run's row.
        family_p = np.where(muted, np.nan, p_raw).reshape(runs, per_run)
        adjusted = (
            adjust_p_values(family_p, settings.multiplicity)  # type: ignore[arg-type]
            if n
            else np.zeros((runs, 0))
        )
        family = np.repeat(np.sum(~np.isnan(family_p), axis=1), per_run).astype(np.int64)
        return HostsEvidence(
            **pooled_evidence(samples),
            hosts=hres,
            counts=counts,
            count_rows=count_rows,
            p_raw=p_raw,
            p_adjusted=np.asarray(adjusted, dtype=np.float64).reshape(n),
            family=family,
            diagnostics=HostDiagnostics(hres, cubes),
            canary_hosts=cubes.canary_host_table,
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
                    ci_low=math.nan,
                    ci_high=math.nan,
                    bound=text.floor,
                    effect=text.ratio,
                    threshold_value=thresholds[i],
                    p_value=p_shown_[i],
                    p_raw=p_raw_[i],
                    diagnostics=LazyDiagnostics(partial(table.row, i, metric)),
                )
            )
        return out


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
            "exposure": metric.exposure or "buckets",
        }
