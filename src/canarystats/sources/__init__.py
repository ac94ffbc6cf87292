"""Where metrics come from: Datadog, files of the tidy frame, saved Datadog answers.

Every source returns the tidy frame of DESIGN.md (``metric``, ``cohort``, ``host``,
``timestamp``, ``value``); nothing here judges anything.
"""

from __future__ import annotations

from canarystats.sources.base import (
    COHORTS,
    TIDY_COLUMNS,
    MetricQuery,
    Source,
    check_window,
    empty_frame,
    metric_queries,
    validate_frame,
)
from canarystats.sources.datadog import DatadogSource, parse_response
from canarystats.sources.files import read_datadog_response, read_frame, write_frame
from canarystats.sources.history import HistorySource, read_deploys
from canarystats.sources.query import group_name, render_query

__all__ = [
    "COHORTS",
    "TIDY_COLUMNS",
    "DatadogSource",
    "HistorySource",
    "MetricQuery",
    "Source",
    "check_window",
    "empty_frame",
    "group_name",
    "metric_queries",
    "parse_response",
    "read_datadog_response",
    "read_deploys",
    "read_frame",
    "render_query",
    "validate_frame",
    "write_frame",
]
