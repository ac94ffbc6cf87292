"""The numba kernels: compiled twins of the rank sum and of the pairwise-difference selection.

Imported only through :func:`canarystats.stats.compiled.call_kernel`, on the first compiled
call, so canarystats loads without numba.  Each public function here gives exactly the values of
its numpy twin (:func:`canarystats.stats.ranks.rank_sum`,
:func:`canarystats.stats.pairwise.select_pairwise_differences`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from canarystats.stats.compiled import KERNELS

# On disk where a cache folder can be written, in memory only where none can (compiled.py
# decides, and imports this module again without the cache when it must).
_CACHE = KERNELS.cache


@njit(cache=_CACHE, nogil=True)
def _rank_sum_ties(x, m, y, n):  # type: ignore[no-untyped-def]
    # Merge a group of equal values at a time: each canary value of a group is above every
    # baseline value before the group and ties with those in it.
    i = 0
    j = 0
    total = 0.0
    ties = 0.0
    while i < m or j < n:
        v = x[i] if j >= n or (i < m and x[i] <= y[j]) else y[j]
        cx = 0
        while i < m and x[i] == v:
            cx += 1
            i += 1
        cy = 0
        while j < n and y[j] == v:
            cy += 1
            j += 1
        total += cx * (j - cy) + 0.5 * cx * cy
        t = cx + cy
        if t > 1:
            ties += float(t) * t * t - t
    return total, ties


@njit(cache=_CACHE, nogil=True)
def _rank_sum_all(xs, ys, n1, n2, u, tie_term, has_ties):  # type: ignore[no-untyped-def]
    for r in range(xs.shape[0]):
        x = xs[r]
        y = ys[r]
        m = n1[r]
        n = n2[r]
        # Fast path, branch-free: pairs with y < x, and whether any value repeats.
        i = 0
        j = 0
        below = 0
        equal = False
        while i < m and j < n:
            yv = y[j]
            xv = x[i]
            step_y = yv < xv
            equal |= yv == xv
            below += (1 - step_y) * j
            j += step_y
            i += 1 - step_y
        below += (m - i) * j
        for a in range(1, m):
            equal |= x[a] == x[a - 1]
        for b in range(1, n):
            equal |= y[b] == y[b - 1]
        if equal:
            total, ties = _rank_sum_ties(x, m, y, n)
            u[r] = total
            tie_term[r] = ties
            has_ties[r] = ties > 0.0
        else:
            u[r] = below
            tie_term[r] = 0.0
            has_ties[r] = False


def rank_sum(
    xs: np.ndarray, ys: np.ndarray, n1: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """U of each row (ties half), the tie term sum(t^3 - t) and whether any tie exists.

    Parameters
    ----------
    xs, ys : ndarray
        Sorted rows (NaN last) with ``n1``/``n2`` valid values.
    n1, n2 : ndarray of int
        Valid values of each row.

    Returns
    -------
    u, tie_term, has_ties : ndarray

    Examples
    --------
    >>> u, ties, tied = rank_sum(np.array([[1.0, 3.0]]), np.array([[2.0, 3.0]]), [2], [2])
    >>> u.tolist(), ties.tolist(), tied.tolist()
    ([1.5], [6.0], [True])
    """
    rows = xs.shape[0]
    u = np.empty(rows)
    tie_term = np.empty(rows)
    has_ties = np.empty(rows, dtype=np.bool_)
    _rank_sum_all(
        np.ascontiguousarray(xs),
        np.ascontiguousarray(ys),
        np.ascontiguousarray(n1, dtype=np.int64),
        np.ascontiguousarray(n2, dtype=np.int64),
        u,
        tie_term,
        has_ties,
    )
    return u, tie_term, has_ties


@njit(cache=_CACHE, nogil=True)
def _count(x, m, y, n, v, strict, lo, hi, cnt):  # type: ignore[no-untyped-def]
    # Row i holds x[i] - y[j]; those <= v are the y[j] at or above a boundary that only
    # moves right as x[i] grows (rounding is monotone), so one pass counts all rows.  The
    # count of row i is known to lie in [lo[i], hi[i]], which bounds the boundary: rows
    # already settled cost nothing.
    j = 0
    total = 0
    for i in range(m):
        if lo[i] == hi[i]:
            cnt[i] = lo[i]
            total += lo[i]
            continue
        j = max(j, n - hi[i])
        stop = n - lo[i]
        xi = x[i]
        if strict:
            while j < stop and xi - y[j] >= v:
                j += 1
        else:
            while j < stop and xi - y[j] > v:
                j += 1
        cnt[i] = n - j
        total += n - j
    return total


@njit(cache=_CACHE, nogil=True)
def _select_row(x, m, y, n, k, lo, hi, cnt_le, cnt_lt, buf, seed):  # type: ignore[no-untyped-def]
    # The k-th and (k+1)-th smallest element (the second is +inf when k = m n).
    # Candidates of row i are its elements c in [lo[i], hi[i]) in ascending order, element
    # c being x[i] - y[n - 1 - c].  A random candidate as pivot (Monahan 1984) removes
    # about half of them per round in expectation; the answer does not depend on the
    # pivots, so the fixed seed only fixes the work, never the result.
    for i in range(m):
        lo[i] = 0
        hi[i] = n
    below = 0
    active = m * n
    cap = max(m + n, 64)
    state = np.uint64(seed) | np.uint64(1)
    while active > cap:
        state ^= state << np.uint64(13)
        state ^= state >> np.uint64(7)
        state ^= state << np.uint64(17)
        r = np.int64(state % np.uint64(active))
        acc = 0
        pi = 0
        pc = 0
        for i in range(m):
            w = hi[i] - lo[i]
            if r < acc + w:
                pi = i
                pc = lo[i] + (r - acc)
                break
            acc += w
        v = x[pi] - y[n - 1 - pc]
        t_le = _count(x, m, y, n, v, False, lo, hi, cnt_le)
        if t_le < k:
            for i in range(m):
                lo[i] = max(lo[i], cnt_le[i])
            below = t_le
        else:
            t_lt = _count(x, m, y, n, v, True, lo, hi, cnt_lt)
            if t_lt < k:
                if t_le > k:
                    return v, v
                # The next element is the smallest one above v in any row.
                nxt = np.inf
                for i in range(m):
                    if cnt_le[i] < n:
                        nxt = min(nxt, x[i] - y[n - 1 - cnt_le[i]])
                return v, nxt
            for i in range(m):
                hi[i] = min(hi[i], cnt_lt[i])
        active = 0
        for i in range(m):
            active += hi[i] - lo[i]
    p = 0
    for i in range(m):
        for c in range(lo[i], hi[i]):
            buf[p] = x[i] - y[n - 1 - c]
            p += 1
    q = k - below - 1
    part = np.partition(buf[:p], q)
    nxt = np.inf
    if q + 1 < p:
        for a in range(q + 1, p):
            nxt = min(nxt, part[a])
    else:
        for i in range(m):
            if hi[i] < n:
                nxt = min(nxt, x[i] - y[n - 1 - hi[i]])
    return part[q], nxt


@njit(cache=_CACHE, nogil=True)
def _select_all(xs, ys, n1, n2, ranks, out):  # type: ignore[no-untyped-def]
    rows, kk = ranks.shape
    mmax = xs.shape[1]
    nmax = ys.shape[1]
    lo = np.empty(mmax, np.int64)
    hi = np.empty(mmax, np.int64)
    cnt_le = np.empty(mmax, np.int64)
    cnt_lt = np.empty(mmax, np.int64)
    # Holds the last candidates (at most max(m + n, 64)), or a whole small matrix.
    buf = np.empty(max(mmax + nmax, 64) * 4, np.float64)
    for r in range(rows):
        m = n1[r]
        n = n2[r]
        if m == 0 or n == 0:
            continue
        last_k = -1
        last_v = np.nan
        last_next = np.nan
        for t in range(kk):
            k = ranks[r, t]
            # A target equal to, or just after, the previous one (the two middle ranks of
            # the median) comes for free.
            if k == last_k:
                out[r, t] = last_v
                continue
            if k == last_k + 1:
                out[r, t] = last_next
                continue
            if m * n <= buf.size:
                # Small matrix: materialise and select directly.
                p = 0
                for i in range(m):
                    for j in range(n):
                        buf[p] = xs[r, i] - ys[r, j]
                        p += 1
                part = np.partition(buf[:p], k - 1)
                v = part[k - 1]
                nxt = np.inf
                for a in range(k, p):
                    nxt = min(nxt, part[a])
            else:
                v, nxt = _select_row(
                    xs[r], m, ys[r], n, k, lo, hi, cnt_le, cnt_lt, buf, 0x2545F4914F6CDD1D ^ r
                )
            out[r, t] = v
            last_k, last_v, last_next = k, v, nxt


def select(
    xs: np.ndarray, ys: np.ndarray, n1: np.ndarray, n2: np.ndarray, ranks: np.ndarray
) -> np.ndarray:
    """The ``ranks``-th smallest pairwise differences ``x[i] - y[j]`` of each row.

    Parameters
    ----------
    xs, ys : ndarray
        Sorted finite rows (NaN last) with ``n1``/``n2`` valid values.
    n1, n2 : ndarray of int
        Valid values of each row; rows with none are left NaN.
    ranks : ndarray of int
        ``(rows, K)`` 1-based ranks in ``1..n1*n2``.

    Returns
    -------
    ndarray
        ``(rows, K)`` selected differences.

    Examples
    --------
    >>> select(np.array([[10.0, 20.0]]), np.array([[1.0, 2.0]]), [2], [2], np.array([[1, 4]]))
    array([[ 8., 19.]])
    """
    out = np.full(ranks.shape, np.nan)
    _select_all(
        np.ascontiguousarray(xs, dtype=np.float64),
        np.ascontiguousarray(ys, dtype=np.float64),
        np.ascontiguousarray(n1, dtype=np.int64),
        np.ascontiguousarray(n2, dtype=np.int64),
        np.ascontiguousarray(ranks, dtype=np.int64),
        out,
    )
    return out
