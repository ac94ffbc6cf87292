"""Multiplicity adjustments: against R's p.adjust definitions (hand computed) and scipy's BH."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control

from canarystats.stats.multiplicity import adjust_p_values, any_rejected

p_lists = st.lists(
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=1, max_size=12
)


def test_holm_matches_the_hand_computation_of_r_p_adjust() -> None:
    # m = 5: 5(.01)=.05, 4(.02)=.08, 3(.03)=.09, 2(.04)=.08 -> running max .09, 1(.05) -> .09
    got = adjust_p_values([0.01, 0.02, 0.03, 0.04, 0.05], method="holm")
    np.testing.assert_allclose(got, [0.05, 0.08, 0.09, 0.09, 0.09])


def test_holm_keeps_the_input_order() -> None:
    got = adjust_p_values([0.04, 0.01, 0.03], method="holm")
    # sorted .01,.03,.04 -> 3(.01)=.03, 2(.03)=.06, 1(.04)=.04 -> max .06
    np.testing.assert_allclose(got, [0.06, 0.03, 0.06])


def test_bonferroni_multiplies_by_the_number_of_gating_metrics_and_caps_at_one() -> None:
    np.testing.assert_allclose(adjust_p_values([0.01, 0.3, 0.6], "bonferroni"), [0.03, 0.9, 1.0])


def test_bh_matches_the_hand_computation() -> None:
    # m = 4, sorted .01,.02,.03,.5: 4/1(.01)=.04, 4/2(.02)=.04, 4/3(.03)=.04, 4/4(.5)=.5
    got = adjust_p_values([0.5, 0.03, 0.01, 0.02], method="bh")
    np.testing.assert_allclose(got, [0.5, 0.04, 0.04, 0.04])


@settings(max_examples=60, deadline=None)
@given(p_lists)
def test_bh_equals_scipy_false_discovery_control(ps: list[float]) -> None:
    np.testing.assert_allclose(
        adjust_p_values(ps, method="bh"), false_discovery_control(ps, method="bh"), atol=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(p_lists)
def test_holm_lies_between_the_raw_p_values_and_bonferroni(ps: list[float]) -> None:
    raw = np.array(ps)
    holm = adjust_p_values(raw, "holm")
    assert np.all(holm >= raw - 1e-15)
    assert np.all(holm <= adjust_p_values(raw, "bonferroni") + 1e-15)
    assert np.all(adjust_p_values(raw, "bh") <= holm + 1e-15)
    # Adjustment keeps the order of the p-values.
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(holm[order]) >= -1e-15)


@settings(max_examples=60, deadline=None)
@given(p_lists, st.lists(st.booleans(), min_size=12, max_size=12))
def test_nan_metrics_are_left_out_of_the_family(ps: list[float], gate: list[bool]) -> None:
    raw = np.array(ps)
    mask = np.array(gate[: len(ps)])
    with_nan = np.where(mask, raw, np.nan)
    for method in ("holm", "bonferroni", "bh"):
        got = adjust_p_values(with_nan, method)  # type: ignore[arg-type]
        assert np.all(np.isnan(got[~mask]))
        if mask.any():
            np.testing.assert_allclose(got[mask], adjust_p_values(raw[mask], method))  # type: ignore[arg-type]


def test_rows_are_adjusted_independently() -> None:
    rows = np.array([[0.01, 0.02, np.nan], [0.04, 0.2, 0.3]])
    got = adjust_p_values(rows, "holm")
    np.testing.assert_allclose(got[0, :2], adjust_p_values([0.01, 0.02], "holm"))
    np.testing.assert_allclose(got[1], adjust_p_values([0.04, 0.2, 0.3], "holm"))


def test_ten_null_metrics_fail_a_run_near_alpha_with_holm_and_far_more_without() -> None:
    rng = np.random.default_rng(8)
    p = rng.uniform(size=(4000, 10))
    holm = np.mean(any_rejected(p, alpha=0.05, method="holm"))
    raw = np.mean(any_rejected(p, alpha=0.05, method="none"))
    # Holm controls the family-wise rate at 0.05 (exactly 0.05 * (1 - ...) ~ 0.049 here);
    # 4000 runs give a standard error of 0.0034.
    assert 0.035 <= holm <= 0.06
    assert raw == pytest.approx(1 - 0.95**10, abs=0.03)  # about 0.40


def test_invalid_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown multiplicity method"):
        adjust_p_values([0.1], method="sidak")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_p_values([1.5])
    with pytest.raises(ValueError, match="alpha"):
        any_rejected([0.1], alpha=0.0)


def test_an_all_nan_run_rejects_nothing() -> None:
    assert not any_rejected([np.nan, np.nan])
    assert np.all(np.isnan(adjust_p_values([np.nan, np.nan])))
