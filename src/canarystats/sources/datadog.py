"""Fetching canary and baseline metrics from Datadog with the official ``datadog-api-client``.

The source sends each metric's query once per cohort, several metrics per HTTP request (v2
``POST /api/v2/query/timeseries`` takes a list of queries), and turns the answer into the tidy
frame.  It owns the retry loop instead of the client's, because the client's retry has no cap on
the ``X-RateLimit-Reset`` sleep, crashes on a duplicated reset header and leaves transport errors
unwrapped (see ``notes/datadog-api.md`` §2.4).  Every failure ends as one :class:`SourceError`
line; key values never appear in messages or logs.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import urllib3
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException, OpenApiException
from datadog_api_client.v1.api.metrics_api import MetricsApi as MetricsApiV1
from datadog_api_client.v2.api.metrics_api import MetricsApi as MetricsApiV2
from datadog_api_client.v2.model.metrics_data_source import MetricsDataSource
from datadog_api_client.v2.model.metrics_timeseries_query import MetricsTimeseriesQuery
from datadog_api_client.v2.model.query_formula import QueryFormula
from datadog_api_client.v2.model.timeseries_formula_query_request import (
    TimeseriesFormulaQueryRequest,
)
from datadog_api_client.v2.model.timeseries_formula_request import TimeseriesFormulaRequest
from datadog_api_client.v2.model.timeseries_formula_request_attributes import (
    TimeseriesFormulaRequestAttributes,
)
from datadog_api_client.v2.model.timeseries_formula_request_queries import (
    TimeseriesFormulaRequestQueries,
)
from datadog_api_client.v2.model.timeseries_formula_request_type import (
    TimeseriesFormulaRequestType,
)

from canarystats.errors import ConfigError, CredentialsError, SourceError
from canarystats.frame import empty_frame, frame_from_arrays
from canarystats.sources.base import MetricQuery, check_scopes, check_window, to_epoch_ms
from canarystats.sources.query import group_name, render_query

logger = logging.getLogger("canarystats.sources")

DEFAULT_SITE = "datadoghq.com"
V1_PATH = "/api/v1/query"
V2_PATH = "/api/v2/query/timeseries"
_SITE = re.compile(r"^[A-Za-z0-9.-]+$")
_RETRY_STATUSES = frozenset({408}) | frozenset(range(500, 600))


# --------------------------------------------------------------------------- response parsing


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
    ValueError
        When the body is neither shape, or says the query failed.

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
    if "data" in body:
        return _parse_v2(body)
    if "series" in body or "status" in body:
        return _parse_v1(body)
    if "errors" in body:
        raise ValueError(_errors_text(body))
    raise ValueError("the answer has neither 'series' (v1) nor 'data' (v2)")


def _parse_v1(body: Mapping[str, Any]) -> list[RawSeries]:
    if body.get("status") == "error" or body.get("error"):
        raise ValueError(str(body.get("error") or _errors_text(body)))
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
                # v1 intervals are seconds, whatever the spec says (notes §1.1)
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
        raise ValueError(str(attributes["errors"]))
    times = np.array([_ms(t) for t in attributes.get("times") or []], dtype="int64")
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


def _errors_text(body: Any) -> str:
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e) for e in errors)
        if errors:
            return str(errors)
        return "no error text"
    text = str(body or "").strip()
    if text.lower().startswith(("<!doctype", "<html")) or "<body" in text.lower():
        return "an HTML error page"
    return text or "an empty body"


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


# --------------------------------------------------------------------------- the source


class _Rejected(Exception):
    """Datadog answered 400: the request (a query in it) is invalid."""


@dataclass
class _Budget:
    clock: Callable[[], float]
    deadline: float
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = self.clock()

    def left(self) -> float:
        return self.deadline - (self.clock() - self.started)


class DatadogSource:
    """Fetch metrics of a canary and a baseline cohort from Datadog.

    Parameters
    ----------
    host : str, optional
        Full base URL (``http://127.0.0.1:18080``); default ``$DATADOG_HOST``, else derived from
        the site.
    site : str, optional
        Datadog site (``datadoghq.eu``, ...); default ``$DD_SITE``, else ``datadoghq.com``.
    api_key, app_key : str, optional
        Default ``$DD_API_KEY`` and ``$DD_APP_KEY``.  Both are required; their absence is a
        :class:`SourceError` naming the variable, raised here, before any request.
    timeout : float
        Seconds to wait for an answer, per attempt (the client has none by default).
    connect_timeout : float
        Seconds to wait for the connection, per attempt.
    deadline : float
        Seconds one :meth:`fetch` may take in all, waits and retries included.
    max_retries : int
        Extra attempts after a 429, 408, 5xx, broken connection or unreadable answer.
    backoff : float
        First wait before retrying (then doubled each time, capped by ``max_backoff``).
    max_backoff : float
        Longest wait between retries.
    max_wait : float
        Longest wait for a rate-limit reset (``X-RateLimit-Reset`` can say an hour).
    api : {"v2", "v1"}
        ``v2`` (default) sends several metrics per request; ``v1`` one request per metric.
    max_queries : int
        Most queries in one v2 request (each metric sends one per cohort).
    settle : float
        Seconds Datadog needs to finish a bucket; the window's end is clamped to ``now - settle``
        because the last buckets before "now" come back null or partial.
    allow_empty : bool
        When False (default) an answer with no points for any metric is a :class:`SourceError`
        (a wrong scope or metric name, most likely); a single metric without data is never an
        error: it just has no rows.
    trim : bool
        Drop buckets not wholly inside the window (default True); False keeps every point
        Datadog sent, as recorded.
    clock, sleep, now : callable
        Monotonic clock, sleep and wall clock; replaceable in tests.

    Examples
    --------
    >>> source = DatadogSource(host="http://127.0.0.1:18080", api_key="k", app_key="a")
    >>> source.host
    'http://127.0.0.1:18080'
    """

    def __init__(
        self,
        host: str | None = None,
        site: str | None = None,
        api_key: str | None = None,
        app_key: str | None = None,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        deadline: float = 300.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        max_wait: float = 60.0,
        api: str = "v2",
        max_queries: int = 10,
        settle: float = 120.0,
        allow_empty: bool = False,
        trim: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if api not in ("v1", "v2"):
            raise ConfigError(f"api {api!r} is not known: use 'v2' or 'v1'")
        if max_queries < 2:
            raise ConfigError("max_queries must be at least 2 (one query per cohort)")
        self._api_key = api_key if api_key is not None else os.environ.get("DD_API_KEY", "")
        self._app_key = app_key if app_key is not None else os.environ.get("DD_APP_KEY", "")
        if not self._api_key:
            raise CredentialsError(
                "DD_API_KEY is not set: export your Datadog API key as DD_API_KEY "
                "(and the application key as DD_APP_KEY)"
            )
        if not self._app_key:
            raise CredentialsError(
                "DD_APP_KEY is not set: export a Datadog application key as DD_APP_KEY "
                "(metric queries need it as well as DD_API_KEY)"
            )
        self.host = self._resolve_host(host, site)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.deadline = deadline
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_wait = max_wait
        self.api = api
        self.max_queries = max_queries
        self.settle = settle
        self.allow_empty = allow_empty
        self.trim = trim
        self._clock = clock
        self._sleep = sleep
        self._now = now or (lambda: datetime.now(UTC))
        #: HTTP requests made by this source so far, retries included
        self.requests = 0

    def __repr__(self) -> str:
        # Never the keys.
        return f"DatadogSource(host={self.host!r}, api={self.api!r})"

    @staticmethod
    def _resolve_host(host: str | None, site: str | None) -> str:
        host = host or os.environ.get("DATADOG_HOST") or None
        if host:
            if not host.startswith(("http://", "https://")):
                raise SourceError(
                    f"DATADOG_HOST {host!r} is not a URL: write it like http://127.0.0.1:18080"
                )
            return host.rstrip("/")
        site = site or os.environ.get("DD_SITE") or DEFAULT_SITE
        if not _SITE.match(site):
            raise SourceError(
                f"DD_SITE {site!r} is not a Datadog site such as datadoghq.eu; "
                "use DATADOG_HOST for a full URL"
            )
        return f"https://api.{site}"

    # ------------------------------------------------------------------ fetching

    def fetch(
        self,
        queries: Sequence[MetricQuery],
        scopes: Mapping[str, str],
        start: datetime,
        end: datetime,
    ) -> pd.DataFrame:
        """Fetch every query for every cohort over ``[start, end)`` into the tidy frame.

        Parameters
        ----------
        queries : sequence of MetricQuery
            The metrics; names must be unique.
        scopes : Mapping
            Cohort (``"canary"``, ``"baseline"``) -> Datadog tag filter.
        start, end : datetime
            Timezone-aware window; ``end`` is clamped to what Datadog has finished.

        Returns
        -------
        pandas.DataFrame
            The tidy frame; ``attrs["units"]``, ``attrs["requests"]`` and ``attrs["window"]``
            (the window actually used).

        Raises
        ------
        SourceError
            When Datadog refuses, fails, or cannot be reached within the deadline.

        Examples
        --------
        >>> from canarystats.testing import FakeDatadog  # doctest: +SKIP
        >>> with FakeDatadog(frame) as dd:  # doctest: +SKIP
        ...     DatadogSource(host=dd.url, api_key="k", app_key="a").fetch(
        ...         [MetricQuery("cpu", "avg:system.cpu.user{$scope} by {host}")],
        ...         {"canary": "role:canary", "baseline": "role:baseline"}, start, end)
        """
        scopes = check_scopes(scopes)
        start, end = check_window(start, end)
        queries = list(queries)
        if not queries:
            raise ConfigError("no metrics to fetch: configure at least one metric")
        names = [q.name for q in queries]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"metric name {duplicates[0]!r} is used twice: names must be unique")
        before = self.requests
        budget = _Budget(self._clock, self.deadline)
        frames: list[pd.DataFrame] = []
        units: dict[str, str | None] = {}
        window_end = end
        with ApiClient(self._configuration()) as client:
            for step, group in _by_step(queries):
                stop = self._finished_end(start, end, step)
                window_end = min(window_end, stop)
                for batch in self._batches(group, len(scopes)):
                    frame, batch_units = self._fetch_batch(
                        client, batch, scopes, start, stop, budget
                    )
                    frames.append(frame)
                    units.update(batch_units)
        frames = [f for f in frames if not f.empty]
        result = pd.concat(frames, ignore_index=True) if frames else empty_frame()
        made = self.requests - before
        if not self.allow_empty and not result["value"].notna().any():
            raise SourceError(
                f"Datadog returned no data for any of the {len(queries)} metrics between "
                f"{start.isoformat()} and {window_end.isoformat()} for scopes "
                + ", ".join(f"{c}={s!r}" for c, s in scopes.items())
                + ": check the scope tags, the metric names and the window"
            )
        result.attrs["units"] = {q.name: units.get(q.name) for q in queries}
        result.attrs["requests"] = made
        result.attrs["window"] = (start, window_end)
        logger.info(
            "fetched %d metrics x %d cohorts: %d points in %d requests",
            len(queries),
            len(scopes),
            len(result),
            made,
        )
        return result

    def _configuration(self) -> Configuration:
        cfg = Configuration(
            host=self.host,
            request_timeout=(self.connect_timeout, self.timeout),
            return_http_data_only=False,
            # Our own loop retries; urllib3's default Retry(3) would silently repeat GETs and
            # multiply the timeout (notes §2.3).
            retry_policy=urllib3.util.Retry(total=0, redirect=0, raise_on_status=False),
        )
        cfg.api_key["apiKeyAuth"] = self._api_key
        cfg.api_key["appKeyAuth"] = self._app_key
        return cfg

    def _finished_end(self, start: datetime, end: datetime, step: int) -> datetime:
        finished = self._now() - timedelta(seconds=self.settle)
        stop = min(end, finished)
        if stop - start < timedelta(seconds=step):
            raise SourceError(
                f"the window {start.isoformat()} to {end.isoformat()} holds no bucket of "
                f"{step} s that Datadog has finished (it needs about {self.settle:g} s): "
                "rerun later or end the window earlier"
            )
        return stop

    def _batches(self, group: list[MetricQuery], cohorts: int) -> Iterator[list[MetricQuery]]:
        size = 1 if self.api == "v1" else max(self.max_queries // cohorts, 1)
        for first in range(0, len(group), size):
            yield group[first : first + size]

    def _fetch_batch(
        self,
        client: ApiClient,
        batch: list[MetricQuery],
        scopes: Mapping[str, str],
        start: datetime,
        stop: datetime,
        budget: _Budget,
    ) -> tuple[pd.DataFrame, dict[str, str | None]]:
        labels: dict[int, tuple[str, str]] = {}
        strings: list[str] = []
        for metric in batch:
            for cohort, scope in scopes.items():
                labels[len(strings)] = (metric.name, cohort)
                text = render_query(metric.query, scope)
                if self.api == "v1" and ".rollup(" not in text:
                    # v1 has no interval parameter; an explicit rollup fixes the step.
                    method = "sum" if metric.kind == "count" else "avg"
                    text = f"{text}.rollup({method},{metric.step})"
                strings.append(text)
        step = batch[0].step
        start_ms, stop_ms = to_epoch_ms(start), to_epoch_ms(stop)
        try:
            body = self._send(client, strings, start_ms, stop_ms, step, budget)
        except _Rejected as rejected:
            raise self._explain_rejection(
                client, strings, start_ms, stop_ms, step, budget, str(rejected)
            ) from None
        try:
            series = parse_response(body)
            window = (start_ms, stop_ms) if self.trim else None
            return series_to_frame(series, labels, window_ms=window, step_ms=step * 1000)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise SourceError(
                f"Datadog's answer to {len(strings)} queries could not be read: "
                f"{_one_line(str(exc))}"
            ) from None

    def _send(
        self,
        client: ApiClient,
        strings: list[str],
        start_ms: int,
        stop_ms: int,
        step: int,
        budget: _Budget,
    ) -> Mapping[str, Any]:
        if self.api == "v1":
            # v1 takes comma-joined sub-queries; series carry the sub-query's query_index.
            api_v1 = MetricsApiV1(client)
            joined = ",".join(strings)

            def call() -> Any:
                return api_v1.query_metrics(
                    _from=start_ms // 1000, to=math.ceil(stop_ms / 1000), query=joined
                )

            what = f"GET {V1_PATH} ({len(strings)} queries)"
        else:
            api_v2 = MetricsApiV2(client)
            body = _v2_body(strings, start_ms, stop_ms, step)

            def call() -> Any:
                return api_v2.query_timeseries_data(body=body)

            what = f"POST {V2_PATH} ({len(strings)} queries, step {step} s)"
        result = self._call(call, what, budget)
        return result.to_dict()

    def _call(self, call: Callable[[], Any], what: str, budget: _Budget) -> Any:
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            logger.info("%s: request %d to %s", what, self.requests, self.host)
            wait = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
            try:
                model, _status, headers = call()
                remaining = _header(headers, "X-RateLimit-Remaining")
                if remaining is not None:
                    logger.debug("X-RateLimit-Remaining: %s", remaining)
                return model
            except ApiException as exc:
                status = int(exc.status or 0)
                text = _one_line(_errors_text(exc.body))
                if status in (401, 403):
                    raise SourceError(
                        f"Datadog refused the credentials (HTTP {status}: {text}): check "
                        "DD_API_KEY and DD_APP_KEY (both needed, with the timeseries_query "
                        "permission) and DD_SITE"
                    ) from None
                if status == 400:
                    raise _Rejected(text) from None
                if status == 429:
                    reset = _reset_seconds(exc.headers)
                    reason = f"rate limited (HTTP 429, {text})"
                    if reset is not None:
                        if reset > budget.left():
                            raise SourceError(
                                f"Datadog rate limit reached; it resets in {reset:g} s, after "
                                f"the {self.deadline:g} s deadline: rerun later or raise the "
                                "deadline"
                            ) from None
                        wait = min(reset, self.max_wait)
                elif status in _RETRY_STATUSES:
                    reason = f"HTTP {status} ({text})"
                elif status == 0:
                    raise SourceError(
                        f"could not talk to {self.host} securely: {_one_line(str(exc.reason))}"
                    ) from None
                else:
                    raise SourceError(
                        f"Datadog answered HTTP {status} ({text}) to {what}: check "
                        "DATADOG_HOST / DD_SITE"
                    ) from None
            except urllib3.exceptions.HTTPError as exc:
                reason = self._transport_reason(exc)
            except (OpenApiException, TypeError, ValueError, KeyError, AttributeError):
                # The client's deserialisation raises these on malformed or truncated JSON.
                reason = "an unreadable answer (malformed or truncated JSON)"
            if attempt > self.max_retries:
                raise SourceError(
                    f"Datadog {what} failed after {attempt} attempts: {reason}; "
                    "check Datadog's status or rerun later"
                )
            if wait > budget.left():
                raise SourceError(
                    f"Datadog {what} failed: {reason}, and the {self.deadline:g} s deadline "
                    "leaves no time to retry; rerun later or raise the deadline"
                )
            logger.warning("%s: %s; retrying in %.2f s", what, reason, wait)
            self._sleep(wait)

    def _transport_reason(self, exc: urllib3.exceptions.HTTPError) -> str:
        cause = getattr(exc, "reason", None) or exc
        if isinstance(cause, urllib3.exceptions.NewConnectionError | ConnectionError):
            return f"could not connect to {self.host}"
        if isinstance(cause, urllib3.exceptions.TimeoutError):
            return f"no answer within {self.timeout:g} s (timeout)"
        if isinstance(cause, urllib3.exceptions.InvalidHeader):
            return "unreadable answer headers"
        if isinstance(cause, urllib3.exceptions.ProtocolError):
            return "the connection broke before the answer was complete"
        return f"a connection error ({type(cause).__name__})"

    def _explain_rejection(
        self,
        client: ApiClient,
        strings: list[str],
        start_ms: int,
        stop_ms: int,
        step: int,
        budget: _Budget,
        text: str,
    ) -> SourceError:
        # A 400 does not say which query of a batch was wrong; asking for each alone finds it.
        if len(strings) > 1:
            for single in strings:
                try:
                    self._send(client, [single], start_ms, stop_ms, step, budget)
                except _Rejected as rejected:
                    return SourceError(
                        f"Datadog rejected the query {single!r}: {rejected}; fix the metric's "
                        "query in the config"
                    )
        quoted = " | ".join(repr(s) for s in strings)
        return SourceError(
            f"Datadog rejected the query {_one_line(quoted, 400)}: {text}; fix the metric's "
            "query in the config"
        )


def _v2_body(strings: list[str], start_ms: int, stop_ms: int, step: int) -> Any:
    queries = [
        MetricsTimeseriesQuery(data_source=MetricsDataSource.METRICS, query=text, name=f"q{i}")
        for i, text in enumerate(strings)
    ]
    return TimeseriesFormulaQueryRequest(
        data=TimeseriesFormulaRequest(
            type=TimeseriesFormulaRequestType.TIMESERIES_REQUEST,
            attributes=TimeseriesFormulaRequestAttributes(
                _from=start_ms,
                to=stop_ms,
                interval=step * 1000,
                queries=TimeseriesFormulaRequestQueries(queries),
                # One formula per query keeps series[].query_index equal to the query's position.
                formulas=[QueryFormula(formula=f"q{i}") for i in range(len(strings))],
            ),
        )
    )


def _by_step(queries: Sequence[MetricQuery]) -> list[tuple[int, list[MetricQuery]]]:
    # One v2 request has one interval, so metrics are batched by step.
    steps: dict[int, list[MetricQuery]] = {}
    for query in queries:
        steps.setdefault(query.step, []).append(query)
    return list(steps.items())


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if str(key).lower() == name.lower():
            return str(value)
    return None


def _reset_seconds(headers: Any) -> float | None:
    """Seconds until the rate limit resets; a duplicated header ("7, 7") counts once."""
    value = _header(headers, "X-RateLimit-Reset")
    if value is None:
        return None
    try:
        seconds = float(value.split(",")[0].strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
