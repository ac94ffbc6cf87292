"""The kayenta method's classifier: Kayenta's order of decisions, one rule at a time.

The Mann-Whitney result is written by hand in most tests, so each rule (tolerance bound,
direction, effect-size gates, critical flags, thresholds, no data) is checked against numbers
chosen here, not against the statistics core.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from canarystats.config import EffectSize, JudgeSettings, MetricConfig, Threshold, load_config
from canarystats.judgment import judge
from canarystats.labels import Label
from canarystats.methods import get_method, method_names
from canarystats.methods.base import MetricClassification
from canarystats.methods.kayenta import KayentaEvidence
from canarystats.stats import MannWhitneyResult, cles, describe, mean_ratio

SETTINGS = JudgeSettings(confidence=0.98, tolerance=0.25)
PASS, HIGH, LOW = Label.PASS, Label.HIGH, Label.LOW
NODATA, NODATA_FAIL, ERROR = Label.NODATA, Label.NODATA_FAIL, Label.ERROR
KAYENTA = get_method("kayenta")
T0 = pd.Timestamp("2026-01-01", tz="UTC")


def pad(rows: list[list[float]]) -> np.ndarray:
    width = max([len(r) for r in rows] + [1])
    out = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def run(
    canary: list[float],
    baseline: list[float],
    shift: tuple[float, float, float] = (math.nan, math.nan, math.nan),
    settings: JudgeSettings = SETTINGS,
    **metric: Any,
) -> MetricClassification:
    """Classify one metric with the given (estimate, ci_low, ci_high)."""
    c, b = pad([canary]), pad([baseline])
    est, lo, hi = (np.array([x]) for x in shift)
    test = MannWhitneyResult(
        u=np.array([np.nan]),
        p_value=np.array([np.nan]),
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        n_canary=np.array([len(canary)]),
        n_baseline=np.array([len(baseline)]),
        conf_level=np.array([0.98]),
        exact=np.array([False]),
    )
    evidence = _evidence(c, b, test)
    m = MetricConfig(name="m", query="q", **metric)
    (result,) = KAYENTA.classify([m], evidence, settings)
    assert result.reason.endswith(".") and "\n" not in result.reason
    return result


def _evidence(c: np.ndarray, b: np.ndarray, test: MannWhitneyResult) -> KayentaEvidence:
    return KayentaEvidence(
        canary=c,
        baseline=b,
        test=test,
        mean_ratio=np.atleast_1d(mean_ratio(c, b)),
        cles=np.atleast_1d(cles(c, b)),
        canary_stats=describe(c, (50, 95, 99)),
        baseline_stats=describe(b, (50, 95, 99)),
        canary_points=np.sum(~np.isnan(c), axis=1),
        baseline_points=np.sum(~np.isnan(b), axis=1),
    )


UP = [20.0, 22.0, 21.0, 25.0, 30.0]
BASE = [1.0, 2.2, 1.1, 2.5, 3.0]


def test_methods_are_chosen_by_name() -> None:
    assert "kayenta" in method_names() and KAYENTA.name == "kayenta"


def test_interval_above_the_tolerance_bound_is_high() -> None:
    # estimate 20 -> bound 0.25 * 20 = 5; the interval (17, 28) lies wholly above it
    r = run(UP, BASE, (20.0, 17.0, 28.0))
    assert r.label == HIGH and not r.critical
    assert r.bound == 5.0
    # mean ratio 23.6 / 1.96 = 12.04, reported in the reason with the interval
    assert "12x" in r.reason and "shift +20, 98% CI +17 to +28" in r.reason


def test_bound_is_strict_and_scales_with_the_estimate() -> None:
    # the lower end equals the bound exactly: not strictly above -> Pass
    assert run(UP, BASE, (20.0, 5.0, 28.0)).label == PASS
    assert run(UP, BASE, (20.0, 5.0001, 28.0)).label == HIGH
    # tolerance 0 reduces the rule to "the interval excludes 0"
    zero = JudgeSettings(tolerance=0.0)
    assert run(UP, BASE, (20.0, 0.001, 28.0), settings=zero).label == HIGH


def test_interval_below_is_low() -> None:
    r = run(BASE, UP, (-20.0, -28.0, -17.0))
    assert r.label == LOW
    assert "entirely below" in r.reason


def test_a_default_effect_size_says_it_allows_nothing_past_the_tolerance() -> None:
    # Kayenta's default allowed change of 1x is no gate at all; a reader should not have to know
    bare = run(UP, BASE, (20.0, 17.0, 28.0))
    assert bare.reason.endswith(
        "allowed increase is 1x (no effect-size allowance: any change past the tolerance counts)."
    )
    gated = run(UP, BASE, (20.0, 17.0, 28.0), effect_size=EffectSize(allowed_increase=1.1))
    assert gated.label == HIGH and gated.reason.endswith("allowed increase is 1.1x.")
    low = run(BASE, UP, (-20.0, -28.0, -17.0))
    assert low.reason.endswith(
        "allowed decrease is 1x (no effect-size allowance: any change past the tolerance counts)."
    )


def test_interval_reaching_into_the_band_passes_with_a_reason() -> None:
    r = run(UP, BASE, (20.0, 4.0, 28.0))
    assert r.label == PASS
    assert "does not clear the tolerance bound ±5" in r.reason


@pytest.mark.parametrize(
    ("direction", "shift", "label", "words"),
    [
        ("increase", (-20.0, -28.0, -17.0), PASS, "only increases are judged"),
        ("decrease", (20.0, 17.0, 28.0), PASS, "only decreases are judged"),
        ("increase", (20.0, 17.0, 28.0), HIGH, "entirely above"),
        ("decrease", (-20.0, -28.0, -17.0), LOW, "entirely below"),
    ],
)
def test_direction(direction: str, shift: Any, label: str, words: str) -> None:
    canary, baseline = (UP, BASE) if shift[0] > 0 else (BASE, UP)
    r = run(canary, baseline, shift, direction=direction)
    assert r.label == label
    assert words in r.reason


def test_mean_ratio_gate_turns_high_into_pass() -> None:
    # mean ratio 12.04 is below an allowed increase of 13 -> accepted
    r = run(UP, BASE, (20.0, 17.0, 28.0), effect_size=EffectSize(allowed_increase=13.0))
    assert r.label == PASS
    assert "below the allowed increase of 13" in r.reason
    # and at 12 it is above -> High
    assert (
        run(UP, BASE, (20.0, 17.0, 28.0), effect_size=EffectSize(allowed_increase=12.0)).label
        == HIGH
    )


def test_nan_effect_skips_the_gate() -> None:
    # baseline mean 0 -> no mean ratio; Kayenta then classifies on the interval alone
    r = run(
        [54.9, 54.5, 55.1],
        [0.0, 0.0, 0.0],
        (55.0, 54.5, 55.1),
        effect_size=EffectSize(allowed_increase=5.0),
    )
    assert r.label == HIGH and math.isnan(r.effect)
    assert "no mean ratio" in r.reason


def test_cles_gate() -> None:
    # every canary value exceeds every baseline value: CLES = 1
    es = EffectSize(measure="cles", allowed_increase=0.8, allowed_decrease=0.2)
    r = run(UP, BASE, (20.0, 17.0, 28.0), effect_size=es)
    assert r.label == HIGH and r.effect == 1.0
    # canary [2, 4] vs baseline [1, 3]: pairs 2>1, 4>1, 4>3 win, 2<3 loses -> CLES 3/4
    es = EffectSize(measure="cles", allowed_increase=0.8, allowed_decrease=0.2)
    r = run([2.0, 4.0], [1.0, 3.0], (2.0, 1.0, 3.0), effect_size=es)
    assert r.effect == 0.75 and r.label == PASS
    assert "CLES 0.75" in r.reason


def test_critical_flags() -> None:
    high = (20.0, 17.0, 28.0)
    assert run(UP, BASE, high, critical=True).critical is True
    # High but below the critical increase (ratio 12.04 < 13): not critical
    es = EffectSize(critical_increase=13.0)
    r = run(UP, BASE, high, critical=True, effect_size=es)
    assert (r.label, r.critical) == (HIGH, False)
    assert run(UP, BASE, high).critical is False
    low = run(BASE, UP, (-20.0, -28.0, -17.0), critical=True)
    assert (low.label, low.critical) == (LOW, True)
    assert "critical" in low.reason


def test_no_data() -> None:
    r = run([], [1.0, 2.0])
    assert (r.label, r.critical) == (NODATA, False)
    assert "No usable canary data" in r.reason
    assert run([1.0], []).label == NODATA
    assert run([], [], critical=True).critical is True
    r = run([], [1.0], must_have_data=True)
    assert r.label == NODATA_FAIL and "must_have_data" in r.reason
    # a critical metric stays Nodata (and blocks the canary through its critical flag)
    r = run([], [1.0], must_have_data=True, critical=True)
    assert (r.label, r.critical) == (NODATA, True)


def test_identical_and_single_value_pass_before_any_test() -> None:
    r = run([1.0, 2.0, 3.0], [3.0, 2.0, 1.0], (99.0, 99.0, 99.0))
    assert r.label == PASS and "identical" in r.reason and r.effect == 1.0
    r = run([1.0, 1.0, 1.0], [1.0, 1.0], (99.0, 99.0, 99.0))
    assert r.label == PASS and "Every canary and baseline value is 1" in r.reason


def test_constant_samples_use_the_exact_gap() -> None:
    # Kayenta adds random noise here; canarystats uses the exact shift 10 - 1 = 9,
    # whatever the test returned (given NaN here on purpose).
    r = run([10.0] * 5, [1.0] * 5)
    assert (r.label, r.estimate, r.ci_low, r.ci_high) == (HIGH, 9.0, 9.0, 9.0)
    r = run([0.0] * 5, [10.0] * 5)
    assert (r.label, r.estimate) == (LOW, -10.0)
    assert run([10.0] * 5, [1.0] * 5, direction="decrease").label == PASS


def test_unusable_statistics_are_an_error() -> None:
    r = run([1.0, 2.0], [3.0, 5.0], (math.nan, math.nan, math.nan))
    assert r.label == ERROR and "could not be computed" in r.reason
    assert run([1.0, 2.0], [3.0, 5.0], (math.nan,) * 3, critical=True).critical is True


@pytest.mark.parametrize(
    ("threshold", "canary", "label", "words"),
    [
        (
            Threshold("mean", max=0.05),
            [0.1, 0.1],
            HIGH,
            "Canary mean 0.1 is above the absolute maximum 0.05",
        ),
        (Threshold("max", max=5.0), [1.0, 6.0], HIGH, "Canary max 6 is above"),
        (Threshold("sum", max=5.0), [3.0, 3.0], HIGH, "Canary sum 6"),
        (
            Threshold("median", min=2.0),
            [1.0, 1.5, 9.0],
            LOW,
            "Canary median 1.5 is below the absolute minimum 2",
        ),
        (Threshold("min", min=0.5), [0.4, 9.0], LOW, "(threshold.min)"),
        # p95 of [0..20] by R-7 is 19; p99 is 19.8
        (Threshold("p95", max=18.5), [float(i) for i in range(21)], HIGH, "Canary p95 19 "),
        (Threshold("p99", max=19.8), [float(i) for i in range(21)], PASS, ""),
    ],
)
def test_threshold_classifies_on_its_own(
    threshold: Threshold, canary: list[float], label: str, words: str
) -> None:
    # identical samples would pass, but an absolute threshold still applies to the canary
    r = run(canary, list(canary), threshold=threshold)
    assert r.label == label
    assert words in r.reason


def test_threshold_needs_only_canary_data() -> None:
    r = run([0.2], [], threshold=Threshold("mean", max=0.05), critical=True)
    assert (r.label, r.critical) == (HIGH, True)
    assert r.threshold_value == 0.2
    assert run([], [1.0], threshold=Threshold("mean", max=0.05)).label == NODATA


def test_rows_are_independent_in_one_call() -> None:
    c = pad([UP, BASE, []])
    b = pad([BASE, UP, [1.0]])
    test = MannWhitneyResult(
        u=np.full(3, np.nan),
        p_value=np.full(3, np.nan),
        estimate=np.array([20.0, -20.0, np.nan]),
        ci_low=np.array([17.0, -28.0, np.nan]),
        ci_high=np.array([28.0, -17.0, np.nan]),
        n_canary=np.array([5, 5, 0]),
        n_baseline=np.array([5, 5, 1]),
        conf_level=np.full(3, 0.98),
        exact=np.zeros(3, dtype=bool),
    )
    ev = _evidence(c, b, test)
    ms = [MetricConfig(name=n, query="q") for n in "abc"]
    assert [r.label for r in KAYENTA.classify(ms, ev, SETTINGS)] == [HIGH, LOW, NODATA]


def test_identical_samples_are_found_among_samples_of_other_sizes() -> None:
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
