"""Effect sizes and descriptive statistics, batched over rows like every kernel.

Inputs are 1-D (one metric) or 2-D (one row per metric, NaN-padded); NaN means missing and is
ignored, ``±inf`` are kept as extreme values.  1-D input gives scalars, 2-D input gives arrays
over rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarystats.stats.ranks import u_statistic
from canarystats.stats.rows import as_rows, concat_rows, row_blocks, scalar_or_rows


def _nanmean(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(rows, axis=1)


def _nanmedian(rows: NDArray[np.float64]) -> NDArray[np.float64]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(rows, axis=1)


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    # A ratio against a zero (or missing) baseline has no meaning: NaN, never inf.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = num / den
    out[(den == 0) | ~np.isfinite(den) | ~np.isfinite(out)] = np.nan
    return out


def mean_ratio(canary: ArrayLike, baseline: ArrayLike) -> float | NDArray[np.float64]:
    """Ratio of the canary mean to the baseline mean, per row.

    Parameters
    ----------
    canary, baseline : array_like
        1-D samples, or 2-D arrays with one row per metric (NaN-padded).

    Returns
    -------
    float or ndarray
        ``mean(canary) / mean(baseline)``; NaN where the baseline mean is 0 or not finite,
        where either side has no values, and where the ratio overflows (a baseline of 1e-308).

    Examples
    --------
    >>> mean_ratio([2.0, 4.0], [1.0, 2.0])
    2.0
    """
    c, one = as_rows(canary)
    b, _ = as_rows(baseline)
    out = concat_rows(
        [_ratio(_nanmean(c[s]), _nanmean(b[s])) for s in row_blocks(len(c), c.shape[1])]
    )
    return scalar_or_rows(out, one)


def median_ratio(canary: ArrayLike, baseline: ArrayLike) -> float | NDArray[np.float64]:
    """Ratio of the canary median to the baseline median, per row (NaN for a zero baseline).

    Examples
    --------
    >>> median_ratio([1.0, 3.0, 100.0], [1.0, 1.5, 2.0])
    2.0
    """
    c, one = as_rows(canary)
    b, _ = as_rows(baseline)
    return scalar_or_rows(_ratio(_nanmedian(c), _nanmedian(b)), one)


def cles(canary: ArrayLike, baseline: ArrayLike) -> float | NDArray[np.float64]:
    """Common-language effect size: P(canary value > baseline value), ties counted half.

    This is the Vargha-Delaney A (Kayenta's ``CLES``): 0.5 means no effect, 1 means every canary
    value exceeds every baseline value.  It equals ``U / (n_canary * n_baseline)`` with U from
    :func:`canarystats.stats.mann_whitney`.

    Examples
    --------
    >>> cles([3.0, 4.0], [1.0, 3.0])
    0.875
    """
    c, one = as_rows(canary)
    b, _ = as_rows(baseline)
    parts = []
    for s in row_blocks(len(c), c.shape[1] + b.shape[1]):
        u, n1, n2 = u_statistic(c[s], b[s])
        with np.errstate(divide="ignore", invalid="ignore"):
            parts.append(u / (n1 * n2))
    return scalar_or_rows(concat_rows(parts), one)


@dataclass(frozen=True)
class Description:
    """Descriptive statistics of each row: n, mean, median, std (n-1), min, max, sum, percentiles.

    ``percentiles`` maps each requested percentile (0-100, R-7 / numpy ``linear``) to its values.
    Rows without values have n = 0 and NaN elsewhere (sum 0).
    """

    n: int | NDArray[np.int64]
    mean: float | NDArray[np.float64]
    median: float | NDArray[np.float64]
    std: float | NDArray[np.float64]
    min: float | NDArray[np.float64]
    max: float | NDArray[np.float64]
    sum: float | NDArray[np.float64]
    percentiles: dict[float, float | NDArray[np.float64]] = field(default_factory=dict)


def describe(values: ArrayLike, percentiles: Sequence[float] = (50, 95, 99)) -> Description:
    """Describe each row: count, mean, median, sample std, min, max, sum and percentiles.

    Parameters
    ----------
    values : array_like
        1-D sample or 2-D array with one row per metric (NaN-padded).
    percentiles : sequence of float
        Percentiles in [0, 100], computed by linear interpolation (R type 7, numpy's default,
        the definition Kayenta uses).

    Examples
    --------
    >>> d = describe([1.0, 2.0, 3.0, float("nan")], percentiles=[50])
    >>> d.n, d.mean, d.std, d.percentiles[50]
    (3, 2.0, 1.0, 2.0)
    """
    v, one = as_rows(values)
    qs = [float(q) for q in percentiles]
    for q in qs:
        if not 0.0 <= q <= 100.0:
            raise ValueError(f"percentile {q} is outside [0, 100]")
    if one:
        return _describe_rows(v, qs, one)
    return concat_rows([_describe_rows(v[s], qs, one) for s in row_blocks(len(v), v.shape[1])])


def _describe_rows(v: NDArray[np.float64], qs: list[float], one: bool) -> Description:
    # One sort per row gives min, max, median and every percentile (NaN sorts last).
    s = np.sort(v, axis=1)
    rows, width = s.shape
    n = width - np.count_nonzero(np.isnan(s), axis=1).astype(np.int64)
    empty = n == 0
    r = np.arange(rows)
    last = np.maximum(n - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(s, axis=1)
        mean = np.where(empty, np.nan, total / np.maximum(n, 1))
        dev = np.where(np.isnan(s), 0.0, s - mean[:, None])
        std = np.sqrt(np.sum(dev * dev, axis=1) / (n - 1))
    std = np.where(n == 1, 0.0, np.where(empty, np.nan, std))
    if width:
        lo, hi = s[r, 0], s[r, last]
    else:
        lo = hi = np.zeros(rows)
    lo = np.where(empty, np.nan, lo)
    hi = np.where(empty, np.nan, hi)
    pct = {q: _percentile_sorted(s, n, q) for q in qs}
    median = _median_sorted(s, n)
    return Description(
        n=scalar_or_rows(n, one),
        mean=scalar_or_rows(mean, one),
        median=scalar_or_rows(median, one),
        std=scalar_or_rows(std, one),
        min=scalar_or_rows(lo, one),
        max=scalar_or_rows(hi, one),
        sum=scalar_or_rows(total, one),
        percentiles={q: scalar_or_rows(pct[q], one) for q in qs},
    )


def _median_sorted(s: NDArray[np.float64], n: NDArray[np.int64]) -> NDArray[np.float64]:
    """Median of sorted rows: the middle value, or the mean of the two middle ones."""
    out = np.full(s.shape[0], np.nan)
    ok = n > 0
    r = np.flatnonzero(ok)
    a = s[r, (n[ok] - 1) // 2]
    b = s[r, n[ok] // 2]
    with np.errstate(invalid="ignore", over="ignore"):
        out[r] = np.where(a == b, a, (a + b) / 2.0)
    return out


def _percentile_sorted(
    s: NDArray[np.float64], n: NDArray[np.int64], q: float
) -> NDArray[np.float64]:
    """Linear-interpolation percentile (R type 7) of sorted rows with ``n`` valid values.

    The same arithmetic as numpy's ``method="linear"``: virtual index ``(n - 1) q``, and the
    interpolation taken from the nearer end, so results equal ``np.nanpercentile``.
    """
    rows = s.shape[0]
    out = np.full(rows, np.nan)
    ok = n > 0
    if not ok.any():
        return out
    idx = (n[ok] - 1) * (q / 100.0)
    below = np.floor(idx).astype(np.int64)
    above = np.minimum(below + 1, n[ok] - 1)
    t = idx - below
    r = np.flatnonzero(ok)
    a = s[r, below]
    b = s[r, above]
    with np.errstate(invalid="ignore"):
        diff = b - a
        value = np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)
        # Equal neighbours (including infinities) need no interpolation.
        value = np.where(a == b, a, value)
    out[r] = value
    return out
