"""Datadog's answers to metric queries: v1 and v2 bodies read into series, series into the frame.

``GET /api/v1/query`` answers with ``series[].pointlist``; ``POST /api/v2/query/timeseries``
with one ``times`` row shared by every series and a ``values`` row per series.  Both become
:class:`RawSeries`, which :func:`series_to_frame` labels with their metric and cohort.  Nothing
here makes a request, so saved answers (:mod:`canarystats.sources.files`) read the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from canarystats.frame import empty_frame, frame_from_arrays
from canarystats.sources.query import group_name


class AnswerError(ValueError):
    """The answer is well formed but says the query failed; ``str()`` is Datadog's own text.

    Examples
    --------
    >>> str(AnswerError("query timed out"))
    'query timed out'
    """


@dataclass(frozen=True)
class RawSeries:
    """One series of a Datadog answer, before it is labelled with a metric and cohort.

    ``times_ms`` are epoch milliseconds (int64), ``values`` float64 with NaN for null points,
    ``interval_ms`` the bucket width the answer implies (None when it cannot tell).
    """

    query_index: int
    group: str
    unit: str | None
    times_ms: np.ndarray
    values: np.ndarray
    interval_ms: int | None


def parse_response(body: Mapping[str, Any]) -> list[RawSeries]:
    """Read the series of a v1 (``/api/v1/query``) or v2 (``/api/v2/query/timeseries``) answer.

    Parameters
    ----------
    body : Mapping
        The decoded JSON body (or a client model's ``to_dict()``).

    Returns
    -------
    list of RawSeries
        Every series, null points included as NaN.

    Raises
    ------
    AnswerError
        When the body says the query failed (``errors``, or v1's ``"status": "error"``).
    ValueError
        When the body is neither shape.

    Examples
    --------
    >>> body = {"data": {"attributes": {"series": [{"group_tags": ["host:a"], "query_index": 0,
    ...         "unit": None}], "times": [60000, 120000], "values": [[1, None]]}}}
    >>> s = parse_response(body)[0]
    >>> s.group, s.times_ms.tolist(), s.values.tolist()
    ('a', [60000, 120000], [1.0, nan])
    """
    if not isinstance(body, Mapping):
        raise ValueError("the answer is not a JSON object")
    if body.get("errors"):
        # Checked first: an answer carrying errors next to data may have left queries out.
        raise AnswerError(errors_text(body))
    if "data" in body:
        return _parse_v2(body)
    if "series" in body or "status" in body:
        return _parse_v1(body)
    raise ValueError("the answer has neither 'series' (v1) nor 'data' (v2)")


def _parse_v1(body: Mapping[str, Any]) -> list[RawSeries]:
    if body.get("status") == "error" or body.get("error"):
        raise AnswerError(str(body.get("error") or errors_text(body)))
    group_keys = [str(key) for key in body.get("group_by") or []]
    out = []
    for item in body.get("series") or []:
        points = item.get("pointlist") or []
        # Points are [ts_ms, value] lists, or client Point objects wrapping one in .value.
        pairs = [getattr(point, "value", point) for point in points]
        times = np.array([_ms(pair[0]) for pair in pairs], dtype="int64")
        values = np.array(
            [np.nan if pair[1] is None else float(pair[1]) for pair in pairs], dtype="float64"
        )
        tags = item.get("tag_set")
        if tags is None:
            # Some 2020 answers omit tag_set; the group tags are then the scope's tags whose key
            # is a group_by key.
            scope_tags = str(item.get("scope") or "").split(",")
            tags = [tag for tag in scope_tags if tag.partition(":")[0] in group_keys]
        interval = item.get("interval")
        out.append(
            RawSeries(
                query_index=int(item.get("query_index") or 0),
                group=group_name(tags),
                unit=format_unit(item.get("unit")),
                times_ms=times,
                values=values,
                # v1 intervals are seconds, whatever the API specification says
                interval_ms=int(interval) * 1000 if interval else None,
            )
        )
    return out


def _parse_v2(body: Mapping[str, Any]) -> list[RawSeries]:
    data = body.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("attributes"), Mapping):
        raise ValueError("the answer's 'data.attributes' is missing")
    attributes = data["attributes"]
    if attributes.get("errors"):
        raise AnswerError(errors_text(attributes))
    stamps = attributes.get("times") or []
    # v2 times are int64 milliseconds by Datadog's specification; anything else is not its answer.
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in stamps):
        raise ValueError("the answer's 'times' are not integer milliseconds")
    times = np.array(stamps, dtype="int64")
    series = attributes.get("series") or []
    rows = attributes.get("values") or []
    if len(rows) != len(series):
        raise ValueError(f"the answer has {len(series)} series but {len(rows)} value rows")
    interval = _grid_step(times)
    out = []
    for index, (item, row) in enumerate(zip(series, rows, strict=True)):
        if len(row) != len(times):
            raise ValueError(f"series {index} has {len(row)} values for {len(times)} times")
        values = np.array([np.nan if v is None else float(v) for v in row], dtype="float64")
        out.append(
            RawSeries(
                query_index=int(item.get("query_index") or 0),
                group=group_name(item.get("group_tags") or []),
                unit=format_unit(item.get("unit")),
                times_ms=times,
                values=values,
                interval_ms=interval,
            )
        )
    return out


def _ms(stamp: Any) -> int:
    # v1 timestamps arrive as JSON ints or floats (1596011442000.0); both are whole ms.
    value = float(stamp)
    if not math.isfinite(value):
        raise ValueError(f"timestamp {stamp!r} is not a number")
    return round(value)


def _grid_step(times: np.ndarray) -> int | None:
    # v2 answers carry no interval and list only buckets with data, so the bucket width is the
    # greatest common divisor of the gaps (the grid is aligned to multiples of it).
    if len(times) < 2:
        return None
    gaps = np.diff(np.unique(times))
    step = int(np.gcd.reduce(gaps)) if len(gaps) else 0
    return step or None


def format_unit(unit: Any) -> str | None:
    """Name a Datadog unit: ``[unit, per_unit]`` -> ``"byte/second"``; null -> None.

    Examples
    --------
    >>> format_unit([{"name": "byte"}, {"name": "second"}])
    'byte/second'
    >>> format_unit(None) is None
    True
    """
    if not unit:
        return None
    if isinstance(unit, Mapping):
        return str(unit.get("name")) if unit.get("name") else None
    names = [
        str(part.get("name")) for part in unit if isinstance(part, Mapping) and part.get("name")
    ]
    return "/".join(names) or None


def errors_text(body: Any) -> str:
    """The error text of an answer that failed: its ``errors``, or what the body is.

    Examples
    --------
    >>> errors_text({"errors": ["bad query", "no metric"]})
    'bad query; no metric'
    >>> errors_text({"errors": [{"title": "Bad Request", "detail": "no such metric"}]})
    'Bad Request: no such metric'
    >>> errors_text("<html><body>502</body></html>")
    'an HTML error page'
    """
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(_error_item(e) for e in errors)
        if errors:
            return _error_item(errors)
        return "no error text"
    text = str(body or "").strip()
    if text.lower().startswith(("<!doctype", "<html")) or "<body" in text.lower():
        return "an HTML error page"
    return text or "an empty body"


def _error_item(error: Any) -> str:
    # JSON:API errors are objects ({"title": ..., "detail": ...}); older answers use strings.
    if isinstance(error, Mapping):
        parts = [str(error[k]) for k in ("title", "detail", "message") if error.get(k)]
        return ": ".join(parts) if parts else str(dict(error))
    return str(error)


def series_to_frame(
    series: Sequence[RawSeries],
    labels: Mapping[int, tuple[str, str]],
    *,
    window_ms: tuple[int, int] | None = None,
    step_ms: int = 0,
) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """Label raw series with their metric and cohort and stack them into the tidy frame.

    Parameters
    ----------
    series : sequence of RawSeries
        As :func:`parse_response` returns them.
    labels : Mapping
        ``query_index`` -> ``(metric, cohort)``.
    window_ms : (int, int), optional
        Keep only buckets that lie wholly inside ``[start, end)``: a bucket that starts before the
        window or ends after it holds data from outside (Datadog's grid is aligned to UNIX time,
        so the first and last buckets can be partial).
    step_ms : int
        The requested step; a bucket is at least this wide.

    Returns
    -------
    (DataFrame, dict)
        The tidy frame and each metric's unit.

    Examples
    --------
    >>> s = RawSeries(0, "a", None, np.array([0, 60000]), np.array([1.0, 2.0]), 60000)
    >>> frame, units = series_to_frame([s], {0: ("m", "canary")}, window_ms=(0, 90000))
    >>> frame["value"].tolist()
    [1.0]
    """
    metrics: list[str] = []
    cohorts: list[str] = []
    hosts: list[str] = []
    stamps: list[np.ndarray] = []
    points: list[np.ndarray] = []
    units: dict[str, str | None] = {}
    for item in series:
        if item.query_index not in labels:
            raise ValueError(f"the answer has a series for query {item.query_index}, not asked")
        metric, cohort = labels[item.query_index]
        if units.get(metric) is None:
            units[metric] = item.unit
        times, values = item.times_ms, item.values
        if window_ms is not None:
            width = max(step_ms, item.interval_ms or 0)
            keep = (times >= window_ms[0]) & (times + width <= window_ms[1])
            times, values = times[keep], values[keep]
        n = len(times)
        metrics += [metric] * n
        cohorts += [cohort] * n
        hosts += [item.group] * n
        stamps.append(times)
        points.append(values)
    for metric, _cohort in labels.values():
        units.setdefault(metric, None)
    if not metrics:
        return empty_frame(), units
    # One frame for all series: building one per series costs more than the HTTP call.
    frame = frame_from_arrays(
        metrics, cohorts, hosts, np.concatenate(stamps), np.concatenate(points)
    )
    return frame, units
