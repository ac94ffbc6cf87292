"""Retrying one Datadog request: backoff, the fetch deadline, rate limits and one-line errors.

The source owns the retry loop instead of ``datadog-api-client``'s, because the client's retry
has no cap on the ``X-RateLimit-Reset`` sleep, crashes on a duplicated reset header and leaves
transport errors unwrapped.  Every failure ends as one :class:`SourceError` line naming what was
asked and what to do; the request's keys never appear in it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from datadog_api_client.exceptions import ApiException, OpenApiException

from canarystats.errors import SourceError
from canarystats.sources.datadog_response import errors_text

logger = logging.getLogger("canarystats.sources")

#: statuses worth another attempt: request timeout and server errors (429 is handled apart)
RETRY_STATUSES = frozenset({408}) | frozenset(range(500, 600))


class Rejected(Exception):
    """Datadog answered 400: the request (a query in it) is invalid.

    Examples
    --------
    >>> str(Rejected("unknown metric"))
    'unknown metric'
    """


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


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry, and what to name in messages.

    ``backoff`` is the first wait, doubled each attempt up to ``max_backoff``; ``max_wait`` caps
    the wait for a rate-limit reset; ``max_retries`` counts attempts after the first.  ``host``
    and ``timeout`` appear in messages; ``deadline`` is the fetch's, for messages too (the time
    left is the :class:`Budget`'s).

    Examples
    --------
    >>> policy = RetryPolicy(
    ...     host="http://127.0.0.1:18080", timeout=30.0, deadline=300.0, max_retries=3,
    ...     backoff=1.0, max_backoff=30.0, max_wait=60.0, sleep=lambda seconds: None)
    >>> policy.max_retries
    3
    """

    host: str
    timeout: float
    deadline: float
    max_retries: int
    backoff: float
    max_backoff: float
    max_wait: float
    sleep: Callable[[float], None]


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, cut to ``limit`` characters.

    Examples
    --------
    >>> one_line("a\\n  b", 10), one_line("x" * 12, 10)
    ('a b', 'xxxxxxx...')
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def call_with_retries(
    call: Callable[[], Any], what: str, budget: Budget, policy: RetryPolicy
) -> Any:
    """Call ``call`` until it answers, retrying what can succeed on another attempt.

    Parameters
    ----------
    call : callable
        Makes the request; returns the client's ``(model, status, headers)``.
    what : str
        The request in messages (``"POST /api/v2/query/timeseries (4 queries, step 60 s)"``).
    budget : Budget
        Time left to the fetch; no wait runs past it.
    policy : RetryPolicy
        Attempts and waits.

    Returns
    -------
    object
        The answer's model.

    Raises
    ------
    Rejected
        On HTTP 400, for the caller to find the query at fault.
    SourceError
        On refused credentials, another 4xx, a TLS failure, or when retries or the deadline
        run out.

    Examples
    --------
    >>> policy = RetryPolicy("http://dd", 30.0, 300.0, 3, 1.0, 30.0, 60.0, lambda s: None)
    >>> call_with_retries(lambda: ("model", 200, {}), "GET /", Budget(lambda: 0.0, 300.0), policy)
    'model'
    """
    attempt = 0
    while True:
        attempt += 1
        wait = min(policy.backoff * 2 ** (attempt - 1), policy.max_backoff)
        try:
            model, _status, headers = call()
            remaining = _header(headers, "X-RateLimit-Remaining")
            if remaining is not None:
                logger.debug("X-RateLimit-Remaining: %s", remaining)
            return model
        except ApiException as exc:
            status = int(exc.status or 0)
            text = one_line(errors_text(exc.body))
            if status in (401, 403):
                raise SourceError(
                    f"Datadog refused the credentials (HTTP {status}: {text}): check "
                    "DD_API_KEY and DD_APP_KEY (both needed, with the timeseries_query "
                    "permission) and DD_SITE"
                ) from None
            if status == 400:
                raise Rejected(text) from None
            if status == 429:
                reset = _reset_seconds(exc.headers)
                reason = f"rate limited (HTTP 429, {text})"
                if reset is not None:
                    if reset > budget.left():
                        raise SourceError(
                            f"Datadog rate limit reached; it resets in {reset:g} s, after "
                            f"the {policy.deadline:g} s deadline: rerun later or raise the "
                            "deadline"
                        ) from None
                    wait = min(reset, policy.max_wait)
            elif status in RETRY_STATUSES:
                reason = f"HTTP {status} ({text})"
            elif status == 0:
                raise SourceError(
                    f"could not talk to {policy.host} securely: {one_line(str(exc.reason))}"
                ) from None
            else:
                raise SourceError(
                    f"Datadog answered HTTP {status} ({text}) to {what}: check "
                    "DATADOG_HOST / DD_SITE"
                ) from None
        except urllib3.exceptions.HTTPError as exc:
            reason = _transport_reason(exc, policy)
        except (OpenApiException, TypeError, ValueError, KeyError, AttributeError):
            # The client's deserialisation raises these on malformed or truncated JSON.
            reason = "an unreadable answer (malformed or truncated JSON)"
        if attempt > policy.max_retries:
            raise SourceError(
                f"Datadog {what} failed after {attempt} attempts: {reason}; "
                "check Datadog's status or rerun later"
            )
        if wait > budget.left():
            raise SourceError(
                f"Datadog {what} failed: {reason}, and the {policy.deadline:g} s deadline "
                "leaves no time to retry; rerun later or raise the deadline"
            )
        logger.warning("%s: %s; retrying in %.2f s", what, reason, wait)
        policy.sleep(wait)


def _transport_reason(exc: urllib3.exceptions.HTTPError, policy: RetryPolicy) -> str:
    cause = getattr(exc, "reason", None) or exc
    if isinstance(cause, urllib3.exceptions.NewConnectionError | ConnectionError):
        return f"could not connect to {policy.host}"
    if isinstance(cause, urllib3.exceptions.TimeoutError):
        return f"no answer within {policy.timeout:g} s (timeout)"
    if isinstance(cause, urllib3.exceptions.InvalidHeader):
        return "unreadable answer headers"
    if isinstance(cause, urllib3.exceptions.ProtocolError):
        return "the connection broke before the answer was complete"
    return f"a connection error ({type(cause).__name__})"


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
