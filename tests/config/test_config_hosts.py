"""Config keys of the host-aware method: method, multiplicity, alpha, min_effect,
exposure; their defaults and their one-line errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canarystats.config import load_config
from canarystats.errors import ConfigError


def cfg(judge: dict[str, Any] | None = None, *metrics: dict[str, Any]) -> Any:
    ms = list(metrics) or [{"name": "cpu", "query": "q"}]
    return load_config({"name": "web", "judge": judge or {}, "metrics": ms})


def test_defaults_are_the_hosts_method_with_hommel_at_five_percent_and_an_8_percent_minimum() -> (
    None
):
    c = cfg()
    assert (c.judge.method, c.judge.multiplicity, c.judge.alpha) == ("hosts", "hommel", 0.05)
    m = c.metrics[0]
    assert (m.min_effect.relative, m.min_effect.absolute, m.exposure) == (0.08, 0.0, None)


@pytest.mark.parametrize("method", ["hosts", "kayenta"])
@pytest.mark.parametrize("multiplicity", ["hommel", "holm", "bonferroni", "bh", "none"])
def test_methods_and_adjustments_are_accepted(method: str, multiplicity: str) -> None:
    c = cfg({"method": method, "multiplicity": multiplicity, "alpha": 0.01})
    assert (c.judge.method, c.judge.multiplicity, c.judge.alpha) == (method, multiplicity, 0.01)


@pytest.mark.parametrize(
    ("judge", "needle"),
    [
        (
            {"method": "pooled"},
            "judge.method: a string ('pooled') is not allowed; use one of hosts",
        ),
        ({"multiplicity": "fdr"}, "judge.multiplicity"),
        ({"alpha": 0}, "judge.alpha: 0 is out of range"),
        ({"alpha": 1.5}, "judge.alpha: 1.5 is out of range"),
    ],
)
def test_bad_judge_settings_are_one_line_errors(judge: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        cfg(judge)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_min_effect_and_exposure_are_read_per_metric() -> None:
    c = cfg(
        None,
        {"name": "requests", "query": "q", "kind": "count"},
        {
            "name": "errors",
            "query": "q",
            "kind": "count",
            "exposure": "requests",
            "min_effect": {"relative": 0.5, "absolute": 2},
        },
    )
    errors = c.metric("errors")
    assert errors.exposure == "requests"
    assert (errors.min_effect.relative, errors.min_effect.absolute) == (0.5, 2.0)


@pytest.mark.parametrize(
    ("metric", "needle"),
    [
        (
            {"min_effect": {"relative": -0.1}},
            "metrics[1].min_effect.relative: -0.1 is out of range",
        ),
        ({"min_effect": {"percent": 5}}, "metrics[1].min_effect.percent: unknown key"),
        ({"exposure": "nope"}, "metrics[1].exposure: 'nope' is not the name of a metric"),
        ({"exposure": "errors"}, "metrics[1].exposure: 'errors' must be another count metric"),
        ({"exposure": "cpu"}, "metrics[1].exposure: 'cpu' must be another count metric"),
        ({"kind": "gauge", "exposure": "cpu"}, "only a count metric"),
    ],
)
def test_bad_min_effect_or_exposure_is_a_one_line_error(
    metric: dict[str, Any], needle: str
) -> None:
    errors = {"name": "errors", "query": "q", "kind": "count", **metric}
    with pytest.raises(ConfigError) as err:
        cfg(None, {"name": "cpu", "query": "q"}, errors)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_with_judge_overrides_the_new_settings() -> None:
    c = cfg().with_judge(method="kayenta", multiplicity="bh", alpha=0.1)
    assert (c.judge.method, c.judge.multiplicity, c.judge.alpha) == ("kayenta", "bh", 0.1)
    with pytest.raises(ConfigError, match="alpha"):
        cfg().with_judge(alpha=2.0)


def test_a_kayenta_canary_config_keeps_kayentas_rule() -> None:
    kayenta = {
        "name": "k",
        "metrics": [
            {
                "name": "cpu",
                "query": {"type": "datadog", "metricName": "avg:cpu"},
                "groups": ["g"],
                "analysisConfigurations": {"canary": {}},
                "scopeName": "default",
            }
        ],
        "classifier": {"groupWeights": {"g": 100}},
    }
    c = load_config(json.dumps(kayenta))
    assert c.judge.method == "kayenta"


@given(st.floats(min_value=0.0, max_value=10.0), st.floats(min_value=0.0, max_value=1e6))
def test_any_non_negative_min_effect_round_trips(relative: float, absolute: float) -> None:
    c = cfg(
        None,
        {"name": "cpu", "query": "q", "min_effect": {"relative": relative, "absolute": absolute}},
    )
    assert (c.metrics[0].min_effect.relative, c.metrics[0].min_effect.absolute) == (
        relative,
        absolute,
    )
