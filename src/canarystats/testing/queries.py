"""What a request to the fake Datadog asks for: the endpoint, the window, the parsed queries.

The fake understands the metric-query language canarystats sends (and a little more):
``agg:metric{filter} by {keys}`` with ``.rollup()``, ``.as_count()``, ``.as_rate()`` and
``.fill()``, several such queries joined by commas on v1, and filters of tags joined by ``,``
(AND) with ``!`` negation and ``*`` wildcards.  Anything else is answered 400, as Datadog
answers a query it cannot parse.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

from canarystats.sources.query import split_top_level

__all__ = [
    "SEPARATOR",
    "V1_PATH",
    "V2_PATH",
    "BadRequest",
    "NotFound",
    "Received",
    "SubQuery",
    "default_interval_ms",
    "group_tags",
    "matches",
    "parse_query",
    "parse_request",
    "split_queries",
]

V1_PATH = "/api/v1/query"
V2_PATH = "/api/v2/query/timeseries"
#: Datadog's own answer to a v2 body whose ``data.type`` is wrong
TYPE_ERROR = 'API input validation failed: Invalid type. Expected "timeseries_request".'
#: joins the group tags of a series: no tag holds it, so pandas groups on plain strings
SEPARATOR = "\x1f"
_QUERY = re.compile(
    r"^\s*(?:(?P<agg>avg|sum|min|max):)?(?P<metric>[A-Za-z0-9_.\-]+)\s*"
    r"\{(?P<filter>[^{}]*)\}\s*(?:by\s*\{(?P<by>[^{}]*)\})?\s*(?P<funcs>(?:\.\w+\([^()]*\))*)\s*$",
    re.IGNORECASE,
)
_FUNC = re.compile(r"\.(\w+)\(([^()]*)\)")
_WORDS = re.compile(r"\b(AND|OR|NOT|IN)\b")


class BadRequest(Exception):
    """A request Datadog would answer 400; the message is the answer's error."""


class NotFound(Exception):
    """A path (or method) the fake does not serve: 404."""


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
class SubQuery:
    """One ``agg:metric{filter} by {keys}.functions()`` query, parsed."""

    agg: str
    metric: str
    filter: str
    by: tuple[str, ...]
    rollup: str | None
    rollup_seconds: int | None
    as_count: bool
    #: ``.fill(zero)``: a known group's empty buckets are 0 (other fills are ignored)
    fill_zero: bool = False


def parse_request(method: str, path: str, query: str, body: bytes) -> Received:
    """What a v1 ``GET`` or v2 ``POST`` asks for; :class:`BadRequest` or :class:`NotFound`.

    Examples
    --------
    >>> parse_request("GET", V1_PATH, "from=60&to=120&query=avg:m{*}", b"")
    Received(method='GET', path='/api/v1/query', queries=('avg:m{*}',), start_ms=60000, end_ms=120000, interval_ms=None)
    """  # noqa: E501
    if path == V1_PATH and method == "GET":
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        missing = [p for p in ("from", "to", "query") if p not in params]
        if missing:
            raise BadRequest(f"Missing required parameter: {missing[0]}")
        try:
            start, end = int(params["from"]), int(params["to"])
        except ValueError:
            raise BadRequest("from and to must be integers (epoch seconds)") from None
        return Received(method, path, (params["query"],), start * 1000, end * 1000)
    if path == V2_PATH and method == "POST":
        try:
            data = json.loads(body or b"null")
            request = data["data"]
        except (ValueError, KeyError, TypeError):
            raise BadRequest("API input validation failed: invalid JSON:API body") from None
        if request.get("type") != "timeseries_request":
            raise BadRequest(TYPE_ERROR)
        attributes = request.get("attributes") or {}
        for key in ("from", "to", "queries"):
            if key not in attributes:
                raise BadRequest(f"API input validation failed: '{key}' is required")
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
    raise NotFound


def split_queries(text: str) -> list[SubQuery]:
    """The comma-separated queries of a v1 ``query`` parameter, each parsed.

    Examples
    --------
    >>> [q.metric for q in split_queries("avg:a{*},sum:b{role:x} by {host}")]
    ['a', 'b']
    """
    return [parse_query(part) for part in split_top_level(text)]


def parse_query(text: str) -> SubQuery:
    """Parse one metric query; :class:`BadRequest` for what the fake does not understand.

    Examples
    --------
    >>> q = parse_query("sum:jobs{role:canary} by {host}.as_count().rollup(sum, 60)")
    >>> q.agg, q.metric, q.filter, q.by, q.rollup, q.rollup_seconds, q.as_count
    ('sum', 'jobs', 'role:canary', ('host',), 'sum', 60, True)
    """
    match = _QUERY.match(text)
    if match is None:
        raise BadRequest(f"Error parsing query: {text}")
    rollup, seconds, as_count, fill_zero = None, None, False, False
    for name, args in _FUNC.findall(match.group("funcs") or ""):
        if name == "rollup":
            parts = [a.strip() for a in args.split(",") if a.strip()]
            if parts and not parts[0].isdigit():
                rollup = parts.pop(0)
            if parts:
                seconds = int(parts[0])
        elif name == "as_count":
            as_count = True
        elif name == "fill":
            fill_zero = args.split(",")[0].strip() in ("zero", "0")
        elif name != "as_rate":
            raise BadRequest(f"FakeDatadog does not know the function .{name}()")
    by = tuple(k.strip() for k in (match.group("by") or "").split(",") if k.strip())
    return SubQuery(
        agg=(match.group("agg") or "avg").lower(),
        metric=match.group("metric"),
        filter=match.group("filter"),
        by=by,
        rollup=rollup,
        rollup_seconds=seconds,
        as_count=as_count,
        fill_zero=fill_zero,
    )


def matches(expression: str, tags: frozenset[str]) -> bool:
    """Whether a series with ``tags`` passes the filter ``expression``.

    Examples
    --------
    >>> tags = frozenset({"host:web-1", "role:canary"})
    >>> matches("role:canary,!host:web-2", tags), matches("host:db-*", tags)
    (True, False)
    """
    expression = expression.strip()
    if expression in ("", "*"):
        return True
    if _WORDS.search(expression):
        raise BadRequest("FakeDatadog understands filters joined by ',' and '!', not AND/OR/IN")
    for term in (t.strip() for t in expression.split(",")):
        if not term or term == "*":
            continue
        negate = term.startswith("!")
        pattern = term[1:] if negate else term
        found = any(fnmatch.fnmatchcase(tag, pattern) for tag in tags)
        if found == negate:
            return False
    return True


def group_tags(keys: Sequence[str], tags: frozenset[str]) -> str:
    """The group of a series for ``by {keys}``: its tag of each key, joined by :data:`SEPARATOR`.

    A series without a tag of a key is in that key's ``N/A`` group, as in Datadog.

    Examples
    --------
    >>> group_tags(["host", "zone"], frozenset({"host:web-1"})).split(SEPARATOR)
    ['host:web-1', 'zone:N/A']
    """
    out = []
    for key in keys:
        values = sorted(t for t in tags if t.partition(":")[0] == key)
        out.append(values[0] if values else f"{key}:N/A")
    return SEPARATOR.join(out)


def default_interval_ms(span_ms: int) -> int:
    """The rollup interval Datadog's query API picks for a window of ``span_ms``.

    Examples
    --------
    >>> default_interval_ms(15 * 60_000), default_interval_ms(3 * 3_600_000)
    (20000, 60000)
    """
    hour = 3_600_000
    for limit, step in ((hour, 20), (4 * hour, 60), (24 * hour, 300), (48 * hour, 600)):
        if span_ms <= limit:
            return step * 1000
    return 3_600_000 if span_ms <= 7 * 24 * hour else 14_400_000
