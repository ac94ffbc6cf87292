"""A tidy frame named as a config names its metrics, made answerable to that config's queries.

The fixtures and saved runs name each metric as the config does (``request-latency``), while
the fake Datadog answers by Datadog metric name (``trace.rack.request.duration``) and filters
by tags (``service:web``).  :func:`frame_for_config` renames each metric to the one its query
reads and gives its rows the query's own filter tags, so ``serve-fake-datadog --config`` answers
a config's queries from such a frame.  Formula metrics are left out: their queries read several
Datadog metrics, which one frame metric cannot stand for.
"""

from __future__ import annotations

import re

import pandas as pd

from canarystats.config import CanaryConfig

__all__ = ["frame_for_config"]

_QUERY = re.compile(r"^\s*(?:[a-z0-9]+:)?(?P<metric>[A-Za-z0-9_.\-]+)\s*\{(?P<filter>[^{}]*)\}")


def frame_for_config(frame: pd.DataFrame, config: CanaryConfig) -> pd.DataFrame:
    """The rows of the config's plain-query metrics, renamed to their Datadog metric and tagged
    with their queries' filter tags (``tags`` column); other rows are dropped.

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> cfg = load_config({"name": "w", "metrics": [
    ...     {"name": "latency", "query": "avg:trace.duration{service:web,$scope} by {host}"}]})
    >>> frame = pd.DataFrame({"metric": ["latency"], "cohort": ["canary"], "host": ["h"],
    ...     "timestamp": pd.Timestamp(0, tz="UTC"), "value": [1.0]})
    >>> out = frame_for_config(frame, cfg)
    >>> out.loc[0, "metric"], out.loc[0, "tags"]
    ('trace.duration', 'service:web')
    """
    parts = []
    for metric in config.metrics:
        found = _QUERY.match(metric.query)
        if metric.formula is not None or found is None:
            continue
        tags = [
            t.strip()
            for t in found["filter"].split(",")
            if t.strip() and "$" not in t and t.strip() != "*"
        ]
        rows = frame[frame["metric"] == metric.name].copy()
        rows["metric"] = found["metric"]
        rows["tags"] = ",".join(tags)
        parts.append(rows)
    if not parts:
        return frame.iloc[0:0].assign(tags="")
    return pd.concat(parts, ignore_index=True)
