"""The run history (canarystats.history): what is recorded and how it is summarised."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from canarystats import judge, load_config
from canarystats.errors import DataError
from canarystats.history import SUMMARY_COLUMNS, append, runs, summary

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
