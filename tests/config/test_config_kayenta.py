"""Import of Kayenta canary configs (tests/data/kayenta_canary_config.json: Kayenta's layout)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from canarystats.config import load_config
from canarystats.config.kayenta import convert_kayenta_config, is_kayenta_config
from canarystats.errors import ConfigError

KAYENTA_CONFIG = Path(__file__).resolve().parents[1] / "data" / "kayenta_canary_config.json"


def kayenta() -> dict[str, Any]:
    return json.loads(KAYENTA_CONFIG.read_text())


def test_detected_by_shape() -> None:
    assert is_kayenta_config(kayenta())
    only_metrics = {"metrics": [{"name": "a", "analysisConfigurations": {"canary": {}}}]}
    assert is_kayenta_config(only_metrics)
    assert not is_kayenta_config({"name": "web", "metrics": [{"name": "a", "query": "q"}]})


def test_real_layout_converts_setting_by_setting() -> None:
    cfg = load_config(KAYENTA_CONFIG)
    assert cfg.name == "web-golden-signals"
    assert dict(cfg.groups) == {"latency": 40.0, "errors": 40.0, "system": 20.0}
    # Kayenta's judge ignores classifier.scoreThresholds; canarystats uses them as its scores.
    assert (cfg.judge.pass_score, cfg.judge.marginal_score) == (90.0, 70.0)
    # NetflixACAJudge's hard-coded 0.98 / 0.25
    assert (cfg.judge.confidence, cfg.judge.tolerance) == (0.98, 0.25)
    latency, errors, responses, cpu = cfg.metrics
    # metricName + "{" + scope + "}" is Kayenta's default Datadog query
    assert latency.query == "avg:trace.http.request.duration.by.service.99p{$scope}"
    assert latency.critical and latency.direction == "increase"
    assert latency.effect_size.allowed_increase == 1.1
    assert latency.effect_size.critical_increase == 2.0
    assert latency.effect_size.allowed_decrease == 1.0
    # a named template is expanded; ${scope} stays for the source to substitute
    assert errors.query == (
        "sum:http.errors{service:web,${scope}}.as_count()"
        "/sum:http.requests{service:web,${scope}}.as_count()"
    )
    assert (errors.nan_strategy, errors.must_have_data) == ("replace", True)
    assert responses.query == "sum:http.responses{status_class:5xx,${scope}}.as_count()"
    assert (responses.outliers, responses.outlier_factor) == ("remove", 4.0)
    assert responses.effect_size.measure == "cles"
    assert responses.effect_size.allowed_increase == 0.8
    assert responses.effect_size.allowed_decrease == 0.5
    # Kayenta reads any unknown direction as "either"
    assert cpu.direction == "either" and cpu.muted
    assert cpu.groups == ("system",)


def test_kayenta_text_is_accepted_too() -> None:
    cfg = load_config(KAYENTA_CONFIG.read_text())
    assert [m.name for m in cfg.metrics] == ["p99 latency", "error rate", "5xx responses", "cpu"]


def _mutated(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(kayenta())
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ["metrics", 0, "query"],
            {"type": "prometheus", "metricName": "x"},
            "metrics[0].query.type: 'prometheus' queries cannot be fetched",
        ),
        (
            ["metrics", 1, "query", "customFilterTemplate"],
            "missing",
            "metrics[1].query.customFilterTemplate: template 'missing' is not in templates",
        ),
        (
            ["metrics", 2, "query", "customInlineTemplate"],
            "sum:x{${location}}",
            "metrics[2].query: template variable ${location} has no canarystats equivalent",
        ),
        (
            ["metrics", 0, "query"],
            {"type": "datadog"},
            "metrics[0].query.metricName: missing",
        ),
        (
            ["metrics", 0, "analysisConfigurations", "canary", "critical"],
            "true",
            "metrics[0].critical: expected true or false",
        ),
        (["classifier", "groupWeights", "latency"], 90, "groups: weights total 150"),
    ],
)
def test_conversion_errors_name_the_key(path: list[Any], value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_mutated(path, value))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_convert_leaves_input_untouched() -> None:
    data = kayenta()
    before = copy.deepcopy(data)
    convert_kayenta_config(data)
    assert data == before


@pytest.mark.parametrize(
    ("extra", "warmup"),
    [
        ({"beginCanaryAnalysisAfterMins": 7}, 420),
        ({"executionRequest": {"beginAfterMins": 3}}, 180),
        ({"beginAfterMins": 0}, 0),
        ({}, 300),
    ],
)
def test_kayentas_warm_up_becomes_the_judges(extra: dict[str, Any], warmup: int) -> None:
    assert load_config({**kayenta(), **extra}).judge.warmup == warmup


def test_a_bad_kayenta_warm_up_names_the_key() -> None:
    with pytest.raises(ConfigError, match="beginAfterMins: expected whole minutes"):
        load_config({**kayenta(), "beginAfterMins": "soon"})
