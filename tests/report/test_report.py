"""Reports of a judgment (canarystats.report): every format, read back by an independent parser."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from canarystats import judge, load_config
from canarystats.errors import ConfigError
from canarystats.frame import frame_window
from canarystats.labels import FAILING
from canarystats.report import datadog_links, render
from canarystats.results import failing_first
from canarystats.sources import read_frame

ROOT = Path(__file__).resolve().parents[2]
# The seed-incident fixture covers 2026-03-10 15:00 to 15:30 UTC (fixtures/README.md).
WINDOW = (datetime(2026, 3, 10, 15, 0, tzinfo=UTC), datetime(2026, 3, 10, 15, 30, tzinfo=UTC))
WINDOW_MS = ("1773154800000", "1773156600000")


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return load_config(ROOT / "examples" / "web.yaml")


@pytest.fixture(scope="module")
def incident(config):  # type: ignore[no-untyped-def]
    frame = read_frame(ROOT / "fixtures" / "seed-incident.csv")
    return judge(config, frame), frame


def test_frame_window_spans_first_bucket_to_end_of_last(incident) -> None:
    _, frame = incident
    assert frame_window(frame, 60) == WINDOW


def test_text_puts_the_verdict_first_and_failing_metrics_before_passing(config, incident) -> None:
    judgment, frame = incident
    text = render(judgment, "text", frame=frame, config=config)
    lines = text.splitlines()
    assert lines[0].startswith("FAIL")
    assert judgment.reason in lines[1]
    failing = [m.name for m in judgment.metrics if m.classification in FAILING]
    passing = [m.name for m in judgment.metrics if m.classification == "Pass"]
    assert failing and passing
    heads = [line for line in lines if line.startswith("[")]
    names = [h.split("] ", 1)[1].split(":", 1)[0] for h in heads]
    assert set(names[: len(failing)]) == set(failing)
    for m in judgment.metrics:
        assert m.reason in text
    assert "background-jobs-failed" in text and "failed jobs/min" in text
    assert "\033[" not in text


def test_text_colours_only_when_asked(incident) -> None:
    judgment, frame = incident
    assert "\033[31;1mFAIL" in render(judgment, "text", frame=frame, color=True)


def test_text_links_each_metric_to_datadog_for_the_window_and_both_scopes(config, incident) -> None:
    judgment, frame = incident
    text = render(
        judgment,
        "text",
        frame=frame,
        config=config,
        scopes={"canary": "version:v2", "baseline": "version:v1"},
    )
    links = [line.split(": ", 1)[1] for line in text.splitlines() if "Datadog " in line]
    assert len(links) == 2 * len(judgment.metrics)
    for url in links:
        parts = urlsplit(url)
        assert parts.netloc == "app.datadoghq.com"
        query = parse_qs(parts.query)
        assert (query["from_ts"][0], query["to_ts"][0]) == WINDOW_MS
    joined = " ".join(links)
    assert "version%3Av2" in joined and "version%3Av1" in joined
    assert "role%3Acanary" not in joined


def test_links_split_simple_queries_and_follow_the_site(monkeypatch) -> None:
    monkeypatch.setenv("DD_SITE", "datadoghq.eu")
    links = datadog_links(
        "avg:system.cpu.user{service:web,$scope} by {host}",
        {"canary": "role:canary", "baseline": "role:baseline"},
        WINDOW,
    )
    canary = urlsplit(links["canary"])
    assert canary.netloc == "app.datadoghq.eu"
    assert canary.path == "/metric/explorer"
    q = parse_qs(canary.query)
    assert q["exp_metric"] == ["system.cpu.user"]
    assert q["exp_scope"] == ["service:web,role:canary"]
    assert q["exp_agg"] == ["avg"] and q["exp_group"] == ["host"]
    assert parse_qs(urlsplit(links["baseline"]).query)["exp_scope"] == ["service:web,role:baseline"]
    # us3/us5/ap1 sites are their own web host.
    us5 = datadog_links("avg:m{$scope}", {"canary": "a:b"}, WINDOW, site="us5.datadoghq.com")
    assert urlsplit(us5["canary"]).netloc == "us5.datadoghq.com"


#: what the JSON report adds to Judgment.to_dict(): the run as the report saw it
RUN_FIELDS = {"window", "scopes", "links", "tool", "exit_code"}


def _judgment_schema() -> dict:  # type: ignore[type-arg]
    text = resources.files("canarystats").joinpath("schemas/judgment.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def test_json_is_to_dict_and_valid_against_the_published_schema(incident) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    judgment, frame = incident
    document = json.loads(render(judgment, "json", frame=frame))
    assert {k: v for k, v in document.items() if k not in RUN_FIELDS} == judgment.to_dict()
    assert document["schema_version"] == "1.1"
    jsonschema.Draft202012Validator(_judgment_schema()).validate(document)


def test_json_records_the_window_scopes_links_version_and_exit_code(config, incident) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import canarystats

    judgment, frame = incident
    scopes = {"canary": "role:canary,version:abc123", "baseline": "role:baseline"}
    text = render(judgment, "json", frame=frame, config=config, scopes=scopes, exit_code=1)
    document = json.loads(text)
    jsonschema.Draft202012Validator(_judgment_schema()).validate(document)
    assert document["window"] == {
        "start": "2026-03-10T15:00:00Z",
        "end": "2026-03-10T15:30:00Z",
        "canary_start": None,
        "pre_window": None,
        "warmup": None,
    }
    assert document["scopes"] == scopes
    assert set(document["links"]) == {m.name for m in judgment.metrics}
    canary_link = urlsplit(document["links"]["request-latency"]["canary"])
    query = parse_qs(canary_link.query)
    assert (query["from_ts"][0], query["to_ts"][0]) == WINDOW_MS
    assert "version:abc123" in query["exp_scope"][0]
    assert document["tool"] == {"name": "canarystats", "version": canarystats.__version__}
    assert document["exit_code"] == 1
    # Without a config, a window or a command, only what is known is written.
    bare = json.loads(render(judgment, "json"))
    assert set(bare) & RUN_FIELDS == {"tool"}


@pytest.mark.parametrize(("flags", "code", "would"), [([], 1, None), (["--soft-fail"], 0, 1)])
def test_json_of_the_command_records_the_exit_code_it_returns(
    flags: list[str], code: int, would: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    from canarystats.cli import main

    data = str(ROOT / "fixtures" / "seed-incident.csv")
    args = ["judge", str(ROOT / "examples" / "web.yaml"), "--data", data, "--format", "json"]
    assert main([*args, *flags]) == code
    document = json.loads(capsys.readouterr().out)
    assert document["verdict"] == "fail" and document["exit_code"] == code
    # A soft-failed run still says what it would have exited with; an honest one does not repeat it.
    assert document.get("would_exit") == would
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(_judgment_schema()).validate(document)
    assert document["scopes"] == {"canary": "role:canary", "baseline": "role:baseline"}


def test_json_window_shows_the_pre_window_and_warm_up_after_a_canary_start(config) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    frame = read_frame(ROOT / "fixtures" / "seed-incident.csv")
    start = datetime(2026, 3, 10, 15, 10, tzinfo=UTC)
    judgment = judge(config, frame, start=start)
    document = json.loads(render(judgment, "json", frame=frame, config=config))
    jsonschema.Draft202012Validator(_judgment_schema()).validate(document)
    # The judge's defaults: up to 30 minutes before the start (the data begins at 15:00, so
    # 10 of them), 5 minutes of warm-up after it.
    assert frame["timestamp"].min() == pd.Timestamp("2026-03-10T15:00:00Z")
    assert document["window"]["canary_start"] == "2026-03-10T15:10:00Z"
    assert document["window"]["pre_window"] == {
        "start": "2026-03-10T15:00:00Z",
        "end": "2026-03-10T15:10:00Z",
    }
    assert document["window"]["warmup"] == {
        "start": "2026-03-10T15:10:00Z",
        "end": "2026-03-10T15:15:00Z",
    }


def test_junit_has_a_case_per_metric_and_a_failure_per_failing_one(incident) -> None:
    judgment, frame = incident
    root = ET.fromstring(render(judgment, "junit", frame=frame).encode())
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == [m.name for m in judgment.metrics]
    expected = {
        m.name: m.reason
        for m in judgment.metrics
        if m.classification in ("High", "Low", "NodataFailMetric")
    }
    got = {
        c.get("name"): c.find("failure").get("message")  # type: ignore[union-attr]
        for c in cases
        if c.find("failure") is not None
    }
    assert got == expected
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("failures") == str(len(expected))
    assert suite.get("tests") == str(len(judgment.metrics))
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["verdict"] == "fail"


def test_junit_reports_nodata_as_skipped_and_error_as_error(incident) -> None:
    judgment, _ = incident
    first, second = judgment.metrics[0], judgment.metrics[1]
    edited = replace(
        judgment,
        metrics=(
            replace(first, classification="Nodata", reason="no data <here> & there"),
            replace(second, classification="Error", reason="boom"),
        ),
    )
    root = ET.fromstring(render(edited, "junit").encode())
    cases = root.findall("./testsuite/testcase")
    assert cases[0].find("skipped").get("message") == "no data <here> & there"  # type: ignore[union-attr]
    assert cases[1].find("error").get("message") == "boom"  # type: ignore[union-attr]
    assert root.get("skipped") == "1" and root.get("errors") == "1" and root.get("failures") == "0"


def test_markdown_has_one_table_row_per_metric_even_with_pipes_in_reasons(config, incident) -> None:
    judgment, frame = incident
    first = judgment.metrics[0]
    edited = replace(judgment, metrics=(replace(first, reason="a | b"), *judgment.metrics[1:]))
    text = render(edited, "markdown", frame=frame, config=config)
    assert text.startswith("### ")
    assert "**FAIL**" in text.splitlines()[0]
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    body = rows[1:]
    assert len(body) == len(judgment.metrics)
    header_cells = rows[0].count(" | ")
    for row in body:
        # An escaped pipe does not open a new cell.
        assert row.replace("\\|", "").count(" | ") == header_cells
    assert "a \\| b" in text


def test_failing_first_keeps_config_order_within_a_rank(incident) -> None:
    judgment, _ = incident
    ordered = failing_first(judgment.metrics)
    # by hand: failing labels first, passing last, everything else (unjudged) between
    failing = ("High", "Low", "NodataFailMetric")
    ranks = [
        0 if m.classification in failing else (2 if m.classification == "Pass" else 1)
        for m in ordered
    ]
    assert ranks == sorted(ranks)
    passing = [m.name for m in ordered if m.classification == "Pass"]
    assert passing == [m.name for m in judgment.metrics if m.classification == "Pass"]


def test_unknown_format_is_a_config_error(incident) -> None:
    judgment, _ = incident
    with pytest.raises(ConfigError, match="--format"):
        render(judgment, "yaml")


class _Outline(HTMLParser):
    """Collects what the HTML test checks: sections, top-level SVGs, external references."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[dict[str, str | None]] = []
        self.svgs_per_section: list[int] = []
        self.depth_svg = 0
        self.external: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self.sections.append(a)
            self.svgs_per_section.append(0)
        if tag == "svg":
            if self.depth_svg == 0 and self.svgs_per_section:
                self.svgs_per_section[-1] += 1
            self.depth_svg += 1
        for key in ("src",):
            if a.get(key):
                self.external.append(str(a[key]))
        if tag == "link":
            self.external.append(str(a.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.depth_svg -= 1


def test_html_is_self_contained_with_one_plot_per_metric(config, incident) -> None:
    pytest.importorskip("matplotlib")
    judgment, frame = incident
    page = render(judgment, "html", frame=frame, config=config)
    outline = _Outline()
    outline.feed(page)
    assert [s["data-metric"] for s in outline.sections] == [
        m.name for m in failing_first(judgment.metrics)
    ]
    assert outline.svgs_per_section == [1] * len(judgment.metrics)
    assert {s["data-classification"] for s in outline.sections} == {
        m.classification for m in judgment.metrics
    }
    assert outline.external == []
    assert "script" not in outline.tags
    assert ">FAIL<" in page


def test_html_of_many_metrics_plots_the_failing_ones_first_up_to_the_cap() -> None:
    pytest.importorskip("matplotlib")
    import numpy as np
    import pandas as pd

    from canarystats.report.html import MAX_PLOTS

    n = MAX_PLOTS + 15
    names = [f"m{i:03d}" for i in range(n)]
    failing = {names[-1], names[-2]}  # last in config order: plotted only if failing comes first
    cfg = load_config({"name": "big", "metrics": [{"name": x, "query": "q"} for x in names]})
    hosts = [("canary", "c1"), ("canary", "c2"), ("baseline", "b1"), ("baseline", "b2"),
             ("baseline", "b3"), ("baseline", "b4")]  # fmt: skip
    rng = np.random.default_rng(7)
    rows = [
        (x, cohort, h, pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(minutes=t),
         (60.0 if x in failing and cohort == "canary" else 10.0) + rng.normal(0, 0.2))
        for x in names for cohort, h in hosts for t in range(12)
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])
    judgment = judge(cfg, frame)
    assert {m.name for m in judgment.metrics if m.classification in FAILING} == failing
    outline = _Outline()
    outline.feed(render(judgment, "html", frame=frame, config=cfg))
    assert len(outline.sections) == n  # every metric keeps its section
    plotted = [s["data-metric"] for s, k in zip(outline.sections, outline.svgs_per_section,
                                                 strict=True) if k == 1]  # fmt: skip
    assert len(plotted) == MAX_PLOTS and failing <= set(plotted)
    assert sum(outline.svgs_per_section) == MAX_PLOTS


def test_html_without_matplotlib_says_how_to_install_it(
    config, incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    judgment, frame = incident
    # A None entry in sys.modules makes "import matplotlib" raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigError, match=r"plots extra") as info:
        render(judgment, "html", frame=frame, config=config)
    assert "\n" not in str(info.value)


def test_a_metric_judged_against_its_past_links_from_the_start_of_that_past(config) -> None:
    from datetime import datetime, timedelta

    frame = read_frame(ROOT / "fixtures" / "seed-incident.csv")
    start = datetime.fromisoformat("2026-03-10T15:10:00+00:00")
    end = datetime.fromisoformat("2026-03-10T15:30:00+00:00")
    judgment = judge(config, frame, start=start)
    text = render(judgment, "text", frame=frame, config=config, window=(start, end))
    froms: dict[str, set[int]] = {}
    name = ""
    for line in text.splitlines():
        if line.startswith("["):
            name = line.split("] ", 1)[1].split(":", 1)[0]
        elif "Datadog " in line:
            query = parse_qs(urlsplit(line.split(": ", 1)[1]).query)
            froms.setdefault(name, set()).add(int(query["from_ts"][0]))
            assert int(query["to_ts"][0]) == int(end.timestamp() * 1000)
    units = {m.name: m.units for m in judgment.metrics}
    assert set(froms) == set(units) and "host changes" in units.values()
    assert "hosts" in units.values()  # the counts: judged on the canary window alone
    past = timedelta(minutes=10)  # all the file holds before the start
    for metric, unit in units.items():
        expected = start - past if unit == "host changes" else start
        assert froms[metric] == {int(expected.timestamp() * 1000)}, metric
