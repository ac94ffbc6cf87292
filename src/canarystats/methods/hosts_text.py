"""The hosts method's sentences, and the numbers they are made of, read once over all rows.

A failed deploy's reason names the host that moved furthest, its value against the baseline
hosts' mean and spread, the change in percent, the p-value with its multiplicity adjustment and
the minimum effect it had to reach -- everything a developer needs to see why, without opening
the code.  Count metrics say events over exposure per cohort.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from canarystats.config import JudgeSettings, MetricConfig
from canarystats.labels import Label
from canarystats.methods.wording import (
    CRITICAL_FAILS,
    SHIFT_RESOLUTION,
    fmt_change,
    fmt_number,
    fmt_signed,
    minutes,
    nodata_sentence,
    with_unit,
)
from canarystats.stats import CountTestResult, HostTestResult
from canarystats.stats.inconclusive import is_no_data

if TYPE_CHECKING:
    from canarystats.methods.hosts import HostsEvidence

__all__ = ["HostNumbers", "HostSentences"]

#: from this burstiness on, a count's sentence says how many independent events its events weigh
BURSTS_WORTH_SAYING = 1.5

_MULTIPLICITY_NAMES = {
    "hommel": "Hommel",
    "holm": "Holm",
    "bonferroni": "Bonferroni",
    "bh": "Benjamini-Hochberg",
}


def _floats(values: object) -> list[float]:
    # One conversion per array: the per-metric loop then reads Python floats, not numpy scalars.
    return np.asarray(values, dtype=np.float64).reshape(-1).tolist()


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


class HostNumbers:
    """Every number the hosts method's per-row loop reads, as Python lists (built once).

    Lists over rows come from the host test (and the p-values); lists over count rows from the
    rate test, indexed by ``count_row[i]`` (None: the row is not judged as a count).
    """

    def __init__(self, ev: HostsEvidence, n: int) -> None:
        h, c = ev.hosts, ev.counts
        count_pos = {int(r): j for j, r in enumerate(ev.count_rows)} if c is not None else {}
        self.count_row: list[int | None] = [count_pos.get(i) for i in range(n)]
        self.p_raw, self.p_adjusted = _floats(ev.p_raw), _floats(ev.p_adjusted)
        self.centre, self.shift = _floats(h.baseline_centre), _floats(h.effect_abs)
        self.practical = np.asarray(h.practical, dtype=bool).tolist()
        self.inconclusive = np.asarray(h.inconclusive, dtype=bool).tolist()
        self.no_data = is_no_data(h.inconclusive_code).tolist()
        self.reason = [str(r) for r in h.reason.tolist()]
        self.component = [str(x) for x in np.asarray(h.component).tolist()]
        self.test = [f"hosts-{t}" for t in h.location_test.tolist()]
        w = ev.windows
        # Seconds after the canary start each row left out (0: none, or judged through it).
        self.warmup = [
            0 if w is None or bool(w.kept_warmup[i]) else int(w.warmup[i % len(w.warmup)])
            for i in range(n)
        ]
        self.trend_effect = _floats(h.trend_effect_abs)
        self.jitter_effect = _floats(h.jitter_effect_abs)
        self.n_canary_hosts = np.asarray(h.n_canary_hosts, dtype=np.int64).tolist()
        sign = _component_sign(h)
        self.sign = _floats(sign)
        comp = np.asarray(h.component)
        canary = _component_summaries(comp, h.canary.trend, h.canary.jitter, h.canary.location)
        baseline = _component_summaries(
            comp, h.baseline.trend, h.baseline.jitter, h.baseline.location
        )
        self.worst_slot, self.worst_value = _worst_hosts(canary, sign)
        self.canary_hosts, self.per_run = ev.canary_hosts, ev.diagnostics.per_run
        self.changed = np.asarray(ev.changed, dtype=bool).tolist()
        self.relative = np.asarray(ev.relative, dtype=bool).tolist() if len(ev.relative) else []
        self.inferred = np.asarray(ev.inferred, dtype=bool).tolist()
        pre = ev.windows.pre_window if ev.windows is not None else 0
        self.past = f"its own {minutes(pre)} before the deploy" if pre else "its own past"
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
        self.c_no_data = (
            (c.canary_events + c.baseline_events == 0)
            & ((c.canary_exposure == 0) | (c.baseline_exposure == 0))
        ).tolist()
        self.c_events, self.b_events = _floats(c.canary_events), _floats(c.baseline_events)
        self.c_exposure, self.b_exposure = _floats(c.canary_exposure), _floats(c.baseline_exposure)
        self.c_burst = _floats(c.burstiness)

    def canary_host(self, i: int, slot: int) -> str:
        """The canary host in ``slot`` of row ``i``'s run."""
        return self.canary_hosts[i // self.per_run][slot]


class HostSentences:
    """The numbers and sentences of one row judged by the hosts method."""

    # One instance per metric and run: slots make building and reading them cheaper.
    __slots__ = (
        "b_rate",
        "c_rate",
        "count",
        "floor",
        "i",
        "inconclusive",
        "j",
        "kernel_reason",
        "m",
        "no_data",
        "p_adjusted",
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
        self, metric: MetricConfig, settings: JudgeSettings, rows: HostNumbers, i: int
    ) -> None:
        self.m, self.settings, self.rows, self.i = metric, settings, rows, i
        j = rows.count_row[i]
        self.j = j
        self.count = j is not None
        self.p_raw, self.p_adjusted = rows.p_raw[i], rows.p_adjusted[i]
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
            self.no_data = rows.c_no_data[j]
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
            self.no_data = rows.no_data[i]
        if metric.muted:
            self.inconclusive = self.inconclusive and self.no_data

    def _v(self, x: float) -> str:
        return with_unit(x, self.m)

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
        rows, i = self.rows, self.i
        comp = "" if self.count else rows.component[i]
        if comp in ("trend", "jitter"):
            diff = rows.trend_effect[i] if comp == "trend" else rows.jitter_effect[i]
            centre = rows.centre[i]
            if rows.changed[i] and rows.relative[i] and centre != 0:
                return f"{fmt_signed(100.0 * diff / abs(centre))}% of the level"
            return f"difference {fmt_signed(diff)}"
        # Read against the minimum effect, digits far below it are the estimator's tolerance.
        resolution = SHIFT_RESOLUTION * self.floor
        if not math.isfinite(self.ratio):
            return fmt_signed(self.shift, resolution=resolution)
        share = 0.0 if self.count or not rows.centre[i] else resolution / abs(rows.centre[i])
        return f"{fmt_signed(100.0 * (self.ratio - 1.0), resolution=100.0 * share)}%"

    def _describe_counts(self, j: int) -> str:
        rows = self.rows
        # A count's unit is a rate ("failed jobs/min"); its total is of the thing counted.
        unit = (self.m.unit or "events").split("/")[0].strip() or "events"
        if self.m.exposure:
            over, per = f"{self.m.exposure}", "per request"
        else:
            # Without an exposure metric each reported host-bucket is one unit.
            if self.m.step == 60:
                over, per = "host-minutes", "per host-minute"
            else:
                over = f"host-buckets of {self.m.step} s"
                per = f"per host-bucket of {self.m.step} s"
        burst = rows.c_burst[j]
        # Weighed by the canary's burstiness, its events count as fewer independent ones.
        bursts = (
            f"; uneven over time, weighed as {fmt_number(rows.c_events[j] / burst)} independent "
            f"{unit}"
            if burst >= BURSTS_WORTH_SAYING
            else ""
        )
        return (
            f"Canary {fmt_number(rows.c_events[j])} {unit} over "
            f"{fmt_number(rows.c_exposure[j])} {over} ({fmt_number(self.c_rate)} "
            f"{per}{bursts}) against baseline {fmt_number(rows.b_events[j])} over "
            f"{fmt_number(rows.b_exposure[j])} ({fmt_number(self.b_rate)} {per})"
        )

    def _describe(self) -> str:
        rows, i, j = self.rows, self.i, self.j
        if j is not None:
            return self._describe_counts(j)
        if rows.changed[i]:
            return self._describe_change()
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
        host, value = rows.canary_host(i, slot), rows.worst_value[i]
        who = f"Canary host {host}" if k <= 1 else f"Canary host {host} (of {k})"
        return f"{who} {verb} {self._v(value)}{suffix} against {base}"

    def _change(self, x: float, share: bool = False) -> str:
        """A host's change: a percentage where changes are ratios (or shares of the level)."""
        if self.rows.relative[self.i]:
            return fmt_change(x if share else math.expm1(x), ratio=True)
        return fmt_change(x, ratio=False, unit=self.m.unit)

    def _describe_change(self) -> str:
        """Each host against its own past: the canary host that changed most, and the baseline
        hosts' changes over the same minutes."""
        rows, i = self.rows, self.i
        comp = rows.component[i] or "location"
        share = comp == "jitter"
        what = {
            "location": "changed",
            "trend": "ends the window",
            "jitter": "changed its step-to-step jitter by",
        }[comp]
        base = (
            f"baseline hosts {self._change(rows.base_centre[i], share)}"
            f"±{self._change(rows.base_spread[i], share).lstrip('+')}"
        )
        slot, k = rows.worst_slot[i], rows.n_canary_hosts[i]
        if slot < 0:
            return f"Canary hosts against {rows.past}; {base} over the same minutes"
        host, value = rows.canary_host(i, slot), rows.worst_value[i]
        who = f"Canary host {host}" if k <= 1 else f"Canary host {host} (of {k})"
        return (
            f"{who} {what} {self._change(value, share)} from {rows.past}; {base} "
            "over the same minutes"
        )

    def changed(self, p_adj: float) -> str:
        """Why the row is High or Low."""
        crit = CRITICAL_FAILS if self.m.critical else ""
        return f"{self._describe()} ({self._pct()}, {self._p(p_adj)}); {self._min()}{crit}."

    def passed(self, p_adj: float) -> str:
        """Why the row passes (or, muted, is not judged)."""
        if self.m.muted:
            return f"{self._describe()} ({self._pct()}, {self._p(p_adj)}); muted, so not judged."
        # A shift that reads "0" is no decrease or increase to explain: it is below the minimum.
        shown = abs(self.shift) >= SHIFT_RESOLUTION * self.floor
        harmless = shown and (
            (self.m.direction == "increase" and self.shift < 0)
            or (self.m.direction == "decrease" and self.shift > 0)
        )
        j = self.j
        if j is not None and self.rows.c_events[j] + self.rows.b_events[j] == 0:
            why = "no event on either side"
        elif not self.practical and harmless:
            why = f"only {self.m.direction}s are judged for this metric"
        elif not self.practical:
            why = f"the change is below the {self._min()}"
        else:
            why = f"not significant at alpha {fmt_number(self.settings.alpha)}"
        return f"{self._describe()} ({self._pct()}, {self._p(p_adj)}); {why}, so it passes."

    def nodata(self, label: Label) -> str:
        """Why no decision was made."""
        reason = self.kernel_reason or "no decision is supported by the data"
        warmup = self.rows.warmup[self.i]
        if self.no_data and warmup:
            # A window shorter than the warm-up has data, just none that is judged: say so.
            after = f"in the window after the warm-up (the first {minutes(warmup)} after the start)"
            reason = reason.replace("in the window", after)
        return nodata_sentence(f"Inconclusive: {reason}", label, self.m)
