"""Where an undecided sequential canary stands, in every report format.

A ``judge --state`` call that reaches no boundary has no decision to report: it says which look
it took and, metric by metric, whether the metric is open, crossed or ruled out, with the
p-values it has to fail and to pass early.  A pipeline keeps whatever ``--format`` it asked for
(``--output report.xml`` read by its JUnit step, a Markdown comment, an HTML artifact), so the
status comes in each: plain lines, Markdown, the JSON report's ``sequential`` part, JUnit XML
with each metric a skipped test, and a small HTML page.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from canarystats.report.sequential_text import p_text

if TYPE_CHECKING:
    from canarystats.sequential import SequentialJudgment

__all__ = ["render_status", "status_text"]


def render_status(result: SequentialJudgment, name: str, format: str = "text") -> str:
    """The undecided status of the canary ``name`` (its config's) in a report format.

    Parameters
    ----------
    result : SequentialJudgment
        An undecided judgment (:func:`canarystats.sequential.judge_sequential`).
    name : str
        The config's name.
    format : str
        ``text``, ``markdown``, ``json``, ``junit`` or ``html``.

    Examples
    --------
    >>> render_status(result, "web", "junit").startswith("<?xml")  # doctest: +SKIP
    True
    """
    if format == "json":
        payload = {"verdict": result.verdict, "sequential": result.as_dict()}
        return json.dumps(payload, indent=2, allow_nan=False) + "\n"
    if format == "junit":
        return _junit(result, name)
    if format == "markdown":
        return _markdown(result, name)
    if format == "html":
        return _html(result, name)
    return status_text(result, name)


def status_text(result: SequentialJudgment, name: str) -> str:
    """The few lines a poll prints while undecided: where the canary stands, metric by metric.

    Examples
    --------
    >>> status_text(result, "web")  # doctest: +SKIP
    'UNDECIDED  canary web: look 2 of 6 (minute 10 of 30) ...'
    """
    lines = [f"UNDECIDED  canary {name}: {_where(result)}", result.decision.said()]
    lines += [
        f"  {metric}: {_standing(status, fail, early)}"
        for metric, status, fail, early in _rows(result)
    ]
    return "\n".join(lines) + "\n"


def _where(result: SequentialJudgment) -> str:
    d, plan = result.decision, result.plan
    return (
        f"look {d.look} of {plan.n_looks} (minute {d.at / 60:g} of {plan.horizon / 60:g}; "
        f"started {result.start})"
    )


def _rows(result: SequentialJudgment) -> list[tuple[str, str, float, float]]:
    """Each metric with a look: its name, status, and p-values to fail and to pass early."""
    return [
        (path.name, path.status[-1], path.p_fail[-1], path.p_pass[-1])
        for path in result.decision.paths.values()
        if path.status
    ]


def _standing(status: str, fail: float, early: float) -> str:
    return f"{status} (to fail: {_p(fail)}, to pass early: {_p(early)})"


def _p(x: float) -> str:
    text = p_text(x)
    return text if text == "n/a" else f"p {text}"


def _markdown(result: SequentialJudgment, name: str) -> str:
    lines = [
        f"### UNDECIDED: canary {name}, {_where(result)}",
        "",
        result.decision.said(),
    ]
    rows = _rows(result)
    if rows:
        lines += ["", "| metric | status | p to fail | p to pass early |", "|---|---|---|---|"]
        lines += [
            f"| `{metric}` | {status} | {p_text(fail)} | {p_text(early)} |"
            for metric, status, fail, early in rows
        ]
    return "\n".join(lines) + "\n"


def _junit(result: SequentialJudgment, name: str) -> str:
    # Every metric is a test not decided yet: skipped, with where it stands as the message.
    rows = _rows(result)
    counts = {"tests": str(len(rows)), "failures": "0", "errors": "0", "skipped": str(len(rows))}
    root = ET.Element("testsuites", {"name": "canarystats", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": f"canary {name}", **counts})
    props = ET.SubElement(suite, "properties")
    for key, value in (("verdict", result.verdict), ("sequential", result.decision.said())):
        ET.SubElement(props, "property", {"name": key, "value": value})
    for metric, status, fail, early in rows:
        case = ET.SubElement(
            suite, "testcase", {"classname": f"canarystats.{name}", "name": metric, "time": "0"}
        )
        message = f"undecided: {_standing(status, fail, early)}"
        ET.SubElement(case, "skipped", {"message": message})
    ET.SubElement(suite, "system-out").text = status_text(result, name)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _html(result: SequentialJudgment, name: str) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td><code>{e(metric)}</code></td><td>{e(status)}</td>"
        f"<td>{e(p_text(fail))}</td><td>{e(p_text(early))}</td></tr>"
        for metric, status, fail, early in _rows(result)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>canary {e(name)}: undecided</title></head><body>"
        f"<h1>UNDECIDED: canary {e(name)}</h1><p>{e(_where(result))}</p>"
        f"<p>{e(result.decision.said())}</p>"
        "<table><thead><tr><th>metric</th><th>status</th><th>p to fail</th>"
        f"<th>p to pass early</th></tr></thead><tbody>{rows}</tbody></table></body></html>\n"
    )
