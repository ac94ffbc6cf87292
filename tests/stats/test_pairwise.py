"""Pairwise-difference selection and rank sums: compiled (numba) and numpy paths, same results.

Expected values come from brute force: all pairwise differences materialised and sorted, and
the U statistic counted pair by pair.  Both paths are checked against them, on data with ties,
NaN padding, infinities and very unequal sizes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from canarystats.stats import compiled_kernels, mann_whitney
from canarystats.stats.compiled import numba_installed
from canarystats.stats.pairwise import select_pairwise_differences
from canarystats.stats.ranks import count_valid, rank_sum_compiled, rank_sum_numpy

PATHS = ["numpy"] + (["compiled"] if numba_installed() else [])


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> Iterator[str]:
    with compiled_kernels(request.param == "compiled"):
        yield request.param


def _ragged(rng: np.random.Generator, rows: int, width: int, kind: str) -> np.ndarray:
    if kind == "counts":
        data = rng.poisson(1.5, size=(rows, width)).astype(float)
    elif kind == "decimal":
        data = np.round(rng.normal(size=(rows, width)), 1)
    else:
        data = rng.lognormal(0.0, 1.0, size=(rows, width))
    lengths = rng.integers(1, width + 1, size=rows)
    data[np.arange(width)[None, :] >= lengths[:, None]] = np.nan
    return data


def _brute_u(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum(x[:, None] > y[None, :]) + 0.5 * np.sum(x[:, None] == y[None, :]))


@pytest.mark.parametrize("kind", ["continuous", "counts", "decimal"])
def test_selection_equals_sorted_pairwise_differences(path: str, kind: str) -> None:
    rng = np.random.default_rng({"continuous": 1, "counts": 2, "decimal": 3}[kind])
    x = np.sort(_ragged(rng, 40, 90, kind), axis=1)
    y = np.sort(_ragged(rng, 40, 70, kind), axis=1)
    n1 = np.sum(~np.isnan(x), axis=1)
    n2 = np.sum(~np.isnan(y), axis=1)
    mid = np.maximum(1, n1 * n2 // 2)
    # Consecutive and repeated ranks (the two middle ones of a median) take shortcuts.
    ranks = np.stack(
        [
            np.ones(40, int),
            n1 * n2,
            (n1 * n2 + 1) // 2,
            np.maximum(1, n1 * n2 // 3),
            mid,
            np.minimum(mid + 1, n1 * n2),
            np.minimum(mid + 1, n1 * n2),
        ],
        axis=1,
    )
    got = select_pairwise_differences(x, y, n1, n2, ranks)
    for r in range(40):
        diffs = np.sort(np.subtract.outer(x[r, : n1[r]], y[r, : n2[r]]).ravel())
        assert got[r].tolist() == diffs[ranks[r] - 1].tolist()


@pytest.mark.parametrize("kind", ["continuous", "counts", "decimal"])
def test_u_and_estimate_equal_brute_force(path: str, kind: str) -> None:
    rng = np.random.default_rng({"continuous": 4, "counts": 5, "decimal": 6}[kind])
    x = _ragged(rng, 30, 120, kind)
    y = _ragged(rng, 30, 60, kind)
    res = mann_whitney(x, y)
    for r in range(30):
        xr, yr = x[r][~np.isnan(x[r])], y[r][~np.isnan(y[r])]
        assert res.u[r] == _brute_u(xr, yr)
        assert res.estimate[r] == pytest.approx(np.median(np.subtract.outer(xr, yr)), abs=0)


def test_infinities_are_extreme_values(path: str) -> None:
    x = np.array([1.0, 2.0, np.inf, 3.0])
    y = np.array([-np.inf, 0.5, 1.5])
    res = mann_whitney(x, y)
    assert res.u == _brute_u(x, y)
    # The largest difference involves +inf and is reported as +inf; the smallest finite one
    # is 1 - 1.5.
    assert select_pairwise_differences(
        np.sort(x)[None], np.sort(y)[None], np.array([4]), np.array([3]), np.array([[12, 1]])
    ).tolist() == [[np.inf, -0.5]]


def test_paths_agree_on_a_mixed_batch() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate([_ragged(rng, 20, 200, k) for k in ("continuous", "counts", "decimal")])
    y = np.concatenate([_ragged(rng, 20, 150, k) for k in ("continuous", "counts", "decimal")])
    with compiled_kernels(False):
        plain = mann_whitney(x, y, confidence=0.9)
    with compiled_kernels(True):
        fast = mann_whitney(x, y, confidence=0.9)
    for field in ("u", "p_value", "estimate", "ci_low", "ci_high", "conf_level"):
        np.testing.assert_array_equal(getattr(plain, field), getattr(fast, field))


@pytest.mark.parametrize("kind", ["continuous", "counts", "decimal"])
def test_rank_sum_twins_agree(kind: str) -> None:
    if "compiled" not in PATHS:
        pytest.skip("numba is not installed")
    rng = np.random.default_rng({"continuous": 8, "counts": 9, "decimal": 10}[kind])
    x = np.sort(_ragged(rng, 30, 60, kind), axis=1)
    y = np.sort(_ragged(rng, 30, 50, kind), axis=1)
    n1, n2 = count_valid(x), count_valid(y)
    with compiled_kernels(True):
        fast = rank_sum_compiled(x, y, n1, n2)
    assert fast is not None
    for a, b in zip(fast, rank_sum_numpy(x, y, n1, n2), strict=True):
        np.testing.assert_array_equal(a, b)
