"""Datadog query strings: putting a cohort's scope into a metric query, naming its groups.

Datadog's API takes literal queries; template variables are a dashboard feature.  So the scope is
filled in here, on the client, the way Kayenta does (``${scope}``) and Argo Rollouts does: whole
tag filters, nothing escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from canarystats.errors import ConfigError

_PLACEHOLDER = re.compile(r"\$\{scope\}|\$scope\b")
_BRACES = re.compile(r"\{([^{}]*)\}")
_BY_BEFORE = re.compile(r"\bby\s*$", re.IGNORECASE)
# Datadog refuses filters that mix symbols (",", "!") with boolean words, so a filter written
# with words gets the scope joined by AND instead of a comma.
# Boolean operators stand between whitespace-separated terms; a tag never holds whitespace, so
# a tag value like "region:in" is not an operator.
_WORDS = re.compile(r"(?:^|\s)(AND|OR|NOT|IN)(?=\s|\(|$)", re.IGNORECASE)


def render_query(query: str, scope: str) -> str:
    """Put a cohort's scope into a Datadog metric query.

    ``$scope`` and ``${scope}`` are replaced by the scope.  Without a placeholder the scope is
    added to every filter (``{...}``) that is not a ``by {...}`` group: ``{*}`` becomes the
    scope, other filters keep their tags and gain the scope's.  A scope of ``*`` leaves the
    query as it is.

    Parameters
    ----------
    query : str
        A Datadog metric query, e.g. ``avg:system.cpu.user{env:prod} by {host}``.
    scope : str
        Tag filter of one cohort, e.g. ``role:canary`` or ``service:web,version:v2``.

    Returns
    -------
    str
        The query to send.

    Raises
    ------
    ConfigError
        When the scope contains braces or the query has neither a placeholder nor a filter.

    Examples
    --------
    >>> render_query("avg:m{$scope} by {host}", "role:canary")
    'avg:m{role:canary} by {host}'
    >>> render_query("avg:m{env:prod} by {host}", "role:canary")
    'avg:m{env:prod,role:canary} by {host}'
    >>> render_query("sum:errors{*}.as_count()", "role:canary")
    'sum:errors{role:canary}.as_count()'
    """
    scope = scope.strip()
    if not scope or "{" in scope or "}" in scope:
        raise ConfigError(
            f"scope {scope!r} is not a tag filter: write Datadog tags like role:canary"
        )
    if _PLACEHOLDER.search(query):
        return _PLACEHOLDER.sub(lambda _match: scope, query)
    if scope == "*":
        return query
    pieces: list[str] = []
    last = 0
    filters = 0
    for match in _BRACES.finditer(query):
        before = query[last : match.start()]
        pieces.append(before)
        if _BY_BEFORE.search(query[: match.start()]):
            pieces.append(match.group(0))
        else:
            filters += 1
            pieces.append("{" + _merge_filter(match.group(1), scope) + "}")
        last = match.end()
    pieces.append(query[last:])
    if filters == 0:
        raise ConfigError(
            f"query {query!r} has no filter to add the scope to: write it as metric{{$scope}}"
        )
    return "".join(pieces)


def _merge_filter(existing: str, scope: str) -> str:
    existing = existing.strip()
    if existing in ("", "*"):
        return scope
    if _WORDS.search(existing):
        scope_words = " AND ".join(part.strip() for part in scope.split(","))
        return f"{existing} AND {scope_words}"
    return f"{existing},{scope}"


def group_name(tags: Sequence[str]) -> str:
    """Name a series by its ``by {...}`` group tags, for the tidy frame's ``host`` column.

    One group tag gives its value (``host:web-1`` -> ``web-1``); several keep their keys,
    joined by commas (``host:web-1,env:prod``); an ungrouped series gives ``""``.

    Examples
    --------
    >>> group_name(["host:web-1"])
    'web-1'
    >>> group_name(["host:web-1", "env:prod"])
    'host:web-1,env:prod'
    >>> group_name([])
    ''
    """
    tags = [str(tag) for tag in tags]
    if len(tags) == 1:
        key, sep, value = tags[0].partition(":")
        return value if sep else key
    return ",".join(tags)


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside braces and parentheses (Datadog's comma-joined sub-queries).

    Examples
    --------
    >>> split_top_level("avg:a{x:1,y:2} by {host},avg:b{*}")
    ['avg:a{x:1,y:2} by {host}', 'avg:b{*}']
    """
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth = max(depth - 1, 0)
        if char == sep and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts
