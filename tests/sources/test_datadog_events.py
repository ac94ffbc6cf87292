"""Verdicts back to Datadog: the event and the score gauge, what they carry, and that posting
never changes the exit code.

The official client posts to :class:`FakeDatadog`'s intake over HTTP on 127.0.0.1, which keeps
what it accepted; a test that makes the intake fail sees nothing kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from canarystats.cli import main
from canarystats.errors import SourceError
from canarystats.sources.datadog import DatadogSource
from canarystats.sources.datadog_events import (
    MAX_TEXT,
    MAX_TITLE,
    Deployment,
    VerdictPoster,
    score_series,
    verdict_event,
)
from canarystats.testing import FakeDatadog, Fault

ROOT = Path(__file__).resolve().parents[2]
WEB = str(ROOT / "examples" / "web.yaml")
FIXTURES = ROOT / "fixtures"
API_KEY = "dd-api-KEY-SECRET-events-1"
APP_KEY = "dd-app-KEY-SECRET-events-2"
# Each fixture's window and verdict (fixtures/README.md); nodata: a window without data.
RUNS = {
    "fail": ("seed-incident.csv", []),
    "pass": ("healthy-deploy.csv", []),
    "nodata": ("healthy-deploy.csv", ["--start", "2020-01-01", "--end", "2020-01-02"]),
}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATADOG_HOST", "DD_SITE", "DD_SERVICE", "DD_ENV", "DD_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)


@pytest.fixture
def dd(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDatadog]:
    with FakeDatadog(api_key=API_KEY, app_key=APP_KEY) as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        yield fake


def _judgment(verdict: str, score: float) -> Any:
    return SimpleNamespace(verdict=verdict, score=score, config_name="web")


# --------------------------------------------------------------------------- what is posted


@pytest.mark.parametrize(
    ("verdict", "alert"),
    [("pass", "success"), ("marginal", "warning"), ("fail", "error"), ("nodata", "warning")],
)
def test_the_event_carries_service_version_verdict_and_an_alert_type_by_verdict(
    verdict: str, alert: str
) -> None:
    deploy = Deployment("web", env="prod", version="1.4.2")
    event = verdict_event(_judgment(verdict, 80.0), "### report", deploy)
    assert event["title"] == f"canary web 1.4.2: {verdict.upper()} (score 80/100)"
    assert event["alert_type"] == alert
    assert event["tags"] == ["service:web", "env:prod", "version:1.4.2", f"verdict:{verdict}"]
    assert event["aggregation_key"] == "canarystats:web:prod:1.4.2"
    # Datadog renders the text as Markdown between %%% markers.
    assert event["text"] == "%%% \n### report\n %%%"


def test_a_long_report_is_cut_at_a_line_end_to_datadogs_limit() -> None:
    report = "\n".join(f"| metric-{i} | Pass | {'x' * 60} |" for i in range(200))
    event = verdict_event(_judgment("fail", 0.0), report, Deployment("a" * 200))
    assert len(event["text"]) <= MAX_TEXT and len(event["title"]) <= MAX_TITLE
    assert "cut to Datadog's limit" in event["text"]
    kept = event["text"].split("\n\n… (cut")[0]
    assert kept.endswith("|")  # whole rows only
    assert len(event["aggregation_key"]) <= 100


def test_the_score_gauge_is_tagged_like_the_event_and_skipped_without_a_score() -> None:
    when = datetime(2026, 3, 10, 15, 15, tzinfo=UTC)
    series = score_series(_judgment("pass", 97.5), Deployment("web", version="2"), when)
    assert series == {
        "metric": "canarystats.score",
        "points": [{"timestamp": 1773155700, "value": 97.5}],
        "tags": ["service:web", "version:2", "verdict:pass"],
    }
    assert score_series(_judgment("nodata", float("nan")), Deployment("web"), when) is None


def test_the_poster_sends_the_event_and_gauge_to_the_intake_with_the_api_key_alone(
    dd: FakeDatadog,
) -> None:
    source = DatadogSource(host=dd.url, api_key=API_KEY, app_key="", app_key_required=False)
    poster = VerdictPoster(source, now=lambda: datetime(2026, 3, 10, 15, 15, tzinfo=UTC))
    posted = poster.post(_judgment("fail", 12.0), "report", Deployment("web"), score=True)
    assert posted == ["event", "score"] and poster.requests == 2
    (event,) = dd.events
    assert event["title"] == "canary web: FAIL (score 12/100)"
    assert event["alert_type"] == "error"
    (series,) = dd.series
    assert series["metric"] == "canarystats.score" and series["type"] == 3  # gauge
    assert series["points"] == [{"timestamp": 1773155700, "value": 12.0}]


def test_a_refused_post_is_one_source_error_without_the_key(dd: FakeDatadog) -> None:
    dd.inject(Fault(status=403, errors=[f"API key {API_KEY} is invalid"]))
    source = DatadogSource(host=dd.url, api_key=API_KEY, app_key_required=False)
    with pytest.raises(SourceError) as caught:
        VerdictPoster(source).post(_judgment("pass", 100.0), "r", Deployment("web"))
    assert API_KEY not in str(caught.value) and "HTTP 403" in str(caught.value)
    assert dd.events == []


# --------------------------------------------------------------------------- the command line


@pytest.mark.parametrize("verdict", sorted(RUNS))
def test_judge_posts_an_event_and_a_score_for_every_verdict(
    dd: FakeDatadog, capsys: pytest.CaptureFixture[str], verdict: str
) -> None:
    data, window = RUNS[verdict]
    expected = {"pass": 0, "fail": 1, "nodata": 3}[verdict]
    argv = [
        "judge",
        WEB,
        "--data",
        str(FIXTURES / data),
        *window,
        "--post-event",
        "--post-score",
        "--env",
        "prod",
        "--deploy-version",
        "1.4.2",
    ]
    assert main(argv) == expected
    out, err = capsys.readouterr()
    assert API_KEY not in out + err and APP_KEY not in out + err
    (event,) = dd.events
    assert event["tags"] == ["service:web", "env:prod", "version:1.4.2", f"verdict:{verdict}"]
    assert event["title"].startswith(f"canary web 1.4.2: {verdict.upper()}")
    assert event["text"].startswith("%%% \n### ")  # the Markdown report
    if verdict == "nodata":
        assert dd.series == [] or dd.series[0]["points"][0]["value"] == 0.0
    else:
        assert dd.series[0]["tags"][-1] == f"verdict:{verdict}"


def test_service_env_and_version_come_from_datadogs_unified_tags(
    dd: FakeDatadog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DD_SERVICE", "web-monolith")
    monkeypatch.setenv("DD_ENV", "staging")
    monkeypatch.setenv("DD_VERSION", "abc123")
    main(["judge", WEB, "--data", str(FIXTURES / "healthy-deploy.csv"), "--post-event"])
    assert dd.events[0]["tags"][:3] == ["service:web-monolith", "env:staging", "version:abc123"]
    assert dd.series == []  # no --post-score


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=500, times=None),
        Fault(status=403, errors=[f"key {API_KEY} refused"], times=None),
        Fault(status=400, errors=["Event title is required"], times=None),
        Fault(html=True, status=200, times=None),
    ],
    ids=["down", "refused", "rejected", "not-datadog"],
)
def test_a_failed_post_is_one_warning_and_leaves_the_exit_code_alone(
    dd: FakeDatadog, capsys: pytest.CaptureFixture[str], fault: Fault
) -> None:
    dd.inject(fault)
    incident = str(FIXTURES / "seed-incident.csv")
    argv = ["judge", WEB, "--data", incident, "--post-event", "--post-score", "--deadline", "2"]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert API_KEY not in out + err and APP_KEY not in out + err
    warnings = [line for line in err.splitlines() if "was not posted" in line]
    assert len(warnings) == 1 and "warning: the verdict (fail) was not posted" in warnings[0]
    assert "Traceback" not in err
    assert dd.events == [] and dd.series == []
    assert out.startswith("FAIL")


def test_an_unreachable_datadog_is_one_warning_and_the_verdict_stands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATADOG_HOST", "http://127.0.0.1:9")  # nothing listens on port 9
    argv = [
        "judge",
        WEB,
        "--data",
        str(FIXTURES / "healthy-deploy.csv"),
        "--post-event",
        "--deadline",
        "2",
        "--format",
        "json",
    ]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["verdict"] == "pass"
    assert sum("was not posted" in line for line in err.splitlines()) == 1


def test_post_score_alone_posts_nothing_and_says_so(
    dd: FakeDatadog, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["judge", WEB, "--data", str(FIXTURES / "healthy-deploy.csv"), "--post-score"]
    assert main(argv) == 0
    assert "only with --post-event" in capsys.readouterr().err
    assert dd.events == [] and dd.series == []
