"""The fake Datadog's intake: events (``POST /api/v1/events``) and metric points
(``POST /api/v2/series``), checked as Datadog checks them and kept for tests to read.

Only what was accepted is kept, so a test that made the intake fail sees nothing posted.
Intake needs the API key alone, as in Datadog (the official client sends no application key
there).  A body may come gzip- or deflate-compressed (``Content-Encoding``), as the client
sends metric payloads.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Mapping
from typing import Any

from canarystats.testing.queries import BadRequest

__all__ = [
    "EVENTS_PATH",
    "INTAKE_PATHS",
    "MAX_EVENT_TEXT",
    "MAX_EVENT_TITLE",
    "SERIES_PATH",
    "accept_event",
    "accept_series",
    "decoded",
]

EVENTS_PATH = "/api/v1/events"
SERIES_PATH = "/api/v2/series"
INTAKE_PATHS = (EVENTS_PATH, SERIES_PATH)
#: Datadog's limits on an event (characters): longer ones are refused
MAX_EVENT_TITLE = 100
MAX_EVENT_TEXT = 4000
_ALERT_TYPES = ("error", "warning", "info", "success", "user_update", "recommendation", "snapshot")


def decoded(body: bytes, encoding: str | None) -> Any:
    """The JSON of an intake body, uncompressed; :class:`BadRequest` when it is not JSON.

    Examples
    --------
    >>> decoded(gzip.compress(b'{"a": 1}'), "gzip")
    {'a': 1}
    """
    try:
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        return json.loads(body or b"null")
    except (OSError, zlib.error, ValueError):
        raise BadRequest("Payload is not valid JSON") from None


def accept_event(payload: Any, number: int) -> dict[str, Any]:
    """The event Datadog would store for ``payload`` (its ``id`` is ``number``).

    Examples
    --------
    >>> accept_event({"title": "t", "text": "x", "alert_type": "error"}, 7)["id"]
    7
    >>> accept_event({"title": "t" * 101, "text": "x"}, 7)
    Traceback (most recent call last):
    canarystats.testing.queries.BadRequest: Event title is longer than 100 characters
    """
    if not isinstance(payload, Mapping):
        raise BadRequest("Event payload must be an object")
    title, text = payload.get("title"), payload.get("text")
    if not isinstance(title, str) or not title:
        raise BadRequest("Event title is required")
    if not isinstance(text, str):
        raise BadRequest("Event text is required")
    if len(title) > MAX_EVENT_TITLE:
        raise BadRequest(f"Event title is longer than {MAX_EVENT_TITLE} characters")
    if len(text) > MAX_EVENT_TEXT:
        raise BadRequest(f"Event text is longer than {MAX_EVENT_TEXT} characters")
    alert = payload.get("alert_type", "info")
    if alert not in _ALERT_TYPES:
        raise BadRequest(f"Invalid alert_type {alert!r}")
    tags = payload.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise BadRequest("Event tags must be a list of strings")
    return {**payload, "id": number, "alert_type": alert, "tags": tags}


def accept_series(payload: Any) -> list[dict[str, Any]]:
    """The series of a ``POST /api/v2/series`` payload, each checked.

    Examples
    --------
    >>> accept_series({"series": [{"metric": "m", "type": 3,
    ...     "points": [{"timestamp": 1773155220, "value": 1.0}]}]})[0]["metric"]
    'm'
    """
    series = payload.get("series") if isinstance(payload, Mapping) else None
    if not isinstance(series, list) or not series:
        raise BadRequest("Payload has no series")
    for one in series:
        if not isinstance(one, Mapping) or not isinstance(one.get("metric"), str):
            raise BadRequest("Each series needs a metric name")
        points = one.get("points")
        if not isinstance(points, list) or not points:
            raise BadRequest(f"Series {one['metric']!r} has no points")
        for point in points:
            value = point.get("value") if isinstance(point, Mapping) else None
            stamp = point.get("timestamp") if isinstance(point, Mapping) else None
            if not isinstance(value, (int, float)) or not isinstance(stamp, int):
                raise BadRequest(f"Series {one['metric']!r} has a point without a number")
    return [dict(one) for one in series]
