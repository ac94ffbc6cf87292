"""``canarystats plan``: planning a canary from recent data of healthy hosts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canarystats.cli import main

ROOT = Path(__file__).resolve().parents[2]
WEB = str(ROOT / "examples" / "web.yaml")
HEALTHY = str(ROOT / "fixtures" / "healthy-deploy.csv")


def test_plan_reports_every_gating_metric_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", WEB, "--data", HEALTHY, "--change", "0.5", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    text = json.dumps(out)
    for metric in ("background-jobs-processed", "request-latency", "cpu-user"):
        assert metric in text


def test_a_larger_change_never_needs_a_longer_canary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", WEB, "--data", HEALTHY, "--change", "0.1"]) == 0
    small = capsys.readouterr().out
    assert main(["plan", WEB, "--data", HEALTHY, "--change", "1.0"]) == 0
    large = capsys.readouterr().out
    # A 100% regression is reachable for some metric where 10% is not.
    assert small.count(": -") > large.count(": -")


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["plan", WEB, "--data", HEALTHY, "--power", "1.5"], "--power"),
        (["plan", WEB, "--data", HEALTHY, "--change", "-1"], "change"),
        (["plan", WEB, "--data", str(ROOT / "absent.csv")], "absent.csv"),
    ],
)
def test_bad_plan_input_is_one_line_and_exit_2(
    argv: list[str], mentions: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--quiet", *argv]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and mentions in err[0]


def test_plan_reads_history_from_start_and_pre_is_the_designs_past(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The fixture runs 16:15 to 16:45: from --start on, nothing before it is read.
    argv = ["plan", WEB, "--data", HEALTHY, "--start", "2026-03-11T16:25:00Z", "--format", "json"]
    assert main([*argv, "--pre", "10m"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data_minutes"] == 20 and out["with_pre_window"]["pre_window_s"] == 600
    # --pre needs no --start here: it is the past the judge will use, not data to read.
    assert main(["plan", WEB, "--data", HEALTHY, "--pre", "5m", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data_minutes"] == 30 and out["with_pre_window"]["pre_window_s"] == 300
    # --pre 0 plans for new instances only: no design with a past of 0 minutes.
    assert main(["plan", WEB, "--data", HEALTHY, "--pre", "0", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["with_pre_window"] is None
    assert main(["plan", WEB, "--data", HEALTHY, "--pre", "0"]) == 0
    text = capsys.readouterr().out
    assert "window levels" in text and "before the deploy" not in text and "own past" not in text
    assert main(["plan", WEB, "--data", HEALTHY, "--pre", "90s"]) == 0
    assert "With each host's own 1.5 minutes before the deploy" in capsys.readouterr().out


def test_a_past_longer_than_the_data_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", WEB, "--data", HEALTHY]) == 0
    out = capsys.readouterr().out
    past = out.split("each host against its own past):")[1]
    assert (
        "request-latency: 1: -, 2: -, 3: -, 4: -  (the plan's data (30 minutes) holds no " in past
    )
    assert "window after each host's past of 30 minutes; give more data)" in past
    assert "nan%" not in out
    # No metric reaches the change in either design: said once per design, nothing "for the
    # others".
    assert out.count("  no metric is reachable with up to 4 canary hosts in 30 minutes") == 2
    assert "for the others" not in out and "canary host: not reachable" not in out


def test_a_plan_from_datadog_is_the_plan_from_the_baseline_it_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before a canary runs, plan asks Datadog for the baseline's hosts only; the plan must be
    # the one made from the same hosts' rows saved to a file.
    import pandas as pd

    from canarystats.config import load_config
    from canarystats.testing import FakeDatadog
    from canarystats.testing.config_frame import frame_for_config

    frame = pd.read_csv(HEALTHY, parse_dates=["timestamp"])
    saved = tmp_path / "baseline.csv"
    frame[frame["cohort"] == "baseline"].to_csv(saved, index=False)
    window = ["--start", "2026-03-11T16:15:00Z", "--end", "2026-03-11T16:45:00Z"]
    options = [*window, "--change", "0.3", "--format", "json"]
    assert main(["plan", WEB, "--data", str(saved), *options]) == 0
    from_file = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("DD_API_KEY", "key-abc-123")
    monkeypatch.setenv("DD_APP_KEY", "app-abc-456")
    tags = {"role:canary": "canary", "role:baseline": "baseline"}
    with FakeDatadog(frame_for_config(frame, load_config(WEB)), scopes=tags) as dd:
        monkeypatch.setenv("DATADOG_HOST", dd.url)
        assert main(["plan", WEB, *options]) == 0
        asked = [q for r in dd.received if "query" in r.path for q in r.queries]
    from_datadog = json.loads(capsys.readouterr().out)
    assert from_datadog == from_file
    assert from_file["baseline_hosts"] == frame.loc[frame["cohort"] == "baseline", "host"].nunique()
    assert len(from_file["metrics"]) == 7 and from_file["data_minutes"] == 30
    assert asked and all("role:canary" not in q for q in asked)
