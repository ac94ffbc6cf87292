"""A local record of canary runs (SQLite, standard library), and its summary per config.

A team turns on ``--soft-fail`` first and appends every run with ``--history FILE``; the
summary then says how often each config passed, failed, was marginal or had no data, and how
often soft-fail hid a stop (``would_exit`` not 0 while the run exited 0).  When the
would-have-failed runs are the deploys that really were bad, it is time to turn soft-fail off.

One table, ``runs``; a judgment's full JSON is kept beside the columns so nothing is lost and
later versions can add columns without a migration of old rows.  The file's layout has a
version, SQLite's ``PRAGMA user_version`` (:data:`SCHEMA_VERSION`), set when the file is
created: a file of a newer layout than this canarystats knows is refused, never misread or
overwritten; a file from before the version existed (``user_version`` 0 with a ``runs`` table)
is read as it is, and stamped with the version the next time a run is appended to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from canarystats.errors import DataError

if TYPE_CHECKING:
    from canarystats.results import Judgment

__all__ = ["SCHEMA_VERSION", "SUMMARY_COLUMNS", "append", "runs", "schema_version", "summary"]

#: the layout of the history file this canarystats writes (SQLite's ``PRAGMA user_version``);
#: a change to the table that older readers would misread raises it, and brings the migration
#: of files of the versions before
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    config TEXT NOT NULL,
    verdict TEXT NOT NULL,
    score REAL,
    exit_code INTEGER NOT NULL,
    would_exit INTEGER NOT NULL,
    soft_fail INTEGER NOT NULL,
    window_start TEXT,
    window_end TEXT,
    canary_scope TEXT,
    baseline_scope TEXT,
    failing_metrics TEXT NOT NULL,
    judgment TEXT
)
"""

#: columns of :func:`summary`, one row per config
SUMMARY_COLUMNS = (
    "config",
    "runs",
    "pass",
    "fail",
    "marginal",
    "nodata",
    "errors",
    "pass_rate",
    "fail_rate",
    "would_have_failed",
    "would_have_failed_rate",
    "last_run",
    "last_verdict",
)


#: the columns :func:`runs` returns, in order
_LISTED = (
    "id",
    "recorded_at",
    "config",
    "verdict",
    "score",
    "exit_code",
    "would_exit",
    "soft_fail",
    "window_start",
    "window_end",
    "canary_scope",
    "baseline_scope",
    "failing_metrics",
)
#: seconds :func:`append` and :func:`runs` wait for another process's lock by default; the
#: command line waits up to the run's ``--deadline`` instead
LOCK_TIMEOUT_S = 30.0
#: columns a ``runs`` table must have to be a canarystats history (later versions may add more)
_COLUMNS = frozenset(
    ("recorded_at", "config", "verdict", "score", "exit_code", "would_exit", "soft_fail")
)
# SQLite's primary result codes (https://sqlite.org/rescode.html); Python 3.11 exposes the
# extended code of each error, whose low byte is the primary one.
_BUSY, _LOCKED, _READONLY, _CORRUPT, _CANTOPEN, _FULL, _NOTADB = 5, 6, 8, 11, 14, 13, 26


def _connect(path: Path, *, create: bool, lock_timeout: float) -> sqlite3.Connection:
    if path.is_dir():
        raise DataError(f"{path} is a folder; give a file name")
    if not create and not path.is_file():
        raise DataError(f"{path}: no such history file; record runs with judge --history {path}")
    if create and not path.parent.is_dir():
        raise DataError(f"{path}: folder {path.parent} does not exist; create it first")
    try:
        # Autocommit: the transactions below are explicit, so the writer lock is taken (and
        # waited for) once, at BEGIN IMMEDIATE, never half-way through a transaction.
        return sqlite3.connect(path, timeout=lock_timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise _history_error(path, exc, lock_timeout) from None


def _has_runs(conn: sqlite3.Connection, path: Path) -> bool:
    """Whether the file holds the runs table; refuse an SQLite file that is something else."""
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "runs" in tables:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
        if columns >= _COLUMNS:
            return True
    elif not tables - {"sqlite_sequence"}:
        return False
    # Another program's database: adding a table to it, or reading its own "runs", would be
    # wrong either way.
    raise DataError(
        f"{path}: not a canarystats history file (an SQLite database of something else); "
        "give a file of its own"
    )


def _check_version(conn: sqlite3.Connection, path: Path) -> int:
    """The file's layout version; a newer one than :data:`SCHEMA_VERSION` is refused."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise DataError(
            f"{path}: history file version {version} was written by a newer canarystats (this "
            f"one reads up to version {SCHEMA_VERSION}); upgrade canarystats to use it, or give "
            "another file"
        )
    return int(version)


def schema_version(path: str | os.PathLike[str], *, lock_timeout: float = LOCK_TIMEOUT_S) -> int:
    """The layout version of a history file: :data:`SCHEMA_VERSION` once written by this
    canarystats, 0 for a file from before versions existed.

    Raises
    ------
    canarystats.errors.DataError
        As :func:`runs` does, and for a file of a newer version than this canarystats knows.

    Examples
    --------
    >>> schema_version("runs.sqlite")  # doctest: +SKIP
    1
    """
    where = Path(path)
    conn = _connect(where, create=False, lock_timeout=lock_timeout)
    try:
        _has_runs(conn, where)
        return _check_version(conn, where)
    except sqlite3.Error as exc:
        raise _history_error(where, exc, lock_timeout) from None
    finally:
        conn.close()


def _history_error(path: Path, exc: sqlite3.Error, lock_timeout: float) -> DataError:
    """One line that tells a lock apart from a file that is no history, a full disk, ..."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (_BUSY, _LOCKED):
        return DataError(
            f"{path}: locked by another process (waited {lock_timeout:g} s); "
            "retry once it is released, or wait longer"
        )
    if code in (_NOTADB, _CORRUPT):
        return DataError(f"{path}: not a canarystats history file ({exc}); give a file of its own")
    if code == _FULL:
        return DataError(f"{path}: cannot write it ({exc}); free some space or write elsewhere")
    if code in (_READONLY, _CANTOPEN):
        return DataError(f"{path}: cannot write it ({exc}); choose a file you can write to")
    return DataError(f"{path}: cannot use the history ({exc})")


def append(
    path: str | os.PathLike[str],
    judgment: Judgment | None,
    *,
    config_name: str,
    exit_code: int,
    would_exit: int,
    soft_fail: bool,
    window: tuple[datetime, datetime] | None = None,
    scopes: Mapping[str, str] | None = None,
    recorded_at: datetime | None = None,
    lock_timeout: float = LOCK_TIMEOUT_S,
) -> None:
    """Append one run to the history file (created if missing).

    The run is one transaction: it is recorded whole or not at all.  While another process
    holds the file's lock, ``append`` waits up to ``lock_timeout`` seconds for it.

    Parameters
    ----------
    path : path-like
        The SQLite file.
    judgment : Judgment or None
        The run's judgment; None when the run ended without one (the source failed), which
        is recorded as verdict ``error``.
    config_name : str
        The config's name, the key of the summary.
    exit_code : int
        What the command exited with.
    would_exit : int
        What it would have exited with without ``--soft-fail`` (equal to ``exit_code``
        otherwise).
    soft_fail : bool
        Whether ``--soft-fail`` was on.
    window : (datetime, datetime), optional
        The judged window.
    scopes : Mapping, optional
        Cohort -> scope.
    recorded_at : datetime, optional
        When (default now, UTC).
    lock_timeout : float
        Seconds to wait while another process holds the file's lock (default
        :data:`LOCK_TIMEOUT_S`).

    Raises
    ------
    canarystats.errors.DataError
        One line naming the file and what to do, that tells apart: a lock still held after
        ``lock_timeout`` ("locked by another process"), a file that is not a canarystats
        history (not SQLite, or the database of something else: it is left untouched), a full
        disk, a file or folder that cannot be written, a missing folder.

    Examples
    --------
    >>> append("runs.sqlite", j, config_name="web", exit_code=0, would_exit=1,
    ...        soft_fail=True)  # doctest: +SKIP
    """
    scopes = scopes or {}
    when = (recorded_at or datetime.now(UTC)).astimezone(UTC)
    failing = (
        [
            m.name
            for m in judgment.metrics
            if m.classification in ("High", "Low", "NodataFailMetric")
        ]
        if judgment is not None
        else []
    )
    row = (
        when.isoformat(),
        config_name,
        judgment.verdict if judgment is not None else "error",
        judgment.score if judgment is not None else None,
        int(exit_code),
        int(would_exit),
        int(bool(soft_fail)),
        window[0].astimezone(UTC).isoformat() if window else None,
        window[1].astimezone(UTC).isoformat() if window else None,
        scopes.get("canary"),
        scopes.get("baseline"),
        json.dumps(failing),
        json.dumps(judgment.to_dict(), allow_nan=False) if judgment is not None else None,
    )
    _insert(Path(path), row, lock_timeout)


def _insert(where: Path, row: tuple[object, ...], lock_timeout: float) -> None:
    """Insert one run in one transaction, creating the table in a new file."""
    conn = _connect(where, create=True, lock_timeout=lock_timeout)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not _has_runs(conn, where):
                conn.execute(_SCHEMA)
            else:
                _check_version(conn, where)
            # A new file, or one from before versions (the same table): stamp the version, in
            # the same transaction as the run.
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute(
                "INSERT INTO runs (recorded_at, config, verdict, score, exit_code, would_exit, "
                "soft_fail, window_start, window_end, canary_scope, baseline_scope, "
                "failing_metrics, judgment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise _history_error(where, exc, lock_timeout) from None
    finally:
        conn.close()


def runs(path: str | os.PathLike[str], *, lock_timeout: float = LOCK_TIMEOUT_S) -> pd.DataFrame:
    """Every recorded run, oldest first (without the stored judgment JSON).

    Raises
    ------
    canarystats.errors.DataError
        As :func:`append` does, and when the file does not exist.

    Examples
    --------
    >>> runs("runs.sqlite")[["config", "verdict", "would_exit"]]  # doctest: +SKIP
    """
    where = Path(path)
    conn = _connect(where, create=False, lock_timeout=lock_timeout)
    try:
        if not _has_runs(conn, where):
            return pd.DataFrame(columns=list(_LISTED))
        _check_version(conn, where)
        cursor = conn.execute(f"SELECT {', '.join(_LISTED)} FROM runs ORDER BY id")
        return pd.DataFrame.from_records(
            cursor.fetchall(), columns=list(_LISTED), coerce_float=True
        )
    except sqlite3.Error as exc:
        raise _history_error(where, exc, lock_timeout) from None
    finally:
        conn.close()


def summary(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Summarise the history per config: counts, rates, would-have-failed, last run.

    ``would_have_failed`` counts runs that exited 0 only because of ``--soft-fail`` (their
    ``would_exit`` was 1 or 3).  Rates are fractions of ``runs``.

    Returns
    -------
    pandas.DataFrame
        One row per config (sorted by name), columns :data:`SUMMARY_COLUMNS`.

    Examples
    --------
    >>> summary("runs.sqlite").loc[0, "would_have_failed_rate"]  # doctest: +SKIP
    0.25
    """
    table = runs(path)
    rows = []
    for config, group in table.groupby("config", sort=True):
        verdicts = group["verdict"]
        n = len(group)
        hidden = int(((group["exit_code"] == 0) & (group["would_exit"] != 0)).sum())
        last = group.iloc[-1]
        counts = {v: int((verdicts == v).sum()) for v in ("pass", "fail", "marginal", "nodata")}
        rows.append(
            {
                "config": config,
                "runs": n,
                **counts,
                "errors": int((verdicts == "error").sum()),
                "pass_rate": counts["pass"] / n,
                "fail_rate": (counts["fail"] + counts["marginal"]) / n,
                "would_have_failed": hidden,
                "would_have_failed_rate": hidden / n,
                "last_run": last["recorded_at"],
                "last_verdict": last["verdict"],
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
