"""A local record of canary runs (SQLite, standard library), and its summary per config.

A team turns on ``--soft-fail`` first and appends every run with ``--history FILE``; the
summary then says how often each config passed, failed, was marginal or had no data, and how
often soft-fail hid a stop (``would_exit`` not 0 while the run exited 0).  When the
would-have-failed runs are the deploys that really were bad, it is time to turn soft-fail off.

One table, ``runs``; a judgment's full JSON is kept beside the columns so nothing is lost and
later versions can add columns without a migration of old rows.
"""

from __future__ import annotations

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

__all__ = ["SUMMARY_COLUMNS", "append", "runs", "summary"]

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


def _connect(path: str | os.PathLike[str], *, create: bool) -> sqlite3.Connection:
    path = Path(path)
    if not create and not path.is_file():
        raise DataError(f"{path}: no such history file; record runs with judge --history {path}")
    if create and not path.parent.is_dir():
        raise DataError(f"{path}: folder {path.parent} does not exist; create it first")
    try:
        conn = sqlite3.connect(path, timeout=10.0)
        conn.execute(_SCHEMA)
    except sqlite3.DatabaseError as exc:
        raise DataError(f"{path}: not a canarystats history (SQLite) file: {exc}") from None
    return conn


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
) -> None:
    """Append one run to the history file (created if missing).

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

    Raises
    ------
    canarystats.errors.DataError
        When the file cannot be written or is not a history file.

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
    conn = _connect(path, create=True)
    try:
        with conn:
            conn.execute(
                "INSERT INTO runs (recorded_at, config, verdict, score, exit_code, would_exit, "
                "soft_fail, window_start, window_end, canary_scope, baseline_scope, "
                "failing_metrics, judgment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
    except sqlite3.Error as exc:
        raise DataError(f"{path}: cannot record the run: {exc}") from None
    finally:
        conn.close()


def runs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Every recorded run, oldest first (without the stored judgment JSON).

    Examples
    --------
    >>> runs("runs.sqlite")[["config", "verdict", "would_exit"]]  # doctest: +SKIP
    """
    conn = _connect(path, create=False)
    try:
        return pd.read_sql_query(
            "SELECT id, recorded_at, config, verdict, score, exit_code, would_exit, soft_fail, "
            "window_start, window_end, canary_scope, baseline_scope, failing_metrics "
            "FROM runs ORDER BY id",
            conn,
        )
    except (sqlite3.Error, pd.errors.DatabaseError) as exc:
        raise DataError(f"{path}: cannot read the history: {exc}") from None
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
