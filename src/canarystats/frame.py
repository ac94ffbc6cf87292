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

import contextlib
import errno
import math
import os
import stat
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
    "MAX_MAGNITUDE",
    "TIDY_COLUMNS",
    "check_output_path",
    "cut_window",
    "empty_frame",
    "encode",
    "frame_from_arrays",
    "frame_spacing",
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
#: the largest magnitude a value may have: squares and sums over any window stay finite in
#: float64 (1e308), so no statistic overflows into a number that makes a test blind
MAX_MAGNITUDE = 1e100


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
    if not isinstance(out["cohort"].dtype, pd.CategoricalDtype):
        out["cohort"] = _text(out["cohort"], "cohort", origin)
    cohort_codes(out["cohort"], origin)
    if out["host"].isna().any():
        out["host"] = out["host"].astype(object).where(out["host"].notna(), "")
    out["host"] = _text(out["host"], "host", origin)
    out["timestamp"] = _to_utc(out["timestamp"], origin)
    out["value"] = _to_float(out["value"], origin)
    _check_magnitudes(out, origin)
    rest = [c for c in out.columns if c not in TIDY_COLUMNS]
    out = out[list(TIDY_COLUMNS) + rest]
    out.attrs = attrs
    return out


def _text(column: pd.Series, name: str, origin: str) -> pd.Series:
    if column.isna().any():
        raise DataError(f"{origin}: column {name!r} has empty cells; fill them in")
    kind = column.dtype
    if isinstance(kind, pd.CategoricalDtype) or (
        pd.api.types.is_string_dtype(kind)
        and (kind != np.dtype(object) or pd.api.types.infer_dtype(column, skipna=False) == "string")
    ):
        return column
    if kind == np.dtype(object) and not all(pd.api.types.is_scalar(v) for v in column):
        raise DataError(f"{origin}: column {name!r} has a cell that is not text; use plain text")
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


def _check_magnitudes(frame: pd.DataFrame, origin: str) -> None:
    """Refuse infinite values and values beyond :data:`MAX_MAGNITUDE`, naming the first one.

    An infinite point would make a window's mean infinite and its test blind (an infinitely
    slow canary "not significant"); NaN stays what it is, a missing point.
    """
    values = frame["value"].to_numpy()
    with np.errstate(invalid="ignore"):
        bad = np.abs(values) > MAX_MAGNITUDE
    if not bad.any():
        return
    i = int(np.argmax(bad))
    v = float(values[i])
    what = f"{v:g}" if math.isinf(v) else f"{v:g}, beyond +/-{MAX_MAGNITUDE:g}"
    n = int(bad.sum())
    more = f" (and {n - 1} more)" if n > 1 else ""
    row = frame.iloc[i]
    when = pd.Timestamp(row["timestamp"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise DataError(
        f"{origin}: metric {str(row['metric'])!r}, {row['cohort']} host {str(row['host'])!r} "
        f"at {when}: the value is {what}{more}; canarystats judges finite values up to "
        f"+/-{MAX_MAGNITUDE:g}: check the query (a division by zero, a wrong unit) or drop "
        "those points"
    )


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
        if parsed.isna().any():
            raise DataError(f"{origin}: column 'timestamp' has empty cells; fill them in")
        return parsed.astype("datetime64[ns, UTC]")
    except DataError:
        raise
    except pd.errors.OutOfBoundsDatetime:
        raise DataError(
            f"{origin}: column 'timestamp' has a time outside the years 1678-2261 that can be "
            "judged; check the times"
        ) from None
    except (TypeError, ValueError, OverflowError):
        raise DataError(
            f"{origin}: column 'timestamp' has a value that is not an ISO 8601 time; "
            "write times like 2026-01-01T00:00:00Z"
        ) from None


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


def frame_spacing(frame: pd.DataFrame) -> int | None:
    """The bucket the data was rolled up to: the most common of each series' smallest spacing.

    A series is one host's points of one metric.  None where no host holds two points of one
    metric.  Sparse counts skip buckets and an agent's hiccups leave gaps, but almost every
    gauge series still holds two consecutive buckets somewhere, so its smallest spacing is the
    bucket even where half its points are missing (where the most common spacing of all points
    can be two buckets); ties go to the smaller spacing.

    Examples
    --------
    >>> stamps = pd.date_range("2026-01-01", periods=5, freq="10s", tz="UTC")
    >>> f = pd.DataFrame({"metric": "m", "cohort": "canary", "host": "a", "timestamp": stamps})
    >>> frame_spacing(f.drop(index=2))  # a missing point does not change it
    10
    """
    keys = ["metric", "cohort", "host"]
    if len(frame) < 2 or any(k not in frame.columns for k in keys):
        return None
    ordered = frame[[*keys, "timestamp"]].sort_values([*keys, "timestamp"], kind="stable")
    gaps = pd.to_datetime(ordered["timestamp"], utc=True).diff().dt.total_seconds().to_numpy()
    same = np.ones(len(ordered), dtype=bool)
    for key in keys:
        column = ordered[key].astype(str).to_numpy()
        same[1:] &= column[1:] == column[:-1]
    same[0] = False
    series = np.cumsum(~same)
    valid = same & (gaps > 0)
    if not valid.any():
        return None
    smallest = pd.Series(np.round(gaps[valid]).astype(np.int64)).groupby(series[valid]).min()
    values, counts = np.unique(smallest.to_numpy(), return_counts=True)
    return int(values[np.argmax(counts)])


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


#: what to do when a write fails, by errno; any other error: check the path
_WRITE_ADVICE = {
    errno.ENOSPC: "free some space or write elsewhere",
    getattr(errno, "EDQUOT", errno.ENOSPC): "free some space or write elsewhere",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.EACCES: "choose a folder you can write to",
    errno.EPERM: "choose a folder you can write to",
}


def check_output_path(path: str | os.PathLike[str], *, flag: str = "--output") -> Path:
    """Refuse a path that can never become a file: a folder, or a file in a missing folder.

    :func:`write_atomic` checks this first; a command whose file is its whole result calls it
    before the work too, so that a mistyped path fails at once, not after a long fetch.

    Parameters
    ----------
    path : path-like
        The file to be written.
    flag : str
        What named the path (``--output``, ``--history``), for the error message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    canarystats.errors.DataError
        Naming the flag, the path and what to do.

    Examples
    --------
    >>> check_output_path("report.txt")
    PosixPath('report.txt')
    >>> check_output_path(".")
    Traceback (most recent call last):
    canarystats.errors.DataError: --output . is a folder; give a file name
    """
    target = Path(path)
    if target.is_dir():
        raise DataError(f"{flag} {target} is a folder; give a file name")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"{flag} {target}: folder {folder} does not exist; create it first")
    return target


def write_atomic(
    path: str | os.PathLike[str],
    content: str | bytes | Callable[[Path], None],
    *,
    flag: str = "--output",
) -> Path:
    """Write a file through a temporary file in the same folder and a rename: never half a file.

    The file gets the permissions a plain ``open(path, "w")`` would give (``0666`` less the
    umask), not the ``0600`` of a temporary file, so a CI artifact stays readable by the job
    that collects it.  A symbolic link is written through, as ``open`` would, and stays a link;
    a device or a pipe (``/dev/stdout``, a FIFO) is written in place, since a rename would
    replace the device itself.

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
        When the folder does not exist, the path is a folder, or the file cannot be written
        (no permission, a full disk, a read-only file system); the message names the flag,
        the path, the system's reason and what to do.  The target is then unchanged and no
        temporary file is left behind.

    Examples
    --------
    >>> write_atomic("report.md", "# ok\\n")  # doctest: +SKIP
    PosixPath('report.md')
    """
    given = check_output_path(path, flag=flag)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        mode = os.stat(given).st_mode
    except OSError:
        mode = stat.S_IFREG  # not there yet (or unreadable): the rename below says which
    if not stat.S_ISREG(mode):
        try:
            if callable(data):
                data(given)
            else:
                with open(given, "wb") as stream:
                    stream.write(data)
        except OSError as exc:
            raise _write_error(flag, given, "cannot write it", exc) from None
        return given
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _write_error(flag, given, "cannot write in its folder", exc) from None
    try:
        if callable(data):
            os.close(handle)
            data(Path(temp))
        else:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, target)
    except BaseException as exc:
        # The removal itself may fail (the file system went read-only): the first error is
        # the one to report.
        with contextlib.suppress(OSError):
            Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _write_error(flag, given, "cannot write it", exc) from None
        raise
    return given


def _write_error(flag: str, path: Path, what: str, exc: OSError) -> DataError:
    advice = _WRITE_ADVICE.get(exc.errno or 0, "check the path")
    return DataError(f"{flag} {path}: {what} ({exc.strerror or exc}); {advice}")
