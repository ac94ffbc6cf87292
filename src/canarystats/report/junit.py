"""The ``junit`` report: one test case per metric, so a CI server shows which metric stopped the
deploy.

A ``<failure>`` per failing metric (High, Low, NodataFailMetric; the reason is the message), an
``<error>`` per Error (the metric could not be computed), ``<skipped>`` per Nodata.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC

from canarystats.labels import FAILING, Label
from canarystats.report.context import ReportContext, cohort_line, num, shift_text

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
    root = ET.Element("testsuites", {"name": "canarystats", **counts})
    suite_attrs = {"name": f"canary {j.config_name}", **counts}
    if window is not None:
        suite_attrs["timestamp"] = window[1].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    suite = ET.SubElement(root, "testsuite", suite_attrs)
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", str(j.verdict)),
        ("score", f"{j.score:g}"),
        ("reason", j.reason),
        ("pass_score", f"{j.pass_score:g}"),
        ("marginal_score", f"{j.marginal_score:g}"),
    ):
        ET.SubElement(props, "property", {"name": name, "value": value})
    for m in metrics:
        case = ET.SubElement(
            suite, "testcase", {"classname": f"canarystats.{j.config_name}", "name": m.name}
        )
        detail = "\n".join(
            [
                m.reason,
                cohort_line("canary", m, "canary"),
                cohort_line("baseline", m, "baseline"),
                f"shift {shift_text(m)}  p={num(m.p_value)}",
            ]
        )
        if m.classification in FAILING:
            el = ET.SubElement(case, "failure", {"message": m.reason, "type": m.classification})
            el.text = detail
        elif m.classification == Label.ERROR:
            el = ET.SubElement(case, "error", {"message": m.reason, "type": "Error"})
            el.text = detail
        elif m.classification == Label.NODATA:
            ET.SubElement(case, "skipped", {"message": m.reason})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = detail
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
