"""The seed talk's incident, replayed with its monitors, through the real command line.

The developer's change broke background jobs; the canary config of the time judged request
metrics only, which stayed healthy, so the metric checks pass.  But the Sidekiq failure monitor
fired on two canary hosts and paged the developer, then auto-resolved after the rollback.  The
monitor gate connects that page to the pipeline: the judge fails the canary and names the
monitor.  When the same monitor alerts on every host, canary and baseline alike, the trouble is
the environment's, and the run has no verdict, saying why.

The official client talks to :class:`FakeDatadog` over HTTP on 127.0.0.1; nothing is mocked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from canarystats.cli import main
from canarystats.config import load_config
from canarystats.sources import read_frame
from canarystats.testing import FakeDatadog, Fault
from canarystats.testing.config_frame import frame_for_config
from canarystats.testing.monitors import fake_monitor

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "examples" / "web-monitors.yaml")
INCIDENT = ROOT / "fixtures" / "seed-incident.csv"
MONITORS = ROOT / "examples" / "seed-incident-monitors.json"
WINDOW = ["--start", "2026-03-10T15:05:00Z", "--end", "2026-03-10T15:15:00Z"]
CANARY = ("web-04", "web-12", "web-14", "web-15")
BASELINE = ("web-01", "web-03", "web-09", "web-16")
API_KEY = "dd-api-KEY-SECRET-monitors-1"
APP_KEY = "dd-app-KEY-SECRET-monitors-2"


def _incident_monitors() -> list[dict[str, Any]]:
    monitors: list[dict[str, Any]] = json.loads(MONITORS.read_text())
    return monitors


def _everywhere_monitors() -> list[dict[str, Any]]:
    sidekiq, latency = _incident_monitors()
    groups = {
        f"host:{h}": {"status": "Alert", "triggered": datetime(2026, 3, 10, 15, 3, tzinfo=UTC)}
        for h in CANARY + BASELINE
    }
    return [
        fake_monitor(
            sidekiq["id"], sidekiq["name"], sidekiq["query"], groups=groups, tags=sidekiq["tags"]
        ),
        latency,
    ]


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATADOG_HOST", "DD_SITE", "CANARYSTATS_DEBUG", "DD_SERVICE", "DD_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)


def _serve(monkeypatch: pytest.MonkeyPatch, monitors: list[dict[str, Any]]) -> FakeDatadog:
    frame = frame_for_config(read_frame(INCIDENT), load_config(CONFIG))
    fake = FakeDatadog(
        frame,
        scopes={"role:canary": "canary", "role:baseline": "baseline"},
        monitors=monitors,
        api_key=API_KEY,
        app_key=APP_KEY,
    ).start()
    monkeypatch.setenv("DATADOG_HOST", fake.url)
    return fake


@pytest.fixture
def incident(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDatadog]:
    fake = _serve(monkeypatch, _incident_monitors())
    yield fake
    fake.stop()


@pytest.fixture
def everywhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDatadog]:
    fake = _serve(monkeypatch, _everywhere_monitors())
    yield fake
    fake.stop()


def _no_keys(*texts: str) -> None:
    for text in texts:
        assert API_KEY not in text and APP_KEY not in text


def test_the_metric_checks_alone_pass_the_incident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The premise: without its monitors section the same config passes the broken canary.
    config = load_config(CONFIG)
    plain = tmp_path / "plain.yaml"
    text = Path(CONFIG).read_text()
    plain.write_text(text.split("monitors:")[0] + "metrics:" + text.split("metrics:", 1)[1])
    assert load_config(plain).monitors is None and config.monitors is not None
    assert main(["judge", str(plain), "--data", str(INCIDENT), *WINDOW]) == 0
    assert capsys.readouterr().out.startswith("PASS")


def test_the_monitor_that_paged_about_canary_hosts_fails_the_canary(
    incident: FakeDatadog, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["judge", CONFIG, *WINDOW]) == 1
    out, err = capsys.readouterr()
    _no_keys(out, err)
    first, reason = out.splitlines()[:2]
    assert first.startswith("FAIL")
    assert "Sidekiq job failures are high" in reason
    assert "https://app.datadoghq.com/monitors/4711" in reason
    assert "canary hosts web-04 at 2026-03-10T15:08:00Z (resolved 2026-03-10T15:21:00Z)" in reason
    assert "Metrics alone: Score 100" in reason
    # One search and one request per monitor found, beside the metric requests.
    monitor_requests = [r for r in incident.received if "/api/v1/monitor" in r.path]
    assert [r.path for r in monitor_requests] == [
        "/api/v1/monitor/search",
        "/api/v1/monitor/4711",
        "/api/v1/monitor/4712",
    ]


def test_the_monitor_alerting_on_every_host_gives_no_verdict_with_that_reason(
    everywhere: FakeDatadog, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["judge", CONFIG, *WINDOW, "--format", "json"]) == 3
    out, err = capsys.readouterr()
    _no_keys(out, err)
    report = json.loads(out)
    assert report["verdict"] == "nodata"
    assert "the environment is in trouble" in report["reason"]
    sidekiq = report["monitors"]["monitors"][0]
    assert sidekiq["state"] == "environment" and sidekiq["outcome"] == "unjudged"
    assert {f["cohort"] for f in sidekiq["firings"]} == {"canary", "baseline"}


def test_soft_fail_hides_the_monitor_failure_but_says_which_code(
    incident: FakeDatadog, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["judge", CONFIG, *WINDOW, "--soft-fail"]) == 0
    assert "would have exited 1" in capsys.readouterr().err


def test_a_fetched_run_with_its_monitor_states_replays_the_verdict_offline(
    tmp_path: Path, incident: FakeDatadog, capsys: pytest.CaptureFixture[str]
) -> None:
    run, states = str(tmp_path / "run.csv"), str(tmp_path / "states.json")
    assert main(["fetch", CONFIG, *WINDOW, "--output", run, "--monitor-states", states]) == 0
    saved = json.loads(Path(states).read_text())
    assert saved["window"] == {"start": "2026-03-10T15:05:00Z", "end": "2026-03-10T15:15:00Z"}
    capsys.readouterr()
    incident.stop()  # offline now
    argv = ["judge", CONFIG, "--data", run, *WINDOW, "--monitor-states", states]
    assert main(argv) == 1
    assert "Sidekiq job failures are high" in capsys.readouterr().out.splitlines()[1]


def test_monitor_states_for_a_config_without_monitors_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "s.json").write_text('{"groups": []}')
    web = str(ROOT / "examples" / "web.yaml")
    argv = ["judge", web, "--data", str(INCIDENT), "--monitor-states", str(tmp_path / "s.json")]
    assert main(["--quiet", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "names no monitors" in err and "Traceback" not in err


def test_monitors_that_cannot_be_read_give_no_verdict_in_one_line(
    incident: FakeDatadog, capsys: pytest.CaptureFixture[str]
) -> None:
    incident.inject(Fault(status=503, times=None, match="/api/v1/monitor/4711"))
    assert main(["judge", CONFIG, *WINDOW, "--deadline", "3"]) == 3
    out, err = capsys.readouterr()
    _no_keys(out, err)
    errors = [line for line in err.splitlines() if line.startswith("canarystats: error")]
    assert len(errors) == 1 and "/api/v1/monitor/4711" in errors[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("status", [401, 403])
def test_refused_keys_on_the_monitor_endpoints_are_set_up_and_never_echoed(
    incident: FakeDatadog, capsys: pytest.CaptureFixture[str], status: int
) -> None:
    incident.inject(
        Fault(status=status, errors=[f"key {API_KEY} / {APP_KEY} refused"], match="monitor")
    )
    assert main(["judge", CONFIG, *WINDOW, "--soft-fail"]) == 2
    out, err = capsys.readouterr()
    _no_keys(out, err)
    assert "monitors_read" in err and "DD_APP_KEY" in err


def test_a_monitor_id_that_does_not_exist_names_the_config_key(
    tmp_path: Path, incident: FakeDatadog, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        Path(CONFIG).read_text().replace('query: "tag:service:web type:metric"', "ids: [4711, 999]")
    )
    config = tmp_path / "ids.yaml"
    config.write_text(text)
    assert main(["judge", str(config), *WINDOW]) == 2
    err = capsys.readouterr().err
    assert "monitor 999" in err and "monitors.ids" in err


def test_a_search_matching_too_many_monitors_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    many = [
        fake_monitor(i, f"m{i}", "avg(last_5m):avg:x{*} > 1", tags=["service:web"])
        for i in range(1, 13)
    ]
    fake = _serve(monkeypatch, many)
    try:
        assert main(["judge", CONFIG, *WINDOW]) == 2
    finally:
        fake.stop()
    err = capsys.readouterr().err
    assert "monitors.query" in err and "more than 10" in err
