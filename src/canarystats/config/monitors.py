"""A starting canary config from Datadog monitors (``canarystats init --from-monitors``).

A metric monitor's query reads ``<time aggregation>(<window>):<metric query> <comparator>
<threshold>``, e.g. ``avg(last_5m):avg:trace.http.request.errors{service:web} by {host} > 5``.
Each one becomes a metric:

- **the query**: the monitor's metric query with ``$scope`` added to every tag filter (its own
  filters are kept, so the query stays as narrow as the monitor's), and grouped ``by {host}``
  (added where the monitor does not group by host), so the default judge has hosts to compare;
- **a ratio of two queries** (``sum:errors{...}.as_count() / sum:hits{...}.as_count()``)
  becomes a formula metric over two named queries: a share, judged as a gauge, whose threshold
  is never divided by the window's length;
- **the direction** from the comparator (``>``: increase, ``<``: decrease);
- **the threshold**: the critical one, as an absolute ``threshold`` on the statistic matching
  the time aggregation (``avg``: mean, ``max``, ``min``, ``percentile`` with ``p95:``/``p99:``).
  A ``sum`` over ``last_5m`` becomes a mean per 60-second step of value * 60 / 300, because the
  canary window has another length.  A threshold on a **service-wide sum** (``sum:`` across
  hosts, not ``by {host}``) does not transfer to a canary's few hosts, whose sum is a fraction
  of the fleet's: it is left out, and a note says why.  Where the monitor is ``by {host}`` its
  threshold holds for each host, and so for each canary host.

Every such decision is a note on the metric, written as a YAML comment above it
(:func:`conversion_yaml`).  Monitors that cannot be converted (other monitor types, anomaly or
forecast functions, other arithmetic, unparsable queries) are returned with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from canarystats.config.model import DEFAULT_STEP

__all__ = [
    "METRIC_MONITOR_TYPES",
    "Conversion",
    "config_from_monitors",
    "conversion_yaml",
    "convert_monitors",
]

#: monitor types whose query is a metric query
METRIC_MONITOR_TYPES = ("metric alert", "query alert")

_QUERY = re.compile(
    r"^\s*(?P<agg>[a-z_]+)\((?P<window>[^)]*)\)\s*:\s*(?P<metric>.+?)\s*"
    r"(?P<cmp>>=|<=|>|<|==|!=)\s*(?P<value>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*$"
)
# a tag filter {…}, or a grouping "by {…}" which must stay as it is
_FILTER = re.compile(r"(?P<by>\bby\s*)?\{(?P<tags>[^{}]*)\}")
_SPACE = re.compile(r"^\s*\(?\s*(?P<space>[a-z0-9]+):(?P<metric>[A-Za-z0-9_.]+)")
_WINDOW = re.compile(r"last_(?P<n>\d+)(?P<unit>[smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNSUPPORTED_FUNCTIONS = ("anomalies(", "forecast(", "outliers(", "change(", "pct_change(")
#: monitor time aggregations and the canary statistic they correspond to
_STATISTIC = {"avg": "mean", "max": "max", "min": "min", "sum": "sum"}


@dataclass(frozen=True)
class Conversion:
    """Monitors converted: the config mapping, the monitors skipped with the reason, and the
    notes on each metric (metric name -> sentences) that :func:`conversion_yaml` writes as
    comments."""

    config: dict[str, Any]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)


def config_from_monitors(
    monitors: Sequence[Mapping[str, Any]], *, name: str = "canary"
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Turn exported Datadog monitors into a canary config mapping.

    Parameters
    ----------
    monitors : sequence of mapping
        The monitors as Datadog's API gives them (``GET /api/v1/monitor``, or the monitor
        search's results): each with ``name``, ``type``, ``query`` and optionally
        ``options.thresholds``.
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
    ...     "query": "sum(last_5m):sum:http.5xx{service:web} by {host}.as_count() > 50",
    ...     "options": {"thresholds": {"critical": 50}}}])
    >>> m = cfg["metrics"][0]
    >>> m["name"], m["query"], m["direction"]
    ('web-5xx', 'sum:http.5xx{service:web,$scope} by {host}.as_count()', 'increase')
    >>> m["threshold"]
    {'statistic': 'mean', 'max': 10.0}
    """
    conversion = convert_monitors(monitors, name=name)
    return conversion.config, conversion.skipped


def convert_monitors(monitors: Sequence[Mapping[str, Any]], *, name: str = "canary") -> Conversion:
    """:func:`config_from_monitors` with the notes on each metric.

    Examples
    --------
    >>> c = convert_monitors([{"name": "5xx", "type": "query alert",
    ...     "query": "sum(last_5m):sum:http.5xx{service:web}.as_count() > 50"}])
    >>> c.config["metrics"][0]["query"], "threshold" in c.config["metrics"][0]
    ('sum:http.5xx{service:web,$scope} by {host}.as_count()', False)
    >>> c.notes["5xx"][0][:45]
    'no threshold: the monitor alerts on the sum o'
    """
    metrics: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    notes: dict[str, list[str]] = {}
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
            metric, said = _metric(monitor)
        except _Skip as skip:
            skipped.append((label, str(skip)))
            continue
        metric = {"name": _unique(_slug(label), used), **metric}
        metrics.append(metric)
        if said:
            notes[metric["name"]] = said
    return Conversion({"name": name, "metrics": metrics}, skipped, notes)


def conversion_yaml(conversion: Conversion) -> str:
    """The config as YAML, each metric's notes as comments above it.

    Examples
    --------
    >>> c = convert_monitors([{"name": "cpu", "type": "query alert",
    ...     "query": "avg(last_5m):avg:system.cpu.user{service:web} > 90"}])
    >>> print(conversion_yaml(c))  # doctest: +NORMALIZE_WHITESPACE
    name: canary
    metrics:
    # grouped by {host} (the monitor was not), so the judge has hosts to compare
    - name: cpu
      query: avg:system.cpu.user{service:web,$scope} by {host}
      direction: increase
      threshold:
        statistic: mean
        max: 90.0
    """
    import yaml

    text = yaml.safe_dump(conversion.config, sort_keys=False, allow_unicode=True, width=100)
    lines = []
    for line in text.splitlines():
        found = re.match(r"^(\s*)- name: (.+)$", line)
        if found is not None:
            metric = yaml.safe_load(found[2])
            for note in conversion.notes.get(str(metric), []):
                lines.append(f"{found[1]}# {note}")
        lines.append(line)
    return "\n".join(lines) + "\n"


class _Skip(Exception):
    """A monitor that cannot become a metric; the message is the reason."""


def _metric(monitor: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
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
    sides = _ratio_sides(metric_query)
    for side in sides:
        if not any(not f["by"] for f in _FILTER.finditer(side)):
            raise _Skip("its metric query has no {tag filter} to put the canary scope in")
    direction = "increase" if comparator.startswith(">") else "decrease"
    value = _critical(monitor, float(match["value"]))
    notes: list[str] = []
    out: dict[str, Any] = {}
    if len(sides) == 2:
        names = _side_names(sides)
        out["queries"] = {n: _scoped(s, notes) for n, s in zip(names, sides, strict=True)}
        out["formula"] = f"{names[0]} / {names[1]}"
        notes.append(
            "a ratio of two queries is a share: judged as a gauge, its threshold kept as the "
            "monitor's (never divided by the window's length)"
        )
        statistic: str | None = (
            "mean" if match["agg"] == "sum" else _statistic(match["agg"], sides[0])
        )
    else:
        out["query"] = _scoped(metric_query, notes)
        statistic, value = _threshold(match, metric_query, value, notes)
    out["direction"] = direction
    if statistic is not None:
        out["threshold"] = {
            "statistic": statistic,
            ("max" if direction == "increase" else "min"): value,
        }
    return out, notes


def _threshold(
    match: re.Match[str], metric_query: str, value: float, notes: list[str]
) -> tuple[str | None, float]:
    """The threshold's statistic and value for a one-query monitor (None: left out)."""
    statistic = _statistic(match["agg"], metric_query)
    # A malformed window is a monitor to skip, whatever becomes of its threshold.
    seconds = _window_seconds(match["window"]) if statistic == "sum" else 0
    space = _SPACE.match(metric_query)
    if space is not None and space["space"] == "sum" and not _by_host(metric_query):
        notes.insert(
            0,
            f"no threshold: the monitor alerts on the sum of {space['metric']} over every host "
            f"it matches ({match['cmp']} {value:g}); a canary's few hosts add up to a fraction "
            "of that, so it does not transfer (set one per host by hand if needed)",
        )
        return None, value
    if _by_host(metric_query) and space is not None and space["space"] == "sum":
        notes.append("the monitor is by {host}: its threshold holds for each canary host")
    if statistic == "sum":
        # sum(last_5m) adds up a 5-minute window, while the canary window has another length:
        # the same limit per step is the mean of the steps, value * step / window.
        per_step = value * DEFAULT_STEP / seconds
        notes.append(
            f"threshold {per_step:g} per {DEFAULT_STEP}-s step: the monitor's {value:g} summed "
            f"over {match['window'].strip()}"
        )
        return "mean", per_step
    return statistic, value


def _window_seconds(text: str) -> int:
    window = _WINDOW.fullmatch(text.strip())
    if window is None:
        raise _Skip(f"window {text!r} of its sum is not last_<n><s|m|h|d|w>")
    seconds = int(window["n"]) * _SECONDS[window["unit"]]
    if seconds == 0:
        raise _Skip(f"window {text!r} of its sum is empty")
    return seconds


def _ratio_sides(metric_query: str) -> list[str]:
    """The two queries of ``a / b``, or the query alone; other arithmetic is skipped."""
    depth, cuts = 0, []
    for i, char in enumerate(metric_query):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif depth == 0 and (char in "+*/" or (char == "-" and i > 0)):
            if char != "/":
                raise _Skip(f"its query combines metrics with {char!r}; only a ratio a / b is kept")
            cuts.append(i)
    if not cuts:
        return [metric_query]
    if len(cuts) > 1:
        raise _Skip("its query divides more than once; only a ratio of two queries is kept")
    return [_unwrapped(metric_query[: cuts[0]]), _unwrapped(metric_query[cuts[0] + 1 :])]


def _unwrapped(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text


def _side_names(sides: list[str]) -> tuple[str, str]:
    """Names for a ratio's two queries: their metrics' last words (errors, hits) where those
    are distinct identifiers, else numerator and denominator."""
    names = []
    for side in sides:
        space = _SPACE.match(side)
        word = space["metric"].rsplit(".", 1)[-1] if space is not None else ""
        names.append(word)
    if names[0] == names[1] or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names):
        return ("numerator", "denominator")
    return (names[0], names[1])


def _by_host(query: str) -> bool:
    return any(
        f["by"] and "host" in [t.strip() for t in f["tags"].split(",")]
        for f in _FILTER.finditer(query)
    )


def _scoped(query: str, notes: list[str]) -> str:
    """The query with ``$scope`` in its filters and grouped by host."""
    scoped = _FILTER.sub(_with_scope, query)
    if _by_host(scoped):
        return scoped
    grouped = [f for f in _FILTER.finditer(scoped) if f["by"]]
    if grouped:
        last = grouped[-1]
        keys = [t.strip() for t in last["tags"].split(",") if t.strip()]
        scoped = (
            scoped[: last.start()] + f"by {{{','.join([*keys, 'host'])}}}" + scoped[last.end() :]
        )
    else:
        first = next(f for f in _FILTER.finditer(scoped) if not f["by"])
        scoped = scoped[: first.end()] + " by {host}" + scoped[first.end() :]
    note = "grouped by {host} (the monitor was not), so the judge has hosts to compare"
    if note not in notes:
        notes.append(note)
    return scoped


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


#: words a monitor's name often ends on before a template variable ("high on {{host.name}}")
_DANGLING = frozenset({"at", "by", "for", "from", "in", "of", "on", "per", "to"})


def _slug(text: str) -> str:
    """A metric name from a monitor's name: its words, without template variables, leading
    tags such as ``[P1]``, or the word that led into a dropped variable.

    Examples
    --------
    >>> _slug("[P1] Sidekiq job failures are high on {{host.name}}")
    'sidekiq-job-failures-are-high'
    """
    text = re.sub(r"\{\{.*?\}\}", " ", text)
    text = re.sub(r"^(\s*\[[^\]]*\])+", " ", text)
    words = re.findall(r"[a-z0-9]+", text.lower())
    while len(words) > 1 and words[-1] in _DANGLING:
        words.pop()
    return "-".join(words) or "metric"


def _unique(slug: str, used: set[str]) -> str:
    candidate, n = slug, 2
    while candidate in used:
        candidate = f"{slug}-{n}"
        n += 1
    used.add(candidate)
    return candidate
