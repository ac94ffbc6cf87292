"""Smoke tests of the benchmarks: the fleet generator keeps its promises, ``run.py --quick`` works.

The generator's promises (deterministic by seed, log-normal latencies, Poisson counters with
ties, rounded gauges, NaN gaps, a regressed canary on every tenth metric) are checked against
the parameters written in ``benchmarks/fleet.py``'s docstring, not against its output.  One
subprocess runs ``python benchmarks/run.py --quick`` as CI does.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import fleet as fleet_mod  # noqa: E402
import run as run_mod  # noqa: E402
import scaling  # noqa: E402

import canarystats  # noqa: E402

LATENCY, COUNTER, GAUGE = 0, 1, 2


@pytest.fixture(scope="module")
def fleet() -> fleet_mod.Fleet:
    # 300 metrics x 5 hosts x 100 points: enough points for the distribution checks below.
    return fleet_mod.make_fleet(300, hosts=5, points=100, seed=11)


def test_same_seed_same_fleet_other_seed_other_fleet() -> None:
    a = fleet_mod.make_fleet(40, 3, 20, seed=4)
    b = fleet_mod.make_fleet(40, 3, 20, seed=4)
    c = fleet_mod.make_fleet(40, 3, 20, seed=5)
    assert np.array_equal(a.canary, b.canary, equal_nan=True)
    assert np.array_equal(a.baseline, b.baseline, equal_nan=True)
    assert not np.array_equal(a.canary, c.canary, equal_nan=True)


def test_fleets_spanning_several_chunks_are_deterministic_too() -> None:
    m = fleet_mod.CHUNK + 7
    a = fleet_mod.make_fleet(m, 1, 3, seed=2)
    b = fleet_mod.make_fleet(m, 1, 3, seed=2)
    assert a.canary.shape == (m, 1, 3)
    assert np.array_equal(a.baseline, b.baseline, equal_nan=True)
    # The second chunk is not a copy of the first.
    assert not np.array_equal(a.baseline[:7], a.baseline[fleet_mod.CHUNK :], equal_nan=True)


def test_kinds_cycle_and_every_tenth_metric_is_shifted(fleet: fleet_mod.Fleet) -> None:
    assert fleet.kinds[:6].tolist() == [0, 1, 2, 0, 1, 2]
    assert np.flatnonzero(fleet.shifted)[:3].tolist() == [9, 19, 29]


def test_counters_are_non_negative_integers_with_many_ties(fleet: fleet_mod.Fleet) -> None:
    rows = fleet.canary[fleet.kinds == COUNTER]
    values = rows[~np.isnan(rows)]
    assert np.all(values >= 0) and np.all(values == np.round(values))
    # 500 Poisson draws per metric at rates of at most ~60 take at most ~100 distinct values.
    pooled = rows.reshape(len(rows), -1)
    distinct = [len(np.unique(r[~np.isnan(r)])) for r in pooled]
    assert max(distinct) < 0.3 * pooled.shape[1]


def test_counters_within_a_host_are_poisson(fleet: fleet_mod.Fleet) -> None:
    rows = fleet.baseline[fleet.kinds == COUNTER]
    mean = np.nanmean(rows, axis=2)
    var = np.nanvar(rows, axis=2, ddof=1)
    # Poisson: variance equals the mean; the dispersion averages close to 1.
    assert np.nanmean(var / mean) == pytest.approx(1.0, abs=0.1)


def test_latency_is_log_normal_with_sigma_0_4(fleet: fleet_mod.Fleet) -> None:
    rows = fleet.baseline[fleet.kinds == LATENCY]
    assert np.nanmin(rows) > 0
    logs = np.log(rows)
    sd = np.nanstd(logs, axis=2, ddof=1)
    assert np.nanmedian(sd) == pytest.approx(0.4, abs=0.03)
    # log of a log-normal is symmetric: mean and median of the logs agree within a host.
    gap = np.nanmean(logs, axis=2) - np.nanmedian(logs, axis=2)
    assert abs(float(np.nanmean(gap))) < 0.02


def test_gauges_are_rounded_to_a_tenth_and_have_ties(fleet: fleet_mod.Fleet) -> None:
    rows = fleet.canary[fleet.kinds == GAUGE]
    values = rows[~np.isnan(rows)]
    assert np.allclose(values * 10, np.round(values * 10))
    assert len(np.unique(values)) < len(values)


def test_hosts_differ_from_each_other(fleet: fleet_mod.Fleet) -> None:
    # Per-host means of a counter spread by about 15% (host rates), far more than the noise of a
    # 100-point mean of a Poisson count would give alone.
    rows = fleet.baseline[(fleet.kinds == COUNTER) & ~fleet.shifted]
    host_means = np.nanmean(rows, axis=2)
    rel_sd = np.nanstd(host_means, axis=1, ddof=1) / np.nanmean(host_means, axis=1)
    assert 0.08 < float(np.median(rel_sd)) < 0.25


def test_nan_gaps_have_the_promised_share_and_runs(fleet: fleet_mod.Fleet) -> None:
    t = fleet.canary.shape[2]
    # Expected share: scattered nulls (1%) plus one gap in 1/8 of the series, of mean length
    # (1 + GAP_MAX) / 2 = 4.5 buckets, i.e. 0.125 * 4.5 / 100 = 0.5625%, less their overlap.
    gaps = fleet_mod.GAP_SHARE * (1 + fleet_mod.GAP_MAX) / 2 / t
    expected = 1 - (1 - 0.01) * (1 - gaps)
    share = float(np.isnan(fleet.canary).mean())
    assert share == pytest.approx(expected, rel=0.15)
    # Contiguous outages: runs of at least 3 missing points exist (scattered 1% nulls alone
    # would almost never make one).
    missing = np.isnan(fleet.canary).reshape(-1, t).astype(int)
    runs = missing[:, :-2] & missing[:, 1:-1] & missing[:, 2:]
    assert runs.any(axis=1).mean() > 0.03


def test_the_shifted_canaries_are_higher_by_the_promised_factor(fleet: fleet_mod.Fleet) -> None:
    c, b = fleet.pooled()
    ratio = np.nanmean(c, axis=1) / np.nanmean(b, axis=1)
    for kind, factor in ((LATENCY, 1.10), (COUNTER, 1.30), (GAUGE, 1.10)):
        shifted = (fleet.kinds == kind) & fleet.shifted
        steady = (fleet.kinds == kind) & ~fleet.shifted
        assert np.median(ratio[shifted]) == pytest.approx(factor, abs=0.05)
        assert np.median(ratio[steady]) == pytest.approx(1.0, abs=0.03)


def test_tidy_frame_holds_every_point_and_the_judge_reads_them(fleet: fleet_mod.Fleet) -> None:
    small = fleet_mod.make_fleet(6, hosts=2, points=4, seed=1)
    frame = fleet_mod.tidy_frame(small)
    assert list(frame.columns) == ["metric", "cohort", "host", "timestamp", "value"]
    assert len(frame) == 2 * 6 * 2 * 4
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    host = frame[(frame.metric == "m000003") & (frame.cohort == "baseline") & (frame.host == "b-2")]
    assert np.array_equal(host["value"].to_numpy(), small.baseline[3, 1], equal_nan=True)
    assert host["timestamp"].iloc[1] - host["timestamp"].iloc[0] == pd.Timedelta(minutes=1)
    config = canarystats.load_config(fleet_mod.config_dict(small, "kayenta"))
    judgment = canarystats.judge(config, frame)
    for i, result in enumerate(judgment.metrics):
        assert result.canary.data_points == 8
        assert result.canary.n == int(np.isfinite(small.canary[i]).sum())


def test_power_exponent_recovers_a_known_power_law() -> None:
    sizes = np.array([10, 40, 160, 640])
    assert scaling.power_exponent(sizes, 3.0 * sizes**1.5) == pytest.approx(1.5)


def test_nlogn_exponent_by_hand() -> None:
    # n log n at n = e and e^2 is e and 2 e^2: slope (1 + ln 2) / 1.
    assert scaling.nlogn_exponent([math.e, math.e**2]) == pytest.approx(1 + math.log(2))


def test_replace_section_keeps_other_sections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(
        "# Benchmark results\n\n<!-- quality:start -->\nquality table\n<!-- quality:end -->\n"
    )
    monkeypatch.setattr(run_mod, "RESULTS", results)
    figures: dict[str, list[dict[str, object]]] = {name: [] for name in run_mod.BENCHMARKS}
    figures |= {
        "scaling": [
            {
                "what": "w",
                "kind": "M",
                "fixed": 100,
                "method": "kayenta",
                "sizes": [1, 2],
                "judge_s": [1.0, 2.0],
                "kernels_s": [0.5, 1.0],
                "judge_exponent": 1.0,
                "kernels_exponent": 1.0,
            }
        ]
    }
    run_mod.write(figures, quick=False, command="cmd", seconds=1.0)
    run_mod.write(figures, quick=False, command="cmd", seconds=1.0)
    text = results.read_text()
    assert "<!-- quality:start -->\nquality table\n<!-- quality:end -->" in text
    assert text.count("<!-- scaling:start -->") == 1
    history = run_mod.section("history", text)
    assert history is not None
    assert sum(line.startswith("- ") for line in history.splitlines()) == 2
    assert "exponent in M: judge 1.00" in history
    # A quick run, or a run of some benchmarks only, replaces its sections but adds nothing to
    # the history.
    run_mod.write(figures, quick=True, command="cmd", seconds=1.0)
    run_mod.write({"scaling": figures["scaling"]}, quick=False, command="cmd", seconds=1.0)
    assert run_mod.section("history", results.read_text()) == history


@pytest.mark.slow
def test_run_quick_works_as_ci_runs_it() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for title in ("Statistics kernels", "judge end to end", "Datadog source", "Peak memory"):
        assert title in out
    assert "Fitted exponent in M" in out and "Fitted exponent in n" in out
    # 10 metrics: v2 batches 5 metrics (10 queries) per request -> 2 requests; v1 sends one per
    # metric; the naive way one per metric per cohort (docs/datadog.md).
    assert "| 10 | v2 batched (default) | 2 |" in out
    assert "| 10 | v1 per metric | 10 |" in out
    assert "| 10 | naive: v1 per metric per cohort | 20 |" in out
