"""config_from_monitors: Datadog monitor export (tests/data/monitors_export.json) -> config."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from canarystats.config import load_config
from canarystats.config.monitors import config_from_monitors, conversion_yaml, convert_monitors

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
        "web-error-rate-is-high",
        "web-5xx-on-a-host",
    ]
    # Every query is grouped by host, so the default judge has hosts to compare.
    assert all(" by {host}" in m.query for m in cfg.metrics)
    latency = by_name["web-p99-latency"]
    # the grouping "by {host}" is not a tag filter and stays untouched
    assert latency.query == "p99:trace.rack.request{service:web,$scope} by {host}"
    assert (latency.threshold.statistic, latency.threshold.max) == ("p99", 1.5)  # type: ignore[union-attr]
    throughput = by_name["web-throughput-dropped"]
    # "<" alerts on a drop: direction decrease
    assert throughput.direction == "decrease"
    sidekiq = by_name["sidekiq-failures"]
    # the wildcard scope {*} is replaced by the canary scope
    assert sidekiq.query == "sum:sidekiq.jobs.failed{$scope} by {host}.as_count()"
    assert dict(skipped) == {
        "CPU anomaly": "it uses anomalies(), which has no canary equivalent",
        "Web health check": "type 'service check' is not a metric monitor",
        "Web p50 latency": "percentile p50 has no threshold statistic (p95 and p99 do)",
    }


@pytest.mark.parametrize(
    ("monitor", "metric"),
    [
        ("[P1] Web 5xx on {{host.name}}", "web-5xx"),
        ("Latency high for {{service.name}} in {{env.name}}", "latency-high"),
        ("[web][prod] CPU over 90% on host", "cpu-over-90-on-host"),
        ("{{host.name}} is slow", "is-slow"),
        ("{{host.name}}", "metric"),
    ],
)
def test_a_metric_is_named_after_its_monitor_without_templates_or_tags(
    monitor: str, metric: str
) -> None:
    query = "avg(last_5m):avg:trace.errors{service:web} by {host} > 1"
    conversion = convert_monitors([{"name": monitor, "type": "query alert", "query": query}])
    assert [m["name"] for m in conversion.config["metrics"]] == [metric]


def test_a_threshold_on_a_service_wide_sum_is_left_out_and_the_yaml_says_why() -> None:
    conversion = convert_monitors(export(), name="web")
    metrics = {m["name"]: m for m in conversion.config["metrics"]}
    # sum:...{service:web} > 50 is 50 errors over the whole fleet: four canary hosts sum to a
    # fraction of it, so no threshold; the same for a fleet-wide throughput floor.
    for name in ("web-5xx-errors-are-high", "web-throughput-dropped", "sidekiq-failures"):
        assert "threshold" not in metrics[name], name
        assert conversion.notes[name][0].startswith("no threshold: the monitor alerts on the sum")
    errors = metrics["web-5xx-errors-are-high"]
    assert errors["query"] == (
        "sum:trace.rack.request.errors{service:web,env:prod,$scope} by {host}.as_count()"
    )
    text = conversion_yaml(conversion)
    comment = text.index(
        "# no threshold: the monitor alerts on the sum of trace.rack.request.errors"
    )
    assert comment < text.index("- name: web-5xx-errors-are-high\n")
    assert load_config(yaml.safe_load(text)).name == "web"


def test_a_per_host_sum_keeps_its_threshold_per_host_and_per_step() -> None:
    conversion = convert_monitors(export(), name="web")
    metric = next(m for m in conversion.config["metrics"] if m["name"] == "web-5xx-on-a-host")
    # by {host}: 25 errors per host over last_5m is 25 * 60 / 300 = 5 per host and minute.
    assert metric["threshold"] == {"statistic": "mean", "max": 5.0}
    assert metric["query"].endswith("{service:web,env:prod,$scope} by {host}.as_count()")
    notes = conversion.notes["web-5xx-on-a-host"]
    assert any("holds for each canary host" in n for n in notes)
    assert any("threshold 5 per 60-s step" in n for n in notes)


def test_a_ratio_of_two_counts_is_a_share_never_divided_by_the_window() -> None:
    conversion = convert_monitors(export(), name="web")
    metric = next(m for m in conversion.config["metrics"] if m["name"] == "web-error-rate-is-high")
    assert metric["queries"] == {
        "errors": "sum:trace.rack.request.errors{service:web,env:prod,$scope} by {host}.as_count()",
        "hits": "sum:trace.rack.request.hits{service:web,env:prod,$scope} by {host}.as_count()",
    }
    assert metric["formula"] == "errors / hits"
    # sum(last_10m) of a share: 0.05 stays 0.05 (not 0.05 * 60 / 600).
    assert metric["threshold"] == {"statistic": "mean", "max": 0.05}
    loaded = load_config({"name": "w", "metrics": [metric]}).metrics[0]
    assert loaded.kind == "gauge" and loaded.formula == "errors / hits"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("avg(last_5m):avg:cpu{a:b} > 1", "avg:cpu{a:b,$scope} by {host}"),
        ("avg(last_5m):avg:cpu{a:b} by {zone} > 1", "avg:cpu{a:b,$scope} by {zone,host}"),
        ("avg(last_5m):avg:cpu{a:b} by {host,zone} > 1", "avg:cpu{a:b,$scope} by {host,zone}"),
        (
            "avg(last_5m):avg:cpu{a:b}.rollup(avg, 60) > 1",
            "avg:cpu{a:b,$scope} by {host}.rollup(avg, 60)",
        ),
    ],
)
def test_queries_are_grouped_by_host(query: str, expected: str) -> None:
    config, _ = config_from_monitors([{"name": "x", "type": "query alert", "query": query}])
    assert config["metrics"][0]["query"] == expected


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


_FILTERS = st.lists(
    st.sampled_from(["service:web", "env:prod", "*", "team:a-b"]), min_size=1, max_size=3
).map(lambda tags: "{" + ",".join(tags) + "}")
_ONE = st.builds(
    lambda space, metric, filters, by, fn: f"{space}:{metric}{filters}{by}{fn}",
    st.sampled_from(["avg", "sum", "max", "min"]),
    st.sampled_from(["trace.errors", "trace.hits", "system.cpu_user"]),
    _FILTERS,
    st.sampled_from(["", " by {host}", " by {zone}", " by {host,zone}"]),
    st.sampled_from(["", ".as_count()", ".as_rate()", ".rollup(sum, 60)"]),
)
_MONITOR_QUERY = st.builds(
    lambda agg, window, metric, cmp, value: f"{agg}({window}):{metric} {cmp} {value}",
    st.sampled_from(["avg", "sum", "max", "min"]),
    st.sampled_from(["last_1m", "last_5m", "last_1h"]),
    st.one_of(_ONE, st.builds(lambda a, b: f"{a} / {b}", _ONE, _ONE)),
    st.sampled_from([">", "<", ">=", "<="]),
    st.floats(0, 1e6, allow_nan=False).map(lambda v: f"{v:g}"),
)


@given(_MONITOR_QUERY)
def test_any_metric_monitor_query_converts_to_a_scoped_per_host_metric(query: str) -> None:
    conversion = convert_monitors([{"name": "m", "type": "query alert", "query": query}])
    assert conversion.skipped == []
    (metric,) = conversion.config["metrics"]
    texts = list(metric["queries"].values()) if "queries" in metric else [metric["query"]]
    for text in texts:
        assert "$scope" in text and re.search(r" by \{([^}]*,)?host[,}]", text)
    loaded = load_config(yaml.safe_load(conversion_yaml(conversion))).metrics[0]
    if "formula" in metric:
        assert loaded.kind == "gauge"  # a share
        assert metric["threshold"][("max" if ">" in query else "min")] == float(query.split()[-1])
    if "threshold" not in metric:
        assert query.split(":", 2)[1].startswith("sum") and " by {host" not in query
