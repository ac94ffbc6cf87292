"""``canarystats fetch``: a saved frame judges exactly as the live run it came from."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from canarystats.cli import main

ROOT = Path(__file__).resolve().parents[2]
WEB = str(ROOT / "examples" / "web.yaml")
INCIDENT = str(ROOT / "fixtures" / "seed-incident.csv")
API_KEY = "dd-api-KEY-SECRET-123"
APP_KEY = "dd-app-KEY-SECRET-456"
# Datadog metric names of examples/web.yaml's queries -> the fixture's metric column.
DATADOG_NAMES = {
    "sidekiq.jobs.failure": "background-jobs-failed",
    "sidekiq.jobs.success": "background-jobs-processed",
    "sidekiq.queue.latency": "background-queue-latency",
    "trace.rack.request.duration": "request-latency",
    "trace.rack.request.errors": "request-errors",
    "trace.rack.request.hits": "requests",
    "system.cpu.user": "cpu-user",
}


@pytest.fixture
def datadog(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A fake Datadog holding the incident, moved to end an hour ago; yields its window flags."""
    from canarystats.sources import read_frame
    from canarystats.testing import FakeDatadog

    frame = read_frame(INCIDENT).assign(tags="service:web")
    # The source asks only for finished buckets (end <= now - settle), whatever today's date.
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(hours=1)
    frame["timestamp"] += end - (frame["timestamp"].max() + pd.Timedelta(minutes=1))
    scopes = {"role:canary": "canary", "role:baseline": "baseline"}
    with FakeDatadog(frame, scopes=scopes, metrics=DATADOG_NAMES) as dd:
        monkeypatch.setenv("DATADOG_HOST", dd.url)
        monkeypatch.setenv("DD_API_KEY", API_KEY)
        monkeypatch.setenv("DD_APP_KEY", APP_KEY)
        yield ["--start", frame["timestamp"].min().isoformat(), "--end", end.isoformat()]


def test_fetch_saves_a_frame_that_judges_like_the_live_run(
    tmp_path: Path, datadog: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "run.csv"
    assert main(["fetch", WEB, *datadog, "--output", str(saved)]) == 0
    assert main(["judge", WEB, *datadog, "--format", "json"]) == 1
    live = json.loads(capsys.readouterr().out)
    # The saved frame is judged from the same canary start (its warm-up left out likewise).
    assert main(["judge", WEB, "--data", str(saved), *datadog[:2], "--format", "json"]) == 1
    replay = json.loads(capsys.readouterr().out)
    assert replay == live
    assert API_KEY not in saved.read_text()


def test_a_fetched_frame_served_by_the_fake_judges_like_the_file(
    tmp_path: Path,
    datadog: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # fetch -> serve-fake-datadog --data run.csv --config -> judge: the docs' way of testing a
    # pipeline against a saved run, which must give the saved run's own verdict.
    saved = tmp_path / "run.csv"
    assert main(["fetch", WEB, *datadog, "--output", str(saved)]) == 0
    assert main(["judge", WEB, "--data", str(saved), *datadog[:2], "--format", "json"]) == 1
    offline = json.loads(capsys.readouterr().out)
    argv = ["--port", "0", "--data", str(saved), "--config", WEB]
    argv += ["--scope", "role:canary=canary", "--scope", "role:baseline=baseline"]
    command = [sys.executable, "-m", "canarystats", "serve-fake-datadog", *argv]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        monkeypatch.setenv("DATADOG_HOST", server.stdout.readline().split()[3])
        assert main(["judge", WEB, *datadog, "--format", "json"]) == 1
        served = json.loads(capsys.readouterr().out)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert served["verdict"] == offline["verdict"] == "fail"
    assert served["score"] == offline["score"]
    assert {m["name"]: m["classification"] for m in served["metrics"]} == {
        m["name"]: m["classification"] for m in offline["metrics"]
    }
    assert "note:" not in err  # --config given: no hint about metric names


def test_the_fake_serving_a_saved_run_without_its_config_says_what_is_missing() -> None:
    from canarystats.cli.serve_fake_datadog import config_hint
    from canarystats.sources import read_frame

    hint = config_hint(read_frame(INCIDENT), "run.csv")
    assert hint is not None and "add --config CONFIG" in hint


def test_fetch_refuses_a_format_it_cannot_write_before_asking_datadog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from canarystats.sources import read_frame
    from canarystats.testing import FakeDatadog

    with FakeDatadog(read_frame(INCIDENT), metrics=DATADOG_NAMES) as dd:
        monkeypatch.setenv("DATADOG_HOST", dd.url)
        monkeypatch.setenv("DD_API_KEY", API_KEY)
        monkeypatch.setenv("DD_APP_KEY", APP_KEY)
        out = tmp_path / "run.xlsx"
        assert main(["fetch", WEB, "--lookback", "10m", "--output", str(out)]) == 2
        assert dd.requests == 0
    err = capsys.readouterr().err
    assert f"{out}: unknown file type '.xlsx'" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_fetch_saves_a_compressed_frame_that_judges_like_the_plain_one(
    tmp_path: Path, datadog: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    plain, packed = tmp_path / "run.csv", tmp_path / "run.csv.gz"
    assert main(["fetch", WEB, *datadog, "--output", str(plain)]) == 0
    assert main(["fetch", WEB, *datadog, "--output", str(packed)]) == 0
    assert packed.stat().st_size < plain.stat().st_size / 3
    capsys.readouterr()
    verdicts = []
    for saved in (plain, packed):
        assert main(["judge", WEB, "--data", str(saved), *datadog[:2], "--format", "json"]) == 1
        verdicts.append(json.loads(capsys.readouterr().out))
    assert verdicts[0] == verdicts[1]


def test_fetch_needs_an_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", WEB, "--lookback", "10m"]) == 2
    assert capsys.readouterr().err == (
        "canarystats fetch: the following arguments are required: --output; "
        "see canarystats fetch --help\n"
    )
