"""The ``markdown`` report: for pull-request comments and CI job summaries.

Append it to ``$GITHUB_STEP_SUMMARY`` in GitHub Actions: a headline with the verdict, the score's
reason, the window and scopes, then one table row per metric, failing first, with its reason
and Datadog links.
"""

from __future__ import annotations

from canarystats.labels import Verdict, outcome
from canarystats.methods.wording import fmt_number
from canarystats.report.context import (
    ReportContext,
    canary_window_line,
    iso,
    score_text,
    shift_text,
)
from canarystats.report.monitors_text import monitor_heading, monitors_in_order
from canarystats.report.sequential_text import sequential_lines, would_have_line
from canarystats.results import failing_first

__all__ = ["render_markdown"]

_MD_ICON = {Verdict.PASS: "✅", Verdict.MARGINAL: "⚠️", Verdict.FAIL: "❌", Verdict.NODATA: "❔"}
_OUTCOME_ICON = {"fail": "❌", "pass": "✅", "unjudged": "❔"}


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(ctx: ReportContext) -> str:
    """The Markdown report of ``ctx.judgment``.

    Examples
    --------
    >>> import pandas as pd
    >>> from canarystats import judge, load_config
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "avg:m{$scope}"}]})
    >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    >>> render_markdown(ReportContext(judge(cfg, frame))).splitlines()[0]
    '### ❔ Canary `w`: **NODATA** (score 0/100)'
    """
    j = ctx.judgment
    out = [
        f"### {_MD_ICON.get(j.verdict, '')} Canary `{j.config_name}`: **{j.verdict.upper()}** "
        f"(score {score_text(j.score)}/100)",
        "",
        f"> {_md_cell(j.reason)}",
        "",
    ]
    bits = []
    if ctx.window is not None:
        bits.append(f"window `{iso(ctx.window[0])}` to `{iso(ctx.window[1])}`")
    bits += [f"{c} `{s}`" for c, s in ctx.cohort_scopes().items()]
    if bits:
        out += [" · ".join(bits), ""]
    if canary_window_line(j):
        out += [canary_window_line(j)[0].upper() + canary_window_line(j)[1:] + ".", ""]
    if ctx.sequential is not None:
        seq = sequential_lines(ctx.sequential)
        out += [f"**{_md_cell(seq[0])}** {_md_cell(seq[1])}.", ""]
        out += [f"- {_md_cell(x)}" for x in seq[2:]] + ([""] if seq[2:] else [])
    if ctx.sequential_preview is not None:
        out += [_md_cell(would_have_line(ctx.sequential_preview)), ""]
    if j.monitors is not None:
        out += [f"**{_md_cell(monitor_heading(j.monitors))}**", ""]
        for mon in monitors_in_order(j.monitors):
            link = f"[{_md_cell(mon.name)}]({mon.url})"
            out.append(f"- {_OUTCOME_ICON[mon.outcome]} {link}: {_md_cell(mon.reason)}")
        out += [""] if j.monitors.monitors else []
    out += [
        "| metric | result | canary mean | baseline mean | shift (CI) | why | Datadog |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in failing_first(j.metrics):
        kind = outcome(m.classification)
        unit = f" {m.unit}" if m.unit else ""
        link_text = " ".join(f"[{c}]({u})" for c, u in ctx.links(m).items())
        name = f"**{m.name}**" if kind == "fail" else m.name
        cells = (
            name,
            f"{_OUTCOME_ICON[kind]} {m.classification}" + (" (critical)" if m.critical else ""),
            f"{fmt_number(m.canary.mean)}{unit}",
            f"{fmt_number(m.baseline.mean)}{unit}",
            shift_text(m),
            m.reason,
            link_text,
        )
        out.append("| " + " | ".join(_md_cell(cell) for cell in cells) + " |")
    return "\n".join(out) + "\n"
