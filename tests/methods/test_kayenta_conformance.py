"""Conformance with Kayenta's own test vectors (../shared/kayenta/kayenta_cases.json).

Each vector's expected value was asserted by Kayenta's test suite (spinnaker/kayenta
a69573be9d8f); none was produced by canarystats.  Classifier vectors run through the whole
``judge()`` pipeline (frame -> align -> one batched Mann-Whitney call -> classify), with the
vector's tolerance, confidence, effect-size and critical settings written into a config.

Vectors that canarystats does not reproduce are listed in ``NOT_REPRODUCED`` with the reason;
kinds that do not apply to canarystats' judge are listed in ``KINDS_NOT_APPLICABLE``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from canarystats.config import load_config
from canarystats.judgment import judge
from canarystats.score import ScoredMetric, group_scores, score
from canarystats.stats import cles, describe, mean_ratio
from canarystats.stats.outliers import iqr_outliers

CASES_PATH = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "kayenta" / "kayenta_cases.json"
)

#: vectors canarystats deliberately or necessarily does not reproduce, with the reason
NOT_REPRODUCED = {
    "cls-mann-whitney-classifier-test-high-metric-large-input": (
        "Kayenta's High comes from an inverted interval (lower 3.5e-5 > upper 2.0e-5) that its "
        "1e-4 root finder produces on zero-heavy data; canarystats' interval ends are exact "
        "pairwise differences, the interval contains 0, so the metric is Pass"
    ),
    "cls-mann-whitney-missing-experiment-data-with-nan-replacement": (
        "deliberate: Kayenta passes an empty sample under nanStrategy=replace "
        "(spinnaker/kayenta#700); canarystats reports Nodata whatever the NaN strategy, because "
        "a metric that returned no points at all must never read as a pass"
    ),
    "stats-summary-empty": (
        "deliberate: Kayenta reports zeros for an empty sample; canarystats reports n=0 and NaN "
        "statistics (null in JSON), so no report shows a mean of 0 for data that does not exist"
    ),
}

#: vectors whose label canarystats reproduces but whose reported mean ratio ("deviation") differs
DEVIATION_DIFFERS = {
    "cls-mann-whitney-zero-mean-low-metric-with-effect-size": (
        "Kayenta's mean ratio is NaN when either mean is 0; canarystats' is NaN only for a zero "
        "baseline mean, so a zero canary mean gives the true ratio 0 (the Low label is the same: "
        "0 is below the allowed decrease, and Kayenta skips the gate on NaN)"
    ),
}

#: kinds of vectors that test parts canarystats does not have, with the reason
KINDS_NOT_APPLICABLE = {
    "classifier_mean_inequality": "canarystats has no MeanInequalityClassifier (a benchmarking "
    "classifier NetflixACAJudge never uses)",
    "mannwhitney": "the stats core's own tests (tests/stats), not the judge's",
    "mannwhitney_wdiff": "Kayenta's root-finder internals; canarystats has no wdiff function",
    "mannwhitney_internals": "Kayenta's root-finder internals",
    "normal_quantile": "the stats core's concern",
    "datadog_timeseries": "the Datadog source's conformance tests",
    "datadog_query": "the Datadog source's conformance tests",
    "aggregate_judgment": "multi-interval runs are not part of judge()",
    "judgement_window": "multi-interval runs are not part of judge()",
    "mixer": "Kayenta's metric-set pairing; canarystats pools hosts in align_hosts()",
    "scenario_integration": "random inputs from unseeded generators; no fixed expectation",
    "classifier_issue_behaviour": "Kayenta behaviour users reported as wrong; checked "
    "separately below, canarystats may differ",
}

#: outlier/transform vectors of the k-sigma detector, which canarystats does not implement
KSIGMA = "canarystats has no k-sigma detector (Kayenta's judge never uses it)"


def _cases() -> list[dict[str, Any]]:
    if not CASES_PATH.exists():
        return []
    return json.loads(CASES_PATH.read_text())


CASES = _cases()
requires_shared = pytest.mark.skipif(
    not CASES, reason="../shared/kayenta/kayenta_cases.json is absent (a fresh clone)"
)


def _of(kind: str) -> list[Any]:
    picked = [c for c in CASES if c["kind"] == kind]
    return [
        pytest.param(
            c,
            id=c["id"],
            marks=pytest.mark.skip(reason=NOT_REPRODUCED[c["id"]])
            if c["id"] in NOT_REPRODUCED
            else (),
        )
        for c in picked
    ] or [pytest.param(None, id=f"no-{kind}-vectors")]


def _floats(values: list[Any]) -> list[float]:
    return [math.nan if v == "NaN" or v is None else float(v) for v in values]


def _judge_vector(case: dict[str, Any]) -> Any:
    inp = case["input"]
    params = inp["params"]
    dec, inc = params["effect_size_thresholds"]
    crit_dec, crit_inc = params["critical_thresholds"]
    measure = "cles" if params["effect_size_measure"] == "cles" else "mean_ratio"
    config = load_config(
        {
            "name": case["id"],
            "judge": {
                "method": "kayenta",
                "confidence": params["conf_level"],
                "tolerance": params["tolerance"],
            },
            "metrics": [
                {
                    "name": "m",
                    "query": "q",
                    "direction": inp["direction"],
                    "nan_strategy": inp["nan_strategy"],
                    "critical": inp["is_critical"],
                    "must_have_data": inp["is_data_required"],
                    "effect_size": {
                        "measure": measure,
                        "allowed_increase": inc,
                        "allowed_decrease": dec,
                        "critical_increase": crit_inc,
                        "critical_decrease": crit_dec,
                    },
                }
            ],
        }
    )
    canary, baseline = _floats(inp["experiment"]), _floats(inp["control"])
    frame = pd.DataFrame(
        {
            "metric": "m",
            "cohort": ["canary"] * len(canary) + ["baseline"] * len(baseline),
            "host": "",
            "timestamp": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(list(range(len(canary))) + list(range(len(baseline))), unit="min"),
            "value": canary + baseline,
        }
    )
    return judge(config, frame).metric("m")


@requires_shared
@pytest.mark.parametrize("case", _of("classifier"))
def test_classifier_vector(case: dict[str, Any]) -> None:
    result = _judge_vector(case)
    expected = case["expected"]
    if "classification" in expected:
        assert result.classification == expected["classification"], result.reason
    if "critical" in expected:
        assert result.critical is expected["critical"]
    if "deviation" in expected:
        assert result.effect_size == pytest.approx(expected["deviation"])
    if expected.get("deviation_is_nan") and case["id"] not in DEVIATION_DIFFERS:
        assert math.isnan(result.mean_ratio)
    if expected.get("reason_nonempty"):
        assert result.reason.strip()


@requires_shared
@pytest.mark.parametrize("case", _of("score"))
def test_score_vector(case: dict[str, Any]) -> None:
    inp, expected = case["input"], case["expected"]
    results = [
        ScoredMetric(r["name"], r["classification"], tuple(r["groups"]), critical=r["critical"])
        for r in inp["results"]
    ]
    # Kayenta's summary score is canarystats' score of unmuted results (the verdict aside).
    scored = score(results, inp["group_weights"], pass_score=95, marginal_score=75)
    assert scored.score == expected["summary_score"]
    for group, value in expected.get("group_scores", {}).items():
        # canarystats reports a group where nothing counted as None; Kayenta reports 0.0 there
        got = group_scores(results)[group]
        assert (0.0 if got is None else got) == value


@requires_shared
@pytest.mark.parametrize("case", _of("descriptive_stats"))
def test_descriptive_stats_vector(case: dict[str, Any]) -> None:
    expected = case["expected"]
    tol = expected.get("abs_tol", {})
    d = describe(_floats(case["input"]["values"]), percentiles=())
    got = {"min": d.min, "max": d.max, "mean": d.mean, "std": d.std, "count": d.n}
    for key in ("min", "max", "mean", "std", "count"):
        assert got[key] == pytest.approx(expected[key], abs=tol.get(key, 0.0)), key


@requires_shared
@pytest.mark.parametrize("case", _of("percentile"))
def test_percentile_vector(case: dict[str, Any]) -> None:
    inp, expected = case["input"], case["expected"]
    d = describe(_floats(inp["values"]), percentiles=inp["percentiles"])
    for q, want, tol in zip(
        inp["percentiles"], expected["results"], expected["abs_tol"], strict=True
    ):
        assert d.percentiles[float(q)] == pytest.approx(want, abs=tol), q


@requires_shared
@pytest.mark.parametrize("case", _of("effect_size"))
def test_effect_size_vector(case: dict[str, Any]) -> None:
    inp, expected = case["input"], case["expected"]
    canary, baseline = _floats(inp["experiment"]), _floats(inp["control"])
    if inp["measure"] == "cohenD":
        pytest.skip("canarystats' judge does not use Cohen's d (neither does Kayenta's)")
    if inp["measure"] == "cles":
        assert cles(canary, baseline) == pytest.approx(expected["cles"], abs=expected["abs_tol"])
    elif expected.get("mean_ratio_is_nan"):
        assert math.isnan(mean_ratio(canary, baseline))
    else:
        assert mean_ratio(canary, baseline) == pytest.approx(expected["mean_ratio"])


@requires_shared
@pytest.mark.parametrize("case", _of("outlier_detector"))
def test_outlier_detector_vector(case: dict[str, Any]) -> None:
    inp = case["input"]
    if inp["detector"] != "iqr":
        pytest.skip(KSIGMA)
    values = np.array([_floats(inp["values"])]).reshape(1, -1)
    flags = iqr_outliers(
        values, inp["factor"], reduce_sensitivity=inp.get("reduce_sensitivity", True)
    )
    assert flags.reshape(-1).tolist() == case["expected"]["outliers"]


@requires_shared
@pytest.mark.parametrize("case", _of("transform"))
def test_transform_vector(case: dict[str, Any]) -> None:
    """Transforms run through align_hosts(): NaN strategy, then outlier removal."""
    from canarystats.align import align_hosts
    from canarystats.config import MetricConfig
    from canarystats.stats.outliers import remove_outliers

    inp = case["input"]
    op = inp["op"]
    if op == "remove_outliers" and inp["detector"] != "iqr":
        pytest.skip(KSIGMA)
    values = _floats(inp["values"])
    frame = pd.DataFrame(
        {
            "metric": "m",
            "cohort": "canary",
            "host": "",
            "timestamp": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(range(len(values)), unit="min"),
            "value": values,
        }
    )
    strategy = "replace" if op == "replace_nans" else "remove"
    cubes = align_hosts(
        frame, [MetricConfig(name="m", query="q", nan_strategy=strategy)], fill_counts=False
    )
    row = cubes.pooled("canary")
    if op == "remove_outliers":
        # The transform test uses the plain detector; the judge widens the fences.
        flags = iqr_outliers(row, inp["factor"], reduce_sensitivity=inp["reduce_sensitivity"])
        row = np.where(flags, np.nan, row)
        assert remove_outliers(row, np.array([inp["factor"]]), np.array([False])).shape == row.shape
    kept = [v for v in row.reshape(-1).tolist() if not math.isnan(v)]
    assert kept == pytest.approx(case["expected"]["values"])


@requires_shared
def test_every_kind_is_either_checked_or_listed() -> None:
    checked = {
        "classifier",
        "score",
        "descriptive_stats",
        "percentile",
        "effect_size",
        "outlier_detector",
        "transform",
    }
    kinds = {c["kind"] for c in CASES}
    assert kinds <= checked | set(KINDS_NOT_APPLICABLE)
    ids = {c["id"] for c in CASES}
    assert set(NOT_REPRODUCED) | set(DEVIATION_DIFFERS) <= ids


# Behaviour users reported against Kayenta: canarystats matches some and deliberately differs on
# others; each difference is asserted so it cannot change silently.
ISSUE_BEHAVIOUR = {
    "issue-6278-seven-of-ten": "Pass",
    "issue-426-sparse": "Pass",
    "issue-780-variability": "Pass",
    "issue-5622-replace-zero-baseline": "Pass",
}


@requires_shared
@pytest.mark.parametrize("case", _of("classifier_issue_behaviour"))
def test_issue_behaviour_is_known(case: dict[str, Any]) -> None:
    result = _judge_vector(case)
    assert result.classification == ISSUE_BEHAVIOUR[case["id"]], result.reason
    assert result.reason.strip()
