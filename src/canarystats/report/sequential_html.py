"""The sequential part of the ``html`` report: the decision, the plan, and the paths that matter.

A person opening the report first asks where the plan stopped and on what, so the section sits
under the verdict: the decision sentence, the plan in one line, and a small plot per metric path
(:func:`canarystats.report.sequential_plot.plot_path`).  The paths plotted are those of the
metrics that failed; when none failed, every gauge's (the metrics with a boundary to show),
at most :data:`MAX_PATH_PLOTS` either way.  Beside a one-shot judgment it is the one line of
what the plan would have decided.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, cast

from canarystats.report.context import ReportContext
from canarystats.report.sequential_text import path_line, sequential_lines, would_have_line

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from canarystats.sequential import SequentialJudgment
    from canarystats.sequential.decide import MetricPath

__all__ = ["MAX_PATH_PLOTS", "paths_to_plot", "sequential_section"]

#: the most path plots the section draws: a glance, not a second report
MAX_PATH_PLOTS = 8

#: the section's own styles, added to the report's
CSS = (
    ".sequential .paths{display:flex;flex-wrap:wrap;gap:1em}"
    "figure.path{margin:0;max-width:30em}figure.path svg{max-width:100%;height:auto}"
    "figure.path figcaption{font-size:.8em;color:#57606a}"
)


def sequential_section(ctx: ReportContext) -> list[str]:
    """The HTML of the sequential decision (or the one-shot preview line); empty without one.

    Examples
    --------
    >>> from canarystats import judge, load_config
    >>> import pandas as pd
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "q"}]})
    >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    >>> sequential_section(ReportContext(judge(cfg, frame)))
    []
    """
    e = html.escape
    parts = []
    if ctx.sequential_preview is not None:
        parts.append(f'<p class="preview">{e(would_have_line(ctx.sequential_preview))}</p>')
    seq = ctx.sequential
    if seq is None:
        return parts
    d = seq.decision
    plan = sequential_lines(seq)[1]
    parts += [
        f'<div class="sequential" id="sequential" data-verdict="{e(d.verdict)}">',
        f'<h2 class="reason">{e("Sequential: " + d.reason)}</h2>',
        *([f'<p class="held-back">{e(d.held_back)}</p>'] if d.held_back else []),
        f'<p class="meta">{e(plan)}</p>',
        '<div class="paths">',
    ]
    alpha = seq.judgment.alpha if seq.judgment is not None else ctx.judgment.alpha
    for path in paths_to_plot(seq):
        parts.append(_figure(seq, path, alpha))
    parts += ["</div>", "</div>"]
    return parts


def paths_to_plot(seq: SequentialJudgment) -> list[MetricPath]:
    """The paths worth a plot: the failed metrics', else every gauge's; at most the cap.

    Examples
    --------
    >>> from canarystats.config.sequential import SequentialPlan
    >>> from canarystats.sequential import SequentialJudgment
    >>> from canarystats.sequential.decide import Decision, MetricPath
    >>> paths = {"cpu": MetricPath("cpu", ["gauge"]), "errors": MetricPath("errors", ["count"])}
    >>> d = Decision("pass", 1, 300, True, (), "", paths, None)
    >>> s = SequentialJudgment(SequentialPlan(), "2026-01-01T00:00:00Z", d, 1)
    >>> [p.name for p in paths_to_plot(s)]
    ['cpu']
    """
    paths = seq.decision.paths
    # A monitor that failed the canary is named in ``failed`` but has no path.
    failed = [paths[name] for name in seq.decision.failed if name in paths]
    chosen = failed or [p for p in paths.values() if "gauge" in p.kind]
    return chosen[:MAX_PATH_PLOTS]


def _figure(seq: SequentialJudgment, path: MetricPath, alpha: float) -> str:
    from canarystats.plot import figure_to_svg
    from canarystats.report.sequential_plot import plot_path

    e = html.escape
    times = seq.plan.look_times()
    ax = plot_path(path, times, alpha=alpha, decided=seq.decision.look)
    svg = figure_to_svg(cast("Figure", ax.figure))
    caption = e(path_line(path, times))
    return (
        f'<figure class="path" data-path="{e(path.name)}">{svg}'
        f"<figcaption>{caption}</figcaption></figure>"
    )
