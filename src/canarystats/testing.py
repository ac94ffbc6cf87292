"""A Datadog-compatible HTTP server on loopback, for tests, demos and your own pipeline tests.

:class:`FakeDatadog` speaks ``GET /api/v1/query`` and ``POST /api/v2/query/timeseries`` the way
Datadog does (shapes from ``notes/datadog-api.md`` §7 and the recorded answers): it requires the
``DD-API-KEY`` and ``DD-APPLICATION-KEY`` headers, takes seconds on v1 and milliseconds on v2,
answers from a tidy frame or replays recorded answers, sets the ``X-RateLimit-*`` headers, and
injects faults on demand.  It listens on 127.0.0.1 only.

The library never imports this module at run time.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"metric": ["app.latency"] * 2, "cohort": ["canary", "baseline"],
...     "host": ["web-1", "web-2"], "value": [1.0, 2.0],
...     "timestamp": pd.to_datetime(["2026-01-01T00:00:00Z"] * 2)})
>>> with FakeDatadog(frame, scopes={"role:canary": "canary"}) as dd:
...     dd.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from canarystats.sources.query import split_top_level

logger = logging.getLogger("canarystats.testing")

V1_PATH = "/api/v1/query"
V2_PATH = "/api/v2/query/timeseries"
# Datadog's real answer to a wrong data.type (recording 21).
_TYPE_ERROR = 'API input validation failed: Invalid type. Expected "timeseries_request".'
_QUERY = re.compile(
    r"^\s*(?:(?P<agg>avg|sum|min|max):)?(?P<metric>[A-Za-z0-9_.\-]+)\s*"
    r"\{(?P<filter>[^{}]*)\}\s*(?:by\s*\{(?P<by>[^{}]*)\})?\s*(?P<funcs>(?:\.\w+\([^()]*\))*)\s*$",
    re.IGNORECASE,
)
_SEP = "\x1f"
_FUNC = re.compile(r"\.(\w+)\(([^()]*)\)")
_WORDS = re.compile(r"\b(AND|OR|NOT|IN)\b")
_HTML_429 = (
    "<!DOCTYPE html><html><head><title>429 Too Many Requests</title></head>"
    "<body><h1>Too Many Requests</h1><p>Slow down.</p></body></html>"
)


@dataclass
class Fault:
    """Something to do instead of (or before) a normal answer.

    Parameters
    ----------
    status : int, optional
        Answer with this HTTP status and ``{"errors": [...]}`` (or ``body``).
    times : int, optional
        How many matching requests it affects; None for all.
    reset : float, optional
        ``X-RateLimit-Reset`` seconds to send.
    duplicate_reset : bool
        Send ``X-RateLimit-Reset`` twice (as Datadog has done).
    html : bool
        Send an HTML page (``text/html``) instead of JSON.
    body : str, optional
        Send this body text as is.
    errors : list of str, optional
        The ``errors`` of the JSON error body.
    delay : float
        Seconds to wait before answering.
    truncate : bool
        Send the normal answer cut in half (with a matching ``Content-Length``).
    match : str, optional
        Only requests whose query text contains this string.
    """

    status: int | None = None
    times: int | None = 1
    reset: float | None = None
    duplicate_reset: bool = False
    html: bool = False
    body: str | None = None
    errors: list[str] | None = None
    delay: float = 0.0
    truncate: bool = False
    match: str | None = None


@dataclass(frozen=True)
class Received:
    """One request the fake got: method, path, query strings, and v1/v2 window in ms."""

    method: str
    path: str
    queries: tuple[str, ...]
    start_ms: int | None
    end_ms: int | None
    interval_ms: int | None = None


@dataclass(frozen=True)
class _SubQuery:
    agg: str
    metric: str
    filter: str
    by: tuple[str, ...]
    rollup: str | None
    rollup_seconds: int | None
    as_count: bool


class _BadRequest(Exception):
    pass


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


class FakeDatadog:
    """A Datadog metrics-query API on 127.0.0.1, answering from a tidy frame or recordings.

    Parameters
    ----------
    frame : pandas.DataFrame, optional
        Tidy frame whose ``metric`` is the Datadog metric name (or see ``metrics``).  Each row's
        tags are ``host:<host>``, ``cohort:<cohort>``, the scope tags ``scopes`` gives its cohort,
        and the comma-separated tags of an optional ``tags`` column.
    scopes : Mapping, optional
        Tag -> cohort, e.g. ``{"role:canary": "canary", "role:baseline": "baseline"}``: rows of
        that cohort carry that tag, so queries filtered by it find them.
    metrics : Mapping, optional
        Datadog metric name -> the frame's ``metric`` value.
    units : Mapping, optional
        Datadog metric name -> unit name (``"percent"``, ``"byte/second"``).
    recordings : iterable, optional
        Recorded interactions (the dicts or files of ``datadog-recorded/``) to replay: a request
        to an endpoint gets the recording of that endpoint whose query matches, else the first.
    api_key, app_key : str, optional
        When given, the headers must carry exactly these values; otherwise any non-empty value.
    port : int
        0 (default) picks a free port.
    rate_limit : int
        Requests per ``rate_period`` before the fake answers 429 by itself.
    rate_period : int
        Seconds of the rate-limit window.

    Examples
    --------
    >>> with FakeDatadog() as dd:
    ...     dd.inject(Fault(status=500))
    ...     dd.requests
    0
    """

    def __init__(
        self,
        frame: pd.DataFrame | None = None,
        *,
        scopes: Mapping[str, str] | None = None,
        metrics: Mapping[str, str] | None = None,
        units: Mapping[str, str] | None = None,
        recordings: Iterable[Mapping[str, Any] | str | Path] | None = None,
        api_key: str | None = None,
        app_key: str | None = None,
        port: int = 0,
        rate_limit: int = 1600,
        rate_period: int = 3600,
    ) -> None:
        self._frame = _prepare(frame, scopes or {}) if frame is not None else None
        self._metrics = dict(metrics or {})
        self._units = dict(units or {})
        self._recordings = [_load_recording(r) for r in recordings or []]
        self._api_key = api_key
        self._app_key = app_key
        self._port = port
        self._rate_limit = rate_limit
        self._rate_period = rate_period
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()
        #: number of HTTP requests answered (faults included)
        self.requests = 0
        #: what each request asked for, in order
        self.received: list[Received] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeDatadog:
        """Start serving in a background thread; returns self."""
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        self._server.daemon_threads = True
        # A short poll keeps stop() (and so every test using the fake) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="FakeDatadog",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeDatadog:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("FakeDatadog is not started: use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL for ``DATADOG_HOST`` / ``DatadogSource(host=...)``."""
        return f"http://127.0.0.1:{self.port}"

    def inject(self, fault: Fault | None = None, **kwargs: Any) -> None:
        """Queue a fault for the next matching request(s): ``dd.inject(status=429, reset=2)``."""
        with self._lock:
            self._faults.append(fault if fault is not None else Fault(**kwargs))

    # ------------------------------------------------------------------ answering

    def _answer(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        parts = urlsplit(target)
        with self._lock:
            self.requests += 1
            count = self.requests
        if not headers.get("dd-api-key") or not headers.get("dd-application-key"):
            return _error(403, ["Forbidden"])
        if (self._api_key is not None and headers.get("dd-api-key") != self._api_key) or (
            self._app_key is not None and headers.get("dd-application-key") != self._app_key
        ):
            return _error(403, ["Forbidden"])
        try:
            received = self._parse_request(method, parts.path, parts.query, body)
        except _BadRequest as exc:
            return _error(400, [str(exc)])
        except _NotFound:
            return _error(404, ["Not found"])
        with self._lock:
            self.received.append(received)
        fault = self._take_fault(received)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        reset = self._rate_period - int(time.monotonic() - self._started) % self._rate_period
        remaining = self._rate_limit - count
        limits = [
            ("X-RateLimit-Limit", str(self._rate_limit)),
            ("X-RateLimit-Period", str(self._rate_period)),
            ("X-RateLimit-Remaining", str(max(remaining, 0))),
            ("X-RateLimit-Reset", str(reset)),
            ("X-RateLimit-Name", "metrics_query"),
        ]
        if fault is not None and (fault.status is not None or fault.body is not None):
            return _fault_reply(fault, limits)
        if remaining < 0:
            return _error(429, ["Too many requests"], limits)
        try:
            reply = self._normal(received, body, parts.query)
        except _BadRequest as exc:
            return _error(400, [str(exc)], limits)
        reply.headers.extend(limits)
        if fault is not None and fault.truncate:
            reply.body = reply.body[: max(len(reply.body) // 2, 1)]
        return reply

    def _take_fault(self, received: Received) -> Fault | None:
        text = " ".join(received.queries)
        with self._lock:
            for fault in self._faults:
                if fault.match is not None and fault.match not in text:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _parse_request(self, method: str, path: str, query: str, body: bytes) -> Received:
        if path == V1_PATH and method == "GET":
            params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
            missing = [p for p in ("from", "to", "query") if p not in params]
            if missing:
                raise _BadRequest(f"Missing required parameter: {missing[0]}")
            try:
                start, end = int(params["from"]), int(params["to"])
            except ValueError:
                raise _BadRequest("from and to must be integers (epoch seconds)") from None
            return Received(method, path, (params["query"],), start * 1000, end * 1000)
        if path == V2_PATH and method == "POST":
            try:
                data = json.loads(body or b"null")
                request = data["data"]
            except (ValueError, KeyError, TypeError):
                raise _BadRequest("API input validation failed: invalid JSON:API body") from None
            if request.get("type") != "timeseries_request":
                raise _BadRequest(_TYPE_ERROR)
            attributes = request.get("attributes") or {}
            for key in ("from", "to", "queries"):
                if key not in attributes:
                    raise _BadRequest(f"API input validation failed: '{key}' is required")
            queries = tuple(str(q.get("query", "")) for q in attributes["queries"])
            interval = attributes.get("interval")
            return Received(
                method,
                path,
                queries,
                int(attributes["from"]),
                int(attributes["to"]),
                int(interval) if interval else None,
            )
        raise _NotFound

    def _normal(self, received: Received, body: bytes, query: str) -> _Reply:
        recording = self._recording_for(received)
        if recording is not None:
            response = recording["response"]
            headers = [
                (name, str(values[0]))
                for name, values in (response.get("headers") or {}).items()
                if name.lower() == "content-type"
            ]
            content_type = headers[0][1] if headers else "application/json"
            return _Reply(int(response["status"]), response["body_raw"].encode(), content_type)
        if received.path == V1_PATH:
            return _json(200, self._v1(received), "application/json")
        return _json(200, self._v2(received, json.loads(body)), "application/vnd.api+json")

    def _recording_for(self, received: Received) -> Mapping[str, Any] | None:
        candidates = [r for r in self._recordings if r.get("endpoint") == received.path]
        for recording in candidates:
            if recording.get("query") in received.queries:
                return recording
        return candidates[0] if candidates else None

    # ------------------------------------------------------------------ data answers

    def _select(self, sub: _SubQuery, start_ms: int, end_ms: int, interval_ms: int) -> pd.DataFrame:
        frame = self._frame
        if frame is None or frame.empty:
            return pd.DataFrame(columns=["group", "bucket", "value"])
        name = self._metrics.get(sub.metric, sub.metric)
        rows = frame[frame["metric"] == name]
        # Tags are matched once per distinct series, not once per row.
        series = rows.drop_duplicates("series")
        wanted = {
            key
            for key, tags in zip(series["series"], series["tagset"], strict=True)
            if _matches(sub.filter, tags)
        }
        rows = rows[rows["series"].isin(wanted)]
        buckets = (rows["ms"] // interval_ms) * interval_ms
        rows = rows.assign(bucket=buckets)
        rows = rows[(rows["bucket"] >= start_ms) & (rows["bucket"] < end_ms)]
        if rows.empty:
            return pd.DataFrame(columns=["group", "bucket", "value"])
        groups = {
            key: _group_tags(sub.by, tags)
            for key, tags in zip(series["series"], series["tagset"], strict=True)
        }
        rows = rows.assign(group=rows["series"].map(groups))
        # Datadog rolls each source series up in time, then aggregates across series in space.
        method = sub.rollup or ("sum" if sub.as_count else "avg")
        per_series = _aggregate(rows.groupby(["group", "series", "bucket"])["value"], method)
        space = _aggregate(per_series.groupby(level=["group", "bucket"]), sub.agg)
        return space.reset_index()

    def _interval_ms(self, sub: _SubQuery, received: Received, default_ms: int) -> int:
        if sub.rollup_seconds:
            return sub.rollup_seconds * 1000
        if received.interval_ms:
            return max(int(received.interval_ms), 1000)
        return default_ms

    def _v1(self, received: Received) -> dict[str, Any]:
        assert received.start_ms is not None and received.end_ms is not None
        query = received.queries[0]
        subs = [_parse_query(part) for part in split_top_level(query)]
        span = received.end_ms - received.start_ms
        series = []
        group_by: list[str] = []
        for index, sub in enumerate(subs):
            interval = self._interval_ms(sub, received, _default_interval_ms(span))
            table = self._select(sub, received.start_ms, received.end_ms + 1, interval)
            group_by = group_by or list(sub.by)
            for group, rows in table.groupby("group", sort=True):
                tags = str(group).split(_SEP) if group else []
                stamps = [int(b) for b in rows["bucket"]]
                points = [[float(t), _num(v)] for t, v in zip(stamps, rows["value"], strict=True)]
                scope = ",".join([t for t in [sub.filter.strip()] if t not in ("", "*")] + tags)
                series.append(
                    {
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
                        "unit": _unit(self._units.get(sub.metric)),
                        "pointlist": points,
                    }
                )
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

    def _v2(self, received: Received, body: Mapping[str, Any]) -> dict[str, Any]:
        assert received.start_ms is not None and received.end_ms is not None
        attributes = body["data"]["attributes"]
        names = [q.get("name") for q in attributes["queries"]]
        for query in attributes["queries"]:
            if query.get("data_source", "metrics") != "metrics":
                raise _BadRequest("FakeDatadog answers only data_source 'metrics'")
        formulas = attributes.get("formulas") or [{"formula": n} for n in names]
        order = []
        for formula in formulas:
            text = str(formula.get("formula", "")).strip()
            if text not in names:
                raise _BadRequest(f"FakeDatadog supports formulas naming one query, not {text!r}")
            order.append(names.index(text))
        span = received.end_ms - received.start_ms
        tables = []
        for index, position in enumerate(order):
            sub = _parse_query(received.queries[position])
            interval = self._interval_ms(sub, received, _default_interval_ms(span))
            table = self._select(sub, received.start_ms, received.end_ms, interval)
            for group, rows in table.groupby("group", sort=True):
                tables.append((index, sub, str(group).split(_SEP) if group else [], rows))
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
                    "unit": _unit(self._units.get(sub.metric)),
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


class _NotFound(Exception):
    pass


def _prepare(frame: pd.DataFrame, scopes: Mapping[str, str]) -> pd.DataFrame:
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


def _matches(expression: str, tags: frozenset[str]) -> bool:
    expression = expression.strip()
    if expression in ("", "*"):
        return True
    if _WORDS.search(expression):
        raise _BadRequest("FakeDatadog understands filters joined by ',' and '!', not AND/OR/IN")
    for term in (t.strip() for t in expression.split(",")):
        if not term or term == "*":
            continue
        negate = term.startswith("!")
        pattern = term[1:] if negate else term
        found = any(fnmatch.fnmatchcase(tag, pattern) for tag in tags)
        if found == negate:
            return False
    return True


def _group_tags(keys: Sequence[str], tags: frozenset[str]) -> str:
    # Joined with a separator no tag holds, so pandas groups on plain strings.
    out = []
    for key in keys:
        values = sorted(t for t in tags if t.partition(":")[0] == key)
        out.append(values[0] if values else f"{key}:N/A")
    return _SEP.join(out)


def _aggregate(grouped: Any, method: str) -> pd.Series:
    # NaN (null) points are skipped; a bucket with only nulls stays null, as in Datadog.
    if method == "sum":
        return grouped.sum(min_count=1)
    if method == "count":
        return grouped.count().astype("float64")
    if method in ("avg", "mean", "min", "max"):
        return grouped.agg("mean" if method == "avg" else method)
    raise _BadRequest(f"unknown aggregation {method!r}")


def _parse_query(text: str) -> _SubQuery:
    match = _QUERY.match(text)
    if match is None:
        raise _BadRequest(f"Error parsing query: {text}")
    rollup, seconds, as_count = None, None, False
    for name, args in _FUNC.findall(match.group("funcs") or ""):
        if name == "rollup":
            parts = [a.strip() for a in args.split(",") if a.strip()]
            if parts and not parts[0].isdigit():
                rollup = parts.pop(0)
            if parts:
                seconds = int(parts[0])
        elif name == "as_count":
            as_count = True
        elif name not in ("as_rate", "fill"):
            raise _BadRequest(f"FakeDatadog does not know the function .{name}()")
    by = tuple(k.strip() for k in (match.group("by") or "").split(",") if k.strip())
    return _SubQuery(
        agg=(match.group("agg") or "avg").lower(),
        metric=match.group("metric"),
        filter=match.group("filter"),
        by=by,
        rollup=rollup,
        rollup_seconds=seconds,
        as_count=as_count,
    )


def _default_interval_ms(span_ms: int) -> int:
    # Datadog's default API rollups by window length (notes §3.2).
    hour = 3_600_000
    for limit, step in ((hour, 20), (4 * hour, 60), (24 * hour, 300), (48 * hour, 600)):
        if span_ms <= limit:
            return step * 1000
    return 3_600_000 if span_ms <= 7 * 24 * hour else 14_400_000


def _num(value: Any) -> float | None:
    number = float(value)
    return None if np.isnan(number) else number


def _unit(name: str | None) -> list[dict[str, Any] | None] | None:
    if not name:
        return None
    parts = name.split("/")
    objects: list[dict[str, Any] | None] = [
        {"family": "general", "scale_factor": 1.0, "name": p, "short_name": p, "plural": p, "id": 0}
        for p in parts[:2]
    ]
    return objects + [None] * (2 - len(objects))


def _json(status: int, payload: Any, content_type: str) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), content_type)


def _error(status: int, errors: list[str], headers: list[tuple[str, str]] | None = None) -> _Reply:
    return _Reply(status, json.dumps({"errors": errors}).encode(), headers=list(headers or []))


def _fault_reply(fault: Fault, limits: list[tuple[str, str]]) -> _Reply:
    status = fault.status or 200
    headers = [h for h in limits if h[0] != "X-RateLimit-Reset"]
    if fault.reset is not None:
        headers.append(("X-RateLimit-Reset", f"{fault.reset:g}"))
        if fault.duplicate_reset:
            headers.append(("X-RateLimit-Reset", f"{fault.reset:g}"))
    if fault.html:
        return _Reply(status, _HTML_429.encode(), "text/html; charset=utf-8", headers)
    if fault.body is not None:
        return _Reply(status, fault.body.encode(), "application/json", headers)
    errors = fault.errors or [_REASONS.get(status, "Error")]
    return _Reply(status, json.dumps({"errors": errors}).encode(), "application/json", headers)


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    408: "Request Timeout",
    429: "Too many requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _load_recording(recording: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    if isinstance(recording, Mapping):
        return recording
    data: Mapping[str, Any] = json.loads(Path(recording).read_text(encoding="utf-8"))
    return data


def _make_handler(fake: FakeDatadog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                reply = fake._answer(self.command, self.path, headers, body)
            except Exception as exc:  # the fake must answer, like a server would
                logger.exception("FakeDatadog failed on %s %s", self.command, self.path)
                reply = _error(500, [f"FakeDatadog internal error: {type(exc).__name__}"])
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            # The client may have given up already (a timeout test).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(reply.body)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("FakeDatadog: " + format, *args)

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``canarystats serve-fake-datadog``: serve a fake Datadog until interrupted.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code.

    Examples
    --------
    >>> main(["--port", "18080", "--data", "run.csv",
    ...       "--scope", "role:canary=canary"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(
        prog="canarystats serve-fake-datadog",
        description="Serve a Datadog-compatible metrics API on 127.0.0.1 for tests and demos.",
    )
    parser.add_argument("--port", type=int, default=18080, help="port (0: any free port)")
    parser.add_argument("--data", help="tidy frame file (.csv/.parquet/.json) to answer from")
    parser.add_argument(
        "--replay", action="append", default=[], help="recorded answer (.json) to replay"
    )
    parser.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="TAG=COHORT",
        help="tag carried by a cohort's rows, e.g. role:canary=canary (repeatable)",
    )
    args = parser.parse_args(argv)
    from canarystats.errors import CanaryStatsError
    from canarystats.sources.files import read_frame

    scopes: dict[str, str] = {}
    for item in args.scope:
        tag, sep, cohort = item.rpartition("=")
        if not sep or not tag or cohort not in ("canary", "baseline"):
            print(f"--scope {item!r}: write TAG=COHORT, e.g. role:canary=canary", file=sys.stderr)
            return 2
        scopes[tag] = cohort
    try:
        frame = read_frame(args.data) if args.data else None
        recordings = [_load_recording(path) for path in args.replay]
    except (CanaryStatsError, OSError, ValueError) as exc:
        print(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, file=sys.stderr)
        return 2
    fake = FakeDatadog(frame, scopes=scopes, recordings=recordings, port=args.port)
    try:
        fake.start()
    except OSError as exc:
        print(f"--port {args.port}: cannot listen ({exc.strerror}); pick another", file=sys.stderr)
        return 2
    print(f"fake Datadog on {fake.url}  (export DATADOG_HOST={fake.url})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


__all__ = ["FakeDatadog", "Fault", "Received", "main"]
