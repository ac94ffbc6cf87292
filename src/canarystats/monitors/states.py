"""The monitor states a judgment is given: one row per monitor group, as Datadog reported it.

The monitor gate (:mod:`canarystats.monitors.gate`) reads a small tidy table, fetched at the edge
(:mod:`canarystats.sources.datadog_monitors`) or read from a saved file, so :func:`judge` stays
pure and a saved run is judged again offline with its monitors:

| column | type | meaning |
|---|---|---|
| ``monitor_id`` | int | the monitor's id |
| ``monitor`` | str | the monitor's name |
| ``group`` | str | the group, Datadog's ``tag:value`` pairs joined by commas (``host:web-1``), ``*`` for a simple monitor |
| ``status`` | str | its status when read: ``Alert``, ``Warn``, ``OK``, ``No Data``, ... |
| ``triggered`` | datetime64[ns, UTC] | when it last triggered (NaT: never) |
| ``resolved`` | datetime64[ns, UTC] | when it last resolved (NaT: never, or not known) |
| ``url`` | str | the monitor's page in Datadog |

``attrs["window"]`` holds the canary window the states were read for (start, end), when known.
On disk it is JSON: ``{"window": {"start": ..., "end": ...}, "groups": [{...}, ...]}`` with
ISO 8601 UTC times (``null`` for none), written atomically like every canarystats file.
"""  # noqa: E501

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from canarystats.errors import DataError
from canarystats.frame import Window, write_atomic
from canarystats.jsonfile import read_json_file
from canarystats.timeparse import EARLIEST, LATEST

__all__ = [
    "MONITOR_COLUMNS",
    "STATUSES",
    "monitor_frame",
    "read_monitor_states",
    "states_window",
    "write_monitor_states",
]

MONITOR_COLUMNS = ("monitor_id", "monitor", "group", "status", "triggered", "resolved", "url")
#: the statuses Datadog gives a monitor group (``MonitorOverallStates``)
STATUSES = ("Alert", "Ignored", "No Data", "OK", "Skipped", "Unknown", "Warn")
_TIMES = ("triggered", "resolved")


def monitor_frame(
    rows: Iterable[Mapping[str, Any]], *, window: Window | None = None, origin: str = "monitors"
) -> pd.DataFrame:
    """Build and check the monitor-states table from rows (mappings of its columns).

    ``triggered`` and ``resolved`` may be datetimes, ISO 8601 text, epoch seconds, or None;
    ``origin`` names the input in error messages.

    Raises
    ------
    DataError
        One line naming ``origin``, the row and the column.

    Examples
    --------
    >>> states = monitor_frame([{"monitor_id": 1001, "monitor": "5xx", "group": "host:web-1",
    ...     "status": "OK", "triggered": "2026-03-10T15:07:00Z", "resolved": 1773155520}])
    >>> states.loc[0, "resolved"].isoformat(), states.loc[0, "url"]
    ('2026-03-10T15:12:00+00:00', '')
    """
    records = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise DataError(f"{origin}: monitor group {i} is not an object of its columns")
        records.append(_row(row, i, origin))
    frame = pd.DataFrame.from_records(records, columns=list(MONITOR_COLUMNS))
    frame["monitor_id"] = frame["monitor_id"].astype("int64")
    for column in _TIMES:
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[ns, UTC]")
    if window is not None:
        frame.attrs["window"] = (_moment(window[0]), _moment(window[1]))
    return frame


def _row(row: Mapping[str, Any], i: int, origin: str) -> dict[str, Any]:
    where = f"{origin}: monitor group {i}"
    monitor_id = row.get("monitor_id")
    if isinstance(monitor_id, bool) or not isinstance(monitor_id, int) or monitor_id <= 0:
        raise DataError(f"{where}: monitor_id {monitor_id!r} is not a monitor id (a whole number)")
    status = row.get("status")
    if status not in STATUSES:
        raise DataError(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    out: dict[str, Any] = {"monitor_id": monitor_id, "status": status}
    for column in ("monitor", "group", "url"):
        value = row.get(column, "")
        if not isinstance(value, str):
            raise DataError(f"{where}: {column} {value!r} is not text")
        out[column] = value
    out["group"] = out["group"] or "*"
    for column in _TIMES:
        out[column] = _time(row.get(column), f"{where}: {column}")
    return out


def _time(value: Any, where: str) -> pd.Timestamp | None:
    stamp = _parsed_time(value, where)
    if stamp is not None and not EARLIEST <= stamp < LATEST:
        raise DataError(
            f"{where} {value!r} is outside the years {EARLIEST.year}-{LATEST.year - 1}: "
            "write the time of the monitor's state (ISO 8601 UTC, 2026-03-10T15:07:00Z)"
        )
    return stamp


def _parsed_time(value: Any, where: str) -> pd.Timestamp | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # Datadog's state timestamps are epoch seconds.
            return pd.Timestamp(float(value), unit="s", tz="UTC")
        if isinstance(value, (str, datetime, pd.Timestamp)):
            stamp = pd.Timestamp(value)
            if stamp is pd.NaT:
                return None
            if stamp.tzinfo is None:
                raise DataError(f"{where} {value!r} has no timezone: write UTC times (...Z)")
            return stamp.tz_convert("UTC")
    except (ValueError, OverflowError):
        pass
    raise DataError(f"{where} {value!r} is not a time: write ISO 8601 UTC (2026-03-10T15:07:00Z)")


def _moment(value: Any) -> datetime:
    return pd.Timestamp(value).tz_convert("UTC").to_pydatetime()


def _iso(value: Any) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def write_monitor_states(states: pd.DataFrame, path: str | Path, *, flag: str = "--output") -> Path:
    """Write the table as JSON, atomically; ``flag`` names the path in errors.

    Examples
    --------
    >>> import tempfile
    >>> states = monitor_frame([{"monitor_id": 1, "monitor": "m", "group": "host:a",
    ...                          "status": "Alert", "triggered": 1773155220}])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = write_monitor_states(states, Path(d) / "monitors.json")
    ...     read_monitor_states(path).loc[0, "status"]
    'Alert'
    """
    window = states.attrs.get("window")
    payload = {
        "window": None if window is None else {"start": _iso(window[0]), "end": _iso(window[1])},
        "groups": [
            {
                "monitor_id": int(row.monitor_id),  # type: ignore[arg-type]
                "monitor": str(row.monitor),
                "group": str(row.group),
                "status": str(row.status),
                "triggered": _iso(row.triggered),
                "resolved": _iso(row.resolved),
                "url": str(row.url),
            }
            for row in states.itertuples(index=False)
        ],
    }
    text = json.dumps(payload, indent=2) + "\n"
    return write_atomic(path, text, flag=flag)


def read_monitor_states(path: str | Path, *, flag: str = "--monitor-states") -> pd.DataFrame:
    """Read a table written by :func:`write_monitor_states` (``flag`` names it in errors).

    Raises
    ------
    DataError
        One line naming the flag, the file and what is wrong.

    Examples
    --------
    >>> read_monitor_states("no-such-file.json")
    Traceback (most recent call last):
    canarystats.errors.DataError: --monitor-states no-such-file.json: no such file; check the path
    """
    label = f"{flag} {path}"
    data = read_json_file(path, label)
    if not isinstance(data, Mapping) or not isinstance(data.get("groups"), list):
        raise DataError(
            f"{label}: not a monitor-states file (it needs a 'groups' list); write it with "
            "canarystats.monitors.write_monitor_states"
        )
    window = data.get("window")
    span = None
    if window is not None:
        if not isinstance(window, Mapping):
            raise DataError(f"{label}: 'window' must be an object with start and end")
        start = _time(window.get("start"), f"{label}: window start")
        end = _time(window.get("end"), f"{label}: window end")
        if start is None or end is None or end <= start:
            raise DataError(f"{label}: 'window' needs a start before its end")
        span = (start.to_pydatetime(), end.to_pydatetime())
    return monitor_frame(data["groups"], window=span, origin=label)


def states_window(states: pd.DataFrame) -> Window | None:
    """The canary window the states were read for, where known (``attrs["window"]``)."""
    window = states.attrs.get("window")
    if window is None:
        return None
    return (_moment(window[0]).astimezone(UTC), _moment(window[1]).astimezone(UTC))
