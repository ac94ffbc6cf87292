"""The fake Datadog's monitors: a search over them, and each one with its group states.

Monitors are given as Datadog's API returns them (``GET /api/v1/monitor/{id}``): ``id``,
``name``, ``type``, ``query``, ``tags``, ``options`` and ``state.groups`` (each group's
``status``, ``last_triggered_ts`` and ``last_resolved_ts`` in epoch seconds);
:func:`fake_monitor` builds one.  The fake answers

- ``GET /api/v1/monitor/search?query=...&page=...&per_page=...`` with Datadog's search result
  shape (``monitors``, ``metadata``); a query is space-separated terms, all of which must match:
  ``tag:service:web`` (or ``tag:"service:web"``, or ``service:web``), ``type:metric`` (metric
  and query alerts), ``status:alert``, ``id:1001``, ``muted:false``, or words of the name;
- ``GET /api/v1/monitor/{id}`` with the monitor, its groups' states only with
  ``group_states=all`` (or a list of statuses, ``alert,warn``), as Datadog does; an unknown id
  is Datadog's JSON 404 ``Monitor not found``.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from canarystats.testing.queries import BadRequest

__all__ = ["MONITOR_PATH", "SEARCH_PATH", "FakeMonitors", "MonitorNotFound", "fake_monitor"]

MONITOR_PATH = re.compile(r"^/api/v1/monitor/(?P<id>\d+)$")
SEARCH_PATH = "/api/v1/monitor/search"
_METRIC_TYPES = ("metric alert", "query alert")
_SEARCH_KEYS = ("tag", "type", "status", "id", "muted")


class MonitorNotFound(Exception):
    """No monitor has the id asked for (Datadog answers 404 ``Monitor not found``)."""


def fake_monitor(
    monitor_id: int,
    name: str,
    query: str,
    *,
    groups: Mapping[str, Mapping[str, Any]] | None = None,
    tags: Iterable[str] = (),
    type: str = "query alert",
) -> dict[str, Any]:
    """A monitor as Datadog's API returns it, its groups' times given as datetimes or seconds.

    ``groups`` maps a group (``host:web-1``) to its ``status`` and optional ``triggered`` and
    ``resolved`` times; the overall state is the worst group's.

    Examples
    --------
    >>> m = fake_monitor(1001, "5xx", "avg(last_5m):avg:http.5xx{*} by {host} > 5",
    ...     groups={"host:web-1": {"status": "Alert", "triggered": 1773155220}})
    >>> m["overall_state"], m["state"]["groups"]["host:web-1"]["last_triggered_ts"]
    ('Alert', 1773155220)
    """
    states: dict[str, dict[str, Any]] = {}
    for group, value in (groups or {}).items():
        states[group] = {
            "name": group,
            "status": value.get("status", "OK"),
            "last_triggered_ts": _seconds(value.get("triggered")),
            "last_resolved_ts": _seconds(value.get("resolved")),
            "last_nodata_ts": 0,
            "last_notified_ts": _seconds(value.get("triggered")),
        }
    ranks = ("Alert", "Warn", "No Data", "OK")
    statuses = [s["status"] for s in states.values()]
    overall = next((r for r in ranks if r in statuses), "OK")
    threshold = re.search(r"[<>]=?\s*([-+]?\d+(?:\.\d*)?)\s*$", query)
    return {
        "id": int(monitor_id),
        "name": name,
        "type": type,
        "query": query,
        "message": f"{name} @pagerduty",
        "tags": list(tags),
        "options": {"thresholds": {"critical": float(threshold[1])}} if threshold else {},
        "overall_state": overall,
        "state": {"groups": states},
    }


def _seconds(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return int(value.timestamp())
    if hasattr(value, "timestamp"):
        return int(value.timestamp())
    return int(value)


class FakeMonitors:
    """The monitors the fake knows, and its answers about them.

    Examples
    --------
    >>> monitors = FakeMonitors([fake_monitor(1, "Web 5xx", "q", tags=["service:web"])])
    >>> [m["id"] for m in monitors.search("tag:service:web", "", "")["monitors"]]
    [1]
    """

    def __init__(self, monitors: Iterable[Mapping[str, Any]] = ()) -> None:
        self._monitors = {int(m["id"]): copy.deepcopy(dict(m)) for m in monitors}

    def get(self, monitor_id: int, query: str) -> dict[str, Any]:
        """The answer to ``GET /api/v1/monitor/{id}`` with the URL's ``query`` string."""
        if monitor_id not in self._monitors:
            raise MonitorNotFound
        monitor = copy.deepcopy(self._monitors[monitor_id])
        wanted = parse_qs(query).get("group_states", [""])[-1].lower()
        groups = monitor.get("state", {}).get("groups", {})
        if wanted != "all":
            statuses = {s.strip() for s in wanted.split(",") if s.strip()}
            groups = {g: v for g, v in groups.items() if str(v["status"]).lower() in statuses}
        monitor["state"] = {"groups": groups}
        return monitor

    def search(self, text: str, page: str, per_page: str) -> dict[str, Any]:
        """The answer to ``GET /api/v1/monitor/search`` for the search ``text``."""
        terms = _terms(text)
        try:
            number, size = int(page or 0), int(per_page or 30)
        except ValueError:
            raise BadRequest("page and per_page must be integers") from None
        if number < 0 or not 1 <= size <= 1000:
            raise BadRequest("per_page must be 1 to 1000 and page at least 0")
        found = [m for _, m in sorted(self._monitors.items()) if _matches(m, terms)]
        chosen = found[number * size : (number + 1) * size]
        return {
            "monitors": [_search_result(m) for m in chosen],
            "metadata": {
                "page": number,
                "page_count": -(-len(found) // size),
                "per_page": size,
                "total_count": len(found),
            },
            "counts": {"status": [], "type": [], "tag": [], "muted": []},
        }


def _terms(text: str) -> list[tuple[str, str]]:
    """(key, value) of each term of a search; key ``""`` for a word of the name."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise BadRequest(f"Invalid monitor search query: {text!r}") from None
    terms = []
    for word in words:
        key, sep, value = word.partition(":")
        if sep and key in _SEARCH_KEYS:
            if not value:
                raise BadRequest(f"Invalid monitor search query: {key}: needs a value")
            terms.append((key, value.strip('"').lower()))
        elif sep and value:
            # Any other key:value is a tag, as Datadog's search reads service:web.
            terms.append(("tag", word.strip('"').lower()))
        else:
            terms.append(("", word.lower()))
    return terms


def _matches(monitor: Mapping[str, Any], terms: list[tuple[str, str]]) -> bool:
    for key, value in terms:
        if key == "tag" and value not in [str(t).lower() for t in monitor.get("tags", [])]:
            return False
        if key == "type":
            kind = str(monitor.get("type", ""))
            if kind.lower() != value and not (value == "metric" and kind in _METRIC_TYPES):
                return False
        if key == "status" and str(monitor.get("overall_state", "")).lower() != value:
            return False
        if key == "id" and str(monitor.get("id")) != value:
            return False
        if key == "muted" and value != "false":
            return False
        if key == "" and value not in str(monitor.get("name", "")).lower():
            return False
    return True


def _search_result(monitor: Mapping[str, Any]) -> dict[str, Any]:
    groups = monitor.get("state", {}).get("groups", {})
    triggered = max((g.get("last_triggered_ts") or 0 for g in groups.values()), default=0)
    return {
        "id": monitor["id"],
        "name": monitor.get("name", ""),
        "type": monitor.get("type", ""),
        "query": monitor.get("query", ""),
        "tags": list(monitor.get("tags", [])),
        "status": monitor.get("overall_state", "OK"),
        "last_triggered_ts": triggered or None,
        "classification": "metric",
        "metrics": [],
        "scopes": [],
        "notifications": [],
        "org_id": 1,
        "creator": {"name": "fake", "handle": "fake@example.com"},
    }
