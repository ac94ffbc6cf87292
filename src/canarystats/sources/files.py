"""The tidy frame on disk (CSV, Parquet, JSON) and saved Datadog answers, for judging offline.

The format follows the file's suffix: ``.csv``, ``.parquet`` / ``.pq`` (needs the ``parquet``
extra), ``.json``; ``.csv.gz`` and ``.json.gz`` are the same text gzip-compressed (a saved
incident shrinks several times over; Parquet compresses by itself).  Timestamps are written as
ISO 8601 UTC.  JSON holds ``{"units": {...}, "points": [...]}`` so units survive; CSV cannot
hold them.  Writes go to a temporary file in the same folder and are renamed into place, so a
crash never leaves half a file.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from canarystats.errors import DataError
from canarystats.frame import COHORTS, validate_frame, write_atomic
from canarystats.sources.datadog_response import parse_response, series_to_frame

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json"}
#: the formats that may be gzip-compressed (``.csv.gz``, ``.json.gz``)
_GZIP = ("csv", "json")


def frame_format(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """The format of a tidy-frame file and whether it is gzip-compressed, from its suffixes.

    Raises
    ------
    DataError
        For a suffix that is no frame format, naming the file and the formats there are.

    Examples
    --------
    >>> frame_format("incident.csv.gz")
    ('csv', True)
    """
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    suffix = (suffixes[-2] if len(suffixes) > 1 else "") if gz else path.suffix.lower()
    fmt = _FORMATS.get(suffix)
    if fmt is None or (gz and fmt not in _GZIP):
        shown = "".join(path.suffixes[-2:]) if gz else path.suffix
        raise DataError(
            f"{path}: unknown file type {shown!r}; use .csv, .parquet or .json "
            "(.csv.gz and .json.gz for compressed ones)"
        )
    return fmt, gz


def _need_pyarrow(path: Path) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise DataError(
            # pyarrow, not the package's extra: canarystats is on no public index.
            f"{path}: reading and writing Parquet needs pyarrow: pip install pyarrow"
        ) from None


def read_frame(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a tidy frame from CSV, Parquet or JSON and check its shape.

    Parameters
    ----------
    path : path-like
        The file; its suffix picks the format (``.gz`` after ``.csv`` or ``.json``: compressed).

    Returns
    -------
    pandas.DataFrame
        The tidy frame, ``attrs["units"]`` filled where the file holds units.

    Raises
    ------
    DataError
        When the file is missing, unreadable, or not a tidy frame (naming file and column).

    Examples
    --------
    >>> frame = read_frame("run.csv")  # doctest: +SKIP
    """
    path = Path(path)
    fmt, gz = frame_format(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file; check the path")
    units: dict[str, Any] = {}
    try:
        if fmt == "csv":
            raw = pd.read_csv(
                path,
                compression="gzip" if gz else None,
                dtype={"metric": str, "cohort": str, "host": str},
                keep_default_na=False,
                na_values={"value": ["", "NaN", "nan"]},
            )
        elif fmt == "parquet":
            _need_pyarrow(path)
            raw = pd.read_parquet(path)
            units = dict(raw.attrs.get("units") or {})
        else:
            raw, units = _read_json(path, gz)
    except DataError:
        raise
    except RecursionError:
        raise DataError(f"{path}: nested too deeply to be a tidy frame") from None
    except (OSError, ValueError, TypeError, UnicodeDecodeError, EOFError, zlib.error) as exc:
        # gzip says "Not a gzipped file" (OSError) or, cut short, "Compressed file ended
        # before the end-of-stream marker was reached" (EOFError).
        what = f"gzip-compressed {fmt}" if gz else fmt
        raise DataError(f"{path}: cannot be read as {what}: {_first_line(exc)}") from None
    frame = validate_frame(raw, str(path))
    frame.attrs = {"units": {m: units.get(m) for m in frame["metric"].unique()}}
    return frame


def _read_json(path: Path, gz: bool) -> tuple[pd.DataFrame, dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") if gz else path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    units: dict[str, Any] = {}
    if isinstance(data, Mapping):
        if "points" not in data:
            raise DataError(f"{path}: JSON object has no 'points' list; write the tidy frame")
        units = data.get("units") or {}
        if not isinstance(units, Mapping):
            raise DataError(f"{path}: 'units' must map metric names to units")
        units = dict(units)
        data = data["points"]
    if not isinstance(data, list):
        raise DataError(f"{path}: JSON must be a list of points or an object with 'points'")
    odd = next((i for i, p in enumerate(data) if not isinstance(p, Mapping)), None)
    if odd is not None:
        raise DataError(
            f"{path}: point {odd} is not an object; each point needs metric, cohort, host, "
            "timestamp and value"
        )
    frame = (
        pd.DataFrame.from_records(data)
        if data
        else pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    )
    if "value" in frame.columns:
        frame["value"] = frame["value"].astype("float64") if len(frame) else frame["value"]
    return frame, units


def write_frame(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a tidy frame atomically as CSV, Parquet or JSON.

    Parameters
    ----------
    frame : pandas.DataFrame
        A tidy frame (checked before anything is written).
    path : path-like
        Target file; its suffix picks the format (``.csv.gz``, ``.json.gz``: gzip-compressed).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> write_frame(frame, "run.json")  # doctest: +SKIP
    PosixPath('run.json')
    """
    path = Path(path)
    fmt, gz = frame_format(path)
    frame = validate_frame(frame, str(path))
    if fmt == "parquet":
        _need_pyarrow(path)
    units = dict(frame.attrs.get("units") or {})
    if fmt == "parquet":
        pq = frame.copy()
        pq.attrs = {"units": units}
        write_atomic(path, lambda temp: pq.to_parquet(temp, index=False))
        return path
    out = frame.copy()
    out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if fmt == "csv":
        text = out.to_csv(index=False, lineterminator="\n")
    else:
        # Plain json keeps every float exactly (pandas' to_json rounds to 15 digits).
        points = [
            {
                **{c: row[c] for c in out.columns if c != "value"},
                "value": None if math.isnan(row["value"]) else float(row["value"]),
            }
            for row in out.to_dict(orient="records")
        ]
        text = json.dumps({"units": units, "points": points}, indent=None) + "\n"
    # mtime=0: the same frame gives the same bytes (a saved incident diffs clean).
    write_atomic(path, gzip.compress(text.encode("utf-8"), mtime=0) if gz else text)
    return path


def read_datadog_response(
    source: str | bytes | os.PathLike[str] | Mapping[str, Any],
    *,
    metric: str,
    cohort: str = "canary",
) -> pd.DataFrame:
    """Turn a saved Datadog v1 or v2 timeseries answer into the tidy frame.

    Every point is kept (null points as NaN); each ``by {...}`` group becomes a ``host``.

    Parameters
    ----------
    source : path, str, bytes or Mapping
        A file holding the JSON body, the body's text, or the decoded body.
    metric : str
        The metric name to give every series.
    cohort : {"canary", "baseline"}
        The cohort to give every series.

    Returns
    -------
    pandas.DataFrame
        The tidy frame, with ``attrs["units"]``.

    Examples
    --------
    >>> body = '{"data": {"attributes": {"series": [{"group_tags": [], "query_index": 0,'
    >>> body += ' "unit": null}], "times": [60000], "values": [[2]]}}}'
    >>> read_datadog_response(body, metric="m")["value"].tolist()
    [2.0]
    """
    if cohort not in COHORTS:
        raise DataError(f"cohort {cohort!r} is not known: use 'canary' or 'baseline'")
    origin = "the Datadog answer"
    if isinstance(source, Mapping):
        body: Any = source
    else:
        text: str | bytes
        if isinstance(source, os.PathLike) or (
            isinstance(source, str) and not source.lstrip().startswith(("{", "["))
        ):
            origin = str(source)
            try:
                text = Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                raise DataError(f"{origin}: cannot be read: {_first_line(exc)}") from None
        else:
            text = source
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise DataError(f"{origin}: not valid JSON: {_first_line(exc)}") from None
    try:
        series = parse_response(body)
        labels = {s.query_index: (metric, cohort) for s in series}
        frame, units = series_to_frame(series, labels)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise DataError(f"{origin}: not a Datadog timeseries answer: {_first_line(exc)}") from None
    frame.attrs = {"units": {metric: units.get(metric)}}
    return frame


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


__all__ = ["frame_format", "read_datadog_response", "read_frame", "write_frame"]
