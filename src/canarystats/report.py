"""Rendering a :class:`~canarystats.judgment.Judgment` for people and for CI servers.

Formats:

``text``
    For a terminal or a CI log: the verdict first, then failing metrics first, each with its
    reason, the canary and baseline numbers and links to Datadog for the window and both scopes.
``markdown``
    For pull-request comments and CI job summaries (``>> $GITHUB_STEP_SUMMARY``).
``json``
    :meth:`Judgment.to_dict`, valid against ``schemas/judgment.schema.json``.
``junit``
    One test case per metric; a ``<failure>`` per High, Low or NodataFailMetric (reason as the
    message), an ``<error>`` per Error, ``<skipped>`` per Nodata, so a CI server shows which
    metric stopped the deploy.
``html``
    One self-contained file: per metric an inline SVG plot of canary and baseline over the
    window with the verdict (drawn by :mod:`canarystats.plot`, so it needs matplotlib, the
    ``plots`` extra).  No scripts, styles or fonts are fetched: it reads offline.

Nothing here computes a statistic; every number comes from the judgment.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast
from urllib.parse import urlencode

import pandas as pd

from canarystats.errors import ConfigError
from canarystats.frame import Window, frame_window

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from canarystats.config import CanaryConfig
    from canarystats.judgment import Judgment, MetricResult

__all__ = [
    "FORMATS",
    "datadog_links",
    "failing_first",
    "render",
]

FORMATS = ("text", "markdown", "json", "junit", "html")
#: classifications that fail a metric (Kayenta's labels)
FAILING = ("High", "Low", "NodataFailMetric", "Error")
_RANK = {"NodataFailMetric": 0, "Error": 0, "High": 0, "Low": 0, "Nodata": 1, "Pass": 2}



def failing_first(metrics: Iterable[MetricResult]) -> list[MetricResult]:
    """Order metrics as a reader needs them: failing, then without data, then passing.

    Critical failures come before other failures; otherwise config order is kept.

    Examples
    --------
    >>> from types import SimpleNamespace as M
    >>> [m.name for m in failing_first([M(name="a", classification="Pass", critical=False),
    ...                                 M(name="b", classification="High", critical=False)])]
    ['b', 'a']
    """
    items = list(metrics)
    return sorted(
        items,
        key=lambda m: (
            _RANK.get(m.classification, 0),
            0 if (m.critical and m.classification in FAILING) else 1,
        ),
    )


# --------------------------------------------------------------------------- Datadog links

_SIMPLE_QUERY = re.compile(
    r"^\s*(?P<agg>avg|sum|min|max):(?P<metric>[A-Za-z0-9_.\-]+)\s*\{(?P<scope>[^{}]*)\}"
    r"\s*(?:by\s*\{(?P<by>[^{}]*)\})?\s*(?P<rest>.*)$"
)


def _app_host(site: str | None) -> str:
    site = (site or os.environ.get("DD_SITE") or "datadoghq.com").strip().lower()
    site = site.removeprefix("https://").removeprefix("http://").strip("/")
    if site.startswith(("app.", "api.")):
        site = site[4:]
    # us3/us5/ap1 sites are their own web host; the others are served from app.<site>.
    return site if site.count(".") >= 2 else f"app.{site}"


def datadog_links(
    query: str,
    scopes: Mapping[str, str],
    window: Window,
    *,
    site: str | None = None,
) -> dict[str, str]:
    """Links to Datadog's Metrics Explorer showing the metric for each cohort over the window.

    The query is rendered with each cohort's scope (as :func:`render_query` sends it), and
    the window is given in epoch milliseconds (``from_ts``/``to_ts``, ``live=false``).  A
    query of the simple form ``agg:metric{scope} by {tags}`` becomes the explorer's
    ``exp_*`` parameters; any other query is passed whole as ``query``.

    Parameters
    ----------
    query : str
        The metric's query from the config, with ``$scope``.
    scopes : Mapping
        Cohort -> Datadog tag filter.
    window : (datetime, datetime)
        The judged window.
    site : str, optional
        Datadog site; default ``$DD_SITE``, else ``datadoghq.com``.

    Examples
    --------
    >>> w = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 10, tzinfo=UTC))
    >>> datadog_links("avg:cpu{$scope}", {"canary": "role:canary"}, w)["canary"][:60]
    'https://app.datadoghq.com/metric/explorer?from_ts=1767225600'
    """
    from canarystats.sources.query import render_query

    host = _app_host(site)
    start_ms = int(window[0].timestamp() * 1000)
    end_ms = int(window[1].timestamp() * 1000)
    links = {}
    for cohort, scope in scopes.items():
        try:
            rendered = render_query(query, scope)
        except ConfigError:
            continue
        params: dict[str, str] = {
            "from_ts": str(start_ms),
            "to_ts": str(end_ms),
            "live": "false",
        }
        simple = _SIMPLE_QUERY.match(rendered)
        if simple and not simple["rest"].strip():
            params.update(
                exp_metric=simple["metric"],
                exp_scope=simple["scope"],
                exp_agg=simple["agg"],
                exp_row_type="metric",
            )
            if simple["by"]:
                params["exp_group"] = simple["by"]
        else:
            params["query"] = rendered
        links[cohort] = f"https://{host}/metric/explorer?{urlencode(params)}"
    return links


# --------------------------------------------------------------------------- helpers


def _num(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.3g}"


def _signed(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:+.3g}"


def _diagnostics_line(m: MetricResult) -> str:
    """What the test stood on: its units, the raw p-value, how hosts differ, autocorrelation."""
    d = m.diagnostics
    parts = []
    if m.units == "hosts" and "n_canary_hosts" in d:
        parts.append(
            f"units: hosts ({d['n_canary_hosts']} canary, {d['n_baseline_hosts']} baseline)"
        )
    elif m.units:
        parts.append(f"units: {m.units}")
    if m.p_raw == m.p_raw and m.p_raw != m.p_value:
        family = d.get("family_size")
        adjust = d.get("multiplicity", "adjusted")
        parts.append(f"raw p={_num(m.p_raw)} ({adjust} over {family} metrics)")
    share = d.get("between_host_share")
    if isinstance(share, float) and share == share:
        parts.append(f"between-host share of variance {100 * share:.0f}%")
    lag1 = d.get("lag1_autocorrelation")
    if isinstance(lag1, float) and lag1 == lag1:
        parts.append(f"lag-1 autocorrelation {lag1:.2f}")
    return "  ".join(parts)


def _shift(m: MetricResult) -> str:
    if not math.isfinite(m.estimate):
        return "n/a"
    pct = f"{m.confidence * 100:g}"
    if math.isfinite(m.ci_low) and math.isfinite(m.ci_high):
        return f"{_signed(m.estimate)} ({pct}% CI {_signed(m.ci_low)} to {_signed(m.ci_high)})"
    return _signed(m.estimate)


def _cohort_line(label: str, m: MetricResult, side: str) -> str:
    c = m.canary if side == "canary" else m.baseline
    unit = f" {m.unit}" if m.unit else ""
    return (
        f"{label:<9}n={c.n:<5} mean {_num(c.mean)}{unit}  median {_num(c.median)}  "
        f"p95 {_num(c.p95)}  max {_num(c.max)}"
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _links_for(
    m: MetricResult,
    config: CanaryConfig | None,
    window: Window | None,
    scopes: Mapping[str, str] | None,
    site: str | None,
) -> dict[str, str]:
    if config is None or window is None:
        return {}
    try:
        query = config.metric(m.name).query
    except KeyError:
        return {}
    return datadog_links(query, _scopes(config, scopes), window, site=site)


def _scopes(config: CanaryConfig | None, scopes: Mapping[str, str] | None) -> dict[str, str]:
    if scopes:
        return dict(scopes)
    if config is not None:
        return {"canary": config.scopes.canary, "baseline": config.scopes.baseline}
    return {}


_ANSI = {"red": "\033[31;1m", "green": "\033[32;1m", "yellow": "\033[33;1m", "dim": "\033[2m"}
_RESET = "\033[0m"
_VERDICT_COLOR = {"pass": "green", "marginal": "yellow", "fail": "red", "nodata": "yellow"}


def _paint(text: str, colour: str, on: bool) -> str:
    return f"{_ANSI[colour]}{text}{_RESET}" if on else text


def _metric_colour(m: MetricResult) -> str:
    if m.classification in FAILING:
        return "red"
    return "green" if m.classification == "Pass" else "yellow"


# --------------------------------------------------------------------------- formats


def _text(
    j: Judgment,
    config: CanaryConfig | None,
    window: Window | None,
    scopes: Mapping[str, str] | None,
    color: bool,
    site: str | None,
) -> str:
    lines = [
        _paint(f"{j.verdict.upper()}", _VERDICT_COLOR.get(j.verdict, "yellow"), color)
        + f"  canary {j.config_name}: score {j.score:.0f}/100 "
        f"(pass >= {j.pass_score:g}, marginal >= {j.marginal_score:g})",
        j.reason,
    ]
    where = []
    if window is not None:
        where.append(f"window {_iso(window[0])} to {_iso(window[1])}")
    for cohort, scope in _scopes(config, scopes).items():
        where.append(f"{cohort} {scope}")
    if where:
        lines.append(_paint(" | ".join(where), "dim", color))
    for m in failing_first(j.metrics):
        lines.append("")
        mark = "x" if m.classification in FAILING else ("-" if m.classification != "Pass" else "ok")
        flags = [f for f, on in (("critical", m.critical), ("muted", m.muted)) if on]
        head = f"[{mark}] {m.name}: {m.classification}" + (
            f" ({', '.join(flags)})" if flags else ""
        )
        lines.append(_paint(head, _metric_colour(m), color))
        lines.append(f"    {m.reason}")
        lines.append("    " + _cohort_line("canary", m, "canary"))
        lines.append("    " + _cohort_line("baseline", m, "baseline"))
        lines.append(f"    shift {_shift(m)}  p={_num(m.p_value)}  mean ratio {_num(m.mean_ratio)}")
        diag = _diagnostics_line(m)
        if diag:
            lines.append(f"    {diag}")
        for cohort, url in _links_for(m, config, window, scopes, site).items():
            lines.append(f"    Datadog {cohort}: {url}")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_MD_ICON = {"pass": "✅", "marginal": "⚠️", "fail": "❌", "nodata": "❔"}


def _markdown(
    j: Judgment,
    config: CanaryConfig | None,
    window: Window | None,
    scopes: Mapping[str, str] | None,
    site: str | None,
) -> str:
    out = [
        f"### {_MD_ICON.get(j.verdict, '')} Canary `{j.config_name}`: **{j.verdict.upper()}** "
        f"(score {j.score:.0f}/100)",
        "",
        f"> {_md_cell(j.reason)}",
        "",
    ]
    bits = []
    if window is not None:
        bits.append(f"window `{_iso(window[0])}` to `{_iso(window[1])}`")
    bits += [f"{c} `{s}`" for c, s in _scopes(config, scopes).items()]
    if bits:
        out += [" · ".join(bits), ""]
    out += [
        "| metric | result | canary mean | baseline mean | shift (CI) | why | Datadog |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in failing_first(j.metrics):
        icon = (
            "❌" if m.classification in FAILING else ("✅" if m.classification == "Pass" else "❔")
        )
        unit = f" {m.unit}" if m.unit else ""
        links = _links_for(m, config, window, scopes, site)
        link_text = " ".join(f"[{c}]({u})" for c, u in links.items())
        name = f"**{m.name}**" if m.classification in FAILING else m.name
        out.append(
            "| "
            + " | ".join(
                _md_cell(cell)
                for cell in (
                    name,
                    f"{icon} {m.classification}" + (" (critical)" if m.critical else ""),
                    f"{_num(m.canary.mean)}{unit}",
                    f"{_num(m.baseline.mean)}{unit}",
                    _shift(m),
                    m.reason,
                    link_text,
                )
            )
            + " |"
        )
    return "\n".join(out) + "\n"


def _junit(j: Judgment, window: Window | None) -> str:
    metrics = list(j.metrics)
    failures = sum(m.classification in ("High", "Low", "NodataFailMetric") for m in metrics)
    errors = sum(m.classification == "Error" for m in metrics)
    skipped = sum(m.classification == "Nodata" for m in metrics)
    counts = {
        "tests": str(len(metrics)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
    }
    root = ET.Element("testsuites", {"name": "canarystats", **counts})
    suite_attrs = {"name": f"canary {j.config_name}", **counts}
    if window is not None:
        suite_attrs["timestamp"] = window[1].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    suite = ET.SubElement(root, "testsuite", suite_attrs)
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", j.verdict),
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
                _cohort_line("canary", m, "canary"),
                _cohort_line("baseline", m, "baseline"),
                f"shift {_shift(m)}  p={_num(m.p_value)}",
            ]
        )
        if m.classification in ("High", "Low", "NodataFailMetric"):
            el = ET.SubElement(case, "failure", {"message": m.reason, "type": m.classification})
            el.text = detail
        elif m.classification == "Error":
            el = ET.SubElement(case, "error", {"message": m.reason, "type": "Error"})
            el.text = detail
        elif m.classification == "Nodata":
            ET.SubElement(case, "skipped", {"message": m.reason})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = detail
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:72em;color:#24292f;padding:0 1em}
h1{font-size:1.6em}.pass{color:#1a7f37}.fail{color:#cf222e}.marginal,.nodata{color:#9a6700}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:.25em .6em;
text-align:left;font-size:.9em}section.metric{border-top:1px solid #d0d7de;margin-top:1.5em}
.reason{font-size:1.05em}.plot svg{max-width:100%;height:auto}.meta{color:#57606a}
"""


def _html(
    j: Judgment,
    frame: pd.DataFrame,
    config: CanaryConfig | None,
    window: Window | None,
    scopes: Mapping[str, str] | None,
    site: str | None,
) -> str:
    from canarystats.plot import _require_matplotlib, figure_to_svg, plot_metric

    _require_matplotlib()
    e = html.escape
    verdict_class = j.verdict if j.verdict in _VERDICT_COLOR else "nodata"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>canary {e(j.config_name)}: {e(j.verdict)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<h1>Canary <code>{e(j.config_name)}</code>: <span class="{verdict_class}" '
        f'id="verdict">{e(j.verdict.upper())}</span> (score {j.score:.0f}/100)</h1>',
        f'<p class="reason">{e(j.reason)}</p>',
    ]
    meta = []
    if window is not None:
        meta.append(f"window {e(_iso(window[0]))} to {e(_iso(window[1]))}")
    meta += [f"{e(c)} <code>{e(s)}</code>" for c, s in _scopes(config, scopes).items()]
    if meta:
        parts.append(f'<p class="meta">{" · ".join(meta)}</p>')
    parts.append("<table><tr><th>metric</th><th>result</th><th>why</th></tr>")
    ordered = failing_first(j.metrics)
    for m in ordered:
        parts.append(
            f'<tr><td><a href="#m-{_slug(m.name)}">{e(m.name)}</a></td>'
            f'<td class="{"fail" if m.classification in FAILING else "pass"}">'
            f"{e(m.classification)}</td><td>{e(m.reason)}</td></tr>"
        )
    parts.append("</table>")
    for m in ordered:
        ax = plot_metric(frame, m)
        svg = figure_to_svg(cast("Figure", ax.figure))
        links = _links_for(m, config, window, scopes, site)
        link_html = " ".join(
            f'<a href="{e(url)}" rel="noopener">Datadog: {e(c)}</a>' for c, url in links.items()
        )
        rows = "".join(
            f"<tr><th>{label}</th><td>{c.n}</td><td>{_num(c.mean)}</td><td>{_num(c.median)}</td>"
            f"<td>{_num(c.p95)}</td><td>{_num(c.max)}</td></tr>"
            for label, c in (("canary", m.canary), ("baseline", m.baseline))
        )
        parts += [
            f'<section class="metric" id="m-{_slug(m.name)}" data-metric="{e(m.name)}" '
            f'data-classification="{e(m.classification)}">',
            f'<h2>{e(m.name)}: <span class="{"fail" if m.classification in FAILING else "pass"}">'
            f"{e(m.classification)}</span>{' (critical)' if m.critical else ''}</h2>",
            f'<p class="reason">{e(m.reason)}</p>',
            f'<div class="plot">{svg}</div>',
            "<table><tr><th></th><th>n</th><th>mean</th><th>median</th><th>p95</th><th>max</th>"
            f"</tr>{rows}</table>",
            f"<p>shift {e(_shift(m))}, p = {_num(m.p_value)}, mean ratio {_num(m.mean_ratio)}"
            f"{(' · ' + e(m.unit)) if m.unit else ''}</p>",
            f"<p>{link_html}</p>" if link_html else "",
            "</section>",
        ]
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)


def render(
    judgment: Judgment,
    format: str = "text",
    frame: pd.DataFrame | None = None,
    config: CanaryConfig | None = None,
    window: Window | None = None,
    scopes: Mapping[str, str] | None = None,
    *,
    color: bool = False,
    site: str | None = None,
) -> str:
    """Render a judgment in one of :data:`FORMATS`.

    Parameters
    ----------
    judgment : Judgment
        What :func:`canarystats.judge` returned.
    format : str
        ``text``, ``markdown``, ``json``, ``junit`` or ``html``.
    frame : pandas.DataFrame, optional
        The tidy frame judged; required by ``html`` (the plots), and gives the window when
        ``window`` is not given.
    config : CanaryConfig, optional
        Gives each metric's query (for the Datadog links) and the default scopes.
    window : (datetime, datetime), optional
        The judged window (UTC), shown and used in the links.
    scopes : Mapping, optional
        Cohort -> Datadog tag filter actually used (default: the config's).
    color : bool
        ANSI colours in ``text`` (the CLI sets it only on a terminal).
    site : str, optional
        Datadog site for the links (default ``$DD_SITE``, else ``datadoghq.com``).

    Returns
    -------
    str
        The report, ending in a newline.

    Raises
    ------
    canarystats.errors.ConfigError
        For an unknown format, or ``html`` without matplotlib.

    Examples
    --------
    >>> from canarystats import judge, load_config
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "avg:m{$scope}"}]})
    >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    >>> render(judge(cfg, frame), "text").splitlines()[0]
    'NODATA  canary w: score 0/100 (pass >= 95, marginal >= 75)'
    """
    if format not in FORMATS:
        raise ConfigError(f"--format {format!r} is unknown; use one of {', '.join(FORMATS)}")
    if window is None and frame is not None:
        window = frame_window(frame, config.step if config is not None else 60)
    if format == "json":
        return json.dumps(judgment.to_dict(), indent=2, allow_nan=False) + "\n"
    if format == "junit":
        return _junit(judgment, window)
    if format == "markdown":
        return _markdown(judgment, config, window, scopes, site)
    if format == "html":
        if frame is None:
            raise ConfigError("the html report needs the judged data (frame) to draw the plots")
        return _html(judgment, frame, config, window, scopes, site)
    return _text(judgment, config, window, scopes, color, site)
