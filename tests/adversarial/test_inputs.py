"""Bad input that once ended in an internal error, or was quietly accepted: one line, exit 2.

The fuzz tests (``test_fuzz.py``) search for more; these are the known cases, kept as plain
reproducers so a regression names itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT

from canarystats.cli import main

WEB = str(ROOT / "examples" / "web.yaml")
HEALTHY = str(ROOT / "fixtures" / "healthy-deploy.csv")


def _one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "internal error" not in err and "Traceback" not in err
    return lines[0]


def _config(tmp_path: Path, text: str, name: str = "c.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: c\nstep: 1000000000000000000000000000000\nmetrics: [{name: a, query: q}]\n",
            "step",
        ),
        ("name: c\nmetrics:\n  - {name: a, query: q, step: 0}\n", "step"),
        (
            "name: c\nmetrics:\n  - name: a\n    query: q\n    must_have_data: true\n"
            "    must_have_data: false\n",
            "'must_have_data' is given twice",
        ),
        ("name: 'web\u202eevil'\nmetrics: [{name: a, query: q}]\n", "U+202E"),
        ('name: c\nmetrics: [{name: a, query: q, groups: ["x\\ny"]}]\n', "U+000A"),
        ("a: " * 5000 + "b\n", "not valid YAML/JSON"),
        ("[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ],
    ids=["huge-step", "zero-step", "duplicate-key", "rtl-override", "newline", "deep", "deeper"],
)
def test_bad_configs_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    assert main(["--quiet", "validate", _config(tmp_path, text)]) == 2
    assert expected in _one_line(capsys.readouterr().err)


def test_a_duplicate_key_in_json_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = '{"name": "c", "name": "d", "metrics": [{"name": "a", "query": "q"}]}'
    assert main(["--quiet", "validate", _config(tmp_path, text, "c.json")]) == 2
    assert "'name' is given twice" in _one_line(capsys.readouterr().err)


def test_deeply_nested_json_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = '{"a":' * 100_000 + "1" + "}" * 100_000
    assert main(["--quiet", "validate", _config(tmp_path, text, "c.json")]) == 2
    assert "nested too deeply" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("--step=1000000000000", "out of range"),
        ("--start=9999-12-31T23:00:00Z", "out of the range of times"),
        ("--start=0001-01-01T00:00:00Z", "out of the range of times"),
        ("--end=+100000w", "--end"),
    ],
)
def test_bad_flags_are_one_line(
    capsys: pytest.CaptureFixture[str], flag: str, expected: str
) -> None:
    assert main(["--quiet", "judge", WEB, "--data", HEALTHY, flag]) == 2
    assert expected in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(classifier=[1]),
        lambda d: d["metrics"][0].update(analysisConfigurations="x"),
        lambda d: d["metrics"][0]["analysisConfigurations"].update(canary=7),
        lambda d: d["metrics"][0].update(query={"type": "datadog", "customFilterTemplate": [1]}),
        lambda d: d.update(metrics=[3]),
    ],
    ids=["classifier", "configurations", "canary", "template", "metric"],
)
def test_malformed_kayenta_configs_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: object
) -> None:
    data = json.loads((ROOT / "tests" / "data" / "kayenta_canary_config.json").read_text())
    change(data)  # type: ignore[operator]
    assert main(["--quiet", "validate", _config(tmp_path, json.dumps(data), "k.json")]) == 2
    assert "k.json: " in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    "points",
    [
        [1, 2, 3],
        {"points": [], "units": 5},
        {"points": [{"metric": ["a"], "cohort": "canary", "host": "h",
                     "timestamp": "2026-01-01T00:00:00Z", "value": 1}]},
        {"points": [{"metric": "cpu-user", "cohort": {"x": 1}, "host": "h",
                     "timestamp": "2026-01-01T00:00:00Z", "value": 1}]},
        {"points": [{"metric": "cpu-user", "cohort": "canary", "host": "h",
                     "timestamp": "2026-01-01T00:00:00Z", "value": {}}]},
    ],
    ids=["numbers", "units", "list-name", "dict-cohort", "dict-value"],
)  # fmt: skip
def test_malformed_json_points_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], points: object
) -> None:
    data = tmp_path / "run.json"
    data.write_text(json.dumps(points))
    assert main(["--quiet", "judge", WEB, "--data", str(data)]) == 2
    assert str(data) in _one_line(capsys.readouterr().err)


def test_an_empty_monitor_window_is_skipped_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monitors = [
        {
            "id": 1,
            "name": "errors",
            "type": "query alert",
            "query": "sum(last_0m):sum:errors{service:web}.as_count() > 5",
            "options": {"thresholds": {"critical": 5}},
        },
        {
            "id": 2,
            "name": "cpu",
            "type": "query alert",
            "query": "avg(last_5m):avg:system.cpu.user{service:web} > 90",
            "options": {"thresholds": {"critical": 90}},
        },
    ]
    path = tmp_path / "monitors.json"
    path.write_text(json.dumps(monitors))
    assert main(["--quiet", "init", "--from-monitors", str(path)]) == 0
    captured = capsys.readouterr()
    assert "window 'last_0m' of its sum is empty" in _one_line(captured.err)
    assert "name: cpu" in captured.out
