"""Order statistics of the pairwise differences of two samples, without materialising them.

The Hodges-Lehmann estimate and the Mann-Whitney interval are the k-th smallest of the ``n1 n2``
differences ``canary[i] - baseline[j]``.  The computed differences ``fl(x[i] - y[j])`` of sorted
samples form a matrix sorted along both axes (rounding is monotone), so the k-th one can be
selected with exact counting (Johnson & Mizoguchi 1978; Monahan 1984) in
``O((n1 + n2) log(n1 n2))`` per row instead of ``O(n1 n2)``.

Two paths give identical values: a batched numpy selection over all rows and targets at once
(:func:`select_numpy`), and its compiled twin (:func:`select_compiled`, numba) that walks each
row with two pointers; :func:`select_pairwise_differences` takes the compiled one where
:func:`canarystats.stats.compiled.compiled_enabled` allows and the batch is large enough to pay
for loading numba (:func:`canarystats.stats.compiled.worth_compiling`).
"""

from __future__ import annotations

from typing import cast

import numpy as np
from numpy.typing import NDArray

from canarystats.stats.compiled import call_kernel
from canarystats.stats.ranks import count_valid, merge_positions

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: rounds of bracket narrowing before giving up; each removes a quarter of the candidates at
#: least, so the guaranteed pivot converges long before
_MAX_ROUNDS = 400


def select_pairwise_differences(
    xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray, ranks: IntArray
) -> FloatArray:
    """The ``ranks``-th smallest pairwise differences ``x[i] - y[j]`` of each row.

    Parameters
    ----------
    xs, ys : ndarray
        Sorted rows (NaN last) with ``n1``/``n2`` valid values (each at least 1).
    n1, n2 : ndarray of int
        Valid values of each row.
    ranks : ndarray of int
        (rows, K) 1-based ranks in ``1..n1*n2``.

    Returns
    -------
    ndarray
        (rows, K) selected differences, each computed as ``x[i] - y[j]`` for one pair.

    Notes
    -----
    The computed differences ``fl(x[i] - y[j])`` form a matrix sorted along both axes (rounding
    is monotone); it is never materialised.  With numba installed, a compiled kernel walks each
    row with two pointers and random pivots (Monahan 1984), ``O((n1 + n2) log(n1 n2))`` per
    row.  Otherwise a batched numpy path counts a pivot's rank for all rows at once by one
    merge of the sorted baseline with the thresholds ``x[i] - v`` (corrected where rounding
    moves the boundary), shrinks brackets around each target by interpolation, falling back to
    the weighted median of row medians (Johnson & Mizoguchi 1978), and materialises only the
    last ``O(n1 + n2)`` candidates.  Both give identical values.  ``±inf`` are the most extreme
    values; a difference of two equal infinities counts as 0.

    Examples
    --------
    The smallest, the median pair and the largest of the four differences of (10, 20) and
    (1, 2):

    >>> x, y = np.array([[10.0, 20.0]]), np.array([[1.0, 2.0]])
    >>> select_pairwise_differences(x, y, np.array([2]), np.array([2]), np.array([[1, 2, 3, 4]]))
    array([[ 8.,  9., 18., 19.]])
    """
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    rows, k_count = ranks.shape
    if rows == 0:
        return np.full((rows, k_count), np.nan)
    xs, ys, big = _finite_surrogates(xs, ys, n1, n2)
    out = select_compiled(xs, ys, n1, n2, ranks)
    if out is None:
        out = select_numpy(xs, ys, n1, n2, ranks)
    if big is not None:
        out = np.where(out >= big[:, None] / 2, np.inf, out)
        out = np.where(out <= -big[:, None] / 2, -np.inf, out)
    return out


def select_compiled(
    xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray, ranks: IntArray
) -> FloatArray | None:
    """The compiled twin of :func:`select_numpy`; ``None`` where compiled kernels are off.

    Takes finite rows (:func:`select_pairwise_differences` replaces infinities first).

    Examples
    --------
    >>> from canarystats.stats.compiled import compiled_kernels
    >>> x, y, n, k = np.array([[3.0]]), np.array([[1.0]]), np.array([1]), np.array([[1]])
    >>> with compiled_kernels(False):
    ...     select_compiled(x, y, n, n, k)
    """
    return cast(
        "FloatArray | None", call_kernel("select", xs, ys, n1, n2, ranks, values=xs.size + ys.size)
    )


def select_numpy(
    xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray, ranks: IntArray
) -> FloatArray:
    """The plain numpy path: every target of every row in one batched selection.

    Takes finite rows (:func:`select_pairwise_differences` replaces infinities first).

    Examples
    --------
    >>> x, y = np.array([[10.0, 20.0]]), np.array([[1.0, 2.0]])
    >>> select_numpy(x, y, np.array([2]), np.array([2]), np.array([[2, 3]]))
    array([[ 9., 18.]])
    """
    k_count = ranks.shape[1]
    rows = xs.shape[0]
    # All targets of all rows go through one selection: a target is a row of the stacked batch.
    coarse = _coarse_grid(xs, ys, n1, n2)
    out = _select(
        np.repeat(xs, k_count, axis=0),
        np.repeat(ys, k_count, axis=0),
        np.repeat(n1, k_count),
        np.repeat(n2, k_count),
        ranks.ravel().astype(np.int64),
        np.repeat(coarse, k_count, axis=0),
    ).reshape(rows, k_count)
    return out


def _finite_surrogates(
    xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Replace ±inf by ±BIG, larger than any finite difference, so differences stay ordered.

    ``inf - inf`` then counts as 0 (tied extremes) and anything involving one infinity exceeds
    every finite difference; selected values beyond BIG/2 are reported as ±inf again.
    """
    inf_x = np.isinf(xs)
    inf_y = np.isinf(ys)
    if not (inf_x.any() or inf_y.any()):
        return xs, ys, None
    finite_x = np.where(np.isfinite(xs), np.abs(xs), 0.0).max(axis=1, initial=0.0)
    finite_y = np.where(np.isfinite(ys), np.abs(ys), 0.0).max(axis=1, initial=0.0)
    scale = np.maximum(finite_x, finite_y)
    big = np.minimum(np.maximum(scale, 1.0) * 2.0**8, 2.0**1000)
    xs = np.where(inf_x, np.sign(xs) * big[:, None], xs)
    ys = np.where(inf_y, np.sign(ys) * big[:, None], ys)
    return xs, ys, big


def _run_starts(sorted_rows: FloatArray) -> IntArray:
    """For each entry of sorted rows, the index where its run of equal values starts."""
    rows, n = sorted_rows.shape
    idx = np.broadcast_to(np.arange(n), (rows, n))
    new = np.ones((rows, n), dtype=bool)
    new[:, 1:] = sorted_rows[:, 1:] != sorted_rows[:, :-1]
    return np.maximum.accumulate(np.where(new, idx, 0), axis=1)


def _below_counts(
    xs: FloatArray, ys: FloatArray, pivot: FloatArray, y_run_start: IntArray, y_run_end: IntArray
) -> IntArray:
    """For each row and each x[i]: how many y[j] have ``fl(x[i] - y[j]) <= pivot``.

    The differences as computed in floating point form a matrix sorted along both axes
    (rounding is monotone), and the selection works on these values.  The count of row i is
    that of ``y >= fl(x[i] - v)``, from one merge of the sorted thresholds with the sorted
    baseline; rounding can put the boundary off by the run of equal baseline values next to
    it, so the boundary is then checked on the computed differences themselves and moved by
    whole runs of equal values until it is right.  Entries of NaN x give garbage that callers
    mask.
    """
    thresh = xs - pivot[:, None]
    below = merge_positions(thresh, ys) - np.arange(xs.shape[1])[None, :]
    n2 = count_valid(ys)[:, None]
    last = max(ys.shape[1] - 1, 0)
    piv = pivot[:, None]
    for _ in range(ys.shape[1] + 1):
        moved = False
        # The largest y not counted: counted after all if its difference rounds onto v.
        j = below - 1
        jc = np.clip(j, 0, last)
        with np.errstate(invalid="ignore"):
            add = (j >= 0) & ((xs - np.take_along_axis(ys, jc, axis=1)) <= piv)
        if add.any():
            below = np.where(add, np.take_along_axis(y_run_start, jc, axis=1), below)
            moved = True
        # The smallest y counted: not counted after all if its difference exceeds v.
        jc = np.clip(below, 0, last)
        with np.errstate(invalid="ignore"):
            drop = (below < n2) & ((xs - np.take_along_axis(ys, jc, axis=1)) > piv)
        if drop.any():
            below = np.where(drop, np.take_along_axis(y_run_end, jc, axis=1), below)
            moved = True
        if not moved:
            break
    return np.asarray(n2 - below, dtype=np.int64)


def _run_ends(sorted_rows: FloatArray) -> IntArray:
    """For each entry of sorted rows, the index just past its run of equal values."""
    rows, n = sorted_rows.shape
    idx = np.broadcast_to(np.arange(1, n + 1), (rows, n))
    last = np.ones((rows, n), dtype=bool)
    last[:, :-1] = sorted_rows[:, :-1] != sorted_rows[:, 1:]
    rev = np.where(last, idx, n + 1)[:, ::-1]
    return np.minimum.accumulate(rev, axis=1)[:, ::-1]


_COARSE = 24


def _coarse_grid(xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray) -> FloatArray:
    """Sorted differences of ``g`` evenly spaced order statistics of each sample.

    A coarse copy of the sorted difference matrix: each coarse cell stands for a block of
    about ``n1 n2 / g^2`` differences, so a coarse quantile is within about ``2 g`` coarse
    positions of the true one.  It gives the first bracket of every target.
    """
    g = _COARSE
    frac = (np.arange(g) + 0.5) / g
    rows = np.arange(xs.shape[0])[:, None]
    ix = np.minimum((frac[None, :] * n1[:, None]).astype(np.int64), (n1 - 1)[:, None])
    iy = np.minimum((frac[None, :] * n2[:, None]).astype(np.int64), (n2 - 1)[:, None])
    coarse = (xs[rows, ix][:, :, None] - ys[rows, iy][:, None, :]).reshape(xs.shape[0], g * g)
    coarse.sort(axis=1)
    return coarse


def _select(
    xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray, k: IntArray, coarse: FloatArray
) -> FloatArray:
    """The k-th smallest ``fl(x[i] - y[j])`` of each row (rows sorted, NaN last, n >= 1)."""
    brackets = _Brackets(xs, ys, n1, n2, k)
    # Start from the coarse bracket (exact counts at two coarse quantiles) when the matrix is
    # large.
    brackets.start_coarse(coarse)
    act = np.arange(xs.shape[0])
    for _ in range(_MAX_ROUNDS):
        act = brackets.settle(act)
        if act.size == 0:
            break
        act = brackets.shrink(act)
    else:  # pragma: no cover - the guaranteed pivot makes this unreachable
        raise RuntimeError("pairwise-difference selection did not converge")
    return brackets.answer


class _Brackets:
    """Per target, a bracket ``count(lo_v) < k <= count(hi_v)`` around its k-th difference.

    The per-x counts at both ends define the candidates in between; ``lo_next`` is the smallest
    difference above ``lo_v`` and ``hi_top`` the largest one at or below ``hi_v``, so the bracket
    is settled when they meet or when few enough candidates remain to sort them.
    """

    def __init__(
        self, xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray, k: IntArray
    ) -> None:
        total_rows, m = xs.shape
        self.xs, self.ys, self.n1, self.n2, self.k = xs, ys, n1, n2, k
        self.answer = np.full(total_rows, np.nan)
        self.y_run_start = _run_starts(ys)
        self.y_run_end = _run_ends(ys)
        self.valid_x = np.arange(m)[None, :] < n1[:, None]
        # Materialise once at most this many candidates remain: sorting them costs about one
        # count.
        self.cap = n1 + n2 + 32
        r = np.arange(total_rows)
        d_min = xs[r, 0] - ys[r, n2 - 1]
        d_max = xs[r, n1 - 1] - ys[r, 0]
        self.lo_v = np.nextafter(d_min, -np.inf)
        self.hi_v = d_max.copy()
        self.lo_c = np.zeros(total_rows, dtype=np.int64)
        self.hi_c = n1 * n2
        self.lo_cnt = np.zeros((total_rows, m), dtype=np.int64)
        self.hi_cnt = np.where(self.valid_x, n2[:, None], 0)
        self.lo_next = d_min.copy()  # smallest difference above lo
        self.hi_top = d_max.copy()  # largest difference <= hi
        self.stalls = np.zeros(total_rows, dtype=np.int64)

    def count(self, rows_: IntArray, pivot: FloatArray) -> tuple[IntArray, IntArray]:
        """Per-x counts of the differences <= ``pivot`` in ``rows_``, and their totals."""
        cnt = np.where(
            self.valid_x[rows_],
            _below_counts(
                self.xs[rows_],
                self.ys[rows_],
                pivot,
                self.y_run_start[rows_],
                self.y_run_end[rows_],
            ),
            0,
        )
        return cnt, cnt.sum(axis=1)

    def narrow(self, rows_: IntArray, pivot: FloatArray, cnt: IntArray, tot: IntArray) -> None:
        """Move the upper end to ``pivot`` where it holds the target, the lower end elsewhere."""
        top, nxt = _neighbours(
            self.xs[rows_], self.ys[rows_], self.n2[rows_], cnt, self.valid_x[rows_]
        )
        up = tot >= self.k[rows_]
        hs, ls = rows_[up], rows_[~up]
        self.hi_v[hs], self.hi_c[hs], self.hi_cnt[hs], self.hi_top[hs] = (
            pivot[up],
            tot[up],
            cnt[up],
            top[up],
        )
        self.lo_v[ls], self.lo_c[ls], self.lo_cnt[ls], self.lo_next[ls] = (
            pivot[~up],
            tot[~up],
            cnt[~up],
            nxt[~up],
        )

    def count_narrow(self, rows_: IntArray, pivots: FloatArray) -> None:
        """Count at one or more pivots per row (one merge for all) and narrow the brackets."""
        if pivots.ndim == 1:
            pivots = pivots[:, None]
        inside = (pivots > self.lo_v[rows_, None]) & (pivots < self.hi_v[rows_, None])
        rr = np.broadcast_to(rows_[:, None], pivots.shape)[inside]
        pv = pivots[inside]
        if rr.size == 0:
            return
        cnt, tot = self.count(rr, pv)
        # Narrow with the pivots in ascending order so the tightest one wins on each side.
        order = np.argsort(pv, kind="stable")
        rr_o, pv_o, cnt_o, tot_o = rr[order], pv[order], cnt[order], tot[order]
        up = tot_o >= self.k[rr_o]
        # lower ends: keep the largest pivot below; upper ends: the smallest above
        ls = np.flatnonzero(~up)
        hs = np.flatnonzero(up)[::-1]
        for group in (ls, hs):
            if group.size:
                self.narrow(rr_o[group], pv_o[group], cnt_o[group], tot_o[group])

    def start_coarse(self, coarse: FloatArray) -> None:
        """Bracket each large target between two coarse quantiles around its expected place."""
        big_rows = np.flatnonzero(self.hi_c > self.cap)
        if big_rows.size:
            g2 = coarse.shape[1]
            k, n1, n2 = self.k[big_rows], self.n1[big_rows], self.n2[big_rows]
            centre = ((k - 0.5) / (n1 * n2) * g2).astype(np.int64)
            width = 2 * _COARSE
            pick = np.stack(
                [np.clip(centre - width, 0, g2 - 1), np.clip(centre + width, 0, g2 - 1)], 1
            )
            self.count_narrow(big_rows, np.take_along_axis(coarse[big_rows], pick, axis=1))

    def settle(self, act: IntArray) -> IntArray:
        """Answer what can be answered without another count; return the targets left."""
        same = self.lo_next[act] == self.hi_top[act]
        self.answer[act[same]] = self.hi_top[act[same]]
        small = ~same & ((self.hi_c[act] - self.lo_c[act]) <= self.cap[act])
        if small.any():
            sm = act[small]
            self.answer[sm] = _select_band(
                self.xs[sm],
                self.ys[sm],
                self.lo_cnt[sm],
                self.hi_cnt[sm],
                self.n2[sm],
                self.k[sm] - self.lo_c[sm],
            )
        return act[~same & ~small]

    def shrink(self, act: IntArray) -> IntArray:
        """One round of counting for every open target; return the targets still open.

        Interpolation in the bracket is fast on smooth data; after two stalls the weighted
        median of row medians, a difference itself, removes a quarter of the candidates.
        """
        lo_v, hi_v, lo_c, hi_c, k = self.lo_v, self.hi_v, self.lo_c, self.hi_c, self.k
        before = hi_c[act] - lo_c[act]
        frac = (k[act] - lo_c[act] - 0.5) / np.maximum(before, 1)
        with np.errstate(invalid="ignore", over="ignore"):
            pivot = lo_v[act] + (hi_v[act] - lo_v[act]) * frac
        jm = (
            (self.stalls[act] >= 2)
            | ~np.isfinite(pivot)
            | (pivot <= lo_v[act])
            | (pivot >= hi_v[act])
        )
        interp = ~jm
        if interp.any():
            self.interpolate(act[interp])
        keep = np.ones(act.size, dtype=bool)
        if jm.any():
            hit = self.median_pivot(act[jm])
            keep[np.flatnonzero(jm)[hit]] = False
        after = hi_c[act] - lo_c[act]
        self.stalls[act[interp]] = np.where(
            after[interp] * 2 > before[interp], self.stalls[act[interp]] + 1, 0
        )
        return act[keep]

    def interpolate(self, sub: IntArray) -> None:
        """Count at two pivots a little below and above the interpolated rank.

        One round then usually closes the bracket from both sides.
        """
        lo_v, hi_v, lo_c, hi_c, k = self.lo_v, self.hi_v, self.lo_c, self.hi_c, self.k
        span = np.maximum(hi_c[sub] - lo_c[sub], 1)
        delta = np.maximum(self.cap[sub] // 3, 1)
        lo_rank = np.maximum(k[sub] - delta, lo_c[sub] + 1)
        hi_rank = np.minimum(k[sub] + delta, hi_c[sub] - 1)
        width_v = hi_v[sub] - lo_v[sub]
        with np.errstate(invalid="ignore", over="ignore"):
            p1 = lo_v[sub] + width_v * ((lo_rank - lo_c[sub] - 0.5) / span)
            p2 = lo_v[sub] + width_v * ((hi_rank - lo_c[sub] + 0.5) / span)
        self.count_narrow(sub, np.stack([p1, p2], axis=1))

    def median_pivot(self, sub: IntArray) -> NDArray[np.bool_]:
        """Count at the weighted median of row medians; return where it is the answer."""
        k = self.k
        pv = _weighted_median_pivot(
            self.xs[sub], self.ys[sub], self.n2[sub], self.lo_cnt[sub], self.hi_cnt[sub]
        )
        cnt, tot = self.count(sub, pv)
        # The pivot is a difference that may sit in a run of equal ones: count those
        # strictly below too (a three-way partition), so a run never stalls the bracket.
        below_pv = np.nextafter(pv, -np.inf)
        cnt_lt, tot_lt = self.count(sub, below_pv)
        hit = (tot_lt < k[sub]) & (tot >= k[sub])
        self.answer[sub[hit]] = pv[hit]
        up = ~hit & (tot_lt >= k[sub])
        if up.any():
            self.narrow(sub[up], below_pv[up], cnt_lt[up], tot_lt[up])
        dn = ~hit & ~up
        if dn.any():
            self.narrow(sub[dn], pv[dn], cnt[dn], tot[dn])
        self.stalls[sub] = 0
        return hit


def _neighbours(
    xs: FloatArray, ys: FloatArray, n2: IntArray, cnt: IntArray, valid_x: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray]:
    """Largest difference counted (<= pivot) and smallest not counted, from per-x counts."""
    rows = np.arange(xs.shape[0])[:, None]
    # In row i the counted differences are x[i] - y[j] for the cnt largest y.
    j_top = n2[:, None] - cnt  # index of the smallest y counted
    j_next = j_top - 1  # the largest y not counted
    has_top = valid_x & (cnt > 0)
    has_next = valid_x & (j_next >= 0)
    y_top = ys[rows, np.clip(j_top, 0, ys.shape[1] - 1)]
    y_next = ys[rows, np.clip(j_next, 0, ys.shape[1] - 1)]
    top = np.where(has_top, xs - y_top, -np.inf).max(axis=1, initial=-np.inf)
    nxt = np.where(has_next, xs - y_next, np.inf).min(axis=1, initial=np.inf)
    return top, nxt


def _weighted_median_pivot(
    xs: FloatArray, ys: FloatArray, n2: IntArray, lo_cnt: IntArray, hi_cnt: IntArray
) -> FloatArray:
    """Weighted median of the middle candidates of each x row (Johnson & Mizoguchi's pivot).

    Candidates of row i are x[i] - y[j] for j in [n2 - hi_cnt, n2 - lo_cnt); the pivot is a
    candidate itself, and at least a quarter of all candidates lie on each side of it.
    """
    rows = np.arange(xs.shape[0])[:, None]
    j_start = n2[:, None] - hi_cnt
    j_stop = n2[:, None] - lo_cnt
    weight = np.maximum(j_stop - j_start, 0)
    j_mid = np.clip((j_start + j_stop - 1) // 2, 0, ys.shape[1] - 1)
    value = np.where(weight > 0, xs - ys[rows, j_mid], np.inf)
    order = np.argsort(value, axis=1)
    w_sorted = np.take_along_axis(weight, order, axis=1)
    cum = np.cumsum(w_sorted, axis=1)
    half = (cum[:, -1] + 1) // 2
    pick = np.argmax(cum >= half[:, None], axis=1)
    return np.take_along_axis(value, order, axis=1)[np.arange(xs.shape[0]), pick]


def _select_band(
    xs: FloatArray,
    ys: FloatArray,
    lo_cnt: IntArray,
    hi_cnt: IntArray,
    n2: IntArray,
    k_in_band: IntArray,
) -> FloatArray:
    """Materialise the candidates between the brackets and pick the k-th smallest of each row."""
    rows, m = xs.shape
    j_start = (n2[:, None] - hi_cnt).ravel()
    length = np.maximum(hi_cnt - lo_cnt, 0).ravel()
    total = length.reshape(rows, m).sum(axis=1)
    owner_x = np.repeat(np.arange(rows * m), length)
    offsets = np.repeat(np.cumsum(length) - length, length)
    j = np.repeat(j_start, length) + (np.arange(owner_x.size) - offsets)
    r = owner_x // m
    vals = xs.ravel()[owner_x] - ys[r, j]
    width = int(total.max()) if rows else 0
    padded = np.full((rows, max(width, 1)), np.inf)
    row_start = np.cumsum(total) - total
    col = np.arange(owner_x.size) - np.repeat(row_start, total)
    padded[r, col] = vals
    padded.sort(axis=1)
    pick = np.clip(k_in_band - 1, 0, max(width - 1, 0))
    return padded[np.arange(rows), pick]
