"""The synthetic fleet generator keeps the promises its docstring makes.

Deterministic by seed, log-normal latencies, Poisson counters with ties, rounded gauges, NaN gaps,
a regressed canary on every tenth metric: each is checked against the parameters written in
``canarystats.testing.fleet``'s docstring, not against its output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import canarystats
from canarystats.testing.fleet import (
    CHUNK,
    GAP_MAX,
    GAP_SHARE,
    Fleet,
    config_dict,
    make_fleet,
    tidy_frame,
)

LATENCY, COUNTER, GAUGE = 0, 1, 2


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    # 300 metrics x 5 hosts x 100 points: enough points for the distribution checks below.
    return make_fleet(300, hosts=5, points=100, seed=11)


def test_same_seed_same_fleet_other_seed_other_fleet() -> None:
    a = make_fleet(40, 3, 20, seed=4)
    b = make_fleet(40, 3, 20, seed=4)
    c = make_fleet(40, 3, 20, seed=5)
    assert np.array_equal(a.canary, b.canary, equal_nan=True)
    assert np.array_equal(a.baseline, b.baseline, equal_nan=True)
    assert not np.array_equal(a.canary, c.canary, equal_nan=True)


def test_fleets_spanning_several_chunks_are_deterministic_too() -> None:
    m = CHUNK + 7
    a = make_fleet(m, 1, 3, seed=2)
    b = make_fleet(m, 1, 3, seed=2)
    assert a.canary.shape == (m, 1, 3)
    assert np.array_equal(a.baseline, b.baseline, equal_nan=True)
    # The second chunk is not a copy of the first.
    assert not np.array_equal(a.baseline[:7], a.baseline[CHUNK:], equal_nan=True)


def test_kinds_cycle_and_every_tenth_metric_is_shifted(fleet: Fleet) -> None:
    assert fleet.kinds[:6].tolist() == [0, 1, 2, 0, 1, 2]
    assert np.flatnonzero(fleet.shifted)[:3].tolist() == [9, 19, 29]


def test_counters_are_non_negative_integers_with_many_ties(fleet: Fleet) -> None:
    rows = fleet.canary[fleet.kinds == COUNTER]
    values = rows[~np.isnan(rows)]
    assert np.all(values >= 0) and np.all(values == np.round(values))
    # 500 Poisson draws per metric at rates of at most ~60 take at most ~100 distinct values.
    pooled = rows.reshape(len(rows), -1)
    distinct = [len(np.unique(r[~np.isnan(r)])) for r in pooled]
    assert max(distinct) < 0.3 * pooled.shape[1]


def test_counters_within_a_host_are_poisson(fleet: Fleet) -> None:
    rows = fleet.baseline[fleet.kinds == COUNTER]
    mean = np.nanmean(rows, axis=2)
    var = np.nanvar(rows, axis=2, ddof=1)
    # Poisson: variance equals the mean; the dispersion averages close to 1.
    assert np.nanmean(var / mean) == pytest.approx(1.0, abs=0.1)


def test_latency_is_log_normal_with_sigma_0_4(fleet: Fleet) -> None:
    rows = fleet.baseline[fleet.kinds == LATENCY]
    assert np.nanmin(rows) > 0
    logs = np.log(rows)
    sd = np.nanstd(logs, axis=2, ddof=1)
    assert np.nanmedian(sd) == pytest.approx(0.4, abs=0.03)
    # log of a log-normal is symmetric: mean and median of the logs agree within a host.
    gap = np.nanmean(logs, axis=2) - np.nanmedian(logs, axis=2)
    assert abs(float(np.nanmean(gap))) < 0.02


def test_gauges_are_rounded_to_a_tenth_and_have_ties(fleet: Fleet) -> None:
    rows = fleet.canary[fleet.kinds == GAUGE]
    values = rows[~np.isnan(rows)]
    assert np.allclose(values * 10, np.round(values * 10))
    assert len(np.unique(values)) < len(values)


def test_hosts_differ_from_each_other(fleet: Fleet) -> None:
    # Per-host means of a counter spread by about 15% (host rates), far more than the noise of a
    # 100-point mean of a Poisson count would give alone.
    rows = fleet.baseline[(fleet.kinds == COUNTER) & ~fleet.shifted]
    host_means = np.nanmean(rows, axis=2)
    rel_sd = np.nanstd(host_means, axis=1, ddof=1) / np.nanmean(host_means, axis=1)
    assert 0.08 < float(np.median(rel_sd)) < 0.25


def test_nan_gaps_have_the_promised_share_and_runs(fleet: Fleet) -> None:
    t = fleet.canary.shape[2]
    # Expected share: scattered nulls (1%) plus one gap in 1/8 of the series, of mean length
    # (1 + GAP_MAX) / 2 = 4.5 buckets, i.e. 0.125 * 4.5 / 100 = 0.5625%, less their overlap.
    gaps = GAP_SHARE * (1 + GAP_MAX) / 2 / t
    expected = 1 - (1 - 0.01) * (1 - gaps)
    share = float(np.isnan(fleet.canary).mean())
    assert share == pytest.approx(expected, rel=0.15)
    # Contiguous outages: runs of at least 3 missing points exist (scattered 1% nulls alone
    # would almost never make one).
    missing = np.isnan(fleet.canary).reshape(-1, t).astype(int)
    runs = missing[:, :-2] & missing[:, 1:-1] & missing[:, 2:]
    assert runs.any(axis=1).mean() > 0.03


def test_the_shifted_canaries_are_higher_by_the_promised_factor(fleet: Fleet) -> None:
    c, b = fleet.pooled()
    ratio = np.nanmean(c, axis=1) / np.nanmean(b, axis=1)
    for kind, factor in ((LATENCY, 1.10), (COUNTER, 1.30), (GAUGE, 1.10)):
        shifted = (fleet.kinds == kind) & fleet.shifted
        steady = (fleet.kinds == kind) & ~fleet.shifted
        assert np.median(ratio[shifted]) == pytest.approx(factor, abs=0.05)
        assert np.median(ratio[steady]) == pytest.approx(1.0, abs=0.03)


def test_tidy_frame_holds_every_point_and_the_judge_reads_them(fleet: Fleet) -> None:
    small = make_fleet(6, hosts=2, points=4, seed=1)
    frame = tidy_frame(small)
    assert list(frame.columns) == ["metric", "cohort", "host", "timestamp", "value"]
    assert len(frame) == 2 * 6 * 2 * 4
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    host = frame[(frame.metric == "m000003") & (frame.cohort == "baseline") & (frame.host == "b-2")]
    assert np.array_equal(host["value"].to_numpy(), small.baseline[3, 1], equal_nan=True)
    assert host["timestamp"].iloc[1] - host["timestamp"].iloc[0] == pd.Timedelta(minutes=1)
    config = canarystats.load_config(config_dict(small, "kayenta"))
    judgment = canarystats.judge(config, frame)
    for i, result in enumerate(judgment.metrics):
        assert result.canary.data_points == 8
        assert result.canary.n == int(np.isfinite(small.canary[i]).sum())
