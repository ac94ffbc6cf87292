"""Compiled kernels of the Mann-Whitney test (optional, with numba).

The plain numpy paths in :mod:`canarystats.stats.mannwhitney` work on whole batches with
merges; the compiled kernels walk each row's sorted samples with two pointers instead, which is
far cheaper per row (``benchmarks/RESULTS.md`` records the measured ratios).  They are used when
numba is installed (``pip install canarystats[fast]``) and give exactly the same values: the
rank sum and tie term of the merged samples, and the k-th smallest of the computed differences
``fl(x[i] - y[j])``.  numba itself is imported on the first call, not with canarystats.
``CANARYSTATS_NO_NUMBA=1`` turns the kernels off.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import Any

import numpy as np

AVAILABLE = not os.environ.get("CANARYSTATS_NO_NUMBA") and (
    importlib.util.find_spec("numba") is not None
)


def _rank_sum(
    xs: np.ndarray, ys: np.ndarray, n1: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from canarystats.stats import _numba_kernels

    return _numba_kernels.rank_sum(xs, ys, n1, n2)


def _select(
    xs: np.ndarray, ys: np.ndarray, n1: np.ndarray, n2: np.ndarray, ranks: np.ndarray
) -> np.ndarray:
    from canarystats.stats import _numba_kernels

    return _numba_kernels.select(xs, ys, n1, n2, ranks)


rank_sum_compiled: Callable[..., Any] | None = _rank_sum if AVAILABLE else None
select_compiled: Callable[..., Any] | None = _select if AVAILABLE else None
