"""Hommel's adjusted p-values against R's ``p.adjust`` (tests/oracle/hommel_oracle.R), and the
properties that make it a valid, more powerful replacement for Holm's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import canarystats.stats.multiplicity as mult
from canarystats.stats import adjust_p_values

CASES = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "hommel_r_cases.json").read_text()
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[f"m{len(c['p'])}-{i}" for i, c in enumerate(CASES)])
def test_hommel_equals_r(case: dict[str, list[float]]) -> None:
    got = adjust_p_values(case["p"], "hommel")
    np.testing.assert_allclose(got, case["hommel"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(adjust_p_values(case["p"], "holm"), case["holm"], rtol=1e-12)


def test_runs_of_different_family_sizes_are_adjusted_alone() -> None:
    a, b = CASES[1]["p"], CASES[0]["p"]
    rows = np.full((2, len(a)), np.nan)
    rows[0] = a
    rows[1, : len(b)] = b
    got = adjust_p_values(rows, "hommel")
    np.testing.assert_allclose(got[0], CASES[1]["hommel"], rtol=1e-12)
    np.testing.assert_allclose(got[1, : len(b)], CASES[0]["hommel"], rtol=1e-12)
    assert np.isnan(got[1, len(b) :]).all()


p_lists = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12)


@given(p_lists)
def test_hommel_lies_between_the_raw_p_values_and_holms(p: list[float]) -> None:
    h = adjust_p_values(p, "hommel")
    assert np.all(h >= np.asarray(p) - 1e-15)
    assert np.all(h <= adjust_p_values(p, "holm") + 1e-12)
    assert np.all(h <= 1.0)


@given(p_lists)
def test_hommel_keeps_the_order_of_the_p_values(p: list[float]) -> None:
    h = adjust_p_values(p, "hommel")
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(h[order]) >= -1e-12)


def test_a_family_too_large_for_hommel_gets_holm(monkeypatch: pytest.MonkeyPatch) -> None:
    p = CASES[1]["p"]
    monkeypatch.setattr(mult, "HOMMEL_MAX_FAMILY", 3)
    np.testing.assert_allclose(adjust_p_values(p, "hommel"), adjust_p_values(p, "holm"))
