"""Reports beside a sequential judgment: the HTML section with its path plots, the JUnit
decision line, and the one-shot judge's line on what the plan would have decided.

The canaries are the simulated worlds of :mod:`canarystats.testing.worlds`: one whose latency
is 50% slower from the start (the plan fails it on latency) and a healthy one (the plan passes
it early).  The expected sentences are written out here from the plan (a look every 5 minutes
to 30) and the decision's look, not rebuilt with the code under test.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from canarystats import load_config
from canarystats.cli import main
from canarystats.config.sequential import SequentialPlan
from canarystats.report import render
from canarystats.report.sequential_html import MAX_PATH_PLOTS
from canarystats.report.sequential_text import path_line, would_have_line
from canarystats.sequential import SequentialJudgment, judge_sequential
from canarystats.sequential.decide import Decision, MetricPath
from canarystats.testing.worlds import make_world, world_config

PLAN = "A sequential plan (look every 5 min to 30 min) would"


def _world(**kwargs: Any) -> tuple[pd.DataFrame, pd.Timestamp, SequentialJudgment]:
    frame, start = make_world("both", seed=5, **kwargs)
    result, _ = judge_sequential(load_config(world_config()), frame, start=start)
    return frame, start, result


@pytest.fixture(scope="module")
def slower() -> tuple[pd.DataFrame, pd.Timestamp, SequentialJudgment]:
    frame, start, result = _world(latency_factor=1.5)
    # The world the tests below are about: the plan stops on latency alone, before the horizon.
    assert result.decision.failed == ("latency",) and result.decision.at < 1800
    return frame, start, result


@pytest.fixture(scope="module")
def healthy() -> tuple[pd.DataFrame, pd.Timestamp, SequentialJudgment]:
    frame, start, result = _world()
    assert result.verdict == "pass" and result.decision.early and not result.decision.failed
    return frame, start, result


class _Paths(HTMLParser):
    """The sequential block of an HTML report: its text, its path figures and their SVGs."""

    def __init__(self) -> None:
        super().__init__()
        self.position: int | None = None  # line of the block's start
        self.first_table: int | None = None
        self.depth = 0  # inside the block: element depth (0 outside)
        self.text: list[str] = []
        self.figures: list[str] = []
        self.svgs: dict[str, int] = {}
        self.svg_text: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and self.first_table is None:
            self.first_table = self.getpos()[0]
        if a.get("id") == "sequential":
            self.position = self.getpos()[0]
            self.depth = 1
            return
        if self.depth:
            self.depth += 1
            if tag == "figure":
                self.figures.append(str(a.get("data-path")))
                self.svgs[self.figures[-1]] = 0
                self.svg_text[self.figures[-1]] = []
            if tag == "svg" and self.figures:
                self.svgs[self.figures[-1]] += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)
            if self.figures:
                self.svg_text[self.figures[-1]].append(data)


def _html(frame: pd.DataFrame, seq: SequentialJudgment) -> _Paths:
    assert seq.judgment is not None
    config = load_config(world_config())
    page = render(seq.judgment, "html", frame=frame, config=config, sequential=seq)
    parsed = _Paths()
    parsed.feed(page)
    return parsed


def test_html_puts_the_decision_above_the_table_with_one_plot_per_failed_metric(slower) -> None:
    pytest.importorskip("matplotlib")
    frame, _, seq = slower
    d = seq.decision
    parsed = _html(frame, seq)
    assert parsed.position is not None and parsed.first_table is not None
    assert parsed.position < parsed.first_table
    text = " ".join(parsed.text)
    assert f"Failed at minute {d.at // 60} of 30 on latency." in text
    assert parsed.figures == ["latency"]
    assert parsed.svgs == {"latency": 1}
    # The deciding look is marked, and the x axis is in minutes.
    svg_text = " ".join(parsed.svg_text["latency"])
    assert f"look {d.look}" in svg_text and "minute" in svg_text


def test_html_plots_every_gauge_when_no_metric_failed(healthy) -> None:
    pytest.importorskip("matplotlib")
    frame, _, seq = healthy
    parsed = _html(frame, seq)
    assert f"Passed early at minute {seq.decision.at // 60} of 30" in " ".join(parsed.text)
    # latency and cpu are the world's gauges; requests and errors are counts.
    assert parsed.figures == ["latency", "cpu"]
    assert parsed.svgs == {"latency": 1, "cpu": 1}


def test_html_says_under_the_decision_what_held_an_early_pass_back() -> None:
    # Rare errors: judged at the horizon; the decision is the heading, what held it back a
    # paragraph of its own under it, and a canary that passed early has no such paragraph.
    frame, _, seq = _world(error_rate=0.002, requests_per_minute=300.0)
    assert seq.verdict == "pass" and not seq.decision.early
    assert seq.judgment is not None
    page = render(seq.judgment, "html", frame=frame, sequential=seq)
    heading = page.index('<h2 class="reason">Sequential: Judged at the horizon (30 min)')
    held = page.index('<p class="held-back">It did not pass early: by the last look')
    assert heading < held and "errors has too few events" in page[held:]
    quick, _, early = _world()
    assert early.judgment is not None and early.decision.early
    assert 'class="held-back"' not in render(early.judgment, "html", frame=quick, sequential=early)


def test_html_draws_at_most_eight_path_plots(healthy) -> None:
    pytest.importorskip("matplotlib")
    frame, _, seq = healthy
    gauge = seq.decision.paths["latency"]
    many = {f"g{i:02d}": replace(gauge, name=f"g{i:02d}") for i in range(MAX_PATH_PLOTS + 3)}
    crowded = replace(seq, decision=replace(seq.decision, paths=many))
    parsed = _html(frame, crowded)
    assert MAX_PATH_PLOTS == 8
    assert parsed.figures == [f"g{i:02d}" for i in range(8)]


def test_a_count_path_is_drawn_against_alpha_without_a_boundary() -> None:
    pytest.importorskip("matplotlib")
    from canarystats.report.sequential_plot import plot_path

    count = MetricPath(
        "errors", ["count", "count"], [0.4, 0.01], [0.4, 0.01], [0.8, 0.02],
        [float("nan")] * 2, [0.9, 0.9], ["open", "failed"],
    )  # fmt: skip
    ax = plot_path(count, (300, 600, 900, 1200, 1500, 1800), alpha=0.05, decided=2)
    assert [line.get_label() for line in ax.get_lines()] == [
        "p at the look", "adjusted", "alpha", "look 2",
    ]  # fmt: skip
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "minute"
    assert list(ax.get_lines()[0].get_xdata()) == [5.0, 10.0]
    assert ax.get_xlim()[1] >= 30


def test_a_path_names_the_minute_of_each_look_where_the_horizon_is_off_the_grid() -> None:
    # Looks every 5 minutes to a horizon of 32: the last look is at minute 32, not 35.
    times = SequentialPlan(horizon=1920, look_every=300).look_times()
    assert times[-2:] == (1800, 1920)
    n = len(times)
    gauge = MetricPath(
        "latency", ["gauge"] * n, [0.5] * (n - 2) + [0.001, 0.0005], [0.5] * n, [0.5] * (n - 2)
        + [0.01, 0.004], [0.01] * n, [0.9] * n, ["open"] * (n - 2) + ["crossed", "failed"],
    )  # fmt: skip
    line = path_line(gauge, times)
    assert "repeated p after the multiplicity adjustment 0.004 at minute 32;" in line
    assert line.endswith("it crossed at minute 30 and failed at the next look that still showed it")
    pytest.importorskip("matplotlib")
    from canarystats.report.sequential_plot import plot_path

    ax = plot_path(gauge, times, alpha=0.05, decided=n)
    assert list(ax.get_lines()[0].get_xdata())[-2:] == [30.0, 32.0]
    decided = [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_label() == f"look {n}"]
    assert decided == [32.0] and ax.get_xlim()[1] >= 32


def test_junit_carries_the_decision_and_the_failed_metrics_path(slower) -> None:
    frame, _, seq = slower
    assert seq.judgment is not None
    config = load_config(world_config())
    root = ET.fromstring(
        render(seq.judgment, "junit", frame=frame, config=config, sequential=seq).encode()
    )
    suite = root.find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["sequential"] == f"Failed at minute {seq.decision.at // 60} of 30 on latency."
    outs = [el.text or "" for el in suite.findall("system-out")]
    assert len(outs) == 1 and "Failed at minute" in outs[0]
    failures = {
        case.get("name"): case.find("failure")
        for case in suite.findall("testcase")
        if case.find("failure") is not None
    }
    assert list(failures) == ["latency"]
    message = failures["latency"].get("message", "")  # type: ignore[union-attr]
    assert message.endswith(path_line(seq.decision.paths["latency"], seq.plan.look_times()))
    assert "latency: p at each look" in message


def test_junit_without_a_sequential_judgment_has_no_such_line(slower) -> None:
    frame, _, seq = slower
    assert seq.judgment is not None
    page = render(seq.judgment, "junit", frame=frame)
    assert 'name="sequential"' not in page and "p at each look" not in page


def test_would_have_line_says_what_the_plan_would_have_done_in_each_case() -> None:
    from canarystats.config.sequential import SequentialPlan

    def line(verdict: str, look: int, early: bool = False, failed: tuple[str, ...] = ()) -> str:
        d = Decision(verdict, look, look * 300, early, failed, "", {}, None)
        return would_have_line(SequentialJudgment(SequentialPlan(), "2026-01-01T00:00:00Z", d, 1))

    assert line("pass", 2, early=True) == f"{PLAN} have passed early at minute 10."
    assert line("pass", 6) == f"{PLAN} have passed at minute 30."
    assert line("undecided", 3) == f"{PLAN} still be undecided at minute 15."
    assert line("undecided", 0) == f"{PLAN} not have looked yet: its first look is at minute 5."
    assert line("fail", 2, failed=("latency", "errors")) == (
        f"{PLAN} have failed at minute 10 of 30 on latency, errors."
    )


# The one-shot judge, in-process, on a saved frame.


def _save(tmp_path: Path, frame: pd.DataFrame) -> dict[str, str]:
    data = tmp_path / "frame.csv"
    frame.to_csv(data, index=False)
    config = world_config()
    plain = copy.deepcopy(config)
    del plain["sequential"]
    paths = {"data": str(data)}
    for name, doc in (("sequential", config), ("plain", plain)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(doc))
        paths[name] = str(path)
    return paths


def _judge(files: dict[str, str], which: str, start: pd.Timestamp | None, *extra: str) -> int:
    argv = ["judge", files[which], "--data", files["data"], *extra]
    if start is not None:
        argv += ["--start", start.isoformat()]
    return main(argv)


@pytest.mark.parametrize(
    ("world", "expected_code"), [({"latency_factor": 1.5}, 1), ({}, 0)], ids=["slower", "healthy"]
)
def test_one_shot_judge_adds_the_would_have_line_and_keeps_its_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], world: dict[str, float], expected_code: int
) -> None:
    frame, start = make_world("both", seed=5, **world)
    files = _save(tmp_path, frame)
    plain_code = _judge(files, "plain", start)
    plain = capsys.readouterr().out
    code = _judge(files, "sequential", start)
    out = capsys.readouterr().out
    assert plain_code == code == expected_code
    assert PLAN not in plain
    lines = [x for x in out.splitlines() if x.startswith(PLAN)]
    if expected_code:
        assert len(lines) == 1 and lines[0].startswith(f"{PLAN} have failed at minute ")
        assert " of 30 on latency" in lines[0]
    else:
        assert len(lines) == 1 and lines[0].startswith(f"{PLAN} have passed early at minute ")
    # Apart from that line, the report is the plain judge's.
    assert [x for x in out.splitlines() if not x.startswith(PLAN)] == plain.splitlines()


def test_one_shot_judge_says_undecided_when_the_data_stops_before_the_horizon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 12 minutes of canary data: looks at minutes 5 and 10 are due, the horizon is 30.
    frame, start = make_world("both", seed=5, minutes=12)
    files = _save(tmp_path, frame)
    code = _judge(files, "sequential", start, "--format", "markdown")
    out = capsys.readouterr().out
    assert f"{PLAN} still be undecided at minute 10." in out.splitlines()
    assert code == _judge(files, "plain", start)


def test_one_shot_judge_without_a_start_has_no_preview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame, _ = make_world("both", seed=5, latency_factor=1.5)
    files = _save(tmp_path, frame)
    _judge(files, "sequential", None)
    assert PLAN not in capsys.readouterr().out


def test_one_shot_json_has_a_sequential_preview_valid_against_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    frame, start = make_world("both", seed=5, latency_factor=1.5)
    files = _save(tmp_path, frame)
    _judge(files, "plain", start, "--format", "json")
    plain = json.loads(capsys.readouterr().out)
    _judge(files, "sequential", start, "--format", "json")
    document = json.loads(capsys.readouterr().out)
    schema = json.loads(
        resources.files("canarystats").joinpath("schemas/judgment.schema.json").read_text()
    )
    jsonschema.Draft202012Validator(schema).validate(document)
    preview = document.pop("sequential_preview")
    assert preview["sentence"].startswith(f"{PLAN} have failed at minute ")
    assert preview["decision"]["failed"] == ["latency"]
    assert "sequential" not in document  # the one-shot judgment is not a sequential one
    assert document["verdict"] == plain["verdict"] and document["score"] == plain["score"]
    # A preview that breaks its schema entry is refused.
    document["sequential_preview"] = {"sentence": preview["sentence"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(document)


def test_html_of_a_one_shot_judgment_shows_the_preview_line_and_no_section(slower) -> None:
    pytest.importorskip("matplotlib")
    frame, _, seq = slower
    assert seq.judgment is not None
    page = render(seq.judgment, "html", frame=frame, sequential_preview=seq)
    assert f"{PLAN} have failed at minute {seq.decision.at // 60} of 30 on latency" in page
    assert 'id="sequential"' not in page and 'class="path"' not in page
