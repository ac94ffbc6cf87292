"""Outliers by Kayenta's IQR detector: flag them, or replace them by NaN (which kernels skip).

Kayenta removes outliers per cohort, after the NaN strategy, with Tukey's fences widened to the
1st and 99th percentiles (``reduceSensitivity``), so a long tail is not cut away.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

__all__ = ["iqr_outliers", "remove_outliers"]


def iqr_outliers(
    values: NDArray[np.float64],
    factor: float | NDArray[np.float64],
    *,
    reduce_sensitivity: bool = True,
) -> NDArray[np.bool_]:
    """Flag outliers per row with Kayenta's IQR detector (``reduceSensitivity = true``).

    Fences are ``Q1 - f*IQR`` and ``Q3 + f*IQR``; with ``reduce_sensitivity`` (what the judge
    uses) they are widened to at least the 1st and 99th percentiles, so a long tail is not cut
    away.  Percentiles are R-7 (linear), as Kayenta's.  A value is an outlier when strictly
    outside the fences; NaN is never flagged.

    Parameters
    ----------
    values : ndarray
        2-D, one row per metric, NaN for missing.
    factor : float or ndarray
        The fence factor, one per row or shared.

    Examples
    --------
    >>> x = np.array([[21.0, 23, 24, 25, 50, 29, 23, 21]])
    >>> iqr_outliers(x, 1.5, reduce_sensitivity=False).tolist()[0][4]
    True
    """
    rows = np.asarray(values, dtype=np.float64)
    if rows.size == 0:
        return np.zeros(rows.shape, dtype=bool)
    f = np.broadcast_to(np.asarray(factor, dtype=np.float64), (rows.shape[0],))[:, None]
    with warnings.catch_warnings():
        # all-NaN rows give NaN fences, and NaN compares false: nothing is flagged
        warnings.simplefilter("ignore", RuntimeWarning)
        p1, q1, q3, p99 = np.nanpercentile(rows, [1, 25, 75, 99], axis=1, keepdims=True)
    iqr = q3 - q1
    lo = q1 - f * iqr
    hi = q3 + f * iqr
    if reduce_sensitivity:
        lo = np.fmin(p1, lo)
        hi = np.fmax(p99, hi)
    with np.errstate(invalid="ignore"):
        return (rows < lo) | (rows > hi)


def remove_outliers(
    values: NDArray[np.float64], factor: NDArray[np.float64], rows: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Replace the IQR outliers of the selected rows by NaN (which the kernels skip).

    Examples
    --------
    >>> remove_outliers(np.array([[1.0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 90]]), np.array([3.0]),
    ...                 np.array([True])).tolist()[0][-1]
    nan
    """
    out = np.array(values, dtype=np.float64, copy=True)
    if not rows.any():
        return out
    flagged = iqr_outliers(out, factor) & rows[:, None]
    out[flagged] = np.nan
    return out
