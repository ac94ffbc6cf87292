"""Where metrics come from: Datadog, files of the tidy frame, saved Datadog answers.

Every source returns the tidy frame (:mod:`canarystats.frame`); nothing here judges anything.

The public names are imported on first use, each from its own module: :class:`DatadogSource`
brings the Datadog API client (and urllib3), which judging a saved frame, or rendering a
report's Datadog links, does not need, and the frame's readers bring pandas, which rendering a
query (``canarystats validate --render``) does not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from canarystats.lazy import lazy_attributes

if TYPE_CHECKING:
    from canarystats.sources.base import MetricQuery, Source, check_window, metric_queries
    from canarystats.sources.datadog import DatadogSource
    from canarystats.sources.datadog_response import parse_response
    from canarystats.sources.files import read_datadog_response, read_frame, write_frame
    from canarystats.sources.history import HistorySource, read_deploys
    from canarystats.sources.query import group_name, render_query

#: each public name and the module that holds it
_LAZY = {
    "DatadogSource": "canarystats.sources.datadog",
    "HistorySource": "canarystats.sources.history",
    "MetricQuery": "canarystats.sources.base",
    "Source": "canarystats.sources.base",
    "check_window": "canarystats.sources.base",
    "group_name": "canarystats.sources.query",
    "metric_queries": "canarystats.sources.base",
    "parse_response": "canarystats.sources.datadog_response",
    "read_datadog_response": "canarystats.sources.files",
    "read_deploys": "canarystats.sources.history",
    "read_frame": "canarystats.sources.files",
    "render_query": "canarystats.sources.query",
    "write_frame": "canarystats.sources.files",
}

__all__ = [
    "DatadogSource",
    "HistorySource",
    "MetricQuery",
    "Source",
    "check_window",
    "group_name",
    "metric_queries",
    "parse_response",
    "read_datadog_response",
    "read_deploys",
    "read_frame",
    "render_query",
    "write_frame",
]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
