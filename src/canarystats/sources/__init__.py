"""Where metrics come from: Datadog, files of the tidy frame, saved Datadog answers.

Every source returns the tidy frame (:mod:`canarystats.frame`); nothing here judges anything.
"""

from __future__ import annotations

from canarystats.sources.base import MetricQuery, Source, check_window, metric_queries
from canarystats.sources.datadog import DatadogSource
from canarystats.sources.datadog_response import parse_response
from canarystats.sources.files import read_datadog_response, read_frame, write_frame
from canarystats.sources.history import HistorySource, read_deploys
from canarystats.sources.query import group_name, render_query

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
