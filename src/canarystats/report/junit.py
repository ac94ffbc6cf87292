"""The ``junit`` report: one test case per metric, so a CI server shows which metric stopped the
deploy.

A ``<failure>`` per failing metric (High, Low, NodataFailMetric; the reason is the message), an
``<error>`` per Error (the metric could not be computed), ``<skipped>`` per Nodata; where the
config names monitors, one test case per monitor too (a ``<failure>`` where it fired on a canary
host).  Beside a sequential judgment the suite has a ``sequential`` property and a
``<system-out>`` with the decision, and a failing metric's message ends in its path over the
looks.

Times: the suite's ``timestamp`` is the judged window's start in ISO 8601 with its zone (UTC,
``+00:00``), and ``time`` on the suite and on ``<testsuites>`` is the window's length in seconds,
what the canary test observed (so start plus time is the window's end).  Each test case's
``time`` is 0: the metrics are judged together over that one window, and a CI server that adds
up its cases' times must not count the window once per metric.  Without a window (a judgment
rendered on its own) the suite has no timestamp and a time of 0.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from canarystats.labels import FAILING, Label
from canarystats.methods.wording import fmt_number
from canarystats.report.context import ReportContext, cohort_line, shift_text
from canarystats.report.sequential_text import path_line, sequential_lines

if TYPE_CHECKING:
    from canarystats.results import Judgment

__all__ = ["render_junit"]


def render_junit(ctx: ReportContext) -> str:
    """The JUnit XML report of ``ctx.judgment``.

    Examples
    --------
    >>> import pandas as pd
    >>> from canarystats import judge, load_config
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "q"}]})
    >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    >>> "<skipped" in render_junit(ReportContext(judge(cfg, frame)))
    True
    """
    j, window = ctx.judgment, ctx.window
    metrics = list(j.metrics)
    counts = {
        "tests": str(len(metrics)),
        "failures": str(sum(m.classification in FAILING for m in metrics)),
        "errors": str(sum(m.classification == Label.ERROR for m in metrics)),
        "skipped": str(sum(m.classification == Label.NODATA for m in metrics)),
    }
    seconds = _seconds(window)
    root = ET.Element("testsuites", {"name": "canarystats", **counts, "time": seconds})
    suite_attrs = {"name": f"canary {j.config_name}", **counts, "time": seconds}
    if window is not None:
        suite_attrs["timestamp"] = window[0].astimezone(UTC).isoformat(timespec="seconds")
    suite = ET.SubElement(root, "testsuite", suite_attrs)
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", str(j.verdict)),
        ("score", f"{j.score:g}"),
        ("reason", j.reason),
        ("pass_score", f"{j.pass_score:g}"),
        ("marginal_score", f"{j.marginal_score:g}"),
        *([("sequential", ctx.sequential.decision.said())] if ctx.sequential else []),
    ):
        ET.SubElement(props, "property", {"name": name, "value": value})
    for m in metrics:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"canarystats.{j.config_name}", "name": m.name, "time": "0"},
        )
        detail = "\n".join(
            [
                m.reason,
                cohort_line("canary", m, "canary"),
                cohort_line("baseline", m, "baseline"),
                f"shift {shift_text(m)}  p={fmt_number(m.p_value)}",
            ]
        )
        if m.classification in FAILING:
            message = " ".join([m.reason, *_path(ctx, m.name)])
            el = ET.SubElement(case, "failure", {"message": message, "type": m.classification})
            el.text = "\n".join([detail, *_path(ctx, m.name)])
        elif m.classification == Label.ERROR:
            el = ET.SubElement(case, "error", {"message": m.reason, "type": "Error"})
            el.text = detail
        elif m.classification == Label.NODATA:
            ET.SubElement(case, "skipped", {"message": m.reason})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = detail
    if j.monitors is not None:
        _monitor_cases(root, suite, j)
    if ctx.sequential is not None:
        # After the test cases: the JUnit schema orders a suite's children so.
        ET.SubElement(suite, "system-out").text = "\n".join(sequential_lines(ctx.sequential))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _seconds(window: tuple[datetime, datetime] | None) -> str:
    """The window's length in seconds, as JUnit writes a time (``"1800.000"``), 0 without one."""
    if window is None:
        return "0"
    return f"{(window[1] - window[0]).total_seconds():.3f}"


def _path(ctx: ReportContext, name: str) -> list[str]:
    """The metric's path over the looks as one line, where a sequential judgment has it."""
    seq = ctx.sequential
    if seq is None or name not in seq.decision.paths:
        return []
    return [path_line(seq.decision.paths[name], seq.plan.look_times())]


def _monitor_cases(root: ET.Element, suite: ET.Element, j: Judgment) -> None:
    """One test case per monitor (class ``canarystats.<config>.monitors``), counted in the suite."""
    assert j.monitors is not None
    for mon in j.monitors.monitors:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"canarystats.{j.config_name}.monitors", "name": mon.name, "time": "0"},
        )
        if mon.outcome == "fail":
            el = ET.SubElement(case, "failure", {"message": mon.reason, "type": "MonitorAlert"})
            el.text = mon.reason
        elif mon.outcome == "unjudged":
            ET.SubElement(case, "skipped", {"message": mon.reason})
        else:
            ET.SubElement(case, "system-out").text = mon.reason
    if not j.monitors.checked:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"canarystats.{j.config_name}.monitors", "name": "*", "time": "0"},
        )
        ET.SubElement(case, "skipped", {"message": j.monitors.reason})
    cases = suite.findall("testcase")
    for element in (root, suite):
        element.set("tests", str(len(cases)))
        for tag, attr in (("failure", "failures"), ("skipped", "skipped")):
            element.set(attr, str(sum(c.find(tag) is not None for c in cases)))
