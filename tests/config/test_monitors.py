"""config_from_monitors: Datadog monitor export (tests/data/monitors_export.json) -> config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canarystats.config import load_config
from canarystats.config.monitors import config_from_monitors

EXPORT = Path(__file__).resolve().parents[1] / "data" / "monitors_export.json"


def export() -> list[dict[str, Any]]:
    return json.loads(EXPORT.read_text())


def test_export_converts_to_a_valid_config() -> None:
    config, skipped = config_from_monitors(export(), name="web")
    cfg = load_config(config)
    assert cfg.name == "web"
    by_name = {m.name: m for m in cfg.metrics}
    assert list(by_name) == [
        "web-5xx-errors-are-high",
        "web-p99-latency",
        "web-throughput-dropped",
        "sidekiq-failures",
        "web-5xx-errors-are-high-2",  # same monitor name: made unique
    ]
    errors = by_name["web-5xx-errors-are-high"]
    # the monitor's filters stay, the canary scope is added
    assert errors.query == "sum:trace.rack.request.errors{service:web,env:prod,$scope}.as_count()"
    assert errors.direction == "increase"
    # sum(last_5m) > 50 is 50 per 300 s, i.e. 10 per 60-second step on average
    assert (errors.threshold.statistic, errors.threshold.max) == ("mean", 10.0)  # type: ignore[union-attr]
    latency = by_name["web-p99-latency"]
    # the grouping "by {host}" is not a tag filter and stays untouched
    assert latency.query == "p99:trace.rack.request{service:web,$scope} by {host}"
    assert (latency.threshold.statistic, latency.threshold.max) == ("p99", 1.5)  # type: ignore[union-attr]
    throughput = by_name["web-throughput-dropped"]
    # "<" alerts on a drop: direction decrease, the critical value is a minimum
    assert throughput.direction == "decrease"
    assert (throughput.threshold.statistic, throughput.threshold.min) == ("mean", 20.0)  # type: ignore[union-attr]
    sidekiq = by_name["sidekiq-failures"]
    # the wildcard scope {*} is replaced by the canary scope
    assert sidekiq.query == "sum:sidekiq.jobs.failed{$scope}.as_count()"
    assert (sidekiq.threshold.statistic, sidekiq.threshold.max) == ("max", 10.0)  # type: ignore[union-attr]
    assert dict(skipped) == {
        "CPU anomaly": "it uses anomalies(), which has no canary equivalent",
        "Web health check": "type 'service check' is not a metric monitor",
        "Web p50 latency": "percentile p50 has no threshold statistic (p95 and p99 do)",
    }


def test_critical_threshold_comes_from_options() -> None:
    monitor = {
        "name": "cpu",
        "type": "metric alert",
        "query": "avg(last_5m):avg:system.cpu.user{service:web} > 90",
        "options": {"thresholds": {"critical": 80, "warning": 70}},
    }
    config, _ = config_from_monitors([monitor])
    assert config["metrics"][0]["threshold"] == {"statistic": "mean", "max": 80.0}
    del monitor["options"]
    config, _ = config_from_monitors([monitor])
    assert config["metrics"][0]["threshold"] == {"statistic": "mean", "max": 90.0}


@pytest.mark.parametrize(
    ("monitor", "reason"),
    [
        (
            {"type": "log alert", "query": 'logs("x").index("*").rollup("count").last("5m") > 1'},
            "type 'log alert'",
        ),
        ({"type": "query alert", "query": ""}, "it has no query"),
        (
            {"type": "query alert", "query": "avg(last_5m):avg:cpu{a:b} == 1"},
            "comparator == has no direction",
        ),
        ({"type": "query alert", "query": "avg(last_5m):avg:cpu > 1"}, "has no {tag filter}"),
        ({"type": "query alert", "query": "avg:cpu{a:b}"}, "is not '<aggregation>(<window>)"),
        (
            {"type": "query alert", "query": "median(last_5m):avg:cpu{a:b} > 1"},
            "time aggregation 'median'",
        ),
        (
            {
                "type": "query alert",
                "query": "avg(last_1h):forecast(avg:cpu{a:b}, 'linear', 1) > 9",
            },
            "forecast()",
        ),
    ],
)
def test_unconvertible_monitors_are_listed_with_the_reason(
    monitor: dict[str, Any], reason: str
) -> None:
    config, skipped = config_from_monitors([{"name": "x", **monitor}])
    assert config["metrics"] == []
    assert skipped[0][0] == "x" and reason in skipped[0][1]


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "name": st.text(max_size=20),
                "type": st.sampled_from(["query alert", "metric alert", "event alert"]),
                "query": st.one_of(
                    st.text(max_size=40),
                    st.builds(
                        lambda agg, cmp, v: f"{agg}(last_5m):avg:m{{a:b}} {cmp} {v}",
                        st.sampled_from(["avg", "max", "min", "sum"]),
                        st.sampled_from([">", "<", ">=", "<="]),
                        st.integers(0, 1000),
                    ),
                ),
            }
        ),
        max_size=6,
    )
)
def test_any_export_gives_a_loadable_config_or_reasons(monitors: list[dict[str, Any]]) -> None:
    config, skipped = config_from_monitors(monitors)
    assert len(config["metrics"]) + len(skipped) == len(monitors)
    if config["metrics"]:
        cfg = load_config(config)
        assert len({m.name for m in cfg.metrics}) == len(cfg.metrics)
