"""The ``html`` report: one self-contained file, readable offline.

Under the verdict, where a sequential plan decided and the paths that decided it
(:mod:`canarystats.report.sequential_html`).  Per metric an inline SVG plot of canary and
baseline over the window with the verdict (drawn by :mod:`canarystats.plot`, so it needs
matplotlib, the ``plots`` extra).  No scripts, styles or
fonts are fetched.  A plot costs tens of milliseconds, so a run of thousands of metrics plots
only where a person will look: the failing and unjudged metrics first, up to :data:`MAX_PLOTS`;
every metric keeps its section and numbers, and :func:`canarystats.plot.plot_metric` draws any
other one on demand.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, cast

from canarystats.errors import ConfigError
from canarystats.labels import OUTCOME_COLOURS, Verdict, outcome
from canarystats.report.context import ReportContext, iso, num, score_text, shift_text
from canarystats.report.monitors_text import monitor_heading, monitors_in_order
from canarystats.report.sequential_html import CSS as SEQUENTIAL_CSS
from canarystats.report.sequential_html import sequential_section
from canarystats.results import failing_first

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from canarystats.monitors.results import MonitorGate
    from canarystats.results import MetricResult

__all__ = ["MAX_PLOTS", "render_html"]

#: the most plots one report draws (failing and unjudged metrics first)
MAX_PLOTS = 40

_CSS = (
    """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:72em;color:#24292f;padding:0 1em}
h1{font-size:1.6em}"""
    + "".join(f".{kind}{{color:{colour}}}" for kind, colour in OUTCOME_COLOURS.items())
    + f".marginal,.nodata{{color:{OUTCOME_COLOURS['unjudged']}}}"
    + """
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:.25em .6em;
text-align:left;font-size:.9em}section.metric{border-top:1px solid #d0d7de;margin-top:1.5em}
.reason{font-size:1.05em}.plot svg{max-width:100%;height:auto}.meta{color:#57606a}
"""
    + SEQUENTIAL_CSS
)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)


def render_html(ctx: ReportContext) -> str:
    """The HTML report of ``ctx.judgment``; needs ``ctx.frame`` for the plots.

    Raises
    ------
    canarystats.errors.ConfigError
        Without the frame, or without matplotlib.

    Examples
    --------
    >>> html_text = render_html(ReportContext(judgment, frame=frame))  # doctest: +SKIP
    """
    from canarystats.plot import require_matplotlib

    if ctx.frame is None:
        raise ConfigError("the html report needs the judged data (frame) to draw the plots")
    require_matplotlib()
    j, e = ctx.judgment, html.escape
    verdict_class = j.verdict if j.verdict in set(Verdict) else "nodata"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>canary {e(j.config_name)}: {e(j.verdict)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<h1>Canary <code>{e(j.config_name)}</code>: <span class="{verdict_class}" '
        f'id="verdict">{e(j.verdict.upper())}</span> (score {score_text(j.score)}/100)</h1>',
        f'<p class="reason">{e(j.reason)}</p>',
    ]
    meta = []
    if ctx.window is not None:
        meta.append(f"window {e(iso(ctx.window[0]))} to {e(iso(ctx.window[1]))}")
    meta += [f"{e(c)} <code>{e(s)}</code>" for c, s in ctx.cohort_scopes().items()]
    if meta:
        parts.append(f'<p class="meta">{" · ".join(meta)}</p>')
    parts += sequential_section(ctx)
    parts.append("<table><tr><th>metric</th><th>result</th><th>why</th></tr>")
    ordered = failing_first(j.metrics)
    for m in ordered:
        parts.append(
            f'<tr><td><a href="#m-{_slug(m.name)}">{e(m.name)}</a></td>'
            f'<td class="{outcome(m.classification)}">'
            f"{e(m.classification)}</td><td>{e(m.reason)}</td></tr>"
        )
    parts.append("</table>")
    if j.monitors is not None:
        parts += _monitor_rows(j.monitors)
    # One pass over the frame instead of one per metric: a report of thousands of metrics
    # would otherwise scan the whole frame thousands of times.
    by_metric = dict(iter(ctx.frame.groupby("metric", sort=False, observed=True)))
    for i, m in enumerate(ordered):
        parts += _section(ctx, m, by_metric.get(m.name) if i < MAX_PLOTS else None)
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def _section(ctx: ReportContext, m: MetricResult, points: pd.DataFrame | None) -> list[str]:
    from canarystats.plot import figure_to_svg, plot_metric

    e = html.escape
    if points is None:
        plot = (
            f'<p class="meta">No plot: this report draws {MAX_PLOTS} plots, failing metrics '
            "first; <code>canarystats.plot.plot_metric</code> draws this one.</p>"
        )
    else:
        ax = plot_metric(points, m, start=ctx.judgment.canary_start)
        plot = f'<div class="plot">{figure_to_svg(cast("Figure", ax.figure))}</div>'
    link_html = " ".join(
        f'<a href="{e(url)}" rel="noopener">Datadog: {e(c)}</a>' for c, url in ctx.links(m).items()
    )
    rows = "".join(
        f"<tr><th>{label}</th><td>{c.n}</td><td>{num(c.mean)}</td><td>{num(c.median)}</td>"
        f"<td>{num(c.p95)}</td><td>{num(c.max)}</td></tr>"
        for label, c in (("canary", m.canary), ("baseline", m.baseline))
    )
    return [
        f'<section class="metric" id="m-{_slug(m.name)}" data-metric="{e(m.name)}" '
        f'data-classification="{e(m.classification)}">',
        f'<h2>{e(m.name)}: <span class="{outcome(m.classification)}">'
        f"{e(m.classification)}</span>{' (critical)' if m.critical else ''}</h2>",
        f'<p class="reason">{e(m.reason)}</p>',
        plot,
        "<table><tr><th></th><th>n</th><th>mean</th><th>median</th><th>p95</th><th>max</th>"
        f"</tr>{rows}</table>",
        f"<p>shift {e(shift_text(m))}, p = {num(m.p_value)}, mean ratio {num(m.mean_ratio)}"
        f"{(' · ' + e(m.unit)) if m.unit else ''}</p>",
        f"<p>{link_html}</p>" if link_html else "",
        "</section>",
    ]


def _monitor_rows(gate: MonitorGate) -> list[str]:
    """The monitors group: its heading, then one row per monitor with its link."""
    e = html.escape
    rows = [f"<h2>{e(monitor_heading(gate))}</h2>"]
    if gate.monitors:
        rows.append("<table><tr><th>monitor</th><th>result</th><th>why</th></tr>")
        for mon in monitors_in_order(gate):
            rows.append(
                f'<tr><td><a href="{e(mon.url)}">{e(mon.name)}</a></td>'
                f'<td class="{e(mon.outcome)}">{e(mon.state)}</td><td>{e(mon.reason)}</td></tr>'
            )
        rows.append("</table>")
    return rows
