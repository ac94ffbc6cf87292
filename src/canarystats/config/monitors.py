"""A starting canary config from a Datadog monitor export (``canarystats init --from-monitors``).

A metric monitor's query reads ``<time aggregation>(<window>):<metric query> <comparator>
<threshold>``, e.g. ``avg(last_5m):avg:trace.http.request.errors{service:web} by {host} > 5``.
Each one becomes a metric: its metric query with ``$scope`` added to every tag filter (the
monitor's own filters are kept, so the query stays as narrow as the monitor's), the direction
from the comparator (``>``: increase, ``<``: decrease), and the critical threshold as an
absolute ``threshold`` on the statistic matching the time aggregation (``avg``: mean, ``max``,
``min``, ``percentile`` with ``p95:``/``p99:``; a ``sum`` over ``last_5m`` becomes a mean per
60-second step of value * 60 / 300, because the canary window has another length).  Monitors
that cannot be converted (other monitor types, anomaly or forecast functions, unparsable
queries) are returned with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from canarystats.config.model import DEFAULT_STEP

#: monitor types whose query is a metric query
METRIC_MONITOR_TYPES = ("metric alert", "query alert")

_QUERY = re.compile(
    r"^\s*(?P<agg>[a-z_]+)\((?P<window>[^)]*)\)\s*:\s*(?P<metric>.+?)\s*"
    r"(?P<cmp>>=|<=|>|<|==|!=)\s*(?P<value>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*$"
)
# a tag filter {…}, or a grouping "by {…}" which must stay as it is
_FILTER = re.compile(r"(?P<by>\bby\s*)?\{(?P<tags>[^{}]*)\}")
_WINDOW = re.compile(r"last_(?P<n>\d+)(?P<unit>[smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNSUPPORTED_FUNCTIONS = ("anomalies(", "forecast(", "outliers(", "change(", "pct_change(")
#: monitor time aggregations and the canary statistic they correspond to
_STATISTIC = {"avg": "mean", "max": "max", "min": "min", "sum": "sum"}


def config_from_monitors(
    monitors: Sequence[Mapping[str, Any]], *, name: str = "canary"
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Turn exported Datadog monitors into a canary config mapping.

    Parameters
    ----------
    monitors : sequence of mapping
        The monitor export (``GET /api/v1/monitor``): each with ``name``, ``type``, ``query``
        and ``options.thresholds``.
    name : str
        The config's name.

    Returns
    -------
    config : dict
        A mapping ready for :func:`canarystats.config.load_config` (and to be written as YAML).
    skipped : list of (str, str)
        ``(monitor name, reason)`` for every monitor that was not converted.

    Examples
    --------
    >>> cfg, skipped = config_from_monitors([{
    ...     "name": "Web 5xx", "type": "query alert",
    ...     "query": "sum(last_5m):sum:http.5xx{service:web}.as_count() > 50",
    ...     "options": {"thresholds": {"critical": 50}}}])
    >>> m = cfg["metrics"][0]
    >>> m["name"], m["query"], m["direction"]
    ('web-5xx', 'sum:http.5xx{service:web,$scope}.as_count()', 'increase')
    >>> m["threshold"]
    {'statistic': 'mean', 'max': 10.0}
    """
    metrics: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    used: set[str] = set()
    for i, monitor in enumerate(monitors):
        label = (
            str(monitor.get("name") or f"monitor #{i}")
            if isinstance(monitor, Mapping)
            else f"monitor #{i}"
        )
        if not isinstance(monitor, Mapping):
            skipped.append((label, "not a JSON object"))
            continue
        try:
            metric = _metric(monitor)
        except _Skip as skip:
            skipped.append((label, str(skip)))
            continue
        metric["name"] = _unique(_slug(label), used)
        metrics.append(metric)
    return {"name": name, "metrics": metrics}, skipped


class _Skip(Exception):
    """A monitor that cannot become a metric; the message is the reason."""


def _metric(monitor: Mapping[str, Any]) -> dict[str, Any]:
    kind = monitor.get("type")
    if kind not in METRIC_MONITOR_TYPES:
        raise _Skip(f"type {kind!r} is not a metric monitor")
    query = monitor.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _Skip("it has no query")
    for fn in _UNSUPPORTED_FUNCTIONS:
        if fn in query:
            raise _Skip(f"it uses {fn[:-1]}(), which has no canary equivalent")
    match = _QUERY.match(query)
    if match is None:
        raise _Skip(
            "its query is not '<aggregation>(<window>):<metric query> <comparator> <value>'"
        )
    comparator = match["cmp"]
    if comparator in ("==", "!="):
        raise _Skip(f"comparator {comparator} has no direction")
    metric_query = match["metric"]
    if not any(not f["by"] for f in _FILTER.finditer(metric_query)):
        raise _Skip("its metric query has no {tag filter} to put the canary scope in")
    direction = "increase" if comparator.startswith(">") else "decrease"
    statistic = _statistic(match["agg"], metric_query)
    threshold_value = _critical(monitor, float(match["value"]))
    if statistic == "sum":
        # sum(last_5m) adds up a 5-minute window, while the canary window has another length:
        # the same limit per step is the mean of the steps, value * step / window.
        window = _WINDOW.fullmatch(match["window"].strip())
        if window is None:
            raise _Skip(f"window {match['window']!r} of its sum is not last_<n><s|m|h|d|w>")
        seconds = int(window["n"]) * _SECONDS[window["unit"]]
        if seconds == 0:
            raise _Skip(f"window {match['window']!r} of its sum is empty")
        statistic, threshold_value = "mean", threshold_value * DEFAULT_STEP / seconds
    out: dict[str, Any] = {
        "query": _FILTER.sub(_with_scope, metric_query),
        "direction": direction,
    }
    out["threshold"] = {
        "statistic": statistic,
        ("max" if direction == "increase" else "min"): threshold_value,
    }
    return out


def _statistic(aggregation: str, metric_query: str) -> str:
    if aggregation in _STATISTIC:
        return _STATISTIC[aggregation]
    if aggregation == "percentile":
        # distribution monitors: percentile(last_5m):p99:metric{...}
        pct = re.match(r"\s*p(\d+(?:\.\d+)?)\s*:", metric_query)
        if pct is None:
            raise _Skip("its percentile query has no pNN: aggregator")
        if pct[1] not in ("95", "99"):
            raise _Skip(f"percentile p{pct[1]} has no threshold statistic (p95 and p99 do)")
        return f"p{pct[1]}"
    raise _Skip(f"time aggregation {aggregation!r} is not one of avg, max, min, sum, percentile")


def _critical(monitor: Mapping[str, Any], in_query: float) -> float:
    options = monitor.get("options")
    thresholds = options.get("thresholds") if isinstance(options, Mapping) else None
    if isinstance(thresholds, Mapping):
        value = thresholds.get("critical")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return in_query


def _with_scope(match: re.Match[str]) -> str:
    if match["by"]:
        return match[0]
    tags = [t.strip() for t in match["tags"].split(",") if t.strip() and t.strip() != "*"]
    return "{" + ",".join([*tags, "$scope"]) + "}"


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "metric"


def _unique(slug: str, used: set[str]) -> str:
    candidate, n = slug, 2
    while candidate in used:
        candidate = f"{slug}-{n}"
        n += 1
    used.add(candidate)
    return candidate
