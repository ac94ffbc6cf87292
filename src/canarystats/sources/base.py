"""What every metrics source shares: the query it is given, the frame it returns.

A source turns :class:`MetricQuery` objects, one scope per cohort and a time window into the
tidy frame (:mod:`canarystats.frame`).
``frame.attrs["units"]`` maps each metric to its unit (or None) and ``frame.attrs["requests"]``
counts the HTTP requests the fetch made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import pandas as pd

from canarystats.config.formulas import expand_formula
from canarystats.errors import ConfigError
from canarystats.frame import COHORTS

if TYPE_CHECKING:
    from canarystats.config import CanaryConfig


@dataclass(frozen=True)
class MetricQuery:
    """One metric to fetch for every cohort.

    Parameters
    ----------
    name : str
        The metric's name in the config; it becomes the ``metric`` column.
    query : str
        The backend query, with ``$scope`` (or ``${scope}``) where the cohort's scope goes, or
        without a placeholder to have the scope added to its filter.
    step : int
        The rollup interval in seconds (default 60).
    kind : str
        ``"gauge"`` (averaged within a bucket) or ``"count"`` (summed within a bucket).
    queries : tuple of (str, str), optional
        Named queries of a formula metric, each with ``$scope`` like ``query``.
    formula : str, optional
        The formula over the names of ``queries`` (``errors / hits``); Datadog computes it, for
        each cohort, in the same request (v2 only).  ``query`` may then be ``""``: it becomes
        the formula written as one expression.

    Examples
    --------
    >>> MetricQuery("latency", "avg:trace.http.request.duration{$scope} by {host}").step
    60
    >>> MetricQuery("share", "", queries=(("e", "sum:e{$scope}"), ("h", "sum:h{$scope}")),
    ...             formula="e / h").query
    '(sum:e{$scope}) / (sum:h{$scope})'
    """

    name: str
    query: str
    step: int = 60
    kind: str = "gauge"
    queries: tuple[tuple[str, str], ...] = ()
    formula: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("a metric has an empty name: give every metric a name")
        if (self.formula is None) != (not self.queries):
            raise ConfigError(
                f"metric {self.name!r}: a formula needs its named queries, and named queries "
                "a formula; give both or neither"
            )
        if self.formula is not None and not self.query.strip():
            # The formula as one Datadog expression, for messages and links.
            object.__setattr__(self, "query", expand_formula(self.queries, self.formula))
        if not self.query or not self.query.strip():
            raise ConfigError(f"metric {self.name!r} has an empty query: write its Datadog query")
        if isinstance(self.step, bool) or not isinstance(self.step, int) or self.step <= 0:
            raise ConfigError(
                f"metric {self.name!r} has step {self.step!r}: use a whole number of seconds > 0"
            )


def metric_queries(config: CanaryConfig) -> list[MetricQuery]:
    """What a source must fetch for ``config``: each metric's name, query, step and kind."""
    return [
        MetricQuery(m.name, m.query, step=m.step, kind=m.kind, queries=m.queries, formula=m.formula)
        for m in config.metrics
    ]


@runtime_checkable
class Source(Protocol):
    """Anything that fetches metrics for both cohorts into the tidy frame."""

    def fetch(
        self,
        queries: Sequence[MetricQuery],
        scopes: Mapping[str, str],
        start: datetime,
        end: datetime,
    ) -> pd.DataFrame:
        """Return the tidy frame of every query for every cohort in ``scopes`` over the window."""
        ...


def check_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Validate a time window and return it in UTC.

    Parameters
    ----------
    start, end : datetime
        Timezone-aware bounds, ``start < end``.

    Returns
    -------
    tuple of datetime
        Both bounds converted to UTC.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> check_window(datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...              datetime(2026, 1, 1, 1, tzinfo=timezone.utc))[1].hour
    1
    """
    for label, moment in (("start", start), ("end", end)):
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise ConfigError(
                f"window {label} {moment!r} has no timezone: give times in UTC (e.g. ...Z)"
            )
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ConfigError(f"window end {end.isoformat()} is not after start {start.isoformat()}")
    return start, end


def check_scopes(scopes: Mapping[str, str]) -> dict[str, str]:
    """Validate the cohort -> scope mapping and return it in canonical cohort order.

    Examples
    --------
    >>> check_scopes({"baseline": "role:baseline", "canary": "role:canary"})
    {'canary': 'role:canary', 'baseline': 'role:baseline'}
    """
    unknown = sorted(set(scopes) - set(COHORTS))
    if unknown:
        raise ConfigError(f"unknown cohort {unknown[0]!r} in scopes: use 'canary' and 'baseline'")
    if not scopes:
        raise ConfigError("no scopes given: set the canary and baseline scopes (Datadog tags)")
    for cohort, scope in scopes.items():
        if not isinstance(scope, str) or not scope.strip():
            raise ConfigError(f"the {cohort} scope is empty: give its Datadog tags, e.g. role:x")
    return {cohort: scopes[cohort] for cohort in COHORTS if cohort in scopes}


def to_epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch of a timezone-aware datetime.

    Examples
    --------
    >>> to_epoch_ms(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC))
    1000
    """
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
