"""``canarystats validate``: a config checked, and its queries rendered as they would be sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from canarystats.cli import main

ROOT = Path(__file__).resolve().parents[2]
WEB = str(ROOT / "examples" / "web.yaml")


def test_validate_says_what_the_config_holds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", WEB]) == 0
    assert capsys.readouterr().out == (
        f"{WEB}: valid config 'web': 7 metrics, groups background-jobs, capacity, errors, "
        "latency, method hosts\n"
    )


def test_validate_renders_each_cohorts_query(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["validate", WEB, "--render", "--canary", "version:v2", "--baseline", "version:v1"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    rendered = [line.split("\t") for line in lines[1:]]
    assert len(rendered) == 14
    assert rendered[0] == [
        "background-jobs-failed",
        "canary",
        "sum:sidekiq.jobs.failure{service:web,version:v2} by {host}.as_count()",
    ]
    assert rendered[1][2] == "sum:sidekiq.jobs.failure{service:web,version:v1} by {host}.as_count()"


def test_an_empty_scope_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", WEB, "--render", "--baseline", " "]) == 2
    err = capsys.readouterr().err
    assert (
        err == "canarystats: error: --baseline is empty; give Datadog tags such as role:baseline\n"
    )


def test_validate_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: web\nmetrics:\n  - {name: a, query: q, direction: sideways}\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "metrics[0].direction" in err and len(err.strip().splitlines()) == 1


def test_a_missing_config_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "absent.yaml"]) == 2
    assert capsys.readouterr().err == (
        "canarystats: error: absent.yaml: config file not found; check the path\n"
    )


def test_validate_warns_about_metrics_that_look_like_undeclared_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "name: c\nmetrics:\n"
        "  - {name: web.errors, query: 'avg:web.errors{$scope} by {host}'}\n"
        "  - {name: jobs.failed, query: 'avg:jobs.failed{$scope} by {host}', kind: count}\n"
        "  - {name: cpu, query: 'avg:system.cpu.user{$scope} by {host}'}\n"
    )
    assert main(["validate", str(config)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "'web.errors' looks like a count" in err[0]


def test_validate_warns_that_a_muted_critical_metric_will_not_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: c\nmetrics:\n"
        "  - {name: errs, query: q, critical: true, muted: true}\n"
        "  - {name: cpu, query: q}\n"
    )
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "'errs' is critical and muted" in err[0] and "will not stop a deploy" in err[0]
    path.write_text("name: c\nmetrics:\n  - {name: cpu, query: q, muted: true}\n")
    assert main(["validate", str(path)]) == 0
    assert "every run will have no verdict" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("settings", "warning"),
    [
        ("judge: {warmup: 5}\n", "judge.warmup is 5 s; a duration without a unit is seconds"),
        ("judge: {pre_window: 30}\n", "judge.pre_window is 30 s;"),
        ("", "metric 'lat' warmup is 10 s; a duration without a unit is seconds: write 10m"),
        ("", "metric 'cpu' min_effect.relative is 8 (800%); it is a share: write 0.08 for 8%"),
    ],
)
def test_validate_warns_about_a_setting_written_without_its_unit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: str, warning: str
) -> None:
    path = tmp_path / "c.yaml"
    metrics = (
        "metrics:\n"
        "  - {name: lat, query: q, warmup: 10}\n"
        "  - {name: cpu, query: q, min_effect: {relative: 8}}\n"
    )
    path.write_text(f"name: c\n{settings}{metrics}")
    assert main(["validate", str(path)]) == 0
    assert any(warning in line for line in capsys.readouterr().err.splitlines())
    # The same settings with their units (and a share) warn about nothing.
    path.write_text(
        "name: c\njudge: {warmup: 5m, pre_window: 30m}\nmetrics:\n"
        "  - {name: lat, query: q, warmup: 10m}\n"
        "  - {name: cpu, query: q, min_effect: {relative: 0.08}}\n"
    )
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["judge", "{config}", "--data", "fixtures/healthy-deploy.csv"],
        ["plan", "{config}", "--data", "fixtures/healthy-deploy.csv"],
        [
            "backtest",
            "{config}",
            "fixtures/history/deploys.csv",
            "--data",
            "fixtures/history/history.csv",
        ],
    ],
)
def test_commands_that_judge_print_the_config_warnings_and_judge_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    source = "examples/web-backtest.yaml" if argv[0] == "backtest" else "examples/web.yaml"
    text = Path(source).read_text()
    assert "warmup" not in text
    plain, unitless = tmp_path / "plain.yaml", tmp_path / "unitless.yaml"
    plain.write_text(text)
    # Five seconds of warm-up, where five minutes were meant: it judges, with a warning first.
    changed = text.replace("\njudge:\n", "\njudge:\n  warmup: 5\n").replace(
        "\njudge: {", "\njudge: {warmup: 5, "
    )
    assert changed != text
    unitless.write_text(changed)
    codes, outs, errs = [], [], []
    for path in (plain, unitless):
        codes.append(main([a.replace("{config}", str(path)) for a in argv]))
        captured = capsys.readouterr()
        outs.append(captured.out.replace(str(path), "CONFIG"))
        errs.append([line for line in captured.err.splitlines() if "warning" in line])
    assert errs[0] == []
    assert errs[1] == [
        f"canarystats: {unitless}: warning: judge.warmup is 5 s; a duration without a unit is "
        "seconds: write 5m for minutes"
    ]
    assert codes[0] == codes[1]
