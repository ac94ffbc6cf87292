"""What every report format is given, and the pieces of text several formats share.

Nothing here computes a statistic: every number comes from the judgment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from canarystats.frame import Window
from canarystats.labels import Label
from canarystats.methods.wording import (
    SHIFT_RESOLUTION,
    fmt_change,
    fmt_number,
    fmt_signed,
    minutes,
)
from canarystats.report.links import datadog_links
from canarystats.stats.hosts import MIN_BASELINE_HOSTS

if TYPE_CHECKING:
    import pandas as pd

    from canarystats.config import CanaryConfig
    from canarystats.results import Judgment, MetricResult
    from canarystats.sequential import SequentialJudgment

__all__ = [
    "ReportContext",
    "canary_window_line",
    "cohort_line",
    "diagnostics_line",
    "iso",
    "judged_past",
    "score_text",
    "shift_text",
]


@dataclass(frozen=True)
class ReportContext:
    """A judgment and what a report shows beside it.

    ``frame`` is the judged tidy frame (plots); ``config`` gives each metric's query (links) and
    the default scopes; ``window`` the judged window (UTC); ``scopes`` the cohorts' Datadog tag
    filters actually used; ``color`` asks for ANSI colours (text only); ``site`` is the Datadog
    site for links; ``sequential`` where a sequential plan decided, with each metric's path;
    ``sequential_preview`` what the config's sequential plan would have decided on the data of
    a one-shot judgment (shown as one line beside that judgment's own verdict); ``exit_code``
    what the command that rendered the report exits with for this judgment (None in library
    use, where no command exits).
    """

    judgment: Judgment
    frame: pd.DataFrame | None = None
    config: CanaryConfig | None = None
    window: Window | None = None
    scopes: Mapping[str, str] | None = None
    color: bool = False
    site: str | None = None
    sequential: SequentialJudgment | None = None
    sequential_preview: SequentialJudgment | None = None
    exit_code: int | None = None
    would_exit: int | None = None

    def cohort_scopes(self) -> dict[str, str]:
        """Cohort -> scope shown: the ones used, else the config's, else none."""
        if self.scopes:
            return dict(self.scopes)
        if self.config is not None:
            return {"canary": self.config.scopes.canary, "baseline": self.config.scopes.baseline}
        return {}

    def links(self, m: MetricResult) -> dict[str, str]:
        """Datadog links of a metric for each cohort (none without a config and a window).

        A metric judged as each host's change from its own past links from the start of that
        past: the graph then shows what the canary was compared with.
        """
        if self.config is None or self.window is None:
            return {}
        try:
            query = self.config.metric(m.name).query
        except KeyError:
            return {}
        start, end = self.window
        if m.units == "host changes":
            start -= timedelta(seconds=int(m.diagnostics.get("pre_window_s", 0)))
        return datadog_links(query, self.cohort_scopes(), (start, end), site=self.site)


def score_text(score: float) -> str:
    """The score as reports show it: exact, so 99.96 never reads as 100.

    Examples
    --------
    >>> score_text(100.0), score_text(99.96), score_text(0.0)
    ('100', '99.96', '0')
    """
    return f"{score:.2f}".rstrip("0").rstrip(".")


def diagnostics_line(m: MetricResult) -> str:
    """What the test stood on: its units, the raw p-value, how hosts differ, autocorrelation."""
    d = m.diagnostics
    parts = []
    if m.units == "hosts" and "n_canary_hosts" in d:
        parts.append(
            f"units: hosts ({d['n_canary_hosts']} canary, {d['n_baseline_hosts']} baseline)"
        )
    elif m.units == "host changes" and "n_canary_hosts" in d:
        past = minutes(int(d.get("pre_window_s", 0)))
        parts.append(
            f"units: each host against its own {past} before the deploy "
            f"({d['n_canary_hosts']} canary, {d['n_baseline_hosts']} baseline)"
        )
    elif m.units:
        parts.append(f"units: {m.units}")
    if m.p_raw == m.p_raw and m.p_raw != m.p_value:
        family = d.get("family_size")
        adjust = d.get("multiplicity", "adjusted")
        parts.append(f"raw p={fmt_number(m.p_raw)} ({adjust} over {family} metrics)")
    if d.get("canary_drifted_before"):
        drift = d.get("pre_window_drift")
        ratio = bool(d.get("changes_are_ratios"))
        size = (
            f" ({fmt_change(drift, ratio=ratio, unit=m.unit)} within its own past)"
            if drift is not None
            else ""
        )
        parts.append(
            f"the canary was already drifting before the deploy{size}: its past is a weak yardstick"
        )
    if d.get("baseline_moved_at_start"):
        parts.append(
            f"baseline host(s) {', '.join(d['baseline_moved_at_start'])} changed at the start too"
        )
    if d.get("kind_inferred"):
        parts.append("judged as a count (its values look like counts; declare kind to settle it)")
    share = d.get("between_host_share")
    if isinstance(share, float) and share == share:
        parts.append(f"between-host share of variance {100 * share:.0f}%")
    lag1 = d.get("lag1_autocorrelation")
    if isinstance(lag1, float) and lag1 == lag1:
        parts.append(f"lag-1 autocorrelation {lag1:.2f}")
    return "  ".join(parts)


def shift_text(m: MetricResult) -> str:
    """The shift with its interval where the method gives one."""
    if not math.isfinite(m.estimate):
        return "n/a"
    pct = f"{m.confidence * 100:g}"
    if math.isfinite(m.ci_low) and math.isfinite(m.ci_high):
        ci = f"{fmt_signed(m.ci_low)} to {fmt_signed(m.ci_high)}"
        # Digits far below the interval's width are the estimator's tolerance, not a shift.
        resolution = SHIFT_RESOLUTION * (m.ci_high - m.ci_low)
        return f"{fmt_signed(m.estimate, resolution=resolution)} ({pct}% CI {ci})"
    return fmt_signed(m.estimate)


def cohort_line(label: str, m: MetricResult, side: str) -> str:
    """One cohort's n, mean, median, p95 and max on a line."""
    c = m.canary if side == "canary" else m.baseline
    unit = f" {m.unit}" if m.unit else ""
    return (
        f"{label:<9}n={c.n:<5} mean {fmt_number(c.mean)}{unit}  median {fmt_number(c.median)}  "
        f"p95 {fmt_number(c.p95)}  max {fmt_number(c.max)}"
    )


def judged_past(j: Judgment) -> int:
    """Seconds of each host's own past the judgment used: the longest its metrics judged by
    host changes had (a frame fetched with a shorter pre-window has less than the judge's
    ``pre_window``), else the ``pre_window`` asked for."""
    pasts = [
        int(m.diagnostics.get("pre_window_s", 0)) for m in j.metrics if m.units == "host changes"
    ]
    return max(pasts) if pasts else j.pre_window


def canary_window_line(j: Judgment) -> str:
    """What of the run's time was judged: the canary start, the warm-up, the hosts' past.

    Empty where no canary start was given (every point was the canary window).
    """
    if j.canary_start is None:
        return ""
    text = f"canary start {j.canary_start}"
    if j.warmup:
        text += f"; the first {minutes(j.warmup)} after it left out as warm-up"
    changes = [m for m in j.metrics if m.units == "host changes"]
    if changes:
        text += (
            f"; {len(changes)} of {len(j.metrics)} metrics judged as each host's change from "
            f"its own {minutes(judged_past(j))} before the deploy"
        )
    elif j.pre_window and any(_judged_gauge(m) for m in j.metrics):
        # Said outright: a start given too early (before the data) or data fetched from the
        # start on both look like new instances, and a reader should not have to infer it.
        text += (
            f"; too few hosts had their own {minutes(j.pre_window)} before it in the data "
            f"(every canary host and {MIN_BASELINE_HOSTS} baseline hosts need it), so the gauges "
            "were judged on window levels, as new instances"
        )
    elif any(_judged_gauge(m) for m in j.metrics):
        text += "; no pre-deploy window (pre_window 0): the gauges were judged on window levels"
    return text


def _judged_gauge(m: MetricResult) -> bool:
    """A gauge the hosts method judged: one that a past could have made a host change."""
    return (
        m.units == "hosts"
        and m.classification != Label.NODATA
        and m.diagnostics.get("kind") == "gauge"
    )


def iso(moment: datetime) -> str:
    """A moment in UTC as ``2026-01-01T00:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
