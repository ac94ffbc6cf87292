"""The fake Datadog's HTTP side: a server on 127.0.0.1, its keys, rate limits and faults.

:class:`FakeDatadog` checks the ``DD-API-KEY`` and ``DD-APPLICATION-KEY`` headers, counts
requests against a rate limit and sends the ``X-RateLimit-*`` headers, replays recorded answers,
and injects the faults queued with :meth:`FakeDatadog.inject`; what a query means and the data
it answers with come from :mod:`canarystats.testing.queries` and
:mod:`canarystats.testing.answers`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from canarystats.testing.answers import Answers, prepare_frame
from canarystats.testing.intake import (
    EVENTS_PATH,
    INTAKE_PATHS,
    accept_event,
    accept_series,
    decoded,
)
from canarystats.testing.monitors import MONITOR_PATH, SEARCH_PATH, FakeMonitors, MonitorNotFound
from canarystats.testing.queries import (
    V1_PATH,
    BadRequest,
    NotFound,
    Received,
    parse_request,
)
from canarystats.testing.replay import ReplayClock

__all__ = ["FakeDatadog", "Fault", "load_recording"]

logger = logging.getLogger("canarystats.testing")

#: the page Datadog's edge sends for a 429 when it answers in HTML instead of JSON
HTML_429 = (
    "<!DOCTYPE html><html><head><title>429 Too Many Requests</title></head>"
    "<body><h1>Too Many Requests</h1><p>Slow down.</p></body></html>"
)
#: the error text of a fault's JSON body, by status, when the fault gives none
REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    429: "Too many requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


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
        Send an HTML page (``text/html``) instead of JSON: a web site or a proxy's page.
    body : str, optional
        Send this body text as is.
    errors : list of str, optional
        The ``errors`` of the JSON error body.
    delay : float
        Seconds to wait before answering.
    truncate : bool
        Send the normal answer cut in half (with a matching ``Content-Length``).
    trickle : float
        Send the body one byte every ``trickle`` seconds (a stalled proxy, a dying link).
    trickle_headers : bool
        Trickle the status line and headers too, not only the body.
    pad : int
        Add an unknown field of this many bytes to the normal JSON answer.
    location : str, optional
        Send this ``Location`` header (with a 3xx ``status``: a redirect).
    match : str, optional
        Only requests whose query text contains this string.

    Examples
    --------
    >>> Fault(status=429, reset=2).times
    1
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
    trickle: float = 0.0
    trickle_headers: bool = False
    pad: int = 0
    location: str | None = None
    match: str | None = None


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    # seconds between bytes sent, and whether the head is trickled too
    trickle: float = 0.0
    trickle_headers: bool = False


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
        Recorded interactions to replay (dicts with ``endpoint``, ``query`` and a ``response``
        of ``status``, ``headers`` and ``body_raw``, or JSON files of them): a request to an
        endpoint gets the recording of that endpoint whose query matches, else the first.
    api_key, app_key : str, optional
        When given, the headers must carry exactly these values; otherwise any non-empty value.
    port : int
        0 (default) picks a free port.
    rate_limit : int
        Requests per ``rate_period`` before the fake answers 429 by itself.
    rate_period : int
        Seconds of the rate-limit window.
    monitors : iterable of mapping, optional
        Monitors as Datadog's API returns them, with their groups' states
        (:func:`canarystats.testing.monitors.fake_monitor` builds one): the fake answers the
        monitor search and ``GET /api/v1/monitor/{id}`` from them.

    The fake also takes events (``POST /api/v1/events``) and metric points
    (``POST /api/v2/series``) with the API key alone, as Datadog does, and keeps what it
    accepted in :attr:`events` and :attr:`series`; ``on_intake`` is called with ``"event"`` or
    ``"series"`` and each accepted item (``serve-fake-datadog`` prints them).

    With a ``clock`` (:class:`canarystats.testing.replay.ReplayClock`) the fake answers only
    the points before the clock's data time: a saved frame replayed as if it were arriving,
    in real or accelerated time, for ``canarystats watch``.

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
        monitors: Iterable[Mapping[str, Any]] = (),
        on_intake: Callable[[str, Mapping[str, Any]], None] | None = None,
        clock: ReplayClock | None = None,
    ) -> None:
        prepared = prepare_frame(frame, scopes or {}) if frame is not None else None
        self._answers = Answers(
            prepared, metrics, units, clock=None if clock is None else clock.now_ms
        )
        self._monitors = FakeMonitors(monitors)
        self._on_intake = on_intake
        self._recordings = [load_recording(r) for r in recordings or []]
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
        # Set while stopping, so that trickling answers give up instead of outliving the server.
        self.stopping = threading.Event()
        #: number of HTTP requests answered (faults included)
        self.requests = 0
        #: what each request asked for, in order
        self.received: list[Received] = []
        #: the events accepted (``POST /api/v1/events``), as posted, with their ``id``
        self.events: list[dict[str, Any]] = []
        #: the metric series accepted (``POST /api/v2/series``), as posted
        self.series: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeDatadog:
        """Start serving in a background thread; returns self."""
        handler = _make_handler(self)
        self.stopping.clear()
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
        self.stopping.set()
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
        # Intake takes the API key alone; queries and monitors need the application key too.
        intake = parts.path in INTAKE_PATHS
        if not headers.get("dd-api-key") or not (intake or headers.get("dd-application-key")):
            return _error(403, ["Forbidden"])
        if (self._api_key is not None and headers.get("dd-api-key") != self._api_key) or (
            not intake
            and self._app_key is not None
            and headers.get("dd-application-key") != self._app_key
        ):
            return _error(403, ["Forbidden"])
        try:
            received = _parse(method, target, body)
        except BadRequest as exc:
            return _error(400, [str(exc)])
        except NotFound:
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
        if fault is not None and (fault.status is not None or fault.body is not None or fault.html):
            return _slowed(_fault_reply(fault, limits), fault)
        if remaining < 0:
            return _error(429, ["Too many requests"], limits)
        try:
            reply = self._normal(received, body, headers)
        except BadRequest as exc:
            return _error(400, [str(exc)], limits)
        except MonitorNotFound:
            return _error(404, ["Monitor not found"], limits)
        reply.headers.extend(limits)
        if fault is None:
            return reply
        if fault.pad:
            payload = json.loads(reply.body)
            payload["unknown_padding"] = "x" * fault.pad
            reply.body = json.dumps(payload).encode()
        if fault.truncate:
            reply.body = reply.body[: max(len(reply.body) // 2, 1)]
        return _slowed(reply, fault)

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

    def _normal(self, received: Received, body: bytes, headers: Mapping[str, str]) -> _Reply:
        if received.path in INTAKE_PATHS:
            return self._intake(received, decoded(body, headers.get("content-encoding")))
        query = urlsplit(received.queries[0]).query if received.queries else ""
        if received.path == SEARCH_PATH:
            params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
            search = self._monitors.search(
                params.get("query", ""), params.get("page", ""), params.get("per_page", "")
            )
            return _json(200, search, "application/json")
        found = MONITOR_PATH.match(received.path)
        if found is not None:
            return _json(200, self._monitors.get(int(found["id"]), query), "application/json")
        recording = self._recording_for(received)
        if recording is not None:
            response = recording["response"]
            types = [
                (name, str(values[0]))
                for name, values in (response.get("headers") or {}).items()
                if name.lower() == "content-type"
            ]
            content_type = types[0][1] if types else "application/json"
            return _Reply(int(response["status"]), response["body_raw"].encode(), content_type)
        if received.path == V1_PATH:
            return _json(200, self._answers.v1(received), "application/json")
        return _json(200, self._answers.v2(received, json.loads(body)), "application/vnd.api+json")

    def _intake(self, received: Received, payload: Any) -> _Reply:
        with self._lock:
            if received.path == EVENTS_PATH:
                items = [("event", accept_event(payload, len(self.events) + 1))]
                self.events.append(items[0][1])
            else:
                items = [("series", one) for one in accept_series(payload)]
                self.series.extend(one for _, one in items)
        for kind, item in items:
            if self._on_intake is not None:
                self._on_intake(kind, item)
        if received.path == EVENTS_PATH:
            return _json(202, {"status": "ok", "event": items[0][1]}, "application/json")
        return _json(202, {"errors": []}, "application/json")

    def _recording_for(self, received: Received) -> Mapping[str, Any] | None:
        candidates = [r for r in self._recordings if r.get("endpoint") == received.path]
        for recording in candidates:
            if recording.get("query") in received.queries:
                return recording
        return candidates[0] if candidates else None


def load_recording(recording: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    """A recorded interaction: the mapping itself, or the JSON file at that path.

    A file that is not JSON, or not a recording, raises a :class:`ValueError` naming it.

    Examples
    --------
    >>> load_recording({"endpoint": "/api/v1/query"})["endpoint"]
    '/api/v1/query'
    """
    if isinstance(recording, Mapping):
        return recording
    try:
        data = json.loads(Path(recording).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{recording}: not a JSON file ({exc})") from None
    response = data.get("response") if isinstance(data, Mapping) else None
    if (
        not isinstance(response, Mapping)
        or not isinstance(data.get("endpoint"), str)
        or "status" not in response
        or not isinstance(response.get("body_raw"), str)
    ):
        raise ValueError(
            f"{recording}: not a recorded answer (it needs 'endpoint' and a 'response' with "
            "'status' and 'body_raw')"
        )
    loaded: Mapping[str, Any] = data
    return loaded


def _parse(method: str, target: str, body: bytes) -> Received:
    """What a request asks for; monitor and intake requests carry their target as the query
    text, so that a :class:`Fault`'s ``match`` can pick them (``match="monitor/1001"``)."""
    parts = urlsplit(target)
    own = method == "GET" and (parts.path == SEARCH_PATH or MONITOR_PATH.match(parts.path))
    if own or (method == "POST" and parts.path in INTAKE_PATHS):
        return Received(method, parts.path, (target,), None, None)
    return parse_request(method, parts.path, parts.query, body)


def _json(status: int, payload: Any, content_type: str) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), content_type)


def _error(status: int, errors: list[str], headers: list[tuple[str, str]] | None = None) -> _Reply:
    return _Reply(status, json.dumps({"errors": errors}).encode(), headers=list(headers or []))


def _slowed(reply: _Reply, fault: Fault) -> _Reply:
    reply.trickle = fault.trickle
    reply.trickle_headers = fault.trickle_headers
    return reply


def _html_page(status: int) -> str:
    if status == 429:
        return HTML_429
    title = f"{status} {REASONS.get(status, 'Error')}"
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1></body></html>"
    )


def _fault_reply(fault: Fault, limits: list[tuple[str, str]]) -> _Reply:
    status = fault.status or 200
    headers = [h for h in limits if h[0] != "X-RateLimit-Reset"]
    if fault.reset is not None:
        headers.append(("X-RateLimit-Reset", f"{fault.reset:g}"))
        if fault.duplicate_reset:
            headers.append(("X-RateLimit-Reset", f"{fault.reset:g}"))
    if fault.location is not None:
        headers.append(("Location", fault.location))
    if fault.html:
        return _Reply(status, _html_page(status).encode(), "text/html; charset=utf-8", headers)
    if fault.body is not None:
        return _Reply(status, fault.body.encode(), "application/json", headers)
    errors = fault.errors or [REASONS.get(status, "Error")]
    return _Reply(status, json.dumps({"errors": errors}).encode(), "application/json", headers)


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
            self.log_request(reply.status)
            head = self._head(reply)
            # The client may have given up already (a timeout or size test).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                if not reply.trickle:
                    self.wfile.write(head + reply.body)
                elif reply.trickle_headers:
                    self._trickle(head + reply.body, reply.trickle)
                else:
                    self.wfile.write(head)
                    self._trickle(reply.body, reply.trickle)

        def _head(self, reply: _Reply) -> bytes:
            phrase = self.responses.get(reply.status, ("",))[0]
            lines = [
                f"{self.protocol_version} {reply.status} {phrase}",
                f"Server: {self.version_string()}",
                f"Date: {self.date_time_string()}",
                f"Content-Type: {reply.content_type}",
                f"Content-Length: {len(reply.body)}",
                *(f"{name}: {value}" for name, value in reply.headers),
            ]
            return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

        def _trickle(self, data: bytes, pause: float) -> None:
            for index in range(len(data)):
                if fake.stopping.wait(pause):
                    # The server is stopping: drop the connection, as a dying proxy would.
                    self.close_connection = True
                    return
                self.wfile.write(data[index : index + 1])

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("FakeDatadog: " + format, *args)

    return Handler
