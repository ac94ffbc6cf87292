"""``--start`` and ``--pre`` against the fake Datadog server: the canary start, the pre-deploy
window fetched in the same request, and each host judged against its own past.

The fleet: one canary and five baseline hosts whose levels differ by ~20% (persistent host
offsets), 30 minutes on the old version, then 20 minutes with the canary 25% slower.  Against the
spread of the baseline hosts' levels that is within noise; against the canary's own past it is
plain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import series_frame

from canarystats.cli import main

CONFIG = """\
name: app
scopes: {canary: "role:canary", baseline: "role:baseline"}
metrics:
  - name: latency
    query: "avg:app.latency{$scope} by {host}"
    direction: increase
    unit: ms
"""


def _fleet(start: pd.Timestamp, slower: float) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    levels = {"c1": 100.0, "b1": 130.0, "b2": 80.0, "b3": 110.0, "b4": 95.0, "b5": 120.0}
    series = {}
    for host, level in levels.items():
        cohort = "canary" if host.startswith("c") else "baseline"
        values = level * np.exp(rng.normal(0, 0.02, 50))
        if cohort == "canary":
            values[30:] *= slower
        series[(cohort, host)] = values
    return series_frame({"latency": series}, start=start)


@pytest.fixture
def datadog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    from canarystats.testing import FakeDatadog

    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(hours=1)
    first = end - pd.Timedelta(minutes=50)
    frame = _fleet(first, 1.25)
    config = tmp_path / "app.yaml"
    config.write_text(CONFIG)
    scopes = {"role:canary": "canary", "role:baseline": "baseline"}
    with FakeDatadog(frame, scopes=scopes, metrics={"app.latency": "latency"}) as dd:
        monkeypatch.setenv("DATADOG_HOST", dd.url)
        monkeypatch.setenv("DD_API_KEY", "key-abc-123")
        monkeypatch.setenv("DD_APP_KEY", "app-abc-456")
        yield {
            "config": str(config),
            "start": (first + pd.Timedelta(minutes=30)).isoformat(),
            "end": end.isoformat(),
            "first": first.isoformat(),
        }


def test_with_a_pre_window_each_host_is_judged_against_its_own_past(
    datadog: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["judge", datadog["config"], "--start", datadog["start"], "--end", datadog["end"]]
    assert main([*argv, "--pre", "30m", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    latency = document["metrics"][0]
    assert latency["classification"] == "High" and latency["units"] == "host changes"
    assert latency["diagnostics"]["pre_window_s"] == 1800
    assert "from its own 30 min before the deploy" in latency["reason"]
    assert document["canary_start"] == pd.Timestamp(datadog["start"]).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_without_a_pre_window_the_window_levels_are_judged(
    datadog: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["judge", datadog["config"], "--start", datadog["start"], "--end", datadog["end"]]
    main([*argv, "--pre", "0", "--format", "json"])
    latency = json.loads(capsys.readouterr().out)["metrics"][0]
    # the canary's 25% sits within the baseline hosts' ~20% spread of levels
    assert latency["units"] == "hosts" and latency["classification"] == "Pass"


def test_fetch_saves_both_periods_and_judges_them_offline_the_same(
    tmp_path: Path, datadog: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "run.csv"
    window = ["--start", datadog["start"], "--end", datadog["end"], "--pre", "30m"]
    assert main(["fetch", datadog["config"], *window, "--output", str(saved)]) == 0
    frame = pd.read_csv(saved, parse_dates=["timestamp"])
    assert frame["timestamp"].min() == pd.Timestamp(datadog["first"])
    assert main(["judge", datadog["config"], *window, "--format", "json"]) == 1
    live = json.loads(capsys.readouterr().out)
    offline = ["judge", datadog["config"], "--data", str(saved), *window[:2], "--pre", "30m"]
    assert main([*offline, "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == live


def test_pre_without_a_start_is_a_usage_error(
    datadog: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["judge", datadog["config"], "--lookback", "10m", "--pre", "30m"]) == 2
    assert "--pre needs --start" in capsys.readouterr().err
