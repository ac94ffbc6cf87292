"""The ``monitors:`` section of a config: which Datadog monitors gate the canary, and how.

```yaml
monitors:
  ids: [1001, 1002]            # or: query: "tag:service:web" (Datadog's monitor search)
  level: alert                 # alert (default) or warn: Warn fails the canary too
  environment: nodata          # a monitor that also alerted off the canary: nodata, fail, pass
  host_tag: host               # the group tag naming a host (host:web-1)
```

A monitor group that was in Alert (or Warn, with ``level: warn``) for a canary host during the
canary window fails the canary (:mod:`canarystats.monitors.gate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from canarystats.config.checks import (
    Context,
    as_choice,
    as_mapping,
    as_string,
    check_keys,
    describe,
    join_key,
)

__all__ = [
    "ENVIRONMENT_OUTCOMES",
    "MAX_MONITORS",
    "MONITOR_KEYS",
    "MONITOR_LEVELS",
    "MonitorSettings",
    "validate_monitors",
]

#: the monitor states that fail the canary, by ``level``
MONITOR_LEVELS = ("alert", "warn")
#: what a monitor that alerted on canary hosts and others too means for the verdict
ENVIRONMENT_OUTCOMES = ("nodata", "fail", "pass")
#: the most monitors read per judgment: each costs one request, and Datadog rate-limits them
MAX_MONITORS = 10
#: the keys of the ``monitors`` section
MONITOR_KEYS = ("ids", "query", "level", "environment", "host_tag")


@dataclass(frozen=True)
class MonitorSettings:
    """Which monitors gate the canary (``ids`` or a search ``query``) and what fails it.

    ``level`` is ``alert`` (only Alert fails) or ``warn`` (Warn fails too); ``environment``
    is the verdict when a monitor alerted on canary hosts and on other hosts as well (``nodata``:
    no verdict, the environment is in trouble); ``host_tag`` is the group tag that names a host.

    Examples
    --------
    >>> MonitorSettings(ids=(1001,)).describe()
    'monitors 1001'
    """

    ids: tuple[int, ...] = ()
    query: str | None = None
    level: str = "alert"
    environment: str = "nodata"
    host_tag: str = "host"

    def describe(self) -> str:
        """The monitors in words, for messages."""
        if self.query is not None:
            return f"monitors matching {self.query!r}"
        return "monitors " + ", ".join(str(i) for i in self.ids)


def validate_monitors(ctx: Context, raw: Any, path: str) -> MonitorSettings:
    """Check the ``monitors:`` section; one :class:`ConfigError` line naming the key.

    Examples
    --------
    >>> validate_monitors(Context("c"), {"query": "tag:service:web", "level": "warn"},
    ...                   "monitors").level
    'warn'
    """
    data = as_mapping(ctx, raw, path)
    check_keys(ctx, data, path, MONITOR_KEYS)
    has_ids, has_query = data.get("ids") is not None, data.get("query") is not None
    if has_ids == has_query:
        raise ctx.error(
            path,
            "give either ids (a list of monitor ids) or query (a monitor search such as "
            "tag:service:web), not both and not neither",
        )
    d = MonitorSettings()
    ids: tuple[int, ...] = ()
    query = None
    if has_ids:
        ids = _ids(ctx, data["ids"], join_key(path, "ids"))
    else:
        query = as_string(ctx, data["query"], join_key(path, "query"))
    host_tag = as_string(ctx, data.get("host_tag", d.host_tag), join_key(path, "host_tag"))
    if ":" in host_tag or "," in host_tag or " " in host_tag:
        raise ctx.error(
            join_key(path, "host_tag"), f"{host_tag!r} is not a tag key; write e.g. host or pod"
        )
    return MonitorSettings(
        ids=ids,
        query=query,
        level=as_choice(ctx, data.get("level", d.level), join_key(path, "level"), MONITOR_LEVELS),
        environment=as_choice(
            ctx,
            data.get("environment", d.environment),
            join_key(path, "environment"),
            ENVIRONMENT_OUTCOMES,
        ),
        host_tag=host_tag,
    )


def _ids(ctx: Context, raw: Any, path: str) -> tuple[int, ...]:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise ctx.error(path, f"expected a non-empty list of monitor ids, got {describe(raw)}")
    ids = []
    for j, value in enumerate(raw):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ctx.error(
                f"{path}[{j}]", f"expected a monitor id (a whole number), got {describe(value)}"
            )
        ids.append(value)
    if len(set(ids)) != len(ids):
        raise ctx.error(path, "lists a monitor twice; list each monitor once")
    if len(ids) > MAX_MONITORS:
        raise ctx.error(
            path,
            f"lists {len(ids)} monitors; at most {MAX_MONITORS} are read per judgment (one "
            "request each): keep the ones that page for this service",
        )
    return tuple(ids)
