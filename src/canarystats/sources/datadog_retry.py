"""Sending one Datadog request: the wall-clock deadline, retries, and what each failure means.

The source owns the retry loop instead of ``datadog-api-client``'s, because the client's retry
has no cap on the ``X-RateLimit-Reset`` sleep, crashes on a duplicated reset header and leaves
transport errors unwrapped.  Every failure ends as one :class:`SourceError` line naming what was
asked and what to do; the request's keys never appear in it.

Whose failure it is decides the exit code of the command line:

- **Set-up** (:class:`SetupError`, exit 2, never hidden by ``--soft-fail``): waiting cannot fix
  it, so it is not retried.  The host name does not resolve (DNS: a wrong ``DATADOG_HOST`` or
  ``DD_SITE``); the server redirects (3xx), answers 404 or another 4xx that is not 408 or 429,
  or answers with an HTML page (not Datadog's API); the keys are refused (401, 403); a query is
  rejected (400); the answer is larger than ``max_bytes``.
- **Down** (:class:`SourceError`, exit 3, "no verdict"): the host resolves but refuses or breaks
  the connection, does not answer in time, answers 5xx or 408, rate-limits (429), or sends
  malformed JSON: each is retried with backoff, and exits 3 once the retries or the deadline
  run out.  An answer whose body says the query failed (a 200 with ``errors``) and a deadline
  that passes also exit 3.

Retries wait with "full jitter" (Brooker, "Exponential Backoff And Jitter", AWS Architecture
Blog, 2015): attempt ``n`` waits a random time between 0 and ``min(max_backoff, backoff *
2**(n-1))``, so pipelines that failed at the same moment (a Datadog incident, an org-wide rate
limit) spread their retries instead of hitting the server again in lockstep.  A rate limit's
reset (``X-RateLimit-Reset``) is waited for in full, plus up to one ``backoff`` at random.  No
wait runs past the deadline.

The deadline is wall-clock time, whatever the server does: each attempt runs in a worker
thread that the caller waits for no longer than the time left (a slow DNS lookup or a server
trickling its headers cannot hold it), the socket timeouts are cut to the time left, and the
body is read piece by piece, stopping at the deadline or past ``max_bytes``.  The body is
decoded with :mod:`json` rather than by the client's typed models, whose checks take minutes
on an answer carrying a few megabytes of unknown fields.
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import urllib3
from datadog_api_client.exceptions import ApiException

from canarystats.errors import CredentialsError, SetupError, SourceError
from canarystats.sources.datadog_response import AnswerError, errors_text

logger = logging.getLogger("canarystats.sources")

T = TypeVar("T")

#: statuses worth another attempt: request timeout and server errors (429 is handled apart)
RETRY_STATUSES = frozenset({408}) | frozenset(range(500, 600))
#: the largest answer read (bytes, after decompression): far above any real metrics answer,
#: low enough that a runaway server cannot exhaust a CI runner's memory
DEFAULT_MAX_BYTES = 64 * 2**20
# One recv's worth: small enough that a trickling server is noticed at the deadline.
_CHUNK = 1 << 16


class Rejected(Exception):
    """Datadog answered 400: the request (a query in it) is invalid.

    Examples
    --------
    >>> str(Rejected("unknown metric"))
    'unknown metric'
    """


class _Unreadable(Exception):
    """The answer is not JSON of the expected shape; worth another attempt."""


@dataclass
class Budget:
    """The time left to one fetch, by a monotonic ``clock``, against its ``deadline`` (seconds).

    Examples
    --------
    >>> Budget(clock=lambda: 5.0, deadline=300.0).left()
    300.0
    """

    clock: Callable[[], float]
    deadline: float
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = self.clock()

    def left(self) -> float:
        """Seconds left before the deadline (negative once it has passed)."""
        return self.deadline - (self.clock() - self.started)


def _unchanged(text: str) -> str:
    return text


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry, how much to read, and what to name in messages.

    ``backoff`` is the first wait's bound, doubled each attempt up to ``max_backoff``, and each
    wait is drawn below its bound with ``jitter`` (a number in [0, 1) per call; see
    :func:`backoff_wait`); ``max_wait`` caps the wait for a rate-limit reset; ``max_retries``
    counts attempts after the first.
    ``timeout`` and ``connect_timeout`` bound each attempt (cut to the time the :class:`Budget`
    has left); ``deadline`` is the fetch's, for messages.  ``max_bytes`` bounds an answer's
    size; ``setting`` names what chose ``host`` (``"DATADOG_HOST"``, ``"DD_SITE"``), for the
    set-up errors; ``scrub`` removes key values from any text the server sent; ``permission``
    says which keys and permissions the request needs, for a refusal's message.
    ``read_body`` False is for intake: a 2xx is the whole answer (Datadog accepted what was
    sent), its body is not decoded, and so an answer cut short is never sent again as a
    duplicate.

    Examples
    --------
    >>> policy = RetryPolicy(
    ...     host="http://127.0.0.1:18080", timeout=30.0, deadline=300.0, max_retries=3,
    ...     backoff=1.0, max_backoff=30.0, max_wait=60.0, sleep=lambda seconds: None)
    >>> policy.max_retries, policy.max_bytes // 2**20
    (3, 64)
    """

    host: str
    timeout: float
    deadline: float
    max_retries: int
    backoff: float
    max_backoff: float
    max_wait: float
    sleep: Callable[[float], None]
    connect_timeout: float = 10.0
    max_bytes: int = DEFAULT_MAX_BYTES
    setting: str = "DATADOG_HOST / DD_SITE"
    scrub: Callable[[str], str] = field(default=_unchanged, repr=False)
    permission: str = "both needed, the application key with the timeseries_query permission"
    read_body: bool = True
    jitter: Callable[[], float] = field(default=random.random, repr=False)


@dataclass(frozen=True)
class Answer:
    """A 2xx answer as received: status, headers and the whole (decompressed) body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, cut to ``limit`` characters.

    Examples
    --------
    >>> one_line("a\\n  b", 10), one_line("x" * 12, 10)
    ('a b', 'xxxxxxx...')
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def backoff_wait(attempt: int, policy: RetryPolicy) -> float:
    """The wait after failed attempt ``attempt`` (1, 2, ...): full jitter below the bound.

    The bound is ``min(max_backoff, backoff * 2**(attempt - 1))``; the wait is ``policy.jitter()``
    (in [0, 1)) times it.

    Parameters
    ----------
    attempt : int
        The attempt that just failed, counted from 1.
    policy : RetryPolicy
        ``backoff``, ``max_backoff`` and the random source ``jitter``.

    Returns
    -------
    float
        Seconds to wait, from 0 up to (not including) the bound.

    Examples
    --------
    >>> policy = RetryPolicy("http://dd", 30.0, 300.0, 3, 1.0, 30.0, 60.0, lambda s: None,
    ...                      jitter=lambda: 0.5)
    >>> [backoff_wait(n, policy) for n in (1, 2, 3, 7)]
    [0.5, 1.0, 2.0, 15.0]
    """
    # The doubling stops at 2**64, far past any cap, so that no attempt count overflows a float.
    bound = min(policy.max_backoff, policy.backoff * 2.0 ** min(attempt - 1, 64))
    return bound * policy.jitter()


def call_with_retries(
    call: Callable[[tuple[float, float]], Any],
    what: str,
    budget: Budget,
    policy: RetryPolicy,
    read: Callable[[Any], T],
) -> T:
    """Send a request until it is answered, retrying what can succeed on another attempt.

    Parameters
    ----------
    call : callable
        Sends the request with the ``(connect, read)`` timeouts it is given and returns the
        client's raw ``urllib3`` response, unread (``preload_content=False``).
    what : str
        The request in messages (``"POST /api/v2/query/timeseries (4 queries, step 60 s)"``).
    budget : Budget
        Time left to the fetch; no attempt or wait runs past it.
    policy : RetryPolicy
        Attempts, waits, the size bound and the names in messages.
    read : callable
        Turns the decoded JSON body into the result; its ``ValueError`` (and kin) make the
        answer unreadable (retried), its :class:`AnswerError` is Datadog saying the query failed.

    Returns
    -------
    object
        What ``read`` returned.

    Raises
    ------
    Rejected
        On HTTP 400, for the caller to find the query at fault.
    SetupError
        When the set-up is wrong (see the module's notes); never retried.
    SourceError
        When Datadog is down or rate-limiting past the retries or the deadline.

    Examples
    --------
    >>> import io
    >>> answer = lambda timeouts: urllib3.HTTPResponse(
    ...     io.BytesIO(b'{"ok": 1}'), status=200, preload_content=False)
    >>> policy = RetryPolicy("http://dd", 30.0, 300.0, 3, 1.0, 30.0, 60.0, lambda s: None)
    >>> call_with_retries(answer, "GET /", Budget(lambda: 0.0, 300.0), policy, dict)
    {'ok': 1}
    """
    attempt = 0
    reason = ""
    while True:
        attempt += 1
        wait = backoff_wait(attempt, policy)
        # The read timeout this attempt gets: the policy's, or less when the deadline is near.
        read_timeout = min(policy.timeout, budget.left())
        try:
            return _decode(_attempt(call, what, budget, policy), what, policy, read)
        except _DeadlinePassed:
            if not reason:
                raise
            # A retry cut short by the deadline: what went wrong before is the news.
            raise _deadline_passed(what, policy, reason) from None
        except ApiException as exc:
            wait, reason = _failed_status(exc, what, budget, policy, wait)
        except urllib3.exceptions.HTTPError as exc:
            reason = _transport_reason(exc, policy, read_timeout)
        except _Unreadable as exc:
            reason = f"an unreadable answer (malformed or truncated JSON: {exc})"
        if attempt > policy.max_retries:
            raise SourceError(
                f"Datadog {what} failed after {attempt} attempts: {reason}; "
                "check Datadog's status or rerun later"
            )
        if wait >= budget.left():  # an attempt needs some time after the wait
            raise SourceError(
                f"Datadog {what} failed: {reason}, and the {policy.deadline:g} s deadline "
                "leaves no time to retry; rerun later or raise the deadline (--deadline)"
            )
        # Progress, not a warning: the retry may well succeed, and a failure is its own error.
        logger.info("%s: %s; retrying in %.2f s", what, reason, wait)
        policy.sleep(wait)


def _attempt(
    call: Callable[[tuple[float, float]], Any], what: str, budget: Budget, policy: RetryPolicy
) -> Answer:
    """One request and its body, given up when the deadline passes whatever the server does."""
    left = budget.left()
    if left <= 0:
        raise _deadline_passed(what, policy)
    # urllib3 refuses a zero timeout; a millisecond fails just as surely.
    timeouts = (max(min(policy.connect_timeout, left), 1e-3), max(min(policy.timeout, left), 1e-3))
    outcome: dict[str, Any] = {}
    cancelled = threading.Event()

    def work() -> None:
        try:
            outcome["answer"] = _receive(call(timeouts), what, budget, policy, cancelled)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            outcome["error"] = exc

    # A daemon thread: one stuck in a DNS lookup or on trickled headers must not keep the
    # process alive; it ends with its socket timeout, or with the process.
    worker = threading.Thread(target=work, name="canarystats-datadog-request", daemon=True)
    worker.start()
    worker.join(min(left, threading.TIMEOUT_MAX))
    if worker.is_alive():
        cancelled.set()
        raise _deadline_passed(what, policy)
    if "error" in outcome:
        raise outcome["error"]
    answer: Answer = outcome["answer"]
    return answer


def _receive(
    response: Any, what: str, budget: Budget, policy: RetryPolicy, cancelled: threading.Event
) -> Answer:
    """Read a 2xx answer's body in pieces, stopping at the deadline or past ``max_bytes``."""
    done = False
    try:
        length = str(response.headers.get("Content-Length") or "").strip()
        if length.isdigit() and int(length) > policy.max_bytes:
            raise _too_large(what, policy)
        chunks: list[bytes] = []
        size = 0
        while True:
            if cancelled.is_set() or budget.left() <= 0:
                raise _deadline_passed(what, policy)
            # read1: what one recv brings, so a server sending a byte a second cannot make one
            # read wait for a whole buffer.
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise _too_large(what, policy)
            chunks.append(chunk)
        done = True
        return Answer(int(response.status), dict(response.headers), b"".join(chunks))
    finally:
        if done:
            response.release_conn()
        else:
            # Unread bytes would corrupt the next request on this connection: drop it.
            response.close()


def _decode(answer: Answer, what: str, policy: RetryPolicy, read: Callable[[Any], T]) -> T:
    content_type = (_header(answer.headers, "Content-Type") or "").lower()
    if "html" in content_type:
        raise SetupError(
            f"{policy.host} answered {what} with an HTML page, not Datadog's JSON: "
            f"{policy.setting} is probably wrong (it must be Datadog's API, not a web site)"
        )
    if not policy.read_body:
        return read(None)
    try:
        body = json.loads(answer.body)
    except ValueError as exc:  # UnicodeDecodeError included
        raise _Unreadable(one_line(str(exc), 120)) from None
    try:
        return read(body)
    except AnswerError as exc:
        raise SourceError(
            f"Datadog answered {what} with an error: {policy.scrub(one_line(str(exc)))}; "
            "rerun later, or fix the query Datadog names"
        ) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise _Unreadable(f"not Datadog's shape: {policy.scrub(one_line(str(exc), 120))}") from None


def _failed_status(
    exc: ApiException, what: str, budget: Budget, policy: RetryPolicy, wait: float
) -> tuple[float, str]:
    """The wait and reason for a retry after a non-2xx status, or the error that ends it."""
    status = int(exc.status or 0)
    text = policy.scrub(one_line(errors_text(exc.body)))
    if status in (401, 403):
        raise CredentialsError(
            f"Datadog refused the keys (HTTP {status}: {text}): check DD_API_KEY and "
            f"DD_APP_KEY ({policy.permission}) and that {policy.setting} is their "
            "organisation's site"
        ) from None
    if status == 400:
        raise Rejected(text) from None
    if status == 429:
        reset = _reset_seconds(exc.headers)
        if reset is not None:
            if reset > budget.left():
                raise SourceError(
                    f"Datadog rate limit reached; it resets in {reset:g} s, after "
                    f"the {policy.deadline:g} s deadline: rerun later or raise the "
                    "deadline (--deadline)"
                ) from None
            # Every client the limit stopped learns the same reset: spread the return over up
            # to one backoff (never past the deadline: half the time left after the reset).
            spread = min(policy.backoff, (budget.left() - reset) / 2) * policy.jitter()
            wait = min(reset + spread, policy.max_wait)
        return wait, f"rate limited (HTTP 429, {text})"
    if status in RETRY_STATUSES:
        return wait, f"HTTP {status} ({text})"
    if status == 0:
        raise SourceError(
            f"could not talk to {policy.host} securely: {policy.scrub(one_line(str(exc.reason)))}"
        ) from None
    if 300 <= status < 400:
        location = policy.scrub(one_line(_header(exc.headers, "Location") or "nowhere named"))
        raise SetupError(
            f"{policy.host} answered {what} with a redirect (HTTP {status}) to {location}: "
            f"{policy.setting} is probably wrong (Datadog's API does not redirect)"
        ) from None
    raise SetupError(
        f"{policy.host} answered HTTP {status} ({text}) to {what}: it does not look like "
        f"Datadog's API; {policy.setting} is probably wrong"
    ) from None


def _transport_reason(
    exc: urllib3.exceptions.HTTPError, policy: RetryPolicy, read_timeout: float
) -> str:
    """Why a retry is needed after a transport failure; a name that does not resolve raises."""
    cause = getattr(exc, "reason", None) or exc
    # Checked first: urllib3's NameResolutionError is also a NewConnectionError.
    if isinstance(cause, urllib3.exceptions.NameResolutionError):
        name = urlsplit(policy.host).hostname or policy.host
        raise SetupError(
            f"cannot resolve the host name {name!r} of {policy.host}: {policy.setting} is "
            "probably wrong (or this machine has no working DNS)"
        ) from None
    if isinstance(cause, urllib3.exceptions.NewConnectionError | ConnectionError):
        return f"could not connect to {policy.host}"
    if isinstance(cause, urllib3.exceptions.TimeoutError):
        return f"no answer within {read_timeout:.3g} s (timeout)"
    if isinstance(cause, urllib3.exceptions.InvalidHeader):
        return "unreadable answer headers"
    if isinstance(cause, urllib3.exceptions.ProtocolError):
        return "the connection broke before the answer was complete"
    return f"a connection error ({type(cause).__name__})"


class _DeadlinePassed(SourceError):
    """The deadline passed while an attempt was under way."""


def _deadline_passed(what: str, policy: RetryPolicy, before: str = "") -> SourceError:
    earlier = f" (the attempt before: {before})" if before else ""
    return _DeadlinePassed(
        f"Datadog did not finish answering {what} within the {policy.deadline:g} s "
        f"deadline{earlier}: rerun later or raise the deadline (--deadline)"
    )


def _too_large(what: str, policy: RetryPolicy) -> SetupError:
    return SetupError(
        f"Datadog's answer to {what} is larger than {policy.max_bytes / 2**20:g} MiB, the most "
        "canarystats reads: narrow the metric's query (fewer groups) or the window, or check "
        f"that {policy.setting} is Datadog's API"
    )


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
