"""Rank sums of two sorted samples per row: the U statistic, its tie term, merge positions.

The numpy path merges each row's sorted samples with one stable sort; its compiled twin
(:func:`canarystats.stats.numba_kernels.rank_sum`) walks them with two pointers.  Both give
exactly the same values; :func:`rank_sum` takes the compiled one where
:func:`canarystats.stats.compiled.compiled_enabled` allows and the batch is large enough to pay
for loading numba (:func:`canarystats.stats.compiled.worth_compiling`).
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.typing import NDArray

from canarystats.stats.compiled import call_kernel

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
RankSum = tuple[FloatArray, FloatArray, NDArray[np.bool_]]


def count_valid(sorted_rows: FloatArray) -> IntArray:
    """Non-missing values of each sorted row (NaN sorts last, so they are a prefix).

    Examples
    --------
    >>> count_valid(np.array([[1.0, 2.0, np.nan], [np.nan, np.nan, np.nan]])).tolist()
    [2, 0]
    """
    return sorted_rows.shape[1] - np.count_nonzero(np.isnan(sorted_rows), axis=1).astype(np.int64)


def u_statistic(canary: FloatArray, baseline: FloatArray) -> tuple[FloatArray, IntArray, IntArray]:
    """U statistic of each row (ties counted half) and the non-missing sizes, for 2-D input.

    Examples
    --------
    >>> u, n1, n2 = u_statistic(np.array([[3.0, 4.0]]), np.array([[1.0, 3.0]]))
    >>> u.tolist(), n1.tolist(), n2.tolist()
    ([3.5], [2], [2])
    """
    xs = np.sort(canary, axis=1)
    ys = np.sort(baseline, axis=1)
    n1 = count_valid(xs)
    n2 = count_valid(ys)
    u, _, _ = rank_sum(xs, ys, n1, n2)
    u[(n1 == 0) | (n2 == 0)] = np.nan
    return u, n1, n2


def rank_sum(xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray) -> RankSum:
    """U of each row with average ranks, the tie term sum(t^3 - t) and whether any tie exists.

    Parameters
    ----------
    xs, ys : ndarray
        Sorted rows (NaN last).
    n1, n2 : ndarray of int
        Valid values of each row (:func:`count_valid`).

    Returns
    -------
    u, tie_term, has_ties : ndarray

    Notes
    -----
    In the merge (canary first at ties) the i-th canary value at position p has ``p - i``
    baseline values strictly below it; summing over the canary gives U without ties.  Rows with
    ties get the half counts and the tie term from their groups of equal values.

    Examples
    --------
    >>> u, ties, tied = rank_sum(np.array([[1.0, 3.0]]), np.array([[2.0, 3.0]]), [2], [2])
    >>> u.tolist(), ties.tolist(), tied.tolist()
    ([1.5], [6.0], [True])
    """
    n1 = np.asarray(n1, dtype=np.int64)
    n2 = np.asarray(n2, dtype=np.int64)
    compiled = rank_sum_compiled(xs, ys, n1, n2)
    if compiled is not None:
        return compiled
    return rank_sum_numpy(xs, ys, n1, n2)


def rank_sum_compiled(xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray) -> RankSum | None:
    """The compiled twin of :func:`rank_sum_numpy`; ``None`` where compiled kernels are off.

    Examples
    --------
    >>> from canarystats.stats.compiled import compiled_kernels
    >>> with compiled_kernels(False):
    ...     rank_sum_compiled(np.ones((1, 1)), np.ones((1, 1)), np.ones(1, int), np.ones(1, int))
    """
    return cast("RankSum | None", call_kernel("rank_sum", xs, ys, n1, n2, values=xs.size + ys.size))


def rank_sum_numpy(xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray) -> RankSum:
    """The plain numpy path of :func:`rank_sum`: one stable merge of every row at once.

    Examples
    --------
    >>> u, _, _ = rank_sum_numpy(np.array([[1.0, 3.0]]), np.array([[2.0, 3.0]]), [2], [2])
    >>> u.tolist()
    [1.5]
    """
    n1 = np.asarray(n1, dtype=np.int64)
    n2 = np.asarray(n2, dtype=np.int64)
    m, width = xs.shape[1], xs.shape[1] + ys.shape[1]
    z, order = _merge_order(xs, ys)
    is_x = order < m
    # Valid values come first in the merge (NaN sorts last), so masking positions past
    # n1 + n2 keeps exactly the valid canary values.
    pos = np.arange(width, dtype=np.float64)
    is_x &= pos[None, :] < (n1 + n2)[:, None]
    u = is_x.astype(np.float64) @ pos - n1 * (n1 - 1) / 2.0
    merged = np.take_along_axis(z, order, axis=1)
    has_ties = _has_adjacent_equal(merged)
    tie_term = np.zeros(xs.shape[0])
    tied = np.flatnonzero(has_ties)
    if tied.size:
        sizes, first = _groups(merged[tied])
        x_in_group = _group_totals(is_x[tied], sizes, first)
        valid = ~np.isnan(merged[tied])
        y_in_group = np.where(valid, sizes, 0) - x_in_group
        # Canary values in a group were counted as above none of the group's baseline values
        # (canary first at ties); each tied pair adds one half.
        u[tied] += 0.5 * np.where(is_x[tied], y_in_group, 0).sum(axis=1)
        tie_term[tied] = np.where(valid, sizes.astype(np.float64) ** 2 - 1.0, 0.0).sum(axis=1)
    return u, tie_term, has_ties


def merge_positions(a: FloatArray, b: FloatArray) -> IntArray:
    """Positions of ``a``'s entries in the row-wise merge of sorted ``a`` and sorted ``b``.

    Ties put ``a`` first, so ``position[i] - i`` is the number of ``b`` values strictly below
    ``a[i]``.

    Examples
    --------
    >>> merge_positions(np.array([[1.0, 3.0]]), np.array([[1.0, 2.0]])).tolist()
    [[0, 3]]
    """
    _, order = _merge_order(a, b)
    pos = np.empty_like(order)
    np.put_along_axis(pos, order, np.arange(order.shape[1])[None, :], axis=1)
    return pos[:, : a.shape[1]]


def tie_term(sorted_rows: FloatArray) -> FloatArray:
    """sum(t^3 - t) over the groups of equal values of each sorted row (NaN entries excluded).

    Examples
    --------
    >>> tie_term(np.array([[1.0, 1.0, 2.0, np.nan, np.nan]])).tolist()
    [6.0]
    """
    sizes = _groups(sorted_rows)[0].astype(np.float64)
    contrib = np.where(np.isnan(sorted_rows), 0.0, sizes * sizes - 1.0)
    # Each group of size t contributes t entries of (t^2 - 1): t^3 - t in all.
    return np.asarray(contrib.sum(axis=1), dtype=np.float64)


def _merge_order(a: FloatArray, b: FloatArray) -> tuple[FloatArray, IntArray]:
    """Row-wise merge of sorted ``a`` and sorted ``b``: the concatenation and the merge order.

    Both inputs are sorted runs (NaN last), so the stable sort is a linear merge; ties put
    ``a`` first.
    """
    z = np.concatenate([a, b], axis=1)
    return z, np.argsort(z, axis=1, kind="stable")


def _has_adjacent_equal(sorted_rows: FloatArray) -> NDArray[np.bool_]:
    if sorted_rows.shape[1] < 2:
        return np.zeros(sorted_rows.shape[0], dtype=bool)
    return np.any(sorted_rows[:, 1:] == sorted_rows[:, :-1], axis=1)


def _groups(sorted_rows: FloatArray) -> tuple[IntArray, IntArray]:
    """For each entry of sorted rows: the size of its group of equal values and the group's
    flat index of first entry (NaN entries are groups of one)."""
    rows, n = sorted_rows.shape
    new = np.ones((rows, n), dtype=bool)
    new[:, 1:] = sorted_rows[:, 1:] != sorted_rows[:, :-1]
    gid = np.cumsum(new.ravel()) - 1
    sizes = np.bincount(gid)
    return sizes[gid].reshape(rows, n), gid.reshape(rows, n)


def _group_totals(flags: NDArray[np.bool_], sizes: IntArray, gid: IntArray) -> IntArray:
    """For each entry: how many entries of its group have ``flags`` set."""
    totals = np.bincount(gid.ravel(), weights=flags.ravel().astype(np.float64))
    return totals[gid].astype(np.int64)
