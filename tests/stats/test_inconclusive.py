"""Why a metric is inconclusive: each code from a small hand-made cube, and its sentence."""

from __future__ import annotations

import numpy as np
import pytest

from canarystats.stats import Inconclusive, count_rate_test, host_test
from canarystats.stats.inconclusive import is_no_data, reason_sentences

NAN = np.nan
FULL = [1.0, 2.0, 3.0, 2.0]  # a host with four points
SPARSE = [1.0, NAN, NAN, 2.0]  # a host with two points: below min_points = 3
EMPTY = [NAN] * 4


def _hosts(*rows: list[float]) -> np.ndarray:
    """One metric, ``(1, host, time)``."""
    return np.array([rows], dtype=float)


HOST_CASES = {
    "NONE": (_hosts(FULL), _hosts(FULL, FULL, FULL), ""),
    "NO_DATA": (
        _hosts(EMPTY),
        _hosts(EMPTY, EMPTY, EMPTY),
        "no data in the window for either cohort",
    ),
    "NO_CANARY_DATA": (
        _hosts(EMPTY),
        _hosts(FULL, FULL, FULL),
        "the canary has no data in the window",
    ),
    "NO_BASELINE_DATA": (
        _hosts(FULL),
        _hosts(EMPTY, EMPTY, EMPTY),
        "the baseline has no data in the window",
    ),
    "NO_CANARY_HOST": (
        _hosts(SPARSE),
        _hosts(FULL, FULL, FULL),
        "no canary host has at least 3 points in the window",
    ),
    "TOO_FEW_BASELINE_HOSTS": (
        _hosts(FULL),
        _hosts(FULL, FULL, SPARSE),
        "only 2 baseline host(s) with at least 3 points; the host-aware test needs 3 to "
        "estimate how much healthy hosts differ",
    ),
}


@pytest.mark.parametrize("name", sorted(HOST_CASES))
def test_each_host_case_has_its_code_and_sentence(name: str) -> None:
    canary, baseline, sentence = HOST_CASES[name]
    res = host_test(canary, baseline)
    assert res.inconclusive_code.dtype == np.int8
    assert res.inconclusive_code.tolist() == [Inconclusive[name]]
    assert res.reason.tolist() == [sentence]
    assert res.inconclusive.tolist() == [name != "NONE"]
    if name != "NONE":
        assert np.isnan(res.p_value[0]) and res.component[0] == "" and not res.practical[0]


def test_host_codes_of_a_batch_are_row_by_row() -> None:
    names = sorted(HOST_CASES)
    width = max(HOST_CASES[n][1].shape[1] for n in names)

    def pad(cube: np.ndarray) -> np.ndarray:
        return np.pad(cube[0], ((0, width - cube.shape[1]), (0, 0)), constant_values=NAN)

    canary = np.stack([HOST_CASES[n][0][0] for n in names])
    baseline = np.stack([pad(HOST_CASES[n][1]) for n in names])
    res = host_test(canary, baseline)
    assert res.inconclusive_code.tolist() == [Inconclusive[n] for n in names]
    assert res.reason.tolist() == [HOST_CASES[n][2] for n in names]


def test_the_minimums_appear_in_the_sentences() -> None:
    res = host_test(_hosts(FULL), _hosts(FULL, FULL, FULL), min_points=4, min_baseline_hosts=4)
    assert res.reason.tolist() == [
        "only 3 baseline host(s) with at least 4 points; the host-aware test needs 4 to "
        "estimate how much healthy hosts differ"
    ]
    res = host_test(_hosts(FULL), _hosts(FULL, FULL, FULL), min_points=5)
    assert res.inconclusive_code.tolist() == [Inconclusive.NO_CANARY_HOST]
    assert res.reason.tolist() == ["no canary host has at least 5 points in the window"]


COUNT_CASES = {
    "NONE": (_hosts([0.0, 1.0]), _hosts([0.0, 0.0], [1.0, 0.0], [0.0, 0.0]), ""),
    "NO_CANARY_EXPOSURE": (
        _hosts([NAN, NAN]),
        _hosts([0.0, 0.0], [1.0, 0.0], [0.0, 0.0]),
        "the canary has no exposure (no known host, no requests) in the window",
    ),
    "NO_BASELINE_EXPOSURE": (
        _hosts([2.0, 1.0]),
        _hosts([NAN, NAN]),
        "the baseline has no exposure (no known host, no requests) in the window",
    ),
}


@pytest.mark.parametrize("name", sorted(COUNT_CASES))
def test_each_count_case_has_its_code_and_sentence(name: str) -> None:
    canary, baseline, sentence = COUNT_CASES[name]
    res = count_rate_test(canary, baseline)
    assert res.inconclusive_code.dtype == np.int8
    assert res.inconclusive_code.tolist() == [Inconclusive[name]]
    assert res.reason.tolist() == [sentence]
    assert res.inconclusive.tolist() == [name != "NONE"]


def test_no_exposure_on_both_sides_reports_the_canary() -> None:
    res = count_rate_test(_hosts([NAN, NAN]), _hosts([NAN, NAN]))
    assert res.inconclusive_code.tolist() == [Inconclusive.NO_CANARY_EXPOSURE]


def test_the_codes_keep_their_numbers() -> None:
    # Stored and compared as int8 by callers: the numbers are part of the interface.
    assert {c.name: int(c) for c in Inconclusive} == {
        "NONE": 0,
        "NO_DATA": 1,
        "NO_CANARY_DATA": 2,
        "NO_BASELINE_DATA": 3,
        "NO_CANARY_HOST": 4,
        "TOO_FEW_BASELINE_HOSTS": 5,
        "NO_CANARY_EXPOSURE": 6,
        "NO_BASELINE_EXPOSURE": 7,
    }


def test_only_a_cohort_without_any_point_is_no_data() -> None:
    no_data = {"NO_DATA", "NO_CANARY_DATA", "NO_BASELINE_DATA"}
    for code in Inconclusive:
        assert code.no_data == (code.name in no_data)
    codes = np.array(list(Inconclusive), dtype=np.int8)
    assert is_no_data(codes).tolist() == [c.name in no_data for c in Inconclusive]


def test_every_code_but_none_has_a_sentence() -> None:
    sentences = reason_sentences(list(Inconclusive), n_baseline_hosts=1)
    assert sentences[0] == ""
    assert all(s for s in sentences[1:])
    assert len(set(sentences.tolist())) == len(Inconclusive)
