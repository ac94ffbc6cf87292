"""The early pass's non-inferiority test holds its level at the margin, where it is tightest.

A canary exactly at its minimum practical effect must be ruled out at most ``alpha`` of the
time.  Hosts of a positive metric have multiplicative noise (a canary slower by a factor is
noisier by it), the case a level-scale test against ``rel * baseline centre`` gets wrong.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from canarystats.config import load_config
from canarystats.judgment import judge_with_evidence
from canarystats.sequential.looks import _look_metric

RUNS = 2000


def _canaries(factor: float, seed: int, *, offset: float = 0.0) -> pd.DataFrame:
    """RUNS canaries of 3 + 6 hosts, 10 minutes of a positive gauge each; canary x factor."""
    rng = np.random.default_rng(seed)
    canary, baseline, minutes = 3, 6, 10
    hosts = canary + baseline
    values = 100.0 * np.exp(rng.normal(0.0, 0.1, (RUNS, hosts, minutes)))
    values[:, :canary] *= factor
    values += offset
    stamps = pd.Timestamp("2026-01-01T00:00Z") + pd.to_timedelta(np.arange(minutes), unit="min")
    names = [f"c{i}" for i in range(canary)] + [f"b{i}" for i in range(baseline)]
    cohorts = ["canary"] * canary + ["baseline"] * baseline
    return pd.DataFrame(
        {
            "sim": np.repeat(np.arange(RUNS), hosts * minutes),
            "metric": "latency",
            "cohort": np.tile(np.repeat(cohorts, minutes), RUNS),
            "host": np.tile(np.repeat(names, minutes), RUNS),
            "timestamp": np.tile(stamps, RUNS * hosts),
            "value": values.reshape(-1),
        }
    )


def _p_pass(frame: pd.DataFrame, rel: float) -> np.ndarray:
    config = load_config(
        {
            "name": "calibration",
            "judge": {"warmup": 0},
            "metrics": [
                {
                    "name": "latency",
                    "query": "q",
                    "direction": "increase",
                    "min_effect": {"relative": rel},
                }
            ],
        }
    )
    with np.errstate(all="ignore"):
        _, judgments, evidence = judge_with_evidence(config, frame, "sim", None)
    metric = config.metrics[0]
    return np.array(
        [
            _look_metric(metric, i, j.metric("latency"), evidence).p_pass
            for i, j in enumerate(judgments)
        ]
    )


def test_a_canary_at_its_minimum_effect_is_ruled_out_at_most_alpha_of_the_time() -> None:
    # A margin of +50 % makes the level-scale test's error plain: it rules such a canary out
    # 11 % of the time at a nominal 5 % (this test: 4.9 %).
    p = _p_pass(_canaries(1.5, seed=1), rel=0.5)
    assert np.isfinite(p).all()
    assert 0.03 <= np.mean(p <= 0.05) <= 0.07
    assert 0.07 <= np.mean(p <= 0.10) <= 0.13


def test_a_canary_well_inside_its_minimum_effect_is_ruled_out_mostly() -> None:
    p = _p_pass(_canaries(1.0, seed=2), rel=0.5)
    assert np.mean(p <= 0.05) > 0.95


def test_a_gauge_with_levels_at_or_below_zero_keeps_the_level_scale() -> None:
    # Shifted below zero the same canaries have no log scale; the test still runs, on levels.
    p = _p_pass(_canaries(1.0, seed=3, offset=-150.0), rel=0.5)
    assert np.isfinite(p).all()
    assert np.mean(p <= 0.05) > 0.5
