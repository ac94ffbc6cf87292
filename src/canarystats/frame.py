"""The tidy frame: the one interchange format between sources, the judge, files and reports.

One row per point:

| column | type | meaning |
|---|---|---|
| ``metric`` | str | the metric's ``name`` in the config |
| ``cohort`` | ``"canary"`` or ``"baseline"`` | which side |
| ``host`` | str | the series' group (host, pod, ...); ``""`` when the query was not grouped |
| ``timestamp`` | datetime64[ns, UTC] | start of the point's bucket |
| ``value`` | float64 | NaN where the backend returned null |

Other columns are kept (a run key such as ``deploy`` for many runs at once).  This module holds
the frame's one definition and validator, the window a frame covers and how to cut it to a
window, and the one atomic file writer every output of canarystats goes through.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from canarystats.errors import DataError

__all__ = [
    "COHORTS",
    "TIDY_COLUMNS",
    "cut_window",
    "empty_frame",
    "encode",
    "frame_from_arrays",
    "frame_window",
    "validate_frame",
    "write_atomic",
]

#: the two sides a canary run compares, in the order sources query them
COHORTS: tuple[str, ...] = ("canary", "baseline")
#: the columns of the tidy frame, in their canonical order
TIDY_COLUMNS: tuple[str, ...] = ("metric", "cohort", "host", "timestamp", "value")
#: rows factorised at once by :func:`encode`: bounds its temporaries on a long frame
CHUNK_ROWS = 1 << 18


def encode(column: pd.Series) -> tuple[NDArray[np.integer[Any]], list[Any]]:
    """Integer codes of ``column`` (-1 for missing) and the value of each code.

    Categorical columns give their codes as they are; others are factorised chunk by chunk
    into 32-bit codes (16-bit where they fit), so a long frame costs a few bytes a row, not a
    Python object per row.

    Examples
    --------
    >>> codes, values = encode(pd.Series(["b", "a", None, "b"]))
    >>> codes.tolist(), values
    ([0, 1, -1, 0], ['b', 'a'])
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return np.asarray(column.cat.codes), list(column.cat.categories)
    if len(column) <= CHUNK_ROWS:
        found, uniques = pd.factorize(column)
        return found, list(uniques)
    out = np.empty(len(column), dtype=np.int32)
    index: dict[Any, int] = {}
    for a in range(0, len(column), CHUNK_ROWS):
        found, uniques = pd.factorize(column.iloc[a : a + CHUNK_ROWS])
        lookup = [index.setdefault(u, len(index)) for u in uniques]
        out[a : a + len(found)] = np.array([*lookup, -1], dtype=np.int32)[found]
    if len(index) < np.iinfo(np.int16).max:
        return out.astype(np.int16), list(index)  # hosts, cohorts: half the bytes
    return out, list(index)


def cohort_codes(column: pd.Series, origin: str = "frame") -> NDArray[np.int8]:
    """0 for canary, 1 for baseline; an empty cell or any other value is a DataError naming it.

    Examples
    --------
    >>> cohort_codes(pd.Series(["canary", "baseline", "canary"])).tolist()
    [0, 1, 0]
    """
    codes, values = encode(column)
    if (codes < 0).any():
        raise DataError(f"{origin}: column 'cohort' has empty cells; fill them in")
    lookup = np.array([COHORTS.index(v) if v in COHORTS else -1 for v in values], dtype=np.int8)
    bad = [repr(str(v)) for v, k in zip(values, lookup.tolist(), strict=True) if k < 0]
    if bad:
        shown = ", ".join(sorted(bad)[:3])
        raise DataError(
            f"{origin}: column 'cohort' has value(s) {shown}; only 'canary' and 'baseline' "
            "are allowed"
        )
    return lookup[codes] if len(lookup) else np.zeros(0, dtype=np.int8)


def validate_frame(frame: pd.DataFrame, origin: str = "frame") -> pd.DataFrame:
    """Check a frame against the tidy-frame contract and return it with canonical dtypes.

    A missing ``host`` column (or an empty host cell) is read as ungrouped data (``""``);
    columns beyond the five are kept after them; ``attrs`` are preserved.  Columns already in
    their canonical dtype are not copied, so judging a large frame that a source built costs
    only the checks.

    Parameters
    ----------
    frame : pandas.DataFrame
        The frame to check.
    origin : str
        What the frame came from (a file name), for the error message.

    Returns
    -------
    pandas.DataFrame
        The five columns first, ``timestamp`` as datetime64[ns, UTC], ``value`` as float64.

    Raises
    ------
    canarystats.errors.DataError
        Naming ``origin`` and the offending column.

    Examples
    --------
    >>> f = pd.DataFrame({"metric": ["m"], "cohort": ["canary"],
    ...                   "timestamp": ["2026-01-01T00:00:00Z"], "value": [1]})
    >>> out = validate_frame(f)
    >>> out["host"].tolist(), str(out["timestamp"].dtype), out["value"].dtype
    ([''], 'datetime64[ns, UTC]', dtype('float64'))
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"{origin}: expected a pandas DataFrame (the tidy frame), got {type(frame).__name__}"
        )
    attrs = dict(frame.attrs)
    out = frame.copy(deep=False)
    if "host" not in out.columns:
        out["host"] = ""
    missing = [c for c in TIDY_COLUMNS if c not in out.columns]
    if missing:
        which = (
            f"column {missing[0]!r} is"
            if len(missing) == 1
            else f"columns {', '.join(repr(c) for c in missing)} are"
        )
        raise DataError(
            f"{origin}: {which} missing; the tidy frame needs {', '.join(TIDY_COLUMNS)}"
        )
    out["metric"] = _text(out["metric"], "metric", origin)
    cohort_codes(out["cohort"], origin)
    if not isinstance(out["cohort"].dtype, pd.CategoricalDtype):
        out["cohort"] = _text(out["cohort"], "cohort", origin)
    if out["host"].isna().any():
        out["host"] = out["host"].astype(object).where(out["host"].notna(), "")
    out["host"] = _text(out["host"], "host", origin)
    out["timestamp"] = _to_utc(out["timestamp"], origin)
    out["value"] = _to_float(out["value"], origin)
    rest = [c for c in out.columns if c not in TIDY_COLUMNS]
    out = out[list(TIDY_COLUMNS) + rest]
    out.attrs = attrs
    return out


def _text(column: pd.Series, name: str, origin: str) -> pd.Series:
    if column.isna().any():
        raise DataError(f"{origin}: column {name!r} has empty cells; fill them in")
    kind = column.dtype
    if isinstance(kind, pd.CategoricalDtype) or pd.api.types.is_string_dtype(kind):
        return column
    # Numbers as names (a metric called 500) are read as their text.
    return column.astype(str)


def _to_float(column: pd.Series, origin: str) -> pd.Series:
    if column.dtype == np.float64:
        return column
    try:
        return pd.to_numeric(column, errors="raise").astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"{origin}: column 'value' has non-numeric cells; use numbers (NaN for nulls)"
        ) from None


def _to_utc(column: pd.Series, origin: str) -> pd.Series:
    kind = column.dtype
    if isinstance(kind, pd.DatetimeTZDtype):
        if str(kind) == "datetime64[ns, UTC]":
            return column
        return column.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if pd.api.types.is_numeric_dtype(kind) and len(column):
        raise DataError(
            f"{origin}: column 'timestamp' holds numbers; write ISO 8601 UTC times "
            "(e.g. 2026-01-01T00:00:00Z)"
        )
    try:
        if isinstance(kind, np.dtype) and kind.kind == "M":
            parsed = pd.to_datetime(column, utc=True)
        else:
            parsed = pd.to_datetime(column, utc=True, format="ISO8601")
    except (TypeError, ValueError, OverflowError):
        raise DataError(
            f"{origin}: column 'timestamp' has a value that is not an ISO 8601 time; "
            "write times like 2026-01-01T00:00:00Z"
        ) from None
    if parsed.isna().any():
        raise DataError(f"{origin}: column 'timestamp' has empty cells; fill them in")
    return parsed.astype("datetime64[ns, UTC]")


def empty_frame() -> pd.DataFrame:
    """A tidy frame with no rows and the right dtypes.

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


def frame_from_arrays(
    metric: Sequence[str],
    cohort: Sequence[str],
    host: Sequence[str],
    timestamp_ms: NDArray[np.integer[Any]],
    value: NDArray[np.floating[Any]],
) -> pd.DataFrame:
    """Build a tidy frame from parallel columns, timestamps in epoch milliseconds.

    Examples
    --------
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


Window = tuple[datetime, datetime]


def frame_window(frame: pd.DataFrame | None, step: int = 60) -> Window | None:
    """The window a tidy frame covers: first bucket start to last bucket end (UTC).

    Returns None for an empty frame.

    Examples
    --------
    >>> f = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01T00:00Z", "2026-01-01T00:09Z"])})
    >>> [t.isoformat() for t in frame_window(f, 60)]
    ['2026-01-01T00:00:00+00:00', '2026-01-01T00:10:00+00:00']
    """
    if frame is None or len(frame) == 0:
        return None
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    first = stamps.min().to_pydatetime().astimezone(UTC)
    last = stamps.max().to_pydatetime().astimezone(UTC)
    return first, last + timedelta(seconds=step)


def cut_window(frame: pd.DataFrame, start: datetime, end: datetime) -> pd.DataFrame:
    """The rows of ``frame`` whose bucket starts in ``[start, end)``.

    Examples
    --------
    >>> f = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=4, freq="min",
    ...                                               tz="UTC"), "value": [1.0, 2, 3, 4]})
    >>> cut_window(f, f["timestamp"][1], f["timestamp"][3])["value"].tolist()
    [2.0, 3.0]
    """
    stamps = frame["timestamp"]
    return frame[(stamps >= start) & (stamps < end)].reset_index(drop=True)


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    # The process umask can only be read by setting it; the lock keeps two writers in this
    # process from seeing each other's temporary 0.
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_atomic(
    path: str | os.PathLike[str],
    content: str | bytes | Callable[[Path], None],
    *,
    flag: str = "--output",
) -> Path:
    """Write a file through a temporary file in the same folder and a rename: never half a file.

    The file gets the permissions a plain ``open(path, "w")`` would give (``0666`` less the
    umask), not the ``0600`` of a temporary file, so a CI artifact stays readable by the job
    that collects it.

    Parameters
    ----------
    path : path-like
        The file to write; its folder must exist.
    content : str, bytes or callable
        Text (written as UTF-8 with ``\\n`` line ends), bytes, or a function that writes the
        temporary file at the path it is given (for writers that want a path, e.g. Parquet).
    flag : str
        What named the path (``--output``, ``--history``), for the error message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    canarystats.errors.DataError
        When the folder does not exist, the path is a folder, or the file cannot be written;
        the target is then unchanged.

    Examples
    --------
    >>> write_atomic("report.md", "# ok\\n")  # doctest: +SKIP
    PosixPath('report.md')
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"{flag} {target}: folder {folder} does not exist; create it first")
    if target.is_dir():
        raise DataError(f"{flag} {target} is a folder; give a file name")
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DataError(f"{flag} {target}: cannot write there ({exc.strerror})") from None
    try:
        if callable(content):
            os.close(handle)
            content(Path(temp))
        elif isinstance(content, bytes):
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
        else:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(content)
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise DataError(f"{flag} {target}: cannot write it ({exc.strerror or exc})") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
