"""The fake Datadog's answers: v1 and v2 bodies computed from a tidy frame.

Each row of the frame is a point of one series; its tags are ``host:<host>``,
``cohort:<cohort>``, the scope tags of its cohort and those of an optional ``tags`` column.  A
query selects the series its filter matches, rolls each series up in time into buckets, then
aggregates across series in space per group, as Datadog does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from canarystats.testing.formulas import evaluate, formula_names
from canarystats.testing.queries import (
    SEPARATOR,
    BadRequest,
    Received,
    SubQuery,
    default_interval_ms,
    group_tags,
    matches,
    parse_query,
    split_queries,
)

__all__ = ["Answers", "aggregate", "prepare_frame", "unit"]


def prepare_frame(frame: pd.DataFrame, scopes: Mapping[str, str]) -> pd.DataFrame:
    """The frame as the fake searches it: metric, value, epoch ms, tag set and series key.

    ``scopes`` maps a tag (``role:canary``) to the cohort whose rows carry it.

    Examples
    --------
    >>> f = pd.DataFrame({"metric": ["m"], "cohort": ["canary"], "host": ["web-1"],
    ...                   "timestamp": pd.to_datetime(["1970-01-01T00:01:00Z"]), "value": [1]})
    >>> row = prepare_frame(f, {"role:canary": "canary"}).iloc[0]
    >>> int(row["ms"]), row["series"]
    (60000, 'cohort:canary|host:web-1|role:canary')
    """
    # Tags per row are computed once; queries then filter on sets of strings.
    out = pd.DataFrame(
        {
            "metric": frame["metric"].astype(str).to_numpy(),
            "value": pd.to_numeric(frame["value"]).astype("float64").to_numpy(),
        }
    )
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    epoch = pd.Timestamp(0, tz="UTC")
    out["ms"] = ((stamps - epoch) // pd.Timedelta(milliseconds=1)).astype("int64").to_numpy()
    hosts = (
        frame["host"].fillna("").astype(str) if "host" in frame else pd.Series([""] * len(frame))
    )
    cohorts = frame["cohort"].astype(str)
    extra = (
        frame["tags"].fillna("").astype(str) if "tags" in frame else pd.Series([""] * len(frame))
    )
    cohort_tags: dict[str, list[str]] = {}
    for tag, cohort in scopes.items():
        cohort_tags.setdefault(cohort, []).extend(t.strip() for t in tag.split(","))
    keys = list(zip(hosts.to_numpy(), cohorts.to_numpy(), extra.to_numpy(), strict=True))
    cache: dict[tuple[str, str, str], frozenset[str]] = {}
    for key in set(keys):
        host, cohort, more = key
        tags = {f"cohort:{cohort}", *cohort_tags.get(cohort, [])}
        if host:
            tags.add(host if ":" in host else f"host:{host}")
        tags.update(t.strip() for t in more.split(",") if t.strip())
        cache[key] = frozenset(tags)
    out["tagset"] = pd.Series([cache[key] for key in keys], dtype=object)
    out["series"] = ["|".join(sorted(cache[key])) for key in keys]
    return out


def aggregate(grouped: Any, method: str) -> pd.Series:
    """Aggregate a pandas groupby by a Datadog method (``avg``, ``sum``, ``min``, ``max``...).

    Examples
    --------
    >>> s = pd.Series([1.0, 3.0, np.nan], index=["a", "a", "b"])
    >>> aggregate(s.groupby(level=0), "sum").tolist()
    [4.0, nan]
    """
    # NaN (null) points are skipped; a bucket with only nulls stays null, as in Datadog.
    if method == "sum":
        return grouped.sum(min_count=1)
    if method == "count":
        return grouped.count().astype("float64")
    if method in ("avg", "mean", "min", "max"):
        return grouped.agg("mean" if method == "avg" else method)
    raise BadRequest(f"unknown aggregation {method!r}")


def unit(name: str | None) -> list[dict[str, Any] | None] | None:
    """Datadog's unit objects for a unit name such as ``byte/second`` (None for no unit).

    Examples
    --------
    >>> [u["name"] if u else None for u in unit("percent")]
    ['percent', None]
    """
    if not name:
        return None
    parts = name.split("/")
    objects: list[dict[str, Any] | None] = [
        {"family": "general", "scale_factor": 1.0, "name": p, "short_name": p, "plural": p, "id": 0}
        for p in parts[:2]
    ]
    return objects + [None] * (2 - len(objects))


def _num(value: Any) -> float | None:
    number = float(value)
    return None if np.isnan(number) else number


class Answers:
    """The data answers of a fake Datadog: v1 and v2 bodies from a prepared frame.

    Parameters
    ----------
    frame : pandas.DataFrame, optional
        A frame from :func:`prepare_frame`; None answers every query with no series.
    metrics : Mapping, optional
        Datadog metric name -> the frame's ``metric`` value.
    units : Mapping, optional
        Datadog metric name -> unit name.
    clock : callable, optional
        The data time now in epoch ms (:meth:`canarystats.testing.replay.ReplayClock.now_ms`):
        points from then on are not answered yet.

    Examples
    --------
    >>> received = Received("GET", "/api/v1/query", ("avg:m{*}",), 0, 60_000)
    >>> Answers(None).v1(received)["series"]
    []
    """

    def __init__(
        self,
        frame: pd.DataFrame | None,
        metrics: Mapping[str, str] | None = None,
        units: Mapping[str, str] | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.frame = frame
        self.metrics = dict(metrics or {})
        self.units = dict(units or {})
        #: data time now in epoch ms (a replay): later points have not "arrived" yet
        self.clock = clock

    def select(self, sub: SubQuery, start_ms: int, end_ms: int, interval_ms: int) -> pd.DataFrame:
        """The ``group``, ``bucket`` and ``value`` of one query over ``[start_ms, end_ms)``."""
        frame = self.frame
        if frame is None or frame.empty:
            return pd.DataFrame(columns=["group", "bucket", "value"])
        name = self.metrics.get(sub.metric, sub.metric)
        rows = frame[frame["metric"] == name]
        if self.clock is not None:
            rows = rows[rows["ms"] < self.clock()]
        # Tags are matched once per distinct series, not once per row.
        series = rows.drop_duplicates("series")
        wanted = {
            key
            for key, tags in zip(series["series"], series["tagset"], strict=True)
            if matches(sub.filter, tags)
        }
        rows = rows[rows["series"].isin(wanted)]
        buckets = (rows["ms"] // interval_ms) * interval_ms
        rows = rows.assign(bucket=buckets)
        rows = rows[(rows["bucket"] >= start_ms) & (rows["bucket"] < end_ms)]
        if rows.empty:
            return pd.DataFrame(columns=["group", "bucket", "value"])
        groups = {
            key: group_tags(sub.by, tags)
            for key, tags in zip(series["series"], series["tagset"], strict=True)
        }
        rows = rows.assign(group=rows["series"].map(groups))
        # Datadog rolls each source series up in time, then aggregates across series in space.
        method = sub.rollup or ("sum" if sub.as_count else "avg")
        per_series = aggregate(rows.groupby(["group", "series", "bucket"])["value"], method)
        space = aggregate(per_series.groupby(level=["group", "bucket"]), sub.agg)
        if sub.fill_zero:
            # Every bucket of the window for each group the query knows, empty ones 0.
            first = -(-start_ms // interval_ms) * interval_ms
            grid = pd.MultiIndex.from_product(
                [space.index.unique("group"), range(first, end_ms, interval_ms)],
                names=["group", "bucket"],
            )
            space = space.reindex(grid).fillna(0.0)
        return space.reset_index()

    def v1(self, received: Received) -> dict[str, Any]:
        """The body of a ``GET /api/v1/query`` answer."""
        assert received.start_ms is not None and received.end_ms is not None
        query = received.queries[0]
        span = received.end_ms - received.start_ms
        series = []
        group_by: list[str] = []
        for index, sub in enumerate(split_queries(query)):
            interval = _interval_ms(sub, received, default_interval_ms(span))
            table = self.select(sub, received.start_ms, received.end_ms + 1, interval)
            group_by = group_by or list(sub.by)
            for group, rows in table.groupby("group", sort=True):
                tags = str(group).split(SEPARATOR) if group else []
                series.append(self._v1_series(sub, index, interval, tags, rows))
        return {
            "status": "ok",
            "res_type": "time_series",
            "resp_version": 1,
            "query": query,
            "message": "",
            "from_date": received.start_ms,
            "to_date": received.end_ms,
            "group_by": group_by,
            "series": series,
        }

    def _v1_series(
        self, sub: SubQuery, index: int, interval: int, tags: list[str], rows: pd.DataFrame
    ) -> dict[str, Any]:
        stamps = [int(b) for b in rows["bucket"]]
        points = [[float(t), _num(v)] for t, v in zip(stamps, rows["value"], strict=True)]
        scope = ",".join([t for t in [sub.filter.strip()] if t not in ("", "*")] + tags)
        return {
            "metric": sub.metric,
            "display_name": sub.metric,
            "expression": f"{sub.agg}:{sub.metric}{{{scope or '*'}}}",
            "scope": scope or "*",
            "tag_set": tags,
            "aggr": sub.agg,
            "attributes": {},
            "query_index": index,
            "interval": interval // 1000,
            "length": len(points),
            "start": stamps[0],
            "end": stamps[-1] + interval - 1000,
            "unit": unit(self.units.get(sub.metric)),
            "pointlist": points,
        }

    def _query_table(self, received: Received, position: int) -> pd.DataFrame:
        """The selected ``group``, ``bucket``, ``value`` of the request's query at ``position``."""
        assert received.start_ms is not None and received.end_ms is not None
        sub = parse_query(received.queries[position])
        span = received.end_ms - received.start_ms
        interval = _interval_ms(sub, received, default_interval_ms(span))
        return self.select(sub, received.start_ms, received.end_ms, interval)

    def v2(self, received: Received, body: Mapping[str, Any]) -> dict[str, Any]:
        """The body of a ``POST /api/v2/query/timeseries`` answer."""
        assert received.start_ms is not None and received.end_ms is not None
        attributes = body["data"]["attributes"]
        names = [q.get("name") for q in attributes["queries"]]
        for query in attributes["queries"]:
            if query.get("data_source", "metrics") != "metrics":
                raise BadRequest("FakeDatadog answers only data_source 'metrics'")
        formulas = attributes.get("formulas") or [{"formula": n} for n in names]
        tables = []
        for index, formula in enumerate(formulas):
            text = str(formula.get("formula", "")).strip()
            used = formula_names(text)
            unknown = [name for name in used if name not in names]
            if unknown:
                raise BadRequest(f"Formula {text!r} names {unknown[0]!r}, which is not a query")
            selected = {name: self._query_table(received, names.index(name)) for name in used}
            # A formula that names one query is that query's series, as Datadog answers it.
            table = selected[text] if text in selected else evaluate(text, selected)
            sub = parse_query(received.queries[names.index(used[0])])
            for group, rows in table.groupby("group", sort=True):
                tables.append((index, sub, str(group).split(SEPARATOR) if group else [], rows))
        times = sorted({int(b) for _i, _s, _g, rows in tables for b in rows["bucket"]})
        position_of = {t: i for i, t in enumerate(times)}
        series, values = [], []
        for index, sub, tags, rows in tables:
            row: list[float | None] = [None] * len(times)
            for bucket, value in zip(rows["bucket"], rows["value"], strict=True):
                row[position_of[int(bucket)]] = _num(value)
            series.append(
                {
                    "group_tags": tags,
                    "query_index": index,
                    "unit": unit(self.units.get(sub.metric)),
                }
            )
            values.append(row)
        return {
            "data": {
                "id": "0",
                "type": "timeseries_response",
                "attributes": {"series": series, "times": times, "values": values},
            }
        }


def _interval_ms(sub: SubQuery, received: Received, default_ms: int) -> int:
    # An explicit .rollup() wins over the request's interval, which wins over Datadog's default.
    if sub.rollup_seconds:
        return sub.rollup_seconds * 1000
    if received.interval_ms:
        return max(int(received.interval_ms), 1000)
    return default_ms
