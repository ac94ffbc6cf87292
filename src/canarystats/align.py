"""From the tidy frame to per-metric samples: validation, pooling, NaN strategy, outliers.

The judge treats each cohort's points as one unpaired sample (the Kayenta way): every host's
points are pooled and timestamps only order them.  The result is two 2-D float arrays, one row
per configured metric in config order, NaN-padded on the right.  After the NaN strategy has run,
NaN means "no value" everywhere, which is what the statistics kernels expect.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from canarystats.config import MetricConfig
from canarystats.errors import DataError

#: the columns of the tidy frame (DESIGN.md)
FRAME_COLUMNS = ("metric", "cohort", "host", "timestamp", "value")
COHORTS = ("canary", "baseline")


@dataclass(frozen=True)
class Samples:
    """Canary and baseline samples of every metric, rows in config order.

    ``canary`` and ``baseline`` are NaN-padded 2-D arrays after the NaN strategy (so NaN only
    ever means "no value").  ``canary_points`` and ``baseline_points`` count the points the
    source returned for each metric, nulls included, before any preprocessing.
    """

    names: tuple[str, ...]
    canary: NDArray[np.float64]
    baseline: NDArray[np.float64]
    canary_points: NDArray[np.int64]
    baseline_points: NDArray[np.int64]


def validate_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Check that ``frame`` is a tidy frame and return it with a float ``value`` column.

    Raises
    ------
    canarystats.errors.DataError
        Naming the missing or malformed column.

    Examples
    --------
    >>> f = pd.DataFrame({"metric": ["cpu"], "cohort": ["canary"], "host": [""],
    ...                   "timestamp": pd.to_datetime([0], utc=True), "value": [1]})
    >>> validate_frame(f)["value"].dtype
    dtype('float64')
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame (the tidy frame), got {type(frame).__name__}")
    missing = [c for c in FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"the data is missing column(s) {', '.join(missing)}; "
            f"a tidy frame has columns {', '.join(FRAME_COLUMNS)}"
        )
    bad = sorted({str(v) for v in pd.unique(frame["cohort"]) if v not in COHORTS})
    if bad:
        shown = ", ".join(repr(v) for v in bad[:3])
        raise DataError(
            f"column cohort has value(s) {shown}; only 'canary' and 'baseline' are allowed"
        )
    try:
        values = pd.to_numeric(frame["value"], errors="raise").astype(np.float64)
    except (ValueError, TypeError):
        raise DataError(
            "column value holds non-numeric entries; values must be numbers (NaN for nulls)"
        ) from None
    out = frame.copy(deep=False)
    out["value"] = values
    return out


def align(frame: pd.DataFrame, metrics: Sequence[MetricConfig]) -> Samples:
    """Pool each metric's points per cohort and apply its NaN strategy.

    Parameters
    ----------
    frame : pandas.DataFrame
        The tidy frame (columns metric, cohort, host, timestamp, value).
    metrics : sequence of MetricConfig
        The metrics to judge; rows come out in this order.  Metrics absent from the frame get
        empty rows (they are judged Nodata); frame rows of other metrics are ignored.

    Returns
    -------
    Samples

    Examples
    --------
    >>> from canarystats.config import MetricConfig
    >>> f = pd.DataFrame({"metric": ["cpu"] * 3, "cohort": ["canary", "baseline", "canary"],
    ...                   "host": ["a", "b", "c"], "timestamp": pd.to_datetime([0, 0, 0], utc=True),
    ...                   "value": [1.0, 2.0, float("nan")]})
    >>> s = align(f, [MetricConfig(name="cpu", query="q", nan_strategy="replace")])
    >>> s.canary.tolist(), s.baseline.tolist(), s.canary_points.tolist()
    ([[1.0, 0.0]], [[2.0]], [2])
    """
    frame = validate_frame(frame)
    names = tuple(m.name for m in metrics)
    row_of = {name: i for i, name in enumerate(names)}
    replace_rows = np.array([m.nan_strategy == "replace" for m in metrics], dtype=bool)
    sides = []
    for cohort in COHORTS:
        part = frame[(frame["cohort"] == cohort) & frame["metric"].isin(row_of)]
        rows = part["metric"].map(row_of).to_numpy(dtype=np.int64)
        # Order by host then time so a sample reads naturally; the statistics ignore order.
        order = np.lexsort(
            (_time_key(part["timestamp"]), part["host"].astype(str).to_numpy(), rows)
        )
        rows = rows[order]
        values = part["value"].to_numpy(dtype=np.float64)[order]
        counts = np.bincount(rows, minlength=len(names)).astype(np.int64)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        cols = np.arange(len(rows)) - starts[rows]
        width = max(int(counts.max()) if len(names) else 0, 1)
        out = np.full((len(names), width), np.nan)
        values = np.where(np.isnan(values) & replace_rows[rows], 0.0, values)
        out[rows, cols] = values
        sides.append((out, counts))
    (canary, c_points), (baseline, b_points) = sides
    return Samples(names, canary, baseline, c_points, b_points)


def _time_key(stamps: pd.Series) -> NDArray[np.int64]:
    # Integer nanoseconds: sorting tz-aware Timestamps as Python objects is slow, and an
    # unparsable stamp (NaT) only changes where its value sits in the pooled sample.
    parsed = pd.to_datetime(stamps, utc=True, errors="coerce")
    return np.asarray(parsed.astype("int64").to_numpy(), dtype=np.int64)


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
