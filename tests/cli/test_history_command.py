"""``canarystats history``: the summary of recorded runs, per config."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from canarystats.cli import main

ROOT = Path(__file__).resolve().parents[2]
WEB = str(ROOT / "examples" / "web.yaml")
INCIDENT = str(ROOT / "fixtures" / "seed-incident.csv")
HEALTHY = str(ROOT / "fixtures" / "healthy-deploy.csv")


def test_history_command_summarises_per_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite"
    base = ["judge", WEB, "--history", str(db)]
    assert main([*base, "--data", HEALTHY]) == 0
    assert main([*base, "--data", INCIDENT, "--soft-fail"]) == 0
    assert main([*base, "--data", INCIDENT]) == 1
    capsys.readouterr()
    assert main(["history", str(db), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["config"], row["runs"], row["pass"], row["fail"]) == ("web", 3, 1, 2)
    assert row["would_have_failed"] == 1
    assert row["would_have_failed_rate"] == pytest.approx(1 / 3)
    assert main(["history", str(db)]) == 0
    text = capsys.readouterr().out
    assert "web" in text and "33%" in text
    last = pd.Timestamp(row["last_run"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert text.splitlines()[1].split()[-2] == last  # to the second, as the time flags take it


def test_a_missing_history_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", str(tmp_path / "none.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "no such history file" in err and len(err.strip().splitlines()) == 1


def test_history_in_a_folder_is_a_warning_that_keeps_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["judge", WEB, "--data", HEALTHY, "--history", str(tmp_path), "-q"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("PASS")
    assert err == (
        f"canarystats: warning: --history {tmp_path} is a folder; give a file name; "
        "the run was not recorded; the verdict was PASS (exit 0)\n"
    )


def test_a_history_file_of_a_newer_layout_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    db = tmp_path / "h.sqlite"
    assert main(["judge", WEB, "--data", HEALTHY, "--history", str(db)]) == 0
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    capsys.readouterr()
    assert main(["history", str(db)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"{db}: history file version 99 was written by a newer canarystats" in err
    # judge keeps its verdict and says the run was not recorded.
    assert main(["judge", WEB, "--data", HEALTHY, "--history", str(db)]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "history file version 99" in err
