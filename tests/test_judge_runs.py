"""judge_runs: many runs (deploys) in one batch, each judged exactly as judge() judges it alone."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canarystats import judge, load_config
from canarystats.errors import DataError
from canarystats.judgment import judge_runs

ROOT = Path(__file__).resolve().parents[1]
T0 = pd.Timestamp("2026-02-02T14:00:00Z")

CONFIG = {
    "name": "runs",
    "judge": {"multiplicity": "holm"},
    "metrics": [
        {"name": "lat", "query": "avg:lat{$scope} by {host}", "unit": "ms"},
        {"name": "cpu", "query": "avg:cpu{$scope} by {host}", "direction": "increase"},
        {"name": "requests", "query": "sum:req{$scope} by {host}.as_count()", "kind": "count"},
        {
            "name": "errors",
            "query": "sum:err{$scope} by {host}.as_count()",
            "kind": "count",
            "exposure": "requests",
        },
        {"name": "slow", "query": "avg:slow{$scope} by {host}", "step": 300},
    ],
}


def _same(batched: Any, alone: Any, where: str = "") -> None:
    """Equal judgments: every label, count and sentence exactly, every float to 1e-9.

    A batch pads each run's cubes to the widest run, and numpy's pairwise sums round by array
    length, so floats may differ in their last bits; nothing a decision reads can.
    """
    if isinstance(alone, dict):
        assert isinstance(batched, dict) and batched.keys() == alone.keys(), where
        for k in alone:
            _same(batched[k], alone[k], f"{where}.{k}")
    elif isinstance(alone, list):
        assert isinstance(batched, list) and len(batched) == len(alone), where
        for i, (x, y) in enumerate(zip(batched, alone, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(alone, float) and not isinstance(batched, bool):
        assert batched == pytest.approx(alone, rel=1e-9, abs=1e-12), where
    else:
        assert type(batched) is type(alone) and batched == alone, where


def _run(
    rng: np.random.Generator,
    run: str,
    start: pd.Timestamp,
    minutes: int,
    hosts: tuple[int, int],
    shift: float,
    quiet_errors: bool,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for cohort, n_hosts in zip(("canary", "baseline"), hosts, strict=True):
        for h in range(n_hosts):
            host = f"{cohort[0]}{h}"  # the same host names recur in every run
            level = 1.0 + 0.03 * h + (shift if cohort == "canary" else 0.0)
            for t in range(minutes):
                ts = start + pd.Timedelta(minutes=t)
                rows.append(
                    dict(
                        metric="lat", host=host, timestamp=ts, value=100 * level + rng.normal(0, 2)
                    )
                )
                rows.append(
                    dict(metric="cpu", host=host, timestamp=ts, value=40 * level + rng.normal(0, 1))
                )
                rows.append(
                    dict(metric="requests", host=host, timestamp=ts, value=float(rng.poisson(50)))
                )
                if not (quiet_errors and cohort == "canary") and rng.random() < 0.5:
                    rows.append(
                        dict(
                            metric="errors",
                            host=host,
                            timestamp=ts,
                            value=float(rng.poisson(1 + 5 * shift)),
                        )
                    )
                if t % 5 == 0:
                    rows.append(
                        dict(
                            metric="slow",
                            host=host,
                            timestamp=ts,
                            value=10 * level + rng.normal(0, 0.2),
                        )
                    )
            for r in rows:
                r.setdefault("cohort", cohort)
    for r in rows:
        r["deploy"] = run
    return rows


def _history(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    specs = [
        # run, start offset (min), minutes, (canary, baseline hosts), shift, quiet canary errors
        ("a", 0, 10, (1, 4), 0.0, False),
        ("b", 30, 20, (2, 5), 0.3, False),
        ("c", 30, 12, (3, 3), 0.0, True),  # overlaps b in time: grids must stay apart
        ("d", 90, 6, (1, 2), 0.0, False),  # too few baseline hosts: inconclusive
        ("e", 120, 15, (2, 6), 0.1, True),
    ]
    rows: list[dict[str, Any]] = []
    for run, offset, minutes, hosts, shift, quiet in specs:
        rows += _run(rng, run, T0 + pd.Timedelta(minutes=offset), minutes, hosts, shift, quiet)
    frame = pd.DataFrame(rows)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("method", ["hosts", "kayenta"])
def test_each_run_is_judged_exactly_as_alone(method: str) -> None:
    cfg = load_config({**CONFIG, "judge": {"method": method}})
    frame = _history()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        batched = judge_runs(cfg, frame, run="deploy")
        assert list(batched) == ["a", "b", "c", "d", "e"]
        for run, j in batched.items():
            alone = judge(cfg, frame[frame["deploy"] == run].drop(columns="deploy"))
            _same(j.to_dict(), alone.to_dict(), str(run))
    # the runs really differ: a regression fails, the healthy run passes, two hosts are too few
    assert batched["b"].verdict == "fail" and batched["a"].verdict == "pass"
    if method == "hosts":
        assert batched["d"].metric("lat").classification == "Nodata"


def test_quiet_count_hosts_are_known_per_run_only() -> None:
    cfg = load_config(CONFIG)
    frame = _history()
    runs = judge_runs(cfg, frame, run="deploy")
    # In run c the canary hosts sent no error series: zero errors, because they report requests
    # in c; a host seen in another run only must not be counted.
    d = runs["c"].metric("errors").diagnostics
    assert d["n_canary_hosts"] == 3
    assert {h["host"] for h in d["hosts"] if h["cohort"] == "canary"} == {"c0", "c1", "c2"}


def test_multiplicity_family_is_each_runs_own_metrics() -> None:
    cfg = load_config(CONFIG)
    runs = judge_runs(cfg, _history(), run="deploy")
    sizes = {}
    for run, j in runs.items():
        decided = [m for m in j.metrics if not np.isnan(m.p_raw)]
        family = {m.diagnostics["family_size"] for m in j.metrics}
        assert family == {len(decided)}, run
        sizes[run] = len(decided)
        # Holm over this run's decided metrics only: the smallest raw p times the family size
        if decided:
            first = min(decided, key=lambda m: m.p_raw)
            assert first.p_value == pytest.approx(min(1.0, first.p_raw * len(decided)))
    # runs differ: a short window leaves the 5-minute metric undecided, two baseline hosts
    # leave every gauge undecided
    assert sizes["b"] == 5 and sizes["a"] == 4 and sizes["d"] < sizes["a"]


def test_missing_run_column_and_empty_run_cells_are_data_errors() -> None:
    cfg = load_config(CONFIG)
    frame = _history()
    with pytest.raises(DataError, match="no column 'release'"):
        judge_runs(cfg, frame, run="release")
    holes = frame.astype({"deploy": object})
    holes.loc[3, "deploy"] = None
    with pytest.raises(DataError, match="column 'deploy' has empty cells"):
        judge_runs(cfg, holes, run="deploy")
    # A point given twice within one run names the run by its column.
    twice = pd.concat([frame, frame[frame["deploy"] == "c"].iloc[:1]], ignore_index=True)
    with pytest.raises(DataError, match=r"metric '\w+' of deploy 'c' has two points for one"):
        judge_runs(cfg, twice, run="deploy")


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["hosts", "kayenta"]))
def test_batched_equals_alone_for_random_histories(seed: int, method: str) -> None:
    cfg = load_config({**CONFIG, "judge": {"method": method}})
    frame = _history(seed)
    # drop a random share of points so runs have gaps, missing hosts and missing metrics
    keep = np.random.default_rng(seed).random(len(frame)) > 0.2
    frame = frame[keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        batched = judge_runs(cfg, frame, run="deploy")
        for run, j in batched.items():
            alone = judge(cfg, frame[frame["deploy"] == run])
            _same(j.to_dict(), alone.to_dict(), str(run))
