"""The hosts method: its sentences name the right host and numbers, its diagnostics hold each
host's own numbers and are built only when read, and thresholds read the canary's statistic.

Every expected number here comes from the frame itself (a hand calculation or pandas), not from
the statistics core.
"""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import levels_frame

from canarystats.config import load_config
from canarystats.judgment import judge
from canarystats.methods.diagnostics import LazyDiagnostics
from canarystats.testing.fleet import config_dict, make_fleet, tidy_frame


@pytest.fixture(scope="module")
def fleet_run() -> tuple[Any, pd.DataFrame]:
    # Gaps in host series, counters with ties, one canary host fewer than the baseline, and a
    # metric without canary data: per-host rows of different lengths and empty rows.
    fl = make_fleet(60, hosts=4, points=20, seed=5, canary_hosts=3)
    frame = tidy_frame(fl)
    frame = frame[~((frame["metric"] == "m000007") & (frame["cohort"] == "canary"))]
    cfg = config_dict(fl)
    for i, m in enumerate(cfg["metrics"]):
        if i % 5 == 0:
            m["threshold"] = {"statistic": ("mean", "p95", "max", "sum")[i % 4], "max": 50.0}
    return load_config(cfg), frame


def test_diagnostics_are_built_when_read_and_match_each_hosts_mean(
    fleet_run: tuple[Any, pd.DataFrame],
) -> None:
    config, frame = fleet_run
    j = judge(config, frame)
    m = j.metrics[0]  # a latency: no quiet buckets filled, so a host's location is its median
    d = m.diagnostics
    assert isinstance(d, LazyDiagnostics)
    assert d._data is None  # nothing built until read
    expected = frame[frame["metric"] == m.name].groupby(["cohort", "host"])["value"].median()
    hosts = d["hosts"]
    assert len(hosts) == d["n_canary_hosts"] + d["n_baseline_hosts"] == 7
    for h in hosts:
        assert h["location"] == pytest.approx(expected[(h["cohort"], h["host"])], rel=1e-12)
        assert type(h["n_points"]) is int and h["n_points"] > 0
    # a plain dict once pickled (a Dask result, a saved judgment), equal to what was read
    again = pickle.loads(pickle.dumps(d))
    assert type(again) is dict and again == dict(d) and repr(again) == repr(d)


def test_a_threshold_compares_the_canary_statistic_it_names(
    fleet_run: tuple[Any, pd.DataFrame],
) -> None:
    config, frame = fleet_run
    j = judge(config, frame)
    checked = 0
    for m, result in zip(config.metrics, j.metrics, strict=True):
        if m.threshold is None or m.kind == "count":  # counts judge quiet buckets as zeros
            assert m.threshold is not None or result.threshold_value is None
            continue
        values = frame[(frame["metric"] == m.name) & (frame["cohort"] == "canary")]["value"]
        values = values.dropna().to_numpy()
        expected = (
            {
                "mean": np.mean,
                "max": np.max,
                "sum": np.sum,
                "p95": lambda v: np.percentile(v, 95),
            }[m.threshold.statistic](values)
            if len(values)
            else math.nan
        )
        if math.isnan(expected):
            assert result.threshold_value is None or math.isnan(result.threshold_value)
        else:
            assert result.threshold_value == pytest.approx(expected, rel=1e-9)
        checked += 1
    assert checked >= 6


BASELINE = {
    "b1": ("baseline", 10.0),
    "b2": ("baseline", 10.2),
    "b3": ("baseline", 9.8),
    "b4": ("baseline", 10.1),
    "b5": ("baseline", 9.9),
}


@pytest.mark.parametrize(
    ("direction", "canary", "expected"),
    [
        # Mean 10 and sample sd sqrt(0.1 / 4) = 0.158 of the baseline hosts' levels; the host
        # named is the one furthest in the direction of the change.
        (
            "increase",
            {"c1": 13.0, "c2": 14.0, "c3": 12.0},
            "Canary host c2 (of 3) averages 14 ms against baseline hosts 10±0.158 ms (+30%",
        ),
        (
            "decrease",
            {"c1": 7.0, "c2": 6.0, "c3": 8.0},
            "Canary host c2 (of 3) averages 6 ms against baseline hosts 10±0.158 ms (-30%",
        ),
        (
            "either",
            {"c1": 12.5},
            "Canary host c1 averages 12.5 ms against baseline hosts 10±0.158 ms (+25%",
        ),
    ],
)
def test_reason_names_the_host_furthest_in_the_direction_of_the_change(
    direction: str, canary: dict[str, float], expected: str
) -> None:
    cfg = load_config(
        {
            "name": "web",
            "metrics": [{"name": "latency", "query": "q", "unit": "ms", "direction": direction}],
        }
    )
    levels = {**{h: ("canary", v) for h, v in canary.items()}, **BASELINE}
    result = judge(cfg, levels_frame(levels)).metric("latency")
    assert result.classification == ("Low" if direction == "decrease" else "High")
    assert result.reason.startswith(expected), result.reason


@pytest.mark.parametrize("canary_errors", [0.0, 1.0])
def test_a_count_with_no_event_on_either_side_says_so(canary_errors: float) -> None:
    cfg = load_config(
        {
            "name": "web",
            "metrics": [{"name": "errors", "query": "q", "kind": "count", "direction": "increase"}],
        }
    )
    levels = {**{h: ("canary", canary_errors) for h in ("c1", "c2")}, **BASELINE}
    zero_baseline = {h: (cohort, 0.0) for h, (cohort, _) in BASELINE.items()}
    result = judge(cfg, levels_frame({**levels, **zero_baseline}, metric="errors"))
    reason = result.metric("errors").reason
    # A reason about a change below the minimum effect would be about events that never came.
    assert ("no event on either side, so it passes" in reason) == (canary_errors == 0.0), reason
