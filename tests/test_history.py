"""The run history (canarystats.history): what is recorded and how it is summarised."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from canarystats import judge, load_config
from canarystats.errors import DataError
from canarystats.history import (
    SCHEMA_VERSION,
    SUMMARY_COLUMNS,
    append,
    runs,
    schema_version,
    summary,
)

# The Kayenta method judges pooled values, so a single ungrouped series per cohort is enough.
CONFIG = load_config(
    {
        "name": "web",
        "judge": {"method": "kayenta"},
        "metrics": [{"name": "m", "query": "avg:m{$scope}"}],
    }
)
T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _judgment(canary: list[float], baseline: list[float]):  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(
        {
            "metric": "m",
            "cohort": ["canary"] * len(canary) + ["baseline"] * len(baseline),
            "host": "",
            "timestamp": pd.Timestamp("2026-03-10", tz="UTC")
            + pd.to_timedelta(list(range(len(canary))) + list(range(len(baseline))), unit="min"),
            "value": canary + baseline,
        }
    )
    return judge(CONFIG, frame)


@pytest.fixture(scope="module")
def passing():  # type: ignore[no-untyped-def]
    j = _judgment([1.0, 2, 3, 4, 5, 6], [1.5, 2.5, 3.5, 4.5, 5.5, 6.5])
    assert j.verdict == "pass"
    return j


@pytest.fixture(scope="module")
def failing():  # type: ignore[no-untyped-def]
    j = _judgment([20.0, 22, 21, 25, 30, 28], [1.0, 2.2, 1.1, 2.5, 3, 2])
    assert j.verdict == "fail"
    return j


def test_summary_counts_rates_and_runs_hidden_by_soft_fail(
    tmp_path: Path, passing, failing
) -> None:
    db = tmp_path / "h.sqlite"
    # web: 2 passes, 1 fail that soft-fail hid (exit 0, would 1), 1 hard fail, 1 source error
    # hidden by soft-fail (exit 0, would 3).  other: one pass.
    plan = [
        ("web", passing, 0, 0, False),
        ("web", failing, 0, 1, True),
        ("web", passing, 0, 0, True),
        ("web", failing, 1, 1, False),
        ("web", None, 0, 3, True),
        ("other", passing, 0, 0, False),
    ]
    for i, (name, j, code, would, soft) in enumerate(plan):
        append(
            db,
            j,
            config_name=name,
            exit_code=code,
            would_exit=would,
            soft_fail=soft,
            window=(T0, T0 + timedelta(minutes=10)),
            scopes={"canary": "role:canary", "baseline": "role:baseline"},
            recorded_at=T0 + timedelta(hours=i),
        )
    table = summary(db)
    assert list(table.columns) == list(SUMMARY_COLUMNS)
    assert table["config"].tolist() == ["other", "web"]
    web = table.set_index("config").loc["web"]
    assert (web["runs"], web["pass"], web["fail"], web["errors"]) == (5, 2, 2, 1)
    assert web["would_have_failed"] == 2
    assert web["would_have_failed_rate"] == pytest.approx(2 / 5)
    assert web["pass_rate"] == pytest.approx(2 / 5)
    assert web["fail_rate"] == pytest.approx(2 / 5)
    assert web["last_verdict"] == "error"
    assert web["last_run"] == (T0 + timedelta(hours=4)).isoformat()
    other = table.set_index("config").loc["other"]
    assert (other["runs"], other["pass"], other["would_have_failed"]) == (1, 1, 0)


def test_runs_keep_scopes_window_and_failing_metrics(tmp_path: Path, failing) -> None:
    db = tmp_path / "h.sqlite"
    append(
        db,
        failing,
        config_name="web",
        exit_code=1,
        would_exit=1,
        soft_fail=False,
        window=(T0, T0 + timedelta(minutes=5)),
        scopes={"canary": "role:canary", "baseline": "role:baseline"},
    )
    row = runs(db).iloc[0]
    assert row["canary_scope"] == "role:canary"
    assert row["window_end"] == (T0 + timedelta(minutes=5)).isoformat()
    assert row["failing_metrics"] == '["m"]'
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT judgment FROM runs").fetchone()[0]
    assert '"verdict": "fail"' in stored


def test_missing_or_foreign_file_is_a_one_line_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such history file"):
        summary(tmp_path / "absent.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_text("this is not sqlite\n" * 100)
    with pytest.raises(DataError, match=r"junk\.sqlite") as info:
        summary(junk)
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- layout version

#: the table as files written before the layout had a version hold it (user_version 0)
UNVERSIONED_TABLE = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, recorded_at TEXT NOT NULL, config TEXT NOT NULL,
    verdict TEXT NOT NULL, score REAL, exit_code INTEGER NOT NULL, would_exit INTEGER NOT NULL,
    soft_fail INTEGER NOT NULL, window_start TEXT, window_end TEXT, canary_scope TEXT,
    baseline_scope TEXT, failing_metrics TEXT NOT NULL, judgment TEXT
)
"""


def _user_version(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _unversioned(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(UNVERSIONED_TABLE)
        conn.execute(
            "INSERT INTO runs (recorded_at, config, verdict, score, exit_code, would_exit, "
            "soft_fail, failing_metrics) VALUES (?, 'web', 'pass', 100.0, 0, 0, 0, '[]')",
            (T0.isoformat(),),
        )


def test_a_new_history_file_carries_the_layout_version(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    append(db, None, config_name="web", exit_code=3, would_exit=3, soft_fail=False)
    assert _user_version(db) == 1 == SCHEMA_VERSION
    assert schema_version(db) == 1


def test_a_file_from_before_versions_is_read_and_stamped_when_appended_to(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.sqlite"
    _unversioned(db)
    assert list(runs(db)["verdict"]) == ["pass"]
    assert _user_version(db) == 0  # reading changes nothing
    append(db, None, config_name="web", exit_code=3, would_exit=3, soft_fail=False)
    assert list(runs(db)["verdict"]) == ["pass", "error"]
    assert _user_version(db) == SCHEMA_VERSION


def test_a_file_of_a_newer_layout_is_refused_in_one_line_and_left_untouched(
    tmp_path: Path,
) -> None:
    db = tmp_path / "future.sqlite"
    _unversioned(db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = db.read_bytes()
    for use in (
        lambda: runs(db),
        lambda: summary(db),
        lambda: schema_version(db),
        lambda: append(db, None, config_name="web", exit_code=3, would_exit=3, soft_fail=False),
    ):
        with pytest.raises(DataError) as info:
            use()
        message = str(info.value)
        assert "\n" not in message
        assert f"history file version {SCHEMA_VERSION + 1}" in message
        assert "upgrade canarystats" in message and "future.sqlite" in message
    assert db.read_bytes() == before
