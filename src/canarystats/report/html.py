"""The ``html`` report: one self-contained file, readable offline and on a phone.

The page is the Jinja2 template ``templates/judgment.html.j2`` (the ``html`` extra); this module
only gathers what it shows.  The first screen answers the question a person opens it with: the
verdict, the score's reason and each failing or unjudged metric's sentence.  Under them, where
a sequential plan decided and the paths that decided it
(:mod:`canarystats.report.sequential_html`), a table of every metric, and per metric an inline
SVG plot of canary and baseline over the window (drawn by :mod:`canarystats.plot`, so it needs
matplotlib, the ``plots`` extra) with its numbers and Datadog links.  No scripts, styles or
fonts are fetched.  A plot costs tens of milliseconds, so a run of thousands of metrics plots
only where a person will look: the failing and unjudged metrics first, up to
:data:`MAX_PLOTS`; every metric keeps its section and numbers, and
:func:`canarystats.plot.plot_metric` draws any other one on demand.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from canarystats.errors import ConfigError
from canarystats.labels import OUTCOME_COLOURS, Verdict, outcome
from canarystats.methods.wording import fmt_number
from canarystats.report.context import (
    ReportContext,
    canary_window_line,
    diagnostics_line,
    iso,
    score_text,
    shift_text,
)
from canarystats.report.monitors_text import monitor_heading, monitors_in_order
from canarystats.report.sequential_html import CSS as SEQUENTIAL_CSS
from canarystats.report.sequential_html import sequential_section
from canarystats.results import failing_first

if TYPE_CHECKING:
    import jinja2
    import pandas as pd
    from matplotlib.figure import Figure

    from canarystats.monitors.results import MonitorGate
    from canarystats.results import MetricResult

__all__ = ["MAX_PLOTS", "MAX_WHY", "render_html", "require_jinja2", "shift_line"]

#: the most plots one report draws (failing and unjudged metrics first)
MAX_PLOTS = 40
#: the most failing or unjudged metrics whose sentences the first screen lists
MAX_WHY = 5

_OUTCOME_CSS = (
    "".join(f".{kind}{{color:{colour}}}" for kind, colour in OUTCOME_COLOURS.items())
    + f".marginal,.nodata{{color:{OUTCOME_COLOURS['unjudged']}}}"
)


def require_jinja2() -> None:
    """Raise a one-line ConfigError naming the extra to install when Jinja2 is missing."""
    try:
        import jinja2  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the html report needs Jinja2, which is not installed: install the html extra "
            "(pip install '.[html]' in a canarystats checkout, or pip install jinja2 matplotlib)"
        ) from None


@cache
def _template() -> jinja2.Template:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("canarystats.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("judgment.html.j2")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)


def render_html(ctx: ReportContext) -> str:
    """The HTML report of ``ctx.judgment``; needs ``ctx.frame`` for the plots.

    Raises
    ------
    canarystats.errors.ConfigError
        Without the frame, without matplotlib, or without Jinja2.

    Examples
    --------
    >>> html_text = render_html(ReportContext(judgment, frame=frame))  # doctest: +SKIP
    >>> 'id="verdict"' in html_text  # doctest: +SKIP
    True
    """
    from canarystats.plot import require_matplotlib

    if ctx.frame is None:
        raise ConfigError("the html report needs the judged data (frame) to draw the plots")
    require_matplotlib()
    require_jinja2()
    from markupsafe import Markup

    j = ctx.judgment
    ordered = failing_first(j.metrics)
    # One pass over the frame instead of one per metric: a report of thousands of metrics
    # would otherwise scan the whole frame thousands of times.
    by_metric = dict(iter(ctx.frame.groupby("metric", sort=False, observed=True)))
    metrics = [
        _metric(ctx, m, by_metric.get(m.name) if i < MAX_PLOTS else None)
        for i, m in enumerate(ordered)
    ]
    why = [m for m in metrics if m["outcome"] != "pass"]
    meta = []
    if ctx.window is not None:
        meta.append(f"window {iso(ctx.window[0])} to {iso(ctx.window[1])} (UTC)")
    meta += [f"{c} {s}" for c, s in ctx.cohort_scopes().items()]
    page = _template().render(
        j=j,
        verdict_class=j.verdict if j.verdict in set(Verdict) else "nodata",
        score=score_text(j.score),
        why=why[:MAX_WHY],
        why_more=max(0, len(why) - MAX_WHY),
        meta=meta,
        canary_window=canary_window_line(j),
        sequential=Markup("\n".join(sequential_section(ctx))),
        metrics=metrics,
        monitors=None if j.monitors is None else _monitors(j.monitors),
        max_plots=MAX_PLOTS,
        outcome_css=Markup(_OUTCOME_CSS),
        sequential_css=Markup(SEQUENTIAL_CSS),
    )
    return page.rstrip("\n") + "\n"


def _metric(ctx: ReportContext, m: MetricResult, points: pd.DataFrame | None) -> dict[str, Any]:
    """What a metric's section and its row of the table show."""
    from markupsafe import Markup

    from canarystats.plot import figure_to_svg, plot_metric

    svg = None
    if points is not None:
        ax = plot_metric(points, m, start=ctx.judgment.canary_start)
        svg = Markup(figure_to_svg(cast("Figure", ax.figure)))
    return {
        "name": m.name,
        "slug": _slug(m.name),
        "classification": m.classification,
        "outcome": outcome(m.classification),
        "critical": m.critical,
        "reason": m.reason,
        "svg": svg,
        "cohorts": [
            {
                "label": label,
                "cells": [
                    fmt_number(c.n),
                    fmt_number(c.mean),
                    fmt_number(c.median),
                    fmt_number(c.p95),
                    fmt_number(c.max),
                ],
            }
            for label, c in (("canary", m.canary), ("baseline", m.baseline))
        ],
        "shift": shift_line(m),
        "diagnostics": diagnostics_line(m),
        "links": ctx.links(m),
    }


def shift_line(m: MetricResult) -> str:
    """The shift as the HTML report states it: with its interval where the method has one.

    The ``kayenta`` method compares an interval with a tolerance bound; the default ``hosts``
    method gives the t interval of its host test and the minimum effect; where it has no
    interval (a count's rate difference, a rank test over many hosts) the line says so and
    names what decided instead (the p-value after adjustment and the minimum effect), never
    an empty interval.

    Examples
    --------
    >>> import math
    >>> from types import SimpleNamespace as NS
    >>> m = NS(estimate=62.1, ci_low=math.nan, ci_high=math.nan, confidence=0.98, unit="s",
    ...        p_value=0.0036, mean_ratio=1242.0, tolerance_bound=0.5, units="hosts")
    >>> shift_line(m)
    'shift +62.1 s (no interval; minimum effect 0.5 s) · p = 0.0036 · mean ratio 1,242'
    """
    unit = f" {m.unit}" if m.unit else ""
    parts = [f"shift {shift_text(m)}{unit if math.isfinite(m.estimate) else ''}"]
    has_interval = math.isfinite(m.ci_low) and math.isfinite(m.ci_high)
    if has_interval and math.isfinite(m.tolerance_bound) and m.units == "points":
        parts[0] += f", tolerance bound ±{fmt_number(abs(m.tolerance_bound))}{unit}"
    elif m.units != "points" and math.isfinite(m.estimate):
        minimum = (
            f"minimum effect {fmt_number(m.tolerance_bound)}{unit}"
            if math.isfinite(m.tolerance_bound) and m.tolerance_bound > 0
            else ""
        )
        if has_interval:
            parts[0] += f", {minimum}" if minimum else ""
        else:
            parts[0] += f" (no interval; {minimum})" if minimum else " (no interval)"
    parts += [f"p = {fmt_number(m.p_value)}", f"mean ratio {fmt_number(m.mean_ratio)}"]
    return " · ".join(parts)


def _monitors(gate: MonitorGate) -> dict[str, Any]:
    """The monitors group: its heading, then one row per monitor with its link."""
    return {"heading": monitor_heading(gate), "rows": list(monitors_in_order(gate))}
