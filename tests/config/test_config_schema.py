"""The JSON Schema of a config: built from the loader's own keys, and never stricter than it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canarystats.config import load_config
from canarystats.config.checks import Context, as_duration
from canarystats.config.judge import JUDGE_KEYS, MULTIPLICITY
from canarystats.config.kayenta import is_kayenta_config
from canarystats.config.load import METRIC_KEYS, TOP_KEYS
from canarystats.config.model import (
    DIRECTIONS,
    EFFECT_MEASURES,
    METRIC_KINDS,
    NAN_STRATEGIES,
    OUTLIER_STRATEGIES,
    THRESHOLD_STATISTICS,
)
from canarystats.config.monitor_settings import (
    ENVIRONMENT_OUTCOMES,
    MONITOR_KEYS,
    MONITOR_LEVELS,
)
from canarystats.config.schema import DURATION_PATTERN, config_schema
from canarystats.config.sequential import SEQUENTIAL_KEYS, SPENDINGS
from canarystats.errors import ConfigError
from canarystats.methods.registry import method_names

EXAMPLES = Path(__file__).parents[2] / "examples"
SCHEMA = config_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _canary_configs() -> list[Path]:
    """Every YAML example, and the JSON ones that are canary configs (not Kayenta's, not the
    Datadog monitor exports)."""
    paths = sorted(EXAMPLES.glob("*.yaml")) + sorted(EXAMPLES.glob("*.yml"))
    for path in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and "metrics" in data and not is_kayenta_config(data):
            paths.append(path)
    return paths


def _valid(data: Any) -> bool:
    return VALIDATOR.is_valid(data)


def test_the_schema_is_a_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA


def test_every_call_gives_a_fresh_schema() -> None:
    first = config_schema()
    first["properties"]["name"]["minLength"] = 99
    assert config_schema() == SCHEMA


@pytest.mark.parametrize("path", _canary_configs(), ids=lambda p: p.name)
def test_every_example_config_validates(path: Path) -> None:
    load_config(path)
    data = yaml.safe_load(path.read_text())
    assert _valid(data), [e.message for e in VALIDATOR.iter_errors(data)]


def test_the_examples_hold_configs() -> None:
    assert len(_canary_configs()) >= 2


def test_the_property_names_are_the_loaders_keys() -> None:
    props = SCHEMA["properties"]
    assert tuple(props) == TOP_KEYS
    assert tuple(props["metrics"]["items"]["properties"]) == METRIC_KEYS
    assert tuple(props["judge"]["properties"]) == JUDGE_KEYS
    assert tuple(props["sequential"]["anyOf"][0]["properties"]) == SEQUENTIAL_KEYS
    assert tuple(props["monitors"]["anyOf"][0]["properties"]) == MONITOR_KEYS


def test_every_closed_section_refuses_unknown_keys() -> None:
    def objects(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, list):
            return [o for item in node for o in objects(item)]
        if not isinstance(node, dict):
            return []
        found = [node] if "properties" in node and "type" in node else []
        return found + [o for value in node.values() for o in objects(value)]

    closed = objects(SCHEMA)
    assert len(closed) >= 10
    assert all(o["additionalProperties"] is False for o in closed)


BASE: dict[str, Any] = {"name": "web", "metrics": [{"name": "cpu", "query": "avg:cpu{$scope}"}]}


def _with(**changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(BASE))
    metric = changes.pop("metric", {})
    data["metrics"][0].update(metric)
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "data",
    [
        _with(nmae="typo"),
        _with(metric={"directon": "increase"}),
        _with(metric={"direction": "up"}),
        _with(metric={"kind": "histogram"}),
        _with(metric={"effect_size": {"measure": "median_ratio"}}),
        _with(metric={"effect_size": {"measure": "cles", "allowed_increase": 1.5}}),
        _with(metric={"threshold": {"statistic": "p50", "max": 1}}),
        _with(metric={"threshold": {"statistic": "p95"}}),
        _with(metric={"queries": {"e": "sum:e"}, "formula": "e", "query": "q"}),
        _with(metric={"warmup": "5 minutes"}),
        _with(judge={"method": "bayes"}),
        _with(judge={"alpah": 0.01}),
        _with(judge={"multiplicity": "sidak"}),
        _with(judge={"weights": {"location": 1, "noise": 1}}),
        _with(scopes={"canray": "role:canary"}),
        _with(sequential={"spending": "linear"}),
        _with(sequential={"horizon": "30m", "looks": 6}),
        _with(monitors={"ids": [1], "level": "page"}),
        _with(monitors={"ids": [1], "query": "tag:service:web"}),
        _with(monitors={"ids": [1], "tags": "x"}),
        _with(step=0),
        _with(metrics=[]),
    ],
)
def test_configs_the_loader_refuses_for_a_key_or_a_choice_the_schema_refuses(
    data: dict[str, Any],
) -> None:
    with pytest.raises(ConfigError):
        load_config(data)
    assert not _valid(data)


# --------------------------------------------------------------------------- random configs
# Values are mostly ones the loader takes, so that many random configs load; now and then a
# value is junk, out of range or a key unknown, so that many do not.

_JUNK = st.sampled_from(
    [None, True, 3, -1.5, "", " ", "x", [], {}, ["x"], float("nan"), "a\u202eb", "tab\there"]
)


def _mostly(
    valid: st.SearchStrategy[Any], bad: st.SearchStrategy[Any] = _JUNK
) -> st.SearchStrategy[Any]:
    """``valid`` 58 times in 60, else ``bad`` or junk (the simplest draw is valid)."""
    return st.integers(0, 59).flatmap(lambda i: valid if i < 58 else (bad, _JUNK)[i - 58])


def _num(lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False) -> Any:
    """A number in the bounds mostly (a float or a whole one), now and then just outside."""
    inside = st.floats(lo, hi, exclude_min=lo_open, exclude_max=hi_open)
    whole = [
        k
        for k in range(int(lo), int(hi) + 1)
        if (lo < k or not lo_open) and (k < hi or not hi_open)
    ]
    if whole:
        inside = st.one_of(inside, st.sampled_from(whole))
    return _mostly(inside, st.sampled_from([lo - 1, hi + 1, lo, hi]))


_TEXT = _mostly(st.sampled_from(["web", "role:canary", "web-2"]))
_BOOL = _mostly(st.booleans())
_DURATION = _mostly(
    st.one_of(
        st.sampled_from(["5m", "1h30m", "0", "0s", " 10 m ", "5M", "2h", "1w"]),
        st.integers(0, 4000),
    ),
    st.sampled_from(["0h", "1.5m", "5 minutes", -5, 300.0]),
)


def _choice(*choices: str) -> st.SearchStrategy[Any]:
    return _mostly(st.sampled_from(choices), st.just("nope"))  # a misspelt choice


_ABSENT = object()


def _section(
    optional: dict[str, st.SearchStrategy[Any]],
    required: dict[str, st.SearchStrategy[Any]] | None = None,
) -> st.SearchStrategy[Any]:
    """Any subset of ``optional`` keys, now and then with an unknown key or not a mapping."""
    # each optional key is there about half the time (fixed_dictionaries' optional keys are rare)
    maybe = {key: st.one_of(st.just(_ABSENT), value) for key, value in optional.items()}
    known = st.fixed_dictionaries({**(required or {}), **maybe}).map(
        lambda d: {key: value for key, value in d.items() if value is not _ABSENT}
    )
    unknown = st.builds(lambda d: {**d, "typo": 1}, known)
    return st.integers(0, 79).flatmap(lambda i: known if i < 78 else (unknown, _JUNK)[i - 78])


def _nullable(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, st.none())


_EFFECT = _section(
    {
        "measure": _choice(*EFFECT_MEASURES),
        **{
            key: _num(0.0, 1.2)
            for key in ("allowed_increase", "allowed_decrease", "critical_increase")
        },
        "critical_decrease": _num(0.0, 3.0),
    }
)
_METRIC_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "step": _mostly(st.sampled_from([1, 30, 60.0, 86400]), st.sampled_from([86401, 0, 1.5])),
    "groups": _mostly(
        st.sampled_from(["default", "errors", ["errors", "latency"]]), st.just(["a", "a"])
    ),
    "direction": _choice(*DIRECTIONS),
    "nan_strategy": _choice(*NAN_STRATEGIES),
    "outliers": _choice(*OUTLIER_STRATEGIES),
    "outlier_factor": _num(0.0, 5.0, lo_open=True),
    "effect_size": _EFFECT,
    "critical": _BOOL,
    "must_have_data": _BOOL,
    "muted": _BOOL,
    "threshold": _nullable(
        _section(
            {"statistic": _choice(*THRESHOLD_STATISTICS), "min": _nullable(_num(-10.0, 0.0))},
            {"max": _num(0.0, 10.0)},
        )
    ),
    "kind": _choice(*METRIC_KINDS),
    "unit": _mostly(st.sampled_from(["", "ms", "%"])),
    "min_effect": _section({"relative": _num(0.0, 1.0), "absolute": _num(0.0, 5.0)}),
    "exposure": st.one_of(st.none(), st.none(), st.sampled_from(["requests", "errors", "nope"])),
    "warmup": _nullable(_DURATION),
    "sequential": _nullable(_section({"min_duration": _DURATION})),
}
_NAME = _mostly(st.sampled_from(["cpu", "errors", "requests", "latency"]))
_QUERY = _mostly(st.sampled_from(["avg:cpu{$scope}", "sum:e{$scope}.as_count()", "q\nmore"]))
_FORMULAS = _mostly(
    st.sampled_from([({"e": "sum:e", "h": "sum:h"}, "e / h"), ({"e": "sum:e"}, "abs(e)")]),
    st.sampled_from([({"1x": "q"}, "1x"), ({"e": "q"}, "e +"), ({"e": "q", "h": "q"}, "e")]),
)
_METRIC = st.one_of(
    _section(
        _METRIC_VALUES,
        {"name": _NAME, "query": _QUERY},
    ),
    st.builds(
        lambda metric, pair: (
            {**metric, "queries": pair[0], "formula": pair[1]}
            if isinstance(metric, dict) and isinstance(pair, tuple)
            else metric
        ),
        _section(_METRIC_VALUES, {"name": _NAME}),
        _FORMULAS,
    ),
)
_JUDGE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "method": _choice(*method_names()),
    "confidence": _num(0.0, 1.0, lo_open=True, hi_open=True),
    "tolerance": _num(0.0, 2.0),
    "pass_score": _num(50.0, 100.0),
    "marginal_score": _num(0.0, 60.0),
    "multiplicity": _choice(*MULTIPLICITY),
    "alpha": _num(0.0, 1.0, lo_open=True, hi_open=True),
    "pre_window": _DURATION,
    "warmup": _DURATION,
    "robust": _BOOL,
    "weights": st.one_of(
        st.none(),
        st.lists(_num(0.0, 1.0), min_size=3, max_size=3),
        st.lists(_num(0.0, 1.0), min_size=2, max_size=4),
        _section({"location": _num(0.0, 1.0), "trend": _num(0.0, 1.0)}),
    ),
}
_JUDGE = _section(_JUDGE_VALUES)
_SEQUENTIAL_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "horizon": _mostly(st.sampled_from(["30m", "1h", 1800, "5m"])),
    "look_every": _mostly(st.sampled_from(["5m", 300, "10m", "1m", "40m"])),
    "min_duration": _DURATION,
    "spending": _choice(*SPENDINGS),
    "pass_alpha": _num(0.0, 0.5, lo_open=True, hi_open=True),
    "count_tolerance": _num(1.0, 100.0, lo_open=True),
}
_SEQUENTIAL = _section(_SEQUENTIAL_VALUES)
_MONITOR_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "query": _nullable(_TEXT),
    "level": _choice(*MONITOR_LEVELS),
    "environment": _choice(*ENVIRONMENT_OUTCOMES),
    "host_tag": _mostly(st.sampled_from(["host", "pod"]), st.sampled_from(["host:x", "a b"])),
    "ids": _nullable(
        _mostly(
            st.sampled_from([1001, [1001, 1002]]),
            st.sampled_from([[1, 1], [0], list(range(1, 13))]),
        )
    ),
}
_MONITORS = _section(_MONITOR_VALUES)
_TOP_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "judge": _JUDGE,
    "groups": _mostly(
        st.dictionaries(st.sampled_from(["default", "errors", "latency"]), _num(0.0, 60.0))
    ),
    "scopes": _section({"canary": _TEXT, "baseline": _TEXT}),
    "step": _mostly(st.sampled_from([1, 60]), st.sampled_from([0, 90000])),
    "sequential": _nullable(_SEQUENTIAL),
    "monitors": _nullable(_MONITORS),
}
_CONFIG = _section(
    _TOP_VALUES, {"name": _TEXT, "metrics": _mostly(st.lists(_METRIC, min_size=1, max_size=3))}
)


def test_the_random_configs_draw_every_key_of_the_loader() -> None:
    formula = {"name", "query", "queries", "formula"}
    assert set(_TOP_VALUES) | {"name", "metrics"} == set(TOP_KEYS)
    assert set(_METRIC_VALUES) | formula == set(METRIC_KEYS)
    assert set(_JUDGE_VALUES) == set(JUDGE_KEYS)
    assert set(_SEQUENTIAL_VALUES) == set(SEQUENTIAL_KEYS)
    assert set(_MONITOR_VALUES) == set(MONITOR_KEYS)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_CONFIG)
def test_a_config_the_loader_accepts_the_schema_accepts(data: Any) -> None:
    try:
        load_config(data)
    except ConfigError:
        return
    assert _valid(data), [e.message for e in VALIDATOR.iter_errors(data)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789smhdwSMHDW \t", max_size=12))
def test_a_duration_the_loader_reads_matches_the_pattern(text: str) -> None:
    try:
        as_duration(Context("c"), text, "warmup")
    except ConfigError:
        return
    assert re.search(DURATION_PATTERN, text)
