"""The JUnit report's times: a zoned timestamp at the window's start, the window's length as the
suite's time, and cases that do not add the window up once per metric."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from canarystats import judge, load_config
from canarystats.cli import main
from canarystats.report import render
from canarystats.sources import read_frame

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "examples" / "web.yaml"
INCIDENT = ROOT / "fixtures" / "seed-incident.csv"
# The seed-incident fixture covers 2026-03-10 15:00 to 15:30 UTC (fixtures/README.md).
WINDOW = (datetime(2026, 3, 10, 15, 0, tzinfo=UTC), datetime(2026, 3, 10, 15, 30, tzinfo=UTC))


@pytest.fixture(scope="module")
def incident():  # type: ignore[no-untyped-def]
    frame = read_frame(INCIDENT)
    return judge(load_config(WEB), frame), frame


def _suite(xml: str) -> tuple[ET.Element, ET.Element]:
    root = ET.fromstring(xml.encode())
    suite = root.find("testsuite")
    assert suite is not None
    return root, suite


def test_the_suite_starts_at_the_window_with_its_zone_and_lasts_the_window(incident) -> None:
    judgment, frame = incident
    root, suite = _suite(render(judgment, "junit", frame=frame, window=WINDOW))
    assert suite.get("timestamp") == "2026-03-10T15:00:00+00:00"
    stamp = datetime.fromisoformat(suite.get("timestamp", ""))
    assert stamp.utcoffset() == timedelta(0)
    assert suite.get("time") == root.get("time") == "1800.000"
    assert stamp + timedelta(seconds=float(suite.get("time", ""))) == WINDOW[1]


def test_a_window_in_another_zone_is_written_in_utc(incident) -> None:
    judgment, frame = incident
    paris = timezone(timedelta(hours=1))
    window = (WINDOW[0].astimezone(paris), WINDOW[1].astimezone(paris))
    _, suite = _suite(render(judgment, "junit", frame=frame, window=window))
    assert suite.get("timestamp") == "2026-03-10T15:00:00+00:00"


def test_every_case_has_time_zero_so_the_cases_do_not_add_up_the_window(incident) -> None:
    judgment, frame = incident
    root, _ = _suite(render(judgment, "junit", frame=frame, window=WINDOW))
    cases = list(root.iter("testcase"))
    assert len(cases) == len(judgment.metrics)
    assert [c.get("time") for c in cases] == ["0"] * len(cases)


def test_without_a_window_no_timestamp_and_time_zero(incident) -> None:
    judgment, _ = incident
    root, suite = _suite(render(judgment, "junit"))
    assert suite.get("timestamp") is None
    assert suite.get("time") == root.get("time") == "0"


def test_the_command_writes_the_data_window_with_its_zone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--quiet", "judge", str(WEB), "--data", str(INCIDENT), "--format", "junit"]) == 1
    _, suite = _suite(capsys.readouterr().out)
    assert suite.get("timestamp") == "2026-03-10T15:00:00+00:00"
    assert suite.get("time") == "1800.000"
