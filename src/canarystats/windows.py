"""The canary start, the pre-deploy window before it and the warm-up after it.

A deploy that restarts existing hosts gives every canary host two periods: before the canary
start ``T0`` it ran the old version beside every other host (the pre-deploy window, its own
past), and from ``T0`` on it runs the new one (the canary window).  The first minutes after
``T0`` are the restart's warm-up -- cold caches, memory re-growing, the load balancer's slow
start -- which says nothing about the new version, so they are left out of the tests (Kayenta's
``beginCanaryAnalysisAfterMins``, Argo's ``initialDelay``).  Counts whose harm is an increase
(errors, failed jobs) keep their warm-up buckets: a restart does not explain errors.

Nothing here judges: :func:`split` cuts a tidy frame into the two periods, per run and metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from canarystats.align import HostCubes, align_hosts, fill_count_rows, reindex_hosts
from canarystats.config import JudgeSettings, MetricConfig
from canarystats.errors import DataError
from canarystats.frame import validate_frame
from canarystats.kinds import count_rows

__all__ = ["CanaryWindows", "Layout", "lay_out", "run_starts", "split", "utc_timestamp", "warmups"]

StartLike = datetime | pd.Timestamp | str


@dataclass(frozen=True)
class CanaryWindows:
    """What was judged of each run's time, for reports: start, pre-window and warm-ups.

    ``starts`` has one entry per run (in the cubes' run order), ``pre_window`` is the longest
    stretch before each start used as the hosts' past (seconds; 0: none), ``warmup`` the
    seconds after the start each metric leaves out (config order), and ``kept_warmup`` which
    metrics of each run keep judging through their warm-up (counts whose harm is an increase).
    """

    starts: tuple[pd.Timestamp, ...]
    pre_window: int
    warmup: tuple[int, ...]
    kept_warmup: NDArray[np.bool_]


def run_starts(
    start: StartLike | Mapping[Any, StartLike], runs: Sequence[Any]
) -> tuple[pd.Timestamp, ...]:
    """Each run's canary start, UTC: one start for every run, or a mapping run -> start.

    Examples
    --------
    >>> [str(t) for t in run_starts("2026-01-01T10:00Z", ["a", "b"])]
    ['2026-01-01 10:00:00+00:00', '2026-01-01 10:00:00+00:00']
    """
    keys = list(runs) if runs else [None]
    if isinstance(start, Mapping):
        missing = [k for k in keys if k not in start]
        if missing:
            raise DataError(f"no canary start for run {missing[0]!r}; give one for every run")
        values = [start[k] for k in keys]
    else:
        values = [start] * len(keys)
    out = []
    for value in values:
        stamp = utc_timestamp(value, what="canary start")
        if pd.isna(stamp):
            raise DataError("a canary start is empty; give each run's start")
        out.append(stamp)
    return tuple(out)


def utc_timestamp(value: Any, *, what: str = "time") -> pd.Timestamp:
    """``value`` as a UTC timestamp (a naive one is read as UTC; NaT stays NaT).

    A value that is not a time raises a DataError naming ``what``.

    Examples
    --------
    >>> str(utc_timestamp("2026-01-01T10:00"))
    '2026-01-01 10:00:00+00:00'
    """
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise DataError(f"{what} {value!r} is not a time; give ISO 8601 UTC") from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def warmups(metrics: Sequence[MetricConfig], settings: JudgeSettings) -> tuple[int, ...]:
    """Each metric's warm-up in seconds: its own ``warmup``, else the judge's.

    Examples
    --------
    >>> from canarystats.config import JudgeSettings, MetricConfig
    >>> warmups([MetricConfig("rss", "q", warmup=600), MetricConfig("cpu", "q")], JudgeSettings())
    (600, 300)
    """
    return tuple(settings.warmup if m.warmup is None else m.warmup for m in metrics)


def split(
    frame: pd.DataFrame,
    metrics: Sequence[MetricConfig],
    windows: CanaryWindows,
    *,
    run: str | None,
    runs: Sequence[Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pre-deploy rows and the canary-window rows of a tidy frame (already validated).

    Parameters
    ----------
    frame : pandas.DataFrame
        The tidy frame of every run.
    metrics : sequence of MetricConfig
        The config's metrics; rows of other metrics are dropped.
    windows : CanaryWindows
        Starts per run, the pre-window and each metric's warm-up, and which (run, metric)
        keeps its warm-up.
    run : str, optional
        The run column; ``runs`` are its keys in the cubes' order.  Both parts keep every run
        key as a category, so both lay out as the same rows.

    Returns
    -------
    (pre, canary) : pandas.DataFrame
        ``pre``: points in ``[start - pre_window, start)``; ``canary``: points from the start
        plus the metric's warm-up (from the start where it keeps its warm-up).
    """
    names = {m.name: i for i, m in enumerate(metrics)}
    mapped = frame["metric"].map(names)
    known = mapped.notna().to_numpy()
    frame = frame[known]
    metric_idx = mapped[known].to_numpy(dtype=np.int64)
    if run is None:
        run_idx = np.zeros(len(frame), dtype=np.int64)
    else:
        run_idx = pd.Categorical(frame[run], categories=list(runs)).codes.astype(np.int64)
    start_ns = np.array([t.value for t in windows.starts], dtype=np.int64)[run_idx]
    warm = np.asarray(windows.warmup, dtype=np.int64) * 1_000_000_000
    kept = windows.kept_warmup.reshape(len(windows.starts), len(metrics))[run_idx, metric_idx]
    offset = np.where(kept, 0, warm[metric_idx])
    t = np.asarray(frame["timestamp"].array.view("i8"), dtype=np.int64)
    canary = frame[t >= start_ns + offset]
    pre_mask = t < start_ns
    if windows.pre_window > 0:
        pre_mask &= t >= start_ns - windows.pre_window * 1_000_000_000
    pre = frame[pre_mask]
    if run is not None:
        categories = pd.CategoricalDtype(list(runs))
        pre = pre.assign(**{run: pre[run].astype(categories)})
        canary = canary.assign(**{run: canary[run].astype(categories)})
    return pre.reset_index(drop=True), canary.reset_index(drop=True)


@dataclass(frozen=True)
class Layout:
    """A frame laid out for judging.

    The canary window's cubes (quiet count buckets not yet filled); the pre-deploy window's
    cubes of each cohort in the same host slots (None without one; quiet count buckets
    filled); what was judged of each run's time (None without a start); and the rows judged
    as counts (``inferred``: made counts by their values, not the config).
    """

    cubes: HostCubes
    pre: tuple[NDArray[np.float64], NDArray[np.float64]] | None
    windows: CanaryWindows | None
    counts: NDArray[np.bool_]
    inferred: NDArray[np.bool_]


def lay_out(
    frame: pd.DataFrame,
    metrics: Sequence[MetricConfig],
    settings: JudgeSettings,
    *,
    run: str | None,
    start: StartLike | Mapping[Any, StartLike] | None,
    infer_kinds: bool = True,
) -> Layout:
    """Cut ``frame`` at each run's canary start and lay both windows out as cubes.

    Without a start every point is the canary window (no warm-up, no past).  The kinds of
    undeclared metrics are inferred from all of a run's points (:mod:`canarystats.kinds`);
    ``infer_kinds=False`` keeps the declared ones.

    Examples
    --------
    >>> from canarystats.config import JudgeSettings, MetricConfig
    >>> t = pd.to_datetime([0, 600, 1200], unit="s", utc=True)
    >>> f = pd.DataFrame({"metric": "m", "cohort": "canary", "host": "a", "timestamp": t,
    ...                   "value": [1.0, 2.0, 3.0]})
    >>> lo = lay_out(f, [MetricConfig("m", "q")], JudgeSettings(warmup=300), run=None,
    ...              start=t[1])
    >>> lo.cubes.canary.tolist(), lo.pre[0].tolist()  # the point at the start is warm-up
    ([[[3.0]]], [[[1.0]]])
    """
    frame = validate_frame(frame)
    full = align_hosts(frame, metrics, run=run, fill_counts=False)
    if infer_kinds:
        counts, inferred = count_rows(full, metrics)
    else:
        counts = np.tile([m.kind == "count" for m in metrics], full.n_runs).astype(bool)
        inferred = np.zeros_like(counts)
    if start is None:
        return Layout(full, None, None, counts, inferred)
    rows = tuple(metrics) * full.n_runs
    increase = np.array([m.direction == "increase" for m in rows], dtype=bool)
    windows = CanaryWindows(
        starts=run_starts(start, full.runs),
        pre_window=settings.pre_window,
        warmup=warmups(metrics, settings),
        kept_warmup=counts & increase,
    )
    pre_frame, canary_frame = split(frame, metrics, windows, run=run, runs=full.runs)
    # Reports name the past as long as the data has it: a frame fetched with a shorter
    # pre-window than the judge's is judged on what it holds, and says so.
    windows = replace(windows, pre_window=_past_span(pre_frame, windows, run, full.runs))
    cubes = align_hosts(canary_frame, metrics, run=run, fill_counts=False)
    pre = None
    if settings.pre_window > 0 and len(pre_frame):
        before = align_hosts(pre_frame, metrics, run=run, fill_counts=False)
        # Counts as in the canary window: a quiet bucket of a host known then is zero events.
        fill_count_rows(before, counts)
        pre = (reindex_hosts(before, cubes, "canary"), reindex_hosts(before, cubes, "baseline"))
    return Layout(cubes, pre, windows, counts, inferred)


def _past_span(
    pre: pd.DataFrame, windows: CanaryWindows, run: str | None, runs: Sequence[Any]
) -> int:
    """Seconds from the earliest point before a start to that start, the longest over runs
    (0 without a point): the past the data holds, at most the pre-window asked for."""
    if windows.pre_window <= 0 or not len(pre):
        return 0
    if run is None:
        spans = [windows.starts[0] - pre["timestamp"].min()]
    else:
        first = pre.groupby(run, observed=True)["timestamp"].min()
        starts = dict(zip(runs, windows.starts, strict=True))
        spans = [starts[key] - t for key, t in first.items()]
    longest = max(int(span.total_seconds()) for span in spans)
    return min(longest, windows.pre_window)
