"""The ``text`` report: for a terminal or a CI log.

The verdict first, then failing metrics first, each with its reason, the canary and baseline
numbers, what the test stood on and links to Datadog for the window and both scopes.  ANSI
colours only when asked (the command line asks on a terminal, never with ``NO_COLOR``).
"""

from __future__ import annotations

from canarystats.labels import Verdict, outcome
from canarystats.methods.wording import fmt_number
from canarystats.report.context import (
    ReportContext,
    canary_window_line,
    cohort_line,
    diagnostics_line,
    iso,
    score_text,
    shift_text,
)
from canarystats.report.monitors_text import monitor_heading, monitors_in_order
from canarystats.report.sequential_text import sequential_lines, would_have_line
from canarystats.results import failing_first

__all__ = ["render_text"]

_ANSI = {"red": "\033[31;1m", "green": "\033[32;1m", "yellow": "\033[33;1m", "dim": "\033[2m"}
_RESET = "\033[0m"
_VERDICT_COLOR = {
    Verdict.PASS: "green",
    Verdict.MARGINAL: "yellow",
    Verdict.FAIL: "red",
    Verdict.NODATA: "yellow",
}
_OUTCOME_COLOR = {"fail": "red", "pass": "green", "unjudged": "yellow"}
_OUTCOME_MARK = {"fail": "x", "pass": "ok", "unjudged": "-"}


def _paint(text: str, colour: str, on: bool) -> str:
    return f"{_ANSI[colour]}{text}{_RESET}" if on else text


def render_text(ctx: ReportContext) -> str:
    """The text report of ``ctx.judgment``.

    Examples
    --------
    >>> import pandas as pd
    >>> from canarystats import judge, load_config
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "avg:m{$scope}"}]})
    >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    >>> render_text(ReportContext(judge(cfg, frame))).splitlines()[0]
    'NODATA  canary w: score 0/100 (pass >= 95, marginal >= 75)'
    """
    j, color = ctx.judgment, ctx.color
    lines = [
        _paint(f"{j.verdict.upper()}", _VERDICT_COLOR.get(j.verdict, "yellow"), color)
        + f"  canary {j.config_name}: score {score_text(j.score)}/100 "
        f"(pass >= {j.pass_score:g}, marginal >= {j.marginal_score:g})",
        j.reason,
    ]
    where = []
    if ctx.window is not None:
        where.append(f"window {iso(ctx.window[0])} to {iso(ctx.window[1])}")
    for cohort, scope in ctx.cohort_scopes().items():
        where.append(f"{cohort} {scope}")
    if where:
        lines.append(_paint(" | ".join(where), "dim", color))
    if canary_window_line(j):
        lines.append(_paint(canary_window_line(j), "dim", color))
    if ctx.sequential is not None:
        seq = sequential_lines(ctx.sequential)
        lines += [seq[0], _paint(seq[1], "dim", color), *(f"    {x}" for x in seq[2:])]
    if ctx.sequential_preview is not None:
        lines.append(would_have_line(ctx.sequential_preview))
    if j.monitors is not None:
        lines += ["", monitor_heading(j.monitors)]
        for mon in monitors_in_order(j.monitors):
            mark = f"[{_OUTCOME_MARK[mon.outcome]}]"
            lines.append(
                _paint(
                    f"  {mark} monitor {mon.name}: {mon.state}", _OUTCOME_COLOR[mon.outcome], color
                )
            )
            lines.append(f"      {mon.reason}")
    for m in failing_first(j.metrics):
        kind = outcome(m.classification)
        lines.append("")
        flags = [f for f, on in (("critical", m.critical), ("muted", m.muted)) if on]
        head = f"[{_OUTCOME_MARK[kind]}] {m.name}: {m.classification}" + (
            f" ({', '.join(flags)})" if flags else ""
        )
        lines.append(_paint(head, _OUTCOME_COLOR[kind], color))
        lines.append(f"    {m.reason}")
        lines.append("    " + cohort_line("canary", m, "canary"))
        lines.append("    " + cohort_line("baseline", m, "baseline"))
        lines.append(
            f"    shift {shift_text(m)}  p={fmt_number(m.p_value)}  "
            f"mean ratio {fmt_number(m.mean_ratio)}"
        )
        diag = diagnostics_line(m)
        if diag:
            lines.append(f"    {diag}")
        for cohort, url in ctx.links(m).items():
            lines.append(f"    Datadog {cohort}: {url}")
    return "\n".join(lines) + "\n"
