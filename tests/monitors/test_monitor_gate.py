"""The monitor gate on its own: which groups fired during the canary window, on which cohort's
hosts, and what that does to the verdict.

Each case gives the monitor-states table Datadog would report (a group's status now, its last
trigger and resolution) and a judged frame whose hosts say which cohort a host is in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from jsonschema import Draft202012Validator

from canarystats import judge, load_config
from canarystats.config.monitor_settings import MonitorSettings
from canarystats.errors import ConfigError, DataError
from canarystats.labels import Verdict
from canarystats.monitors import monitor_frame, read_monitor_states, write_monitor_states
from canarystats.monitors.gate import check_monitors
from canarystats.report import render

START = pd.Timestamp("2026-03-10T15:05:00Z")
END = pd.Timestamp("2026-03-10T15:15:00Z")
CANARY = ("web-04", "web-12", "web-14", "web-15")
BASELINE = ("web-01", "web-03", "web-09", "web-16")
SCHEMA = json.loads(
    (Path(__file__).parents[2] / "src/canarystats/schemas/judgment.schema.json").read_text()
)


def _frame() -> pd.DataFrame:
    """Ten healthy minutes of one gauge: canary and baseline hosts alike."""
    rows = [
        ("latency", cohort, host, START + pd.Timedelta(minutes=m), 1.0 + 0.01 * ((m * 7 + i) % 5))
        for cohort, hosts in (("canary", CANARY), ("baseline", BASELINE))
        for i, host in enumerate(hosts)
        for m in range(10)
    ]
    return pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])


def _states(*groups: tuple[str, str, str | None, str | None], monitor_id: int = 4711) -> Any:
    return monitor_frame(
        [
            {
                "monitor_id": monitor_id,
                "monitor": "Sidekiq failures",
                "group": group,
                "status": status,
                "triggered": triggered,
                "resolved": resolved,
                "url": f"https://app.datadoghq.com/monitors/{monitor_id}",
            }
            for group, status, triggered, resolved in groups
        ],
        window=(START.to_pydatetime(), END.to_pydatetime()),
    )


def _config(**monitors: Any) -> Any:
    return load_config(
        {
            "name": "web",
            "metrics": [{"name": "latency", "query": "avg:lat{$scope} by {host}"}],
            "monitors": {"ids": [4711], **monitors},
        }
    )


def _gate(states: Any, **settings: Any) -> Any:
    return check_monitors(MonitorSettings(ids=(4711,), **settings), states, _frame())


def test_metrics_alone_pass_this_frame() -> None:
    # The premise of every verdict test below: without monitors, the canary passes.
    cfg = load_config({"name": "web", "metrics": [{"name": "latency", "query": "avg:l{$scope}"}]})
    assert judge(cfg, _frame()).verdict == Verdict.PASS


def test_a_monitor_that_fired_and_resolved_on_a_canary_host_fails_the_canary() -> None:
    states = _states(
        ("host:web-04", "OK", "2026-03-10T15:08:00Z", "2026-03-10T15:21:00Z"),
        ("host:web-01", "OK", None, None),
    )
    judgment = judge(_config(), _frame(), monitors=states)
    assert judgment.verdict == Verdict.FAIL and judgment.score == 0.0
    assert "'Sidekiq failures'" in judgment.reason
    assert "web-04 at 2026-03-10T15:08:00Z" in judgment.reason
    assert "https://app.datadoghq.com/monitors/4711" in judgment.reason
    assert judgment.group_scores["monitors"] == 0.0
    (result,) = judgment.monitors.monitors
    assert (result.state, result.outcome) == ("canary", "fail")
    assert [f.host for f in result.firings] == ["web-04"]


@pytest.mark.parametrize(
    ("triggered", "resolved", "fired"),
    [
        ("2026-03-10T14:00:00Z", "2026-03-10T14:30:00Z", False),  # over before the window
        ("2026-03-10T15:20:00Z", "2026-03-10T15:25:00Z", False),  # began after it
        ("2026-03-10T14:50:00Z", "2026-03-10T15:06:00Z", True),  # still firing at its start
        ("2026-03-10T15:14:00Z", None, True),  # triggered inside, resolution unknown
    ],
)
def test_only_a_trigger_that_overlaps_the_canary_window_counts(
    triggered: str, resolved: str | None, fired: bool
) -> None:
    gate = _gate(_states(("host:web-12", "OK", triggered, resolved)))
    assert gate.monitors[0].state == ("canary" if fired else "quiet")


def test_a_group_in_alert_now_counts_even_without_a_trigger_time() -> None:
    gate = _gate(_states(("host:web-12", "Alert", None, None)))
    assert gate.monitors[0].outcome == "fail"


def test_warn_fails_only_with_level_warn() -> None:
    states = _states(("host:web-04", "Warn", "2026-03-10T15:07:00Z", None))
    assert _gate(states).monitors[0].outcome == "pass"
    assert _gate(states, level="warn").monitors[0].outcome == "fail"


def test_a_monitor_alerting_on_every_host_means_no_verdict_by_default() -> None:
    states = _states(
        *((f"host:{h}", "Alert", "2026-03-10T15:03:00Z", None) for h in CANARY + BASELINE)
    )
    judgment = judge(_config(), _frame(), monitors=states)
    assert judgment.verdict == Verdict.NODATA
    assert "environment is in trouble" in judgment.reason
    assert "baseline hosts" in judgment.reason
    assert judge(_config(environment="fail"), _frame(), monitors=states).verdict == Verdict.FAIL
    assert judge(_config(environment="pass"), _frame(), monitors=states).verdict == Verdict.PASS


def test_a_monitor_firing_only_off_the_canary_is_reported_and_passes() -> None:
    gate = _gate(_states(("host:web-01", "Alert", "2026-03-10T15:06:00Z", None)))
    assert (gate.monitors[0].state, gate.monitors[0].outcome) == ("elsewhere", "pass")
    assert "none of them a canary host" in gate.monitors[0].reason


def test_the_host_tag_can_be_another_key_and_groups_can_carry_several_tags() -> None:
    states = _states(("pod:web-04,env:prod", "Alert", "2026-03-10T15:06:00Z", None))
    assert _gate(states).monitors[0].state == "elsewhere"  # no host: tag: names no host
    assert _gate(states, host_tag="pod").monitors[0].state == "canary"


def test_without_states_the_monitors_are_reported_as_not_checked() -> None:
    judgment = judge(_config(), _frame())
    assert judgment.verdict == Verdict.PASS
    assert not judgment.monitors.checked
    assert "not checked" in render(judgment, "text")


def test_json_with_monitors_is_valid_against_the_schema_and_without_them_has_no_key() -> None:
    states = _states(("host:web-04", "Alert", "2026-03-10T15:08:00Z", None))
    with_gate = judge(_config(), _frame(), monitors=states).to_dict()
    Draft202012Validator(SCHEMA).validate(with_gate)
    assert with_gate["monitors"]["monitors"][0]["firings"][0]["host"] == "web-04"
    cfg = load_config({"name": "web", "metrics": [{"name": "latency", "query": "avg:l{$scope}"}]})
    assert "monitors" not in judge(cfg, _frame()).to_dict()


def test_every_report_format_shows_the_monitors_group() -> None:
    states = _states(("host:web-04", "Alert", "2026-03-10T15:08:00Z", None))
    judgment = judge(_config(), _frame(), monitors=states)
    for fmt in ("text", "markdown", "json", "junit", "html"):
        text = render(judgment, fmt, frame=_frame())
        assert "Sidekiq failures" in text, fmt
    junit = render(judgment, "junit")
    assert 'classname="canarystats.web.monitors"' in junit and "MonitorAlert" in junit
    assert 'failures="1"' in junit


def test_the_states_file_round_trips_with_its_window(tmp_path: Path) -> None:
    states = _states(("host:web-04", "OK", "2026-03-10T15:08:00Z", "2026-03-10T15:21:00Z"))
    path = write_monitor_states(states, tmp_path / "monitors.json")
    again = read_monitor_states(path)
    pd.testing.assert_frame_equal(again, states)
    assert again.attrs["window"] == states.attrs["window"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ('{"groups": 3}', "not a monitor-states file"),
        ('{"groups": [{"monitor_id": "x", "status": "OK"}]}', "monitor_id 'x'"),
        ('{"groups": [{"monitor_id": 1, "status": "Burning"}]}', "status 'Burning'"),
        ('{"groups": [{"monitor_id": 1, "status": "OK", "triggered": "yesterday"}]}', "not a time"),
        # Epoch seconds past what a nanosecond clock holds (found by the fuzz test).
        ('{"groups": [{"monitor_id": 1, "status": "OK", "triggered": 9223372037}]}', "outside"),
        ('{"groups": [{"monitor_id": 1, "status": "OK", "triggered": -5}]}', "1970-2199"),
        ('{"window": {"start": "2026-03-10T15:00:00Z"}, "groups": []}', "'window' needs"),
    ],
)
def test_a_bad_states_file_is_one_line_naming_the_flag(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        read_monitor_states(path)
    assert str(caught.value).startswith(f"--monitor-states {path}")
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("monitors", "message"),
    [
        ({}, "give either ids"),
        ({"ids": [1], "query": "tag:x"}, "give either ids"),
        ({"ids": [0]}, "monitors.ids[0]"),
        ({"ids": [1, 1]}, "lists a monitor twice"),
        ({"ids": list(range(1, 13))}, "at most 10"),
        ({"ids": [1], "level": "page"}, "monitors.level"),
        ({"ids": [1], "environment": "maybe"}, "monitors.environment"),
        ({"ids": [1], "host_tag": "host:x"}, "monitors.host_tag"),
        ({"ids": [1], "colour": "red"}, "colour"),
    ],
)
def test_a_bad_monitors_section_names_the_key(monitors: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="monitors") as caught:
        load_config({"name": "w", "metrics": [{"name": "m", "query": "q"}], "monitors": monitors})
    assert message in str(caught.value)
