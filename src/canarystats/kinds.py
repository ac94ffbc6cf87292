"""Which metrics are counts: declared (``kind: count``), or undeclared ones whose values look like
counts.

A count (errors, failed jobs) is judged as a rate, and a known host's missing bucket is zero
events: Datadog's agent sends nothing for a flush without events (or zeros for a few minutes,
then nothing).  Judged as a gauge instead, a sparse count becomes window means of a few
zero-inflated, sometimes missing buckets, which fail healthy canaries.  So an undeclared metric
(``kind: auto``) is judged as a count where its values, before and after the canary start, are
non-negative whole numbers and either many of them are zero or many buckets are missing on hosts
that report other metrics; the report says so, and declaring the kind settles it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from canarystats.align import HostCubes
from canarystats.config import MetricConfig
from canarystats.errors import DataError

__all__ = ["MIN_VALUES", "SPARSE_SHARE", "count_rows", "undeclared_counts"]

#: fewest values of an undeclared metric to infer its kind from (fewer: it stays a gauge)
MIN_VALUES = 5
#: share of zero values, or of missing buckets of reporting hosts, that makes integers a count
SPARSE_SHARE = 0.2
#: words in a metric's name or query that usually mean it counts events
_COUNT_WORDS = re.compile(
    r"(error|fail|exception|timeout|reject|drop|retr(y|ies)|crash|restart|5xx|4xx|\.count\b)",
    re.IGNORECASE,
)


def undeclared_counts(metrics: Sequence[MetricConfig]) -> list[MetricConfig]:
    """Metrics without a declared kind whose name or query says they count events.

    ``canarystats validate`` warns about them: declared ``kind: count``, a quiet host's missing
    bucket is zero events even where the data has too few values to tell.

    Examples
    --------
    >>> [m.name for m in undeclared_counts([MetricConfig("web.errors", "avg:web.errors{*}"),
    ...                                     MetricConfig("cpu", "avg:cpu{*}")])]
    ['web.errors']
    """
    return [m for m in metrics if m.kind == "auto" and _COUNT_WORDS.search(f"{m.name} {m.query}")]


def count_rows(
    cubes: HostCubes, metrics: Sequence[MetricConfig]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Rows judged as counts, and which of them were inferred rather than declared.

    Parameters
    ----------
    cubes : HostCubes
        The points as the source returned them (quiet buckets not filled), every run.
    metrics : sequence of MetricConfig
        The config's metrics (row ``r * len(metrics) + i`` is metric ``i`` of run ``r``).

    Returns
    -------
    counts, inferred : ndarray of bool
        Per row.

    Examples
    --------
    >>> import pandas as pd
    >>> from canarystats.align import align_hosts
    >>> nan = float("nan")
    >>> f = pd.DataFrame({"metric": ["err"] * 8 + ["cpu"] * 8,
    ...                   "cohort": (["canary"] * 4 + ["baseline"] * 4) * 2,
    ...                   "host": (["a"] * 4 + ["b"] * 4) * 2,
    ...                   "timestamp": pd.to_datetime([0, 60, 120, 180] * 4, unit="s", utc=True),
    ...                   "value": [0, 0, 2, 0, 1, 0, nan, 0] + [5.5, 6.1, 5.9, 6.0] * 2})
    >>> ms = [MetricConfig("err", "q"), MetricConfig("cpu", "q")]
    >>> counts, inferred = count_rows(align_hosts(f, ms, fill_counts=False), ms)
    >>> counts.tolist(), inferred.tolist()
    ([True, False], [True, False])
    """
    rows = tuple(metrics) * cubes.n_runs
    declared = np.array([m.kind == "count" for m in rows], dtype=bool)
    _refuse_negative_counts(cubes, rows, declared)
    auto = np.array([m.kind == "auto" for m in rows], dtype=bool)
    inferred = np.zeros(len(rows), dtype=bool)
    idx = np.flatnonzero(auto)
    if len(idx):
        inferred[idx] = _looks_like_counts(cubes, idx)
    return declared | inferred, inferred


def _refuse_negative_counts(
    cubes: HostCubes, rows: Sequence[MetricConfig], declared: NDArray[np.bool_]
) -> None:
    """A declared count with a negative value is a wrong query or kind: one line naming it."""
    for cohort, cube, table in (
        ("canary", cubes.canary, cubes.canary_host_table),
        ("baseline", cubes.baseline, cubes.baseline_host_table),
    ):
        with np.errstate(invalid="ignore"):
            negative = declared[:, None, None] & (cube < 0)
        if not negative.any():
            continue
        row, slot, col = (int(i[0]) for i in np.nonzero(negative))
        host = table[row // len(cubes.names)][slot]
        raise DataError(
            f"metric {rows[row].name!r} is a count (kind: count), but {cohort} host {host!r} "
            f"has a negative value ({cube[row, slot, col]:g}); counts are events and cannot "
            "be negative: fix the query, or declare kind: gauge"
        )


def _looks_like_counts(cubes: HostCubes, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
    finite = np.zeros(len(rows), dtype=np.int64)
    whole = np.ones(len(rows), dtype=bool)
    zeros = np.zeros(len(rows), dtype=np.int64)
    cells = np.zeros(len(rows), dtype=np.int64)
    for cohort, cube in (("canary", cubes.canary), ("baseline", cubes.baseline)):
        v = cube[rows].reshape(len(rows), -1)
        ok = ~np.isnan(v)
        finite += ok.sum(axis=1)
        with np.errstate(invalid="ignore"):
            whole &= np.all(~ok | ((v >= 0) & (v == np.floor(v))), axis=1)
            zeros += np.sum(ok & (v == 0), axis=1)
        # Grid cells of the hosts known to report (any metric) in the row's run.
        known = cubes.known(cohort)[rows].sum(axis=1)
        cells += known * cubes.columns[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        zero_share = zeros / np.maximum(finite, 1)
        missing_share = 1.0 - finite / np.maximum(cells, 1)
    sparse = (zero_share >= SPARSE_SHARE) | (missing_share >= SPARSE_SHARE)
    return np.asarray((finite >= MIN_VALUES) & whole & sparse, dtype=bool)
