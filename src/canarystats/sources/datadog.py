"""Fetching canary and baseline metrics from Datadog with the official ``datadog-api-client``.

The source sends each metric's query once per cohort, several metrics per HTTP request (v2
``POST /api/v2/query/timeseries`` takes a list of queries), and turns the answer
(:mod:`canarystats.sources.datadog_response`) into the tidy frame.  Each request is sent,
bounded by the fetch's wall-clock deadline and retried by
:mod:`canarystats.sources.datadog_retry`; every failure ends as one :class:`SourceError` line,
and key values never appear in messages or logs.

What a failure means decides the exit code: a set-up that can never work (keys missing or
refused, a ``DATADOG_HOST`` or ``DD_SITE`` that does not lead to Datadog's API, a query Datadog
rejects) is a :class:`SetupError`, exit 2, which ``--soft-fail`` never hides; a backend that is
down or rate-limiting past the retries or the deadline is a plain :class:`SourceError`, exit 3.
A host name that does not resolve is set-up, a host that resolves but refuses the connection is
down.  ``DD_SITE`` must be one of the sites the installed ``datadog-api-client`` knows; any
other base URL goes in ``DATADOG_HOST``.
"""

from __future__ import annotations

import logging
import math
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import urllib3
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.v1.api.metrics_api import MetricsApi as MetricsApiV1
from datadog_api_client.v2.api.metrics_api import MetricsApi as MetricsApiV2

from canarystats.errors import ConfigError, CredentialsError, SetupError, SourceError
from canarystats.frame import empty_frame
from canarystats.sources.base import MetricQuery, check_scopes, check_window, to_epoch_ms
from canarystats.sources.datadog_request import Unit, v2_body
from canarystats.sources.datadog_response import RawSeries, parse_response, series_to_frame
from canarystats.sources.datadog_retry import (
    DEFAULT_MAX_BYTES,
    Budget,
    Rejected,
    RetryPolicy,
    call_with_retries,
    one_line,
)
from canarystats.sources.query import render_query

__all__ = [
    "API_KEY_VARIABLES",
    "APP_KEY_VARIABLES",
    "DEFAULT_SITE",
    "V1_PATH",
    "V2_PATH",
    "DatadogSource",
    "key_from_environment",
    "parse_response",
    "series_to_frame",
]

logger = logging.getLogger("canarystats.sources")

DEFAULT_SITE = "datadoghq.com"
#: where the keys come from, first set wins: canarystats' (and the Datadog Agent's) names, then
#: those Datadog's own command-line tools read
API_KEY_VARIABLES = ("DD_API_KEY", "DATADOG_API_KEY")
APP_KEY_VARIABLES = ("DD_APP_KEY", "DATADOG_APP_KEY")
V1_PATH = "/api/v1/query"
V2_PATH = "/api/v2/query/timeseries"
_SITE = re.compile(r"^[A-Za-z0-9.-]+$")
#: the documented Datadog sites, when the installed client cannot list them
KNOWN_SITES = (
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "datadoghq.eu",
    "ddog-gov.com",
    "us2.ddog-gov.com",
)


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
        Default ``$DD_API_KEY`` and ``$DD_APP_KEY``, else ``$DATADOG_API_KEY`` and
        ``$DATADOG_APP_KEY`` (the names Datadog's own tools read; the ``DD_`` ones win when
        both are set).  Both are required; their absence is a
        :class:`SourceError` naming the variable, raised here, before any request.
    timeout : float
        Seconds to wait for an answer, per attempt (the client has none by default).
    connect_timeout : float
        Seconds to wait for the connection, per attempt.
    deadline : float
        Seconds of wall-clock time one :meth:`fetch` may take in all: connecting, reading and
        decoding, waits and retries included, however slowly the server answers.
    max_retries : int
        Extra attempts after a 429, 408, 5xx, broken connection or unreadable answer.
    backoff : float
        First wait before retrying (then doubled each time, capped by ``max_backoff``); each
        wait is drawn at random below that bound ("full jitter"), so pipelines that failed
        together do not retry together.
    max_backoff : float
        Longest wait between retries.
    max_wait : float
        Longest wait for a rate-limit reset (``X-RateLimit-Reset`` can say an hour); the wait
        for a reset is spread over up to one ``backoff`` more, within ``max_wait``.
    api : {"v2", "v1"}
        ``v2`` (default) sends several metrics per request; ``v1`` one request per metric.
    max_queries : int
        Most queries in one v2 request (each metric sends one per cohort).
    max_bytes : int
        Largest answer read, in bytes (default 64 MiB); a larger one is a :class:`SetupError`.
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
    jitter : callable
        The random source of the retry waits: each call returns a number in [0, 1) (default
        :func:`random.random`); replaceable in tests.
    app_key_required : bool
        False for what needs only the API key (posting events and metrics).
    progress : callable, optional
        Called as ``progress(done, total)`` after each request of a :meth:`fetch` with the
        metrics read so far and in all (a command line's progress bar); also an attribute.

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
        max_bytes: int = DEFAULT_MAX_BYTES,
        settle: float = 120.0,
        allow_empty: bool = False,
        trim: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
        app_key_required: bool = True,
        jitter: Callable[[], float] = random.random,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if api not in ("v1", "v2"):
            raise ConfigError(f"api {api!r} is not known: use 'v2' or 'v1'")
        if max_queries < 2:
            raise ConfigError("max_queries must be at least 2 (one query per cohort)")
        self._api_key = api_key if api_key is not None else key_from_environment(API_KEY_VARIABLES)
        self._app_key = app_key if app_key is not None else key_from_environment(APP_KEY_VARIABLES)
        if not self._api_key:
            raise CredentialsError(
                "DD_API_KEY is not set: export your Datadog API key as DD_API_KEY or "
                "DATADOG_API_KEY (and the application key as DD_APP_KEY or DATADOG_APP_KEY)"
            )
        if not self._app_key and app_key_required:
            raise CredentialsError(
                "DD_APP_KEY is not set: export a Datadog application key as DD_APP_KEY or "
                "DATADOG_APP_KEY (metric queries need it as well as DD_API_KEY)"
            )
        self.host, self._setting = self._resolve_host(host, site)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.deadline = deadline
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_wait = max_wait
        self.api = api
        self.max_queries = max_queries
        self.max_bytes = max_bytes
        self.settle = settle
        self.allow_empty = allow_empty
        self.trim = trim
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._now = now or (lambda: datetime.now(UTC))
        self.progress = progress
        #: HTTP requests made by this source so far, retries included
        self.requests = 0

    def __repr__(self) -> str:
        # Never the keys.
        return f"DatadogSource(host={self.host!r}, api={self.api!r})"

    @staticmethod
    def _resolve_host(host: str | None, site: str | None) -> tuple[str, str]:
        """The base URL, and the name of the setting it came from (for set-up errors)."""
        setting = "host" if host else "DATADOG_HOST"
        host = host or os.environ.get("DATADOG_HOST") or None
        if host:
            parts = urlsplit(host)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise SetupError(
                    f"{setting} {host!r} is not a URL: write it like http://127.0.0.1:18080 "
                    "or https://api.datadoghq.eu"
                )
            return host.rstrip("/"), setting
        setting = "site" if site else "DD_SITE"
        site = site or os.environ.get("DD_SITE") or DEFAULT_SITE
        sites = known_sites()
        if not _SITE.match(site) or site not in sites:
            raise SetupError(
                f"{setting} {site!r} is not a Datadog site: use one of {', '.join(sites)} "
                "(your Datadog URL's domain), or DATADOG_HOST for any other base URL"
            )
        return f"https://api.{site}", setting

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
        budget = self.budget()
        frames: list[pd.DataFrame] = []
        units: dict[str, str | None] = {}
        window_end = end
        done = 0
        with ApiClient(self.configuration()) as client:
            for step, group in _by_step(queries):
                stop = self._finished_end(start, end, step)
                window_end = min(window_end, stop)
                for batch in self._batches(group, len(scopes)):
                    frame, batch_units = self._fetch_batch(
                        client, batch, scopes, start, stop, budget
                    )
                    frames.append(frame)
                    units.update(batch_units)
                    done += len(batch)
                    if self.progress is not None:
                        self.progress(done, len(queries))
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
        logger.debug(
            "fetched %d metrics x %d cohorts: %d points in %d requests",
            len(queries),
            len(scopes),
            len(result),
            made,
        )
        return result

    def budget(self) -> Budget:
        """A new wall-clock budget of ``deadline`` seconds, for one fetch (or one post)."""
        return Budget(self._clock, self.deadline)

    def configuration(self) -> Configuration:
        """The client's configuration: this source's host, keys and timeouts; the client's own
        retry is off (requests go through ``datadog_retry.call_with_retries``)."""
        cfg = Configuration(
            host=self.host,
            request_timeout=(self.connect_timeout, self.timeout),
            return_http_data_only=False,
            # The body is read by datadog_retry, bounded in time and size.
            preload_content=False,
            # Our own loop retries; urllib3's default Retry(3) would silently repeat GETs and
            # multiply the timeout.  A redirect comes back as the 3xx answer, to be reported.
            retry_policy=urllib3.util.Retry(
                total=0, redirect=0, raise_on_redirect=False, raise_on_status=False
            ),
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
        # A metric sends one query per cohort, a formula metric one per named query and cohort;
        # each metric's queries stay in one request, so a formula is computed for both cohorts.
        if self.api == "v1":
            yield from ([metric] for metric in group)
            return
        batch: list[MetricQuery] = []
        size = 0
        for metric in group:
            cost = max(len(metric.queries), 1) * cohorts
            if batch and size + cost > self.max_queries:
                yield batch
                batch, size = [], 0
            batch.append(metric)
            size += cost
        if batch:
            yield batch

    def _fetch_batch(
        self,
        client: ApiClient,
        batch: list[MetricQuery],
        scopes: Mapping[str, str],
        start: datetime,
        stop: datetime,
        budget: Budget,
    ) -> tuple[pd.DataFrame, dict[str, str | None]]:
        labels: dict[int, tuple[str, str]] = {}
        units: list[Unit] = []
        for metric in batch:
            for cohort, scope in scopes.items():
                labels[len(units)] = (metric.name, cohort)
                units.append(self._unit(metric, scope))
        step = batch[0].step
        start_ms, stop_ms = to_epoch_ms(start), to_epoch_ms(stop)
        try:
            series = self._send(client, units, start_ms, stop_ms, step, budget)
        except Rejected as rejected:
            raise self._explain_rejection(
                client, units, start_ms, stop_ms, step, budget, str(rejected)
            ) from None
        try:
            window = (start_ms, stop_ms) if self.trim else None
            return series_to_frame(series, labels, window_ms=window, step_ms=step * 1000)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise SourceError(
                f"Datadog's answer to {len(units)} queries could not be read: "
                f"{self.scrub(one_line(str(exc)))}"
            ) from None

    def _unit(self, metric: MetricQuery, scope: str) -> Unit:
        if metric.formula is not None:
            if self.api == "v1":
                raise ConfigError(
                    f"metric {metric.name!r} is a formula, which needs the v2 API: drop api='v1'"
                )
            texts = tuple(render_query(query, scope) for _name, query in metric.queries)
            names = tuple(name for name, _query in metric.queries)
            return Unit(texts, metric.formula, names)
        text = render_query(metric.query, scope)
        if self.api == "v1" and ".rollup(" not in text:
            # v1 has no interval parameter; an explicit rollup fixes the step.
            method = "sum" if metric.kind == "count" else "avg"
            text = f"{text}.rollup({method},{metric.step})"
        return Unit((text,))

    def _send(
        self,
        client: ApiClient,
        units: list[Unit],
        start_ms: int,
        stop_ms: int,
        step: int,
        budget: Budget,
    ) -> list[RawSeries]:
        if self.api == "v1":
            # v1 takes comma-joined sub-queries; series carry the sub-query's query_index.
            api_v1 = MetricsApiV1(client)
            joined = ",".join(unit.texts[0] for unit in units)

            def request() -> Any:
                return api_v1.query_metrics(
                    _from=start_ms // 1000, to=math.ceil(stop_ms / 1000), query=joined
                )

            what = f"GET {V1_PATH} ({len(units)} queries)"
        else:
            api_v2 = MetricsApiV2(client)
            body = v2_body(units, start_ms, stop_ms, step)
            count = sum(len(unit.texts) for unit in units)

            def request() -> Any:
                return api_v2.query_timeseries_data(body=body)

            what = f"POST {V2_PATH} ({count} queries, step {step} s)"

        def counted(timeouts: tuple[float, float]) -> Any:
            self.requests += 1
            logger.debug("%s: request %d to %s", what, self.requests, self.host)
            # The client reads its timeout from the configuration at each call; these are the
            # fetch's own, cut to the time its deadline leaves.
            client.configuration.request_timeout = timeouts
            return request()

        return call_with_retries(counted, what, budget, self.retry_policy(), parse_response)

    def retry_policy(self) -> RetryPolicy:
        """The retries, deadline and key scrubbing of this source, for each request it sends."""
        # Read at each request, so settings changed after construction apply.
        return RetryPolicy(
            host=self.host,
            timeout=self.timeout,
            deadline=self.deadline,
            max_retries=self.max_retries,
            backoff=self.backoff,
            max_backoff=self.max_backoff,
            max_wait=self.max_wait,
            sleep=self._sleep,
            jitter=self._jitter,
            connect_timeout=self.connect_timeout,
            max_bytes=self.max_bytes,
            setting=self._setting,
            scrub=self.scrub,
        )

    def scrub(self, text: str) -> str:
        """``text`` without this source's key values (a server may echo a key back)."""
        for key in (self._api_key, self._app_key):
            if key:
                text = text.replace(key, "***")
        return text

    def _explain_rejection(
        self,
        client: ApiClient,
        units: list[Unit],
        start_ms: int,
        stop_ms: int,
        step: int,
        budget: Budget,
        text: str,
    ) -> SetupError:
        # A 400 does not say which query of a batch was wrong; asking for each alone finds it.
        if len(units) > 1:
            for single in units:
                try:
                    self._send(client, [single], start_ms, stop_ms, step, budget)
                except Rejected as rejected:
                    return SetupError(
                        f"Datadog rejected the query {single.describe()}: {rejected}; fix the "
                        "metric's query in the config"
                    )
        quoted = " | ".join(unit.describe() for unit in units)
        return SetupError(
            f"Datadog rejected the query {one_line(quoted, 400)}: {text}; fix the metric's "
            "query in the config"
        )


def key_from_environment(variables: Sequence[str]) -> str:
    """The value of the first of ``variables`` set to something non-empty, else ``""``.

    Parameters
    ----------
    variables : sequence of str
        Environment variable names, in order of precedence (:data:`API_KEY_VARIABLES`,
        :data:`APP_KEY_VARIABLES`).

    Returns
    -------
    str
        The key; never logged or printed by canarystats.

    Examples
    --------
    >>> os.environ["DATADOG_API_KEY"] = "from-datadog-cli"
    >>> key_from_environment(("CANARYSTATS_UNSET_VARIABLE", "DATADOG_API_KEY"))
    'from-datadog-cli'
    >>> del os.environ["DATADOG_API_KEY"]
    """
    for name in variables:
        value = os.environ.get(name, "")
        if value:
            return value
    return ""


def known_sites() -> tuple[str, ...]:
    """The Datadog sites ``DD_SITE`` may name: those the installed client lists, else the docs'.

    Examples
    --------
    >>> "datadoghq.eu" in known_sites(), "datadoghq.co" in known_sites()
    (True, False)
    """
    try:
        listed = Configuration().get_host_settings()[0]["variables"]["site"]["enum_values"]
        return tuple(dict.fromkeys(str(site) for site in listed)) or KNOWN_SITES
    except (LookupError, TypeError):
        return KNOWN_SITES


def _by_step(queries: Sequence[MetricQuery]) -> list[tuple[int, list[MetricQuery]]]:
    # One v2 request has one interval, so metrics are batched by step.
    steps: dict[int, list[MetricQuery]] = {}
    for query in queries:
        steps.setdefault(query.step, []).append(query)
    return list(steps.items())
