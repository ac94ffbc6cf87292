"""The fake Datadog as of a moving clock: a saved frame served as if it were arriving."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from canarystats import load_config
from canarystats.cli.console import Console
from canarystats.cli.serve_fake_datadog import run
from canarystats.sources import DatadogSource, metric_queries
from canarystats.testing import FakeDatadog
from canarystats.testing.replay import ReplayClock
from canarystats.testing.worlds import make_world, world_config


def test_the_clock_runs_at_its_speed_from_its_start() -> None:
    ticks = iter([100.0, 100.0, 103.5])
    clock = ReplayClock("2026-03-02T10:30:00", speed=120, wall=lambda: next(ticks))
    assert clock.now() == pd.Timestamp("2026-03-02T10:30:00Z")
    assert clock.now() == pd.Timestamp("2026-03-02T10:37:00Z")
    with pytest.raises(ValueError, match="speed"):
        ReplayClock("2026-03-02T10:30:00Z", speed=0)


def test_the_fake_answers_only_points_before_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    frame, start = make_world("iid", seed=2, pre_minutes=10, minutes=20)
    now = [0.0]
    clock = ReplayClock(start + pd.Timedelta(minutes=5), speed=60, wall=lambda: now[0])
    config = load_config(dict(world_config(), scopes={"canary": "c:1", "baseline": "b:1"}))
    with FakeDatadog(frame, scopes={"c:1": "canary", "b:1": "baseline"}, clock=clock) as dd:
        monkeypatch.setenv("DATADOG_HOST", dd.url)
        monkeypatch.setenv("DD_API_KEY", "k")
        monkeypatch.setenv("DD_APP_KEY", "a")
        source = DatadogSource(deadline=20)
        scopes = {"canary": "c:1", "baseline": "b:1"}
        first = start - pd.Timedelta(minutes=10)
        last = start + pd.Timedelta(minutes=20)
        seen = source.fetch(metric_queries(config), scopes, first, last)
        assert seen["timestamp"].max() < start + pd.Timedelta(minutes=5)
        now[0] = 600.0  # ten wall minutes at 60x: all of it has arrived
        seen = source.fetch(metric_queries(config), scopes, first, last)
        assert seen["timestamp"].max() == start + pd.Timedelta(minutes=19)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--speed", "60"], "--speed needs --clock"),
        (["--clock", "yesterday-ish"], "--clock"),
        (["--clock", "2026-03-02T10:30:00Z", "--speed", "-1"], "--speed -1"),
    ],
)
def test_bad_clock_flags_are_one_line_and_exit_2(argv: list[str], message: str) -> None:
    err = io.StringIO()
    assert run(["--port", "0", *argv], Console(io.StringIO(), err)) == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
