"""``canarystats serve-fake-datadog``: a fake Datadog served until interrupted."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest

from canarystats.cli import main

KEYS = {"DD-API-KEY": "k", "DD-APPLICATION-KEY": "a"}
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
T0_S = int(T0.timestamp())


def test_a_bad_scope_argument_is_refused_before_serving(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve-fake-datadog", "--scope", "role:canary", "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        "--scope 'role:canary': write TAG=COHORT, e.g. role:canary=canary\n"
    )


def test_a_missing_data_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve-fake-datadog", "--data", str(tmp_path / "nope.csv"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "nope.csv" in err and len(err.strip().splitlines()) == 1


def test_help_documents_the_commands_own_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve-fake-datadog", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: canarystats serve-fake-datadog [-h] [--port PORT]")
    for flag in ("--data", "--replay", "--scope TAG=COHORT"):
        assert flag in out


def test_an_unknown_flag_is_argparses_usage_error_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve-fake-datadog", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: canarystats serve-fake-datadog")
    assert err.endswith("canarystats serve-fake-datadog: error: unrecognized arguments: --bogus\n")


def test_it_serves_a_data_file(tmp_path: Path) -> None:
    data = tmp_path / "run.csv"
    # web-1 has 1 and 2 at minutes 0 and 1, web-2 has 3 at minute 0: their sum at minute 0 is 4.
    rows = [
        ("m.lat", "canary", "web-1", T0, 1.0),
        ("m.lat", "canary", "web-1", T0 + timedelta(minutes=1), 2.0),
        ("m.lat", "canary", "web-2", T0, 3.0),
        ("m.lat", "baseline", "web-3", T0, 10.0),
    ]
    pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"]).to_csv(
        data, index=False
    )
    argv = ["--port", "0", "--data", str(data), "--scope", "role:canary=canary"]
    command = [sys.executable, "-m", "canarystats", "serve-fake-datadog", *argv]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split()[3]
        assert line == f"fake Datadog on {url}  (export DATADOG_HOST={url})\n"
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        query = urlencode({"from": T0_S, "to": T0_S + 600, "query": "sum:m.lat{role:canary}"})
        connection.request("GET", f"/api/v1/query?{query}", headers=KEYS)
        answer = json.loads(connection.getresponse().read())
        connection.close()
        assert answer["series"][0]["pointlist"][0] == [T0_S * 1000, 4.0]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_bad_monitors_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "monitors.json"
    bad.write_text("{oops")
    assert main(["serve-fake-datadog", "--monitors", str(bad), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"--monitors {bad}: not JSON") and len(err.strip().splitlines()) == 1


def test_the_docs_incident_replay_runs_against_the_served_fake() -> None:
    # docs/datadog.md: the seed incident with its monitors, judged and posted back.
    root = Path(__file__).resolve().parents[2]
    argv = [
        "--port", "0",
        "--data", str(root / "fixtures" / "seed-incident.csv"),
        "--config", str(root / "examples" / "web-monitors.yaml"),
        "--monitors", str(root / "examples" / "seed-incident-monitors.json"),
        "--scope", "role:canary=canary", "--scope", "role:baseline=baseline",
    ]  # fmt: skip
    command = [sys.executable, "-m", "canarystats", "serve-fake-datadog", *argv]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[3]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "DATADOG_"))}
        env.update(DATADOG_HOST=url, DD_API_KEY="fake", DD_APP_KEY="fake")
        judge = [
            sys.executable, "-m", "canarystats", "judge", str(root / "examples/web-monitors.yaml"),
            "--start", "2026-03-10T15:05:00Z", "--end", "2026-03-10T15:15:00Z",
            "--post-event", "--post-score", "--deploy-version", "1.4.2",
        ]  # fmt: skip
        done = subprocess.run(judge, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, done.stderr
        assert "Sidekiq job failures are high" in done.stdout.splitlines()[1]
        assert server.stdout.readline().startswith("received event 'canary web 1.4.2: FAIL")
        assert server.stdout.readline().startswith("received series canarystats.score [0.0]")
    finally:
        server.terminate()
        server.wait(timeout=10)
