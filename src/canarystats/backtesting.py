"""Backtests: judge many past deploys with one config, and score the judge against what happened.

Before a team trusts an automated judge it replays its past: would this config have stopped last
month's bad deploy, and how often would it have stopped a good one?  :func:`backtest` answers
that for a table of deploys (scopes, window, known outcome) and a :class:`~canarystats.sources.
Source` that still has their metrics; :func:`backtest_sweep` repeats it as settings move.

The history is fetched as a batch (one call for a source with ``fetch_deploys``, such as
:class:`~canarystats.sources.history.HistorySource`) and judged as a batch: every deploy's
metrics are rows of the same statistics calls (:func:`~canarystats.judgment.judge_runs`, with the
deploy id as the run key), while each deploy keeps its own hosts, time grid, multiplicity family
and score, so the result for a deploy is exactly ``judge(config, that deploy's frame)``.  With
``canary_start=True`` each deploy's ``start`` is its canary start, judged as ``judge --start``
judges it: the hosts' pre-deploy window is fetched before it, and the result is
``judge(config, that deploy's frame, start=start)``.

With a :class:`dask.distributed.Client` the deploys are cut into partitions, the source is sent
to every worker once, and each worker fetches and judges its partitions, one batch each; the
frames are concatenated in deploy order, identical to the in-process result.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from canarystats.config import CanaryConfig
from canarystats.config.overrides import apply_settings
from canarystats.errors import ConfigError, DataError
from canarystats.exit_codes import for_verdict
from canarystats.judgment import judge, judge_runs
from canarystats.labels import FAILING
from canarystats.results import Judgment
from canarystats.sources.base import Source, metric_queries
from canarystats.sources.history import DeployTable as Deploys
from canarystats.sources.history import read_deploys

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "RESULT_COLUMNS",
    "SUMMARY_COLUMNS",
    "apply_settings",
    "backtest",
    "backtest_sweep",
    "fetch_deploys",
    "judge_deploys",
    "summarize",
]

#: columns of :func:`backtest`'s frame, one row per deploy, in the deploy table's order
RESULT_COLUMNS = (
    "deploy",
    "canary_scope",
    "baseline_scope",
    "start",
    "end",
    "outcome",
    "verdict",
    "score",
    "failing_metrics",
    "exit_code",
    "stopped",
    "correct",
    "false_alarm",
    "missed",
)
#: columns of :func:`summarize` (and, after the swept settings, of :func:`backtest_sweep`)
SUMMARY_COLUMNS = (
    "deploys",
    "good",
    "bad",
    "nodata",
    "false_alarms",
    "caught",
    "missed",
    "false_alarm_rate",
    "catch_rate",
)


# --------------------------------------------------------------------------- public API


def backtest(
    config: CanaryConfig,
    deploys: Deploys,
    source: Source,
    *,
    client: Client | None = None,
    overrides: Mapping[str, Any] | None = None,
    marginal_ok: bool = False,
    canary_start: bool = False,
    partitions: int | None = None,
) -> pd.DataFrame:
    """Judge every deploy of a history with one config and say where the judge was right.

    Parameters
    ----------
    config : CanaryConfig
        The config to test.
    deploys : DataFrame, list of dicts, or path of a CSV
        One row per deploy: ``canary_scope``, ``baseline_scope``, ``start``, ``end``, and
        optionally ``deploy`` (id) and ``outcome`` (``good``/``bad``/empty); see
        :func:`canarystats.sources.history.read_deploys`.
    source : Source
        Where the deploys' metrics are (a :class:`~canarystats.sources.history.HistorySource`
        for a saved history, or Datadog for a recent one).
    client : dask.distributed.Client, optional
        Spread the deploys over the cluster's workers; without one, run in this process.
    overrides : mapping, optional
        Settings for this run, as in :func:`apply_settings` (judge settings such as
        ``confidence``, or ``"<metric>.<field>"``).
    marginal_ok : bool
        Let ``marginal`` deploys through (exit 0), as ``judge --marginal-ok``.
    canary_start : bool
        Each deploy's ``start`` is its canary start, as ``judge --start``: the config's
        pre-deploy window before it is fetched too, each canary host that existed before is
        judged against its own past, and the warm-up after it is left out.  Without it every
        point of ``[start, end)`` is the canary window.
    partitions : int, optional
        How many batches to cut the deploys into on a cluster (default: 4 per worker).

    Returns
    -------
    pandas.DataFrame
        :data:`RESULT_COLUMNS`, one row per deploy in the table's order, plus the table's other
        columns (``problem``, ``note``).  ``failing_metrics`` names the High, Low and
        NodataFailMetric metrics (comma separated).  ``stopped`` is ``exit_code != 0``: the
        pipeline halts on a failure AND on no verdict.  ``correct``, ``false_alarm`` (good but
        stopped) and ``missed`` (bad but let through) are NA where the outcome is unknown.

    Raises
    ------
    canarystats.errors.DataError
        For a malformed deploy table or frame.
    canarystats.errors.ConfigError
        For an unknown or invalid override.

    Examples
    --------
    >>> from canarystats import load_config
    >>> from canarystats.sources.history import HistorySource
    >>> config = load_config("examples/web-backtest.yaml")  # doctest: +SKIP
    >>> source = HistorySource.from_files("fixtures/history/history.csv",
    ...                                   "fixtures/history/deploys.csv")  # doctest: +SKIP
    >>> result = backtest(config, "fixtures/history/deploys.csv", source)  # doctest: +SKIP
    >>> summarize(result)[["false_alarm_rate", "catch_rate"]]  # doctest: +SKIP
    """
    table = read_deploys(deploys)
    config = apply_settings(config, overrides or {})
    how = _How(marginal_ok, canary_start)
    if client is None:
        return _backtest_partition(config, table, source, [{}], how)[0]
    return _on_cluster(client, config, table, source, [{}], how, partitions)[0]


def backtest_sweep(
    config: CanaryConfig,
    deploys: Deploys,
    source: Source,
    grid: Mapping[str, Iterable[Any]],
    *,
    client: Client | None = None,
    marginal_ok: bool = False,
    canary_start: bool = False,
    partitions: int | None = None,
) -> pd.DataFrame:
    """Backtest every combination of settings in ``grid``: the data is fetched once.

    Parameters
    ----------
    config, deploys, source, client, marginal_ok, canary_start, partitions
        As in :func:`backtest`.
    grid : mapping of setting to values
        Keys as in :func:`apply_settings`, e.g. ``{"confidence": [0.9, 0.95, 0.99],
        "*.allowed_increase": [1.1, 1.5]}``; every combination is run.

    Returns
    -------
    pandas.DataFrame
        One row per combination: a column per setting, then :data:`SUMMARY_COLUMNS`.  Feed it
        to :func:`canarystats.plot.plot_backtest`.

    Examples
    --------
    >>> sweep = backtest_sweep(config, deploys, source,
    ...                        {"confidence": [0.9, 0.98, 0.995]})  # doctest: +SKIP
    >>> plot_backtest(sweep, param="confidence")  # doctest: +SKIP
    """
    table = read_deploys(deploys)
    keys = list(grid)
    if not keys:
        raise ConfigError("sweep grid is empty; give at least one setting and its values")
    values = []
    for key in keys:
        raw = grid[key]
        options = [raw] if isinstance(raw, (str, bytes)) else list(raw)
        if not options:
            raise ConfigError(f"sweep grid {key!r} has no values; list at least one")
        values.append(options)
    settings = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]
    for s in settings:
        apply_settings(config, s)  # fail on a bad setting before any data moves
    how = _How(marginal_ok, canary_start)
    if client is None:
        results = _backtest_partition(config, table, source, settings, how)
    else:
        results = _on_cluster(client, config, table, source, settings, how, partitions)
    rows = [{**s, **summarize(r)} for s, r in zip(settings, results, strict=True)]
    return pd.DataFrame(rows, columns=[*keys, *SUMMARY_COLUMNS])


def summarize(results: pd.DataFrame) -> dict[str, float]:
    """Count false alarms and caught bad deploys of a :func:`backtest` frame.

    ``false_alarm_rate`` is false alarms / good deploys and ``catch_rate`` caught / bad deploys
    (NaN when there are none); deploys of unknown outcome count only in ``deploys`` and
    ``nodata``.

    Examples
    --------
    >>> r = pd.DataFrame({"outcome": ["good", "good", "bad", None],
    ...                   "verdict": ["pass", "fail", "fail", "nodata"],
    ...                   "stopped": [False, True, True, True]})
    >>> s = summarize(r)
    >>> s["false_alarm_rate"], s["catch_rate"], s["nodata"]
    (0.5, 1.0, 1)
    """
    outcome = results["outcome"]
    stopped = results["stopped"].astype(bool)
    good = outcome == "good"
    bad = outcome == "bad"
    n_good, n_bad = int(good.sum()), int(bad.sum())
    false_alarms = int((good & stopped).sum())
    caught = int((bad & stopped).sum())
    return {
        "deploys": len(results),
        "good": n_good,
        "bad": n_bad,
        "nodata": int((results["verdict"] == "nodata").sum()),
        "false_alarms": false_alarms,
        "caught": caught,
        "missed": n_bad - caught,
        "false_alarm_rate": false_alarms / n_good if n_good else math.nan,
        "catch_rate": caught / n_bad if n_bad else math.nan,
    }


def fetch_deploys(
    config: CanaryConfig, deploys: Deploys, source: Source, *, canary_start: bool = False
) -> pd.DataFrame:
    """Fetch every deploy's metrics from ``source`` into one tidy frame with a ``deploy`` column.

    A source with a ``fetch_deploys(queries, table)`` method answers in one call (one batched
    request); any other is asked deploy by deploy with its scopes and window.  With
    ``canary_start`` each window begins the config's ``judge.pre_window`` before the deploy's
    ``start`` (the hosts' past, as ``judge --start`` fetches it).

    Examples
    --------
    >>> frame = fetch_deploys(config, "fixtures/history/deploys.csv", source)  # doctest: +SKIP
    >>> sorted(frame.columns)  # doctest: +SKIP
    ['cohort', 'deploy', 'host', 'metric', 'timestamp', 'value']
    """
    table = read_deploys(deploys)
    if canary_start and config.judge.pre_window > 0:
        table = table.assign(start=table["start"] - pd.Timedelta(seconds=config.judge.pre_window))
    queries = metric_queries(config)
    batched = getattr(source, "fetch_deploys", None)
    if callable(batched):
        return batched(queries, table)
    parts = []
    for d, c, b, start, end in zip(
        table["deploy"],
        table["canary_scope"],
        table["baseline_scope"],
        table["start"],
        table["end"],
        strict=True,
    ):
        part = source.fetch(
            queries, {"canary": c, "baseline": b}, start.to_pydatetime(), end.to_pydatetime()
        )
        parts.append(part.assign(deploy=d))
    if not parts:
        return pd.DataFrame(columns=["deploy", "metric", "cohort", "host", "timestamp", "value"])
    return pd.concat(parts, ignore_index=True)


def judge_deploys(
    config: CanaryConfig,
    frame: pd.DataFrame,
    deploys: Deploys,
    *,
    marginal_ok: bool = False,
    canary_start: bool = False,
) -> pd.DataFrame:
    """Judge the deploys of a multi-deploy tidy frame in ONE batched judge call.

    Parameters
    ----------
    config : CanaryConfig
        The config (settings already applied).
    frame : pandas.DataFrame
        The tidy frame with a ``deploy`` column (from :func:`fetch_deploys`).
    deploys : DataFrame, list of dicts, or path
        The deploy table; rows of ``frame`` of other deploys are ignored.
    marginal_ok, canary_start : bool
        As in :func:`backtest`.

    Returns
    -------
    pandas.DataFrame
        As :func:`backtest`.

    Examples
    --------
    >>> result = judge_deploys(config, fetch_deploys(config, deploys, source),
    ...                        deploys)  # doctest: +SKIP
    """
    table = read_deploys(deploys)
    if "deploy" not in frame.columns:
        raise DataError(
            "the history frame has no 'deploy' column; add one naming each row's deploy"
        )
    ids = frame["deploy"].astype(str)
    wanted = ids.isin(set(table["deploy"]))
    starts = dict(zip(table["deploy"], table["start"], strict=True)) if canary_start else None
    judged = _judge_batches(config, frame[wanted].assign(deploy=ids[wanted]), starts)
    nothing: Judgment | None = None
    verdicts: list[str] = []
    scores: list[float] = []
    failing: list[str] = []
    for d in table["deploy"]:
        j = judged.get(d)
        if j is None:
            # A deploy without a single point: judged once, as judge() judges an empty frame.
            nothing = nothing or judge(config, frame.iloc[:0])
            j = nothing
        verdicts.append(str(j.verdict))
        scores.append(j.score)
        failing.append(
            ", ".join(m.name for m in j.metrics if m.classification in FAILING and not m.muted)
        )
    codes = np.array([for_verdict(v, marginal_ok=marginal_ok) for v in verdicts], dtype=np.int64)
    return _result_frame(table, verdicts, scores, failing, codes)


#: points a batch of deploys may pad up to: every deploy of a batch is laid out as wide as the
#: batch's largest (hosts x buckets), so a day-long deploy among ten-minute ones gets a batch
#: of its own instead of widening thousands of others
BATCH_POINTS = 1 << 22


def _judge_batches(
    config: CanaryConfig, frame: pd.DataFrame, starts: Mapping[str, pd.Timestamp] | None
) -> dict[str, Judgment]:
    """Judge every deploy of ``frame`` as runs of a few batched judgments (deploy id: run key),
    from each deploy's canary start in ``starts`` where given.

    Deploys are batched by size, smallest first, so padding to a batch's largest deploy stays
    within :data:`BATCH_POINTS` (a deploy larger than that is a batch alone).
    """
    sizes = frame["deploy"].value_counts(sort=False).sort_values(kind="stable")
    counts = sizes.to_numpy(dtype=np.int64)
    order = {d: k for k, d in enumerate(sizes.index)}
    ranked = frame.iloc[np.argsort(frame["deploy"].map(order).to_numpy(), kind="stable")]
    judged: dict[str, Judgment] = {}
    first = start = 0
    for k in range(len(counts)):
        # Close the batch when the next (larger) deploy would pad it past the budget.
        if k == len(counts) - 1 or (k - first + 2) * counts[k + 1] > BATCH_POINTS:
            rows = int(counts[first : k + 1].sum())
            batch = ranked.iloc[start : start + rows]
            at = None if starts is None else {d: starts[d] for d in batch["deploy"].unique()}
            judged.update(judge_runs(config, batch, run="deploy", start=at))
            first, start = k + 1, start + rows
    return judged


# --------------------------------------------------------------------------- internals


def _result_frame(
    table: pd.DataFrame,
    verdicts: list[str],
    scores: list[float],
    failing: list[str],
    codes: np.ndarray,
) -> pd.DataFrame:
    stopped = codes != 0
    outcome = table["outcome"]
    known = outcome.isin(["good", "bad"]).to_numpy()
    bad = (outcome == "bad").to_numpy()

    def flag(values: np.ndarray) -> pd.Series:
        return pd.Series(pd.array(np.where(known, values, False), dtype="boolean")).where(
            known, pd.NA
        )

    out = pd.DataFrame(
        {
            "deploy": table["deploy"].to_numpy(),
            "canary_scope": table["canary_scope"].to_numpy(),
            "baseline_scope": table["baseline_scope"].to_numpy(),
            "start": table["start"].reset_index(drop=True),
            "end": table["end"].reset_index(drop=True),
            "outcome": outcome.to_numpy(),
            "verdict": verdicts,
            "score": np.asarray(scores, dtype=np.float64),
            "failing_metrics": failing,
            "exit_code": codes,
            "stopped": stopped,
            "correct": flag(stopped == bad),
            "false_alarm": flag(stopped & ~bad),
            "missed": flag(~stopped & bad),
        }
    )
    out["start"] = (
        out["start"].dt.tz_localize("UTC") if out["start"].dt.tz is None else out["start"]
    )
    out["end"] = out["end"].dt.tz_localize("UTC") if out["end"].dt.tz is None else out["end"]
    extra = [c for c in table.columns if c not in RESULT_COLUMNS]
    for c in extra:
        out[c] = table[c].to_numpy()
    return out


@dataclass(frozen=True)
class _How:
    """How every deploy is judged: whether marginal passes, whether ``start`` is a canary start."""

    marginal_ok: bool
    canary_start: bool


def _backtest_partition(
    config: CanaryConfig,
    table: pd.DataFrame,
    source: Source,
    settings: list[dict[str, Any]],
    how: _How,
) -> list[pd.DataFrame]:
    """Fetch one batch of deploys once and judge it under each setting (one judge call each)."""
    frame = fetch_deploys(config, table, source, canary_start=how.canary_start)
    return [
        judge_deploys(
            apply_settings(config, s),
            frame,
            table,
            marginal_ok=how.marginal_ok,
            canary_start=how.canary_start,
        )
        for s in settings
    ]


def _partition_task(
    table: pd.DataFrame,
    *,
    config: CanaryConfig,
    source: Source,
    settings: list[dict[str, Any]],
    how: _How,
) -> list[pd.DataFrame]:
    # client.map passes the mapped partition first.
    return _backtest_partition(config, table, source, settings, how)


def _on_cluster(
    client: Client,
    config: CanaryConfig,
    table: pd.DataFrame,
    source: Source,
    settings: list[dict[str, Any]],
    how: _How,
    partitions: int | None,
) -> list[pd.DataFrame]:
    if partitions is None:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        partitions = 4 * workers
    if partitions < 1:
        raise ConfigError(f"partitions is {partitions}; give at least 1")
    bounds = np.linspace(0, len(table), min(partitions, max(len(table), 1)) + 1).astype(int)
    chunks = [table.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]
    # The source (a saved history can be large) goes to each worker once, not with every task.
    remote = client.scatter(source, broadcast=True)
    futures = client.map(
        _partition_task,
        chunks,
        config=config,
        source=remote,
        settings=settings,
        how=how,
        pure=False,
    )
    parts: list[list[pd.DataFrame]] = client.gather(futures)
    return [
        pd.concat([p[i] for p in parts], ignore_index=True) if parts else pd.DataFrame()
        for i in range(len(settings))
    ]
