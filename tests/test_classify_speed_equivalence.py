"""Classification computes its numbers for every metric at once; each metric reads the same.

``classify_hosts`` and ``classify_kayenta`` convert the batched evidence to Python numbers once
and only format in their loop over metrics.  These tests pin what that must not change: the
diagnostics, built lazily, hold each host's own numbers; the batched threshold statistics equal
:func:`threshold_statistic`; and the sentences name the host and the baseline spread that a hand
calculation gives.
"""

from __future__ import annotations

import math
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import canarystats.judgment as judgment
from canarystats.classify import (
    Evidence,
    LazyDiagnostics,
    fmt_number,
    host_diagnostics,
    threshold_statistic,
    threshold_statistics,
)
from canarystats.config import MetricConfig, load_config
from canarystats.judgment import judge

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import fleet as fleet_mod  # noqa: E402

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def _evidence(
    monkeypatch: pytest.MonkeyPatch, config: Any, frame: pd.DataFrame
) -> tuple[tuple[MetricConfig, ...], Evidence]:
    """The metrics and evidence ``judge`` hands to ``classify``."""
    seen: list[tuple[Any, Any]] = []
    real = judgment.classify

    def spy(method: str, metrics: Any, evidence: Evidence, settings: Any) -> Any:
        seen.append((tuple(metrics), evidence))
        return real(method, metrics, evidence, settings)

    monkeypatch.setattr(judgment, "classify", spy)
    judge(config, frame)
    ((metrics, evidence),) = seen
    return metrics, evidence


@pytest.fixture(scope="module")
def fleet_run() -> tuple[Any, pd.DataFrame]:
    # Gaps in host series, counters with ties, one canary host fewer than the baseline, and a
    # metric without canary data: per-host rows of different lengths and empty rows.
    fl = fleet_mod.make_fleet(60, hosts=4, points=20, seed=5, canary_hosts=3)
    frame = fleet_mod.tidy_frame(fl)
    frame = frame[~((frame["metric"] == "m000007") & (frame["cohort"] == "canary"))]
    cfg = fleet_mod.config_dict(fl)
    for i, m in enumerate(cfg["metrics"]):
        if i % 5 == 0:
            m["threshold"] = {"statistic": ("mean", "p95", "max", "sum")[i % 4], "max": 50.0}
    return load_config(cfg), frame


def test_diagnostics_are_built_when_read_and_match_each_hosts_mean(
    fleet_run: tuple[Any, pd.DataFrame],
) -> None:
    config, frame = fleet_run
    j = judge(config, frame)
    m = j.metrics[0]  # a latency: no quiet buckets filled, so a host's location is its mean
    d = m.diagnostics
    assert isinstance(d, LazyDiagnostics)
    assert d._data is None  # nothing built until read
    expected = frame[frame["metric"] == m.name].groupby(["cohort", "host"])["value"].mean()
    hosts = d["hosts"]
    assert len(hosts) == d["n_canary_hosts"] + d["n_baseline_hosts"] == 7
    for h in hosts:
        assert h["location"] == pytest.approx(expected[(h["cohort"], h["host"])], rel=1e-12)
        assert type(h["n_points"]) is int and h["n_points"] > 0
    # a plain dict once pickled (a Dask result, a saved judgment), equal to what was read
    again = pickle.loads(pickle.dumps(d))
    assert type(again) is dict and again == dict(d) and repr(again) == repr(d)
    assert host_diagnostics is not None  # the one-row definition stays public


def test_threshold_statistics_are_threshold_statistic_of_every_metric(
    monkeypatch: pytest.MonkeyPatch, fleet_run: tuple[Any, pd.DataFrame]
) -> None:
    metrics, evidence = _evidence(monkeypatch, *fleet_run)
    cs = evidence.canary_stats
    expected = [threshold_statistic(m, cs, i) for i, m in enumerate(metrics)]
    got = threshold_statistics(metrics, cs)
    assert repr(got) == repr(expected)
    assert sum(v is not None for v in got) == 12


def _hosts_frame(levels: dict[str, tuple[str, float]], unit_step: float = 0.0) -> pd.DataFrame:
    # Each host holds its level (plus an optional ramp), so its location is its level.
    return pd.DataFrame(
        [
            {
                "metric": "latency",
                "cohort": cohort,
                "host": host,
                "timestamp": T0 + pd.Timedelta(minutes=t),
                "value": level + unit_step * (t % 2),
            }
            for host, (cohort, level) in levels.items()
            for t in range(10)
        ]
    )


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
    result = judge(cfg, _hosts_frame(levels)).metric("latency")
    assert result.classification == ("Low" if direction == "decrease" else "High")
    assert result.reason.startswith(expected), result.reason


def test_identical_samples_are_found_among_samples_of_other_sizes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only samples of one size are compared value by value; the others still are judged.
    rows = {
        "same": ([1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]),
        "longer": ([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0, 4.0]),
        "also-same": ([5.0, 5.0, 6.0], [6.0, 5.0, 5.0]),
    }
    frame = pd.DataFrame(
        [
            {
                "metric": name,
                "cohort": cohort,
                "host": f"{cohort}-1",
                "timestamp": T0 + pd.Timedelta(minutes=t),
                "value": v,
            }
            for name, (c, b) in rows.items()
            for cohort, values in (("canary", c), ("baseline", b))
            for t, v in enumerate(values)
        ]
    )
    cfg = load_config(
        {
            "name": "web",
            "judge": {"method": "kayenta"},
            "metrics": [{"name": name, "query": "q"} for name in rows],
        }
    )
    j = judge(cfg, frame)
    assert j.metric("same").reason.startswith("Canary and baseline values are identical (4 ")
    assert j.metric("also-same").reason.startswith("Canary and baseline values are identical (3 ")
    assert "identical" not in j.metric("longer").reason


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (None, "n/a"),
        (math.nan, "n/a"),
        (math.inf, "infinity"),
        (-math.inf, "-infinity"),
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-2.5, "-2.5"),
        (0.0001, "0.0001"),
        (0.00012345, "0.000123"),
        (0.00009999, "0.0001"),
        (0.5, "0.5"),
        (0.125, "0.125"),
        (9.995, "9.99"),
        (99.95, "100"),
        (100.0, "100"),
        (123.456, "123"),
        (999999.4, "999999"),
        (1e6, "1e+06"),
        (123456789.0, "1.23e+08"),
        (np.float64(4.25), "4.25"),
        (7, "7"),
    ],
)
def test_fmt_number_by_hand(x: Any, text: str) -> None:
    assert fmt_number(x) == text
