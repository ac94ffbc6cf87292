"""What every metrics source shares: the query it is given, the frame it returns.

A source turns :class:`MetricQuery` objects, one scope per cohort and a time window into the
*tidy frame* of DESIGN.md: one row per point, columns ``metric``, ``cohort``, ``host``,
``timestamp`` (datetime64[ns, UTC]) and ``value`` (float64, NaN where the backend had null).
``frame.attrs["units"]`` maps each metric to its unit (or None) and ``frame.attrs["requests"]``
counts the HTTP requests the fetch made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from canarystats.errors import ConfigError, DataError

if TYPE_CHECKING:
    from canarystats.config import CanaryConfig

#: the two sides a canary run compares, in the order sources query them
COHORTS: tuple[str, ...] = ("canary", "baseline")

#: the columns of the tidy frame, in their canonical order
TIDY_COLUMNS: tuple[str, ...] = ("metric", "cohort", "host", "timestamp", "value")


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

    Examples
    --------
    >>> MetricQuery("latency", "avg:trace.http.request.duration{$scope} by {host}").step
    60
    """

    name: str
    query: str
    step: int = 60
    kind: str = "gauge"

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("a metric has an empty name: give every metric a name")
        if not self.query or not self.query.strip():
            raise ConfigError(f"metric {self.name!r} has an empty query: write its Datadog query")
        if isinstance(self.step, bool) or not isinstance(self.step, int) or self.step <= 0:
            raise ConfigError(
                f"metric {self.name!r} has step {self.step!r}: use a whole number of seconds > 0"
            )


def metric_queries(config: CanaryConfig) -> list[MetricQuery]:
    """What a source must fetch for ``config``: each metric's name, query, step and kind."""
    return [MetricQuery(m.name, m.query, step=m.step, kind=m.kind) for m in config.metrics]


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


def empty_frame() -> pd.DataFrame:
    """Return a tidy frame with no rows and the right dtypes.

    Text columns use pandas' default string dtype (``str``), as ``read_csv`` gives them.

    Examples
    --------
    >>> list(empty_frame().columns)
    ['metric', 'cohort', 'host', 'timestamp', 'value']
    """
    return pd.DataFrame(
        {
            "metric": pd.Series([], dtype=str),
            "cohort": pd.Series([], dtype=str),
            "host": pd.Series([], dtype=str),
            "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
            "value": pd.Series([], dtype="float64"),
        }
    )


def validate_frame(frame: pd.DataFrame, origin: str = "frame") -> pd.DataFrame:
    """Check a frame against the tidy-frame contract and return it with canonical dtypes.

    A missing ``host`` column is read as ungrouped data (``""``); other columns beyond the five
    are kept.  ``attrs`` are preserved.

    Parameters
    ----------
    frame : pandas.DataFrame
        The frame to check.
    origin : str
        What the frame came from (a file name), for the error message.

    Raises
    ------
    DataError
        Naming ``origin`` and the offending column.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"metric": ["m"], "cohort": ["canary"],
    ...                   "timestamp": ["2026-01-01T00:00:00Z"], "value": [1]})
    >>> validate_frame(f)["host"].tolist()
    ['']
    """
    attrs = dict(frame.attrs)
    out = frame.copy()
    if "host" not in out.columns:
        out["host"] = ""
    for column in TIDY_COLUMNS:
        if column not in out.columns:
            raise DataError(
                f"{origin}: column {column!r} is missing; the tidy frame needs "
                f"{', '.join(TIDY_COLUMNS)}"
            )
    for column in ("metric", "cohort"):
        if out[column].isna().any():
            raise DataError(f"{origin}: column {column!r} has empty cells; fill them in")
        out[column] = out[column].astype(str)
    bad = sorted(set(out["cohort"]) - set(COHORTS))
    if bad:
        raise DataError(f"{origin}: column 'cohort' has {bad[0]!r}; use 'canary' or 'baseline'")
    out["host"] = out["host"].fillna("").astype(str)
    out["timestamp"] = _to_utc(out["timestamp"], origin)
    try:
        out["value"] = pd.to_numeric(out["value"], errors="raise").astype("float64")
    except (TypeError, ValueError):
        raise DataError(f"{origin}: column 'value' has non-numeric cells; use numbers") from None
    rest = [c for c in out.columns if c not in TIDY_COLUMNS]
    out = out[list(TIDY_COLUMNS) + rest].reset_index(drop=True)
    out.attrs = attrs
    return out


def _to_utc(column: pd.Series, origin: str) -> pd.Series:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if pd.api.types.is_numeric_dtype(column) and len(column):
        raise DataError(
            f"{origin}: column 'timestamp' holds numbers; write ISO 8601 UTC times "
            "(e.g. 2026-01-01T00:00:00Z)"
        )
    try:
        parsed = pd.to_datetime(column, utc=True, format="ISO8601")
    except (TypeError, ValueError):
        raise DataError(
            f"{origin}: column 'timestamp' has a value that is not an ISO 8601 time; "
            "write times like 2026-01-01T00:00:00Z"
        ) from None
    if parsed.isna().any():
        raise DataError(f"{origin}: column 'timestamp' has empty cells; fill them in")
    return parsed.astype("datetime64[ns, UTC]")


def frame_from_arrays(
    metric: Sequence[str],
    cohort: Sequence[str],
    host: Sequence[str],
    timestamp_ms: np.ndarray,
    value: np.ndarray,
) -> pd.DataFrame:
    """Build a tidy frame from parallel columns, timestamps in epoch milliseconds.

    Examples
    --------
    >>> import numpy as np
    >>> f = frame_from_arrays(["m"], ["canary"], [""], np.array([0]), np.array([1.0]))
    >>> str(f["timestamp"][0])
    '1970-01-01 00:00:00+00:00'
    """
    stamps = pd.to_datetime(np.asarray(timestamp_ms, dtype="int64"), unit="ms", utc=True)
    return pd.DataFrame(
        {
            "metric": pd.Series(list(metric), dtype=str),
            "cohort": pd.Series(list(cohort), dtype=str),
            "host": pd.Series(list(host), dtype=str),
            "timestamp": pd.Series(stamps, dtype="datetime64[ns, UTC]"),
            "value": pd.Series(np.asarray(value, dtype="float64")),
        }
    )


def to_epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch of a timezone-aware datetime.

    Examples
    --------
    >>> to_epoch_ms(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC))
    1000
    """
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
