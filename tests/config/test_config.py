"""The canary config: loading from files, text and dicts; every validation error path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from canarystats.config import (
    CanaryConfig,
    EffectSize,
    JudgeSettings,
    MetricConfig,
    Threshold,
    load_config,
)
from canarystats.errors import ConfigError

ISSUE_EXAMPLE = """
name: web
judge: {confidence: 0.98, tolerance: 0.25, pass_score: 95, marginal_score: 75}
groups: {errors: 60, latency: 40}
scopes: {canary: "role:canary", baseline: "role:baseline"}
step: 30
metrics:
  - name: background-jobs-failed
    query: "sum:sidekiq.jobs.failed{service:web,$scope} by {host}.as_count()"
    groups: [errors]
    direction: increase
    nan_strategy: remove
    outliers: keep
    effect_size: {measure: mean_ratio, allowed_increase: 1.0, allowed_decrease: 1.0,
                  critical_increase: 1.0, critical_decrease: 1.0}
    critical: false
    must_have_data: false
    muted: false
    threshold: {statistic: mean, max: 0.05}
  - name: p99-latency
    query: "avg:trace.rack.request.duration.by.service.99p{service:web,${scope}}"
    groups: latency
    step: 120
    effect_size: {measure: cles, allowed_increase: 0.8}
    kind: count
"""


def minimal(**metric: Any) -> dict[str, Any]:
    return {"name": "web", "metrics": [{"name": "cpu", "query": "avg:cpu{$scope}", **metric}]}


def test_issue_example_loads_with_every_key() -> None:
    cfg = load_config(ISSUE_EXAMPLE)
    assert cfg.name == "web"
    # the host-aware method, Holm at alpha 0.05, is the default
    assert cfg.judge == JudgeSettings("hosts", 0.98, 0.25, 95.0, 75.0, "hommel", 0.05)
    # a canary start unlocks each host's 30 minutes before it, and 5 minutes of warm-up
    assert (cfg.judge.pre_window, cfg.judge.warmup, cfg.judge.robust) == (1800, 300, True)
    assert cfg.judge.weights == (0.6, 0.2, 0.2)
    assert dict(cfg.groups) == {"errors": 60.0, "latency": 40.0}
    assert (cfg.scopes.canary, cfg.scopes.baseline) == ("role:canary", "role:baseline")
    assert cfg.step == 30
    jobs, latency = cfg.metrics
    assert jobs.groups == ("errors",)
    assert jobs.direction == "increase"
    assert jobs.step == 30  # inherited from the top-level step
    assert jobs.threshold == Threshold(statistic="mean", max=0.05, min=None)
    assert latency.groups == ("latency",)  # a single string is accepted
    assert latency.step == 120  # per-metric step overrides
    assert latency.kind == "count"
    assert latency.effect_size.measure == "cles"
    assert latency.effect_size.allowed_increase == 0.8
    # CLES' neutral value is 0.5, Kayenta's default for the unset thresholds
    assert latency.effect_size.allowed_decrease == 0.5
    assert latency.query.endswith("${scope}}")


def test_defaults_match_kayenta() -> None:
    cfg = load_config(minimal())
    m = cfg.metrics[0]
    assert cfg.judge.confidence == 0.98 and cfg.judge.tolerance == 0.25
    # the host-aware method is the default; Kayenta's settings stay its defaults
    assert cfg.judge.method == "hosts"
    assert cfg.step == 60 and m.step == 60
    assert m.groups == ("default",)
    assert (m.direction, m.nan_strategy, m.outliers, m.outlier_factor) == (
        "either",
        "remove",
        "keep",
        3.0,
    )
    assert m.effect_size == EffectSize("mean_ratio", 1.0, 1.0, 1.0, 1.0)
    assert (m.critical, m.must_have_data, m.muted, m.threshold, m.kind) == (
        False,
        False,
        False,
        None,
        "auto",
    )


def test_load_from_yaml_and_json_files(tmp_path: Path) -> None:
    y = tmp_path / "canary.yaml"
    y.write_text(ISSUE_EXAMPLE)
    j = tmp_path / "canary.json"
    j.write_text(json.dumps(yaml.safe_load(ISSUE_EXAMPLE)))
    from_yaml, from_json = load_config(y), load_config(str(j))
    assert from_yaml.metrics == from_json.metrics
    assert from_yaml.source == str(y)


def test_frozen() -> None:
    cfg = load_config(minimal())
    with pytest.raises(AttributeError):
        cfg.name = "other"  # type: ignore[misc]


def test_with_judge_overrides_and_validates() -> None:
    cfg = load_config(minimal())
    assert cfg.with_judge(confidence=0.9, pass_score=80).judge.pass_score == 80.0
    assert cfg.with_judge(confidence=None).judge.confidence == 0.98
    with pytest.raises(ConfigError, match=r"judge override.*confidence"):
        cfg.with_judge(confidence=1.5)
    with pytest.raises(ConfigError, match="'speed'"):
        cfg.with_judge(speed=1)
    with pytest.raises(ConfigError, match="marginal_score"):
        cfg.with_judge(marginal_score=99)


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a copy of ``data`` with the dotted ``path`` (``metrics.0.x``) set or removed."""
    out = copy.deepcopy(data)
    keys = path.split(".")
    node: Any = out
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
    last: Any = int(keys[-1]) if isinstance(node, list) else keys[-1]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return out


_DELETE = object()
BASE = {
    "name": "web",
    "groups": {"errors": 60},
    "metrics": [
        {"name": "jobs", "query": "sum:jobs{$scope}", "groups": ["errors"]},
        {"name": "cpu", "query": "avg:cpu{$scope}"},
        {"name": "lat", "query": "avg:lat{$scope}"},
    ],
}

# (mutation path, value, text the one-line message must contain: key path and what is allowed)
ERRORS = [
    ("name", _DELETE, "name: missing"),
    ("metrics", _DELETE, "metrics: missing"),
    ("name", "", "name: must not be empty"),
    ("name", 3, "name: expected a string"),
    ("colour", "red", "colour: unknown key; allowed keys here are name, judge"),
    ("metrics", [], "metrics: expected a non-empty list"),
    ("metrics", {"a": 1}, "metrics: expected a non-empty list"),
    ("step", 0, "step: 0 is out of range"),
    ("step", 1.5, "step: expected a whole number of seconds"),
    ("step", float("inf"), "step: expected a whole number of seconds"),
    (
        "judge.method",
        "bayes",
        "judge.method: a string ('bayes') is not allowed; use one of hosts, kayenta",
    ),
    ("judge.confidence", 1.0, "judge.confidence: 1 is out of range; use a number in (0, 1)"),
    ("judge.confidence", "high", "judge.confidence: expected a finite number"),
    ("judge.tolerance", -0.1, "judge.tolerance: -0.1 is out of range"),
    ("judge.pass_score", 101, "judge.pass_score: 101 is out of range; use a number in [0, 100]"),
    ("judge.marginal_score", 96, "judge.marginal_score: 96 is above pass_score 95"),
    ("judge.treshold", 1, "judge.treshold: unknown key; allowed keys here are method, confidence"),
    ("judge", [1], "judge: expected a mapping of keys"),
    ("scopes.canary", "", "scopes.canary: must not be empty"),
    ("scopes.cannary", "x", "scopes.cannary: unknown key; allowed keys here are canary, baseline"),
    ("groups.errors", 120, "groups.errors: 120 is out of range"),
    ("groups.errors", True, "groups.errors: expected a finite number"),
    ("groups.latency", 60, "groups: weights total 120; they must total at most 100"),
    ("groups.erors", 10, "groups.erors: has a weight but no metric lists this group"),
    ("groups.errors", 100, "metrics[1].groups[0]: group 'default' has no weight"),
    ("metrics.2", "lat", "metrics[2]: expected a mapping of keys"),
    ("metrics.2.name", _DELETE, "metrics[2].name: missing"),
    ("metrics.2.query", _DELETE, "metrics[2].query: missing"),
    ("metrics.2.name", "cpu", "metrics[2].name: 'cpu' is already the name of metrics[1]"),
    (
        "metrics.2.name",
        "p99\nlatency",
        "metrics[2].name: 'p99\\nlatency' has an invisible or control character (U+000A)",
    ),
    ("metrics.2.qurey", "x", "metrics[2].qurey: unknown key; allowed keys here are name, query"),
    ("metrics.2.step", -5, "metrics[2].step: -5 is out of range"),
    ("metrics.2.groups", [], "metrics[2].groups: expected a group name or a non-empty list"),
    ("metrics.2.groups", ["a", "a"], "metrics[2].groups: lists a group twice"),
    ("metrics.2.groups", ["a", 1], "metrics[2].groups[1]: expected a string"),
    (
        "metrics.2.direction",
        "up",
        "metrics[2].direction: a string ('up') is not allowed; "
        "use one of increase, decrease, either",
    ),
    ("metrics.2.nan_strategy", "zero", "metrics[2].nan_strategy: a string ('zero') is not allowed"),
    (
        "metrics.2.outliers",
        True,
        "metrics[2].outliers: a boolean (true) is not allowed; use one of",
    ),
    ("metrics.2.outlier_factor", 0, "metrics[2].outlier_factor: 0 is out of range"),
    ("metrics.2.critical", "yes", "metrics[2].critical: expected true or false"),
    ("metrics.2.must_have_data", 1, "metrics[2].must_have_data: expected true or false"),
    ("metrics.2.muted", None, "metrics[2].muted: expected true or false, got nothing"),
    (
        "metrics.2.kind",
        "rate",
        "metrics[2].kind: a string ('rate') is not allowed; use one of auto, gauge",
    ),
    ("metrics.2.unit", 5, "metrics[2].unit: expected a string"),
    (
        "metrics.2.effect_size.measure",
        "mean",
        "metrics[2].effect_size.measure: a string ('mean') is not allowed; "
        "use one of mean_ratio, cles",
    ),
    ("metrics.2.effect_size.allowed_increase", -1, "metrics[2].effect_size.allowed_increase: -1"),
    ("metrics.2.effect_size.alowed_increase", 1, "metrics[2].effect_size.alowed_increase: unknown"),
    ("metrics.2.effect_size", 1.2, "metrics[2].effect_size: expected a mapping of keys"),
    ("metrics.2.threshold", {"statistic": "p50", "max": 1}, "metrics[2].threshold.statistic"),
    ("metrics.2.threshold", {"statistic": "mean"}, "metrics[2].threshold: needs max, min or both"),
    ("metrics.2.threshold", {"max": 1, "min": 2}, "metrics[2].threshold.min: 2 is above max 1"),
    ("metrics.2.threshold", {"max": "1"}, "metrics[2].threshold.max: expected a finite number"),
    ("metrics.2.threshold", {"max": 1, "avg": 2}, "metrics[2].threshold.avg: unknown key"),
]


@pytest.mark.parametrize(("path", "value", "expected"), ERRORS, ids=[e[0] for e in ERRORS])
def test_each_config_error_is_one_line_naming_the_key(path: str, value: Any, expected: str) -> None:
    data = _set(BASE, path, value)
    with pytest.raises(ConfigError) as info:
        load_config(data)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("<config>: ")
    assert expected in message


def test_cles_thresholds_are_probabilities() -> None:
    with pytest.raises(ConfigError, match=r"allowed_increase: 1.5 is out of range.*\[0, 1\]"):
        load_config(minimal(effect_size={"measure": "cles", "allowed_increase": 1.5}))


def test_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "canary.yaml"
    path.write_text("name: web\nmetrics:\n  - {name: a, query: q, direction: up}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: metrics[0].direction: ")


def test_missing_file_and_bad_syntax(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: web\nmetrics: [\n")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert "not valid YAML/JSON at line" in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="the config is empty"):
        load_config("")
    with pytest.raises(ConfigError, match="must be a path"):
        load_config(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="expected a mapping of keys"):
        load_config("- just\n- a list\n")


def test_error_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError):
        load_config(_set(BASE, "metrics.0.direction", "sideways"))
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


@given(
    st.text(min_size=1, max_size=12).filter(lambda s: s not in MetricConfig.__dataclass_fields__)
)
def test_any_unknown_metric_key_is_rejected(key: str) -> None:
    data = minimal(**{key: 1})
    with pytest.raises(ConfigError) as info:
        load_config(data)
    assert "\n" not in str(info.value)
    assert "unknown key" in str(info.value) or "expected" in str(info.value)


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "direction": st.sampled_from(["increase", "decrease", "either"]),
                "critical": st.booleans(),
                "effect_size": st.fixed_dictionaries(
                    {"allowed_increase": st.floats(1, 3), "allowed_decrease": st.floats(0, 1)}
                ),
            }
        ),
        min_size=1,
        max_size=4,
    )
)
def test_valid_metric_settings_round_trip(settings: list[dict[str, Any]]) -> None:
    data = {
        "name": "x",
        "metrics": [{"name": f"m{i}", "query": "q", **s} for i, s in enumerate(settings)],
    }
    cfg = load_config(data)
    assert isinstance(cfg, CanaryConfig)
    for m, s in zip(cfg.metrics, settings, strict=True):
        assert m.direction == s["direction"] and m.critical == s["critical"]
        assert m.effect_size.allowed_increase == s["effect_size"]["allowed_increase"]


@pytest.mark.parametrize(
    ("metric", "kind"),
    [
        ({}, "auto"),
        ({"query": "sum:errors{$scope} by {host}.as_count()"}, "count"),
        ({"query": "sum:errors{$scope} by {host}.as_count()", "kind": "gauge"}, "gauge"),
        ({"kind": "count"}, "count"),
    ],
)
def test_an_undeclared_as_count_query_is_a_count(metric: dict[str, Any], kind: str) -> None:
    cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "avg:m{$scope}", **metric}]})
    assert cfg.metrics[0].kind == kind


@pytest.mark.parametrize(
    ("judge", "expected"),
    [
        ({"pre_window": "1h", "warmup": "90s"}, (3600, 90)),
        ({"pre_window": 0, "warmup": "0m"}, (0, 0)),
        ({"pre_window": 600, "warmup": 30}, (600, 30)),
    ],
)
def test_durations_of_the_pre_window_and_warm_up(
    judge: dict[str, Any], expected: tuple[int, int]
) -> None:
    cfg = load_config({"name": "w", "judge": judge, "metrics": [{"name": "m", "query": "q"}]})
    assert (cfg.judge.pre_window, cfg.judge.warmup) == expected
    assert cfg.with_judge(alpha=0.01).judge.warmup == expected[1]


@pytest.mark.parametrize(
    ("judge", "words"),
    [
        ({"warmup": "soon"}, "judge.warmup: 'soon' is not a duration"),
        ({"pre_window": True}, "judge.pre_window: expected a duration"),
        ({"pre_window": -5}, "judge.pre_window: -5 seconds is not a duration"),
        ({"weights": {"location": 0, "trend": 0}}, "judge.weights: all weights are 0"),
        ({"weights": {"level": 1}}, "judge.weights"),
    ],
)
def test_bad_durations_and_weights_are_one_line_naming_the_key(
    judge: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"name": "w", "judge": judge, "metrics": [{"name": "m", "query": "q"}]})
    assert words in str(info.value) and "\n" not in str(info.value)


def test_a_metric_sets_its_own_warm_up() -> None:
    cfg = load_config(
        {
            "name": "w",
            "metrics": [
                {"name": "rss", "query": "q", "warmup": "10m"},
                {"name": "cpu", "query": "q"},
            ],
        }
    )
    assert [m.warmup for m in cfg.metrics] == [600, None]
