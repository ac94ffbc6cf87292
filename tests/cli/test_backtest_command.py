"""``canarystats backtest``: a history of deploys judged from the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from canarystats.cli import main

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "examples" / "web-backtest.yaml")
DEPLOYS = ROOT / "fixtures" / "history" / "deploys.csv"
HISTORY = str(ROOT / "fixtures" / "history" / "history.csv")


def test_backtest_writes_one_row_per_deploy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A slice of the history keeps the test fast; the outcomes come from the fixture.
    deploys = pd.read_csv(DEPLOYS).head(12)
    small = tmp_path / "deploys.csv"
    deploys.to_csv(small, index=False)
    out = tmp_path / "bt.csv"
    assert main(["backtest", CONFIG, str(small), "--data", HISTORY, "--output", str(out)]) == 0
    result = pd.read_csv(out)
    assert list(result["deploy"]) == list(deploys["deploy"])
    assert set(result["verdict"]) <= {"pass", "marginal", "fail", "nodata"}
    summary = capsys.readouterr().err
    assert "backtest of 12 deploys" in summary


def test_backtest_without_data_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", CONFIG, str(DEPLOYS)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "--data" in err[0]


def test_backtest_names_a_missing_deploy_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", CONFIG, "absent-deploys.csv", "--data", HISTORY]) == 2
    err = capsys.readouterr().err
    assert "absent-deploys.csv" in err and "Traceback" not in err
    assert io.StringIO(err).read().count("\n") == 1


def test_backtest_prints_the_csv_without_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = tmp_path / "deploys.csv"
    pd.read_csv(DEPLOYS).head(3).to_csv(small, index=False)
    assert main(["backtest", CONFIG, str(small), "--data", HISTORY]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("deploy,canary_scope,baseline_scope,start,end,")
    assert len(out.splitlines()) == 4
    assert err.startswith("backtest of 3 deploys: ") and "written" not in err


def test_backtest_output_into_a_folder_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = tmp_path / "deploys.csv"
    pd.read_csv(DEPLOYS).head(2).to_csv(small, index=False)
    argv = ["backtest", CONFIG, str(small), "--data", HISTORY, "--output", str(tmp_path)]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"canarystats: error: --output {tmp_path} is a folder; give a file name\n"
    )
