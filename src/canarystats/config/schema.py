"""The JSON Schema (draft 2020-12) of a canary config, for editors that validate as you type.

The schema is built from the key tuples and choices the loader itself checks
(:mod:`~canarystats.config.load`, :mod:`~canarystats.config.judge`,
:mod:`~canarystats.config.sequential`, :mod:`~canarystats.config.monitor_settings`), so it cannot
drift from them: a key the loader accepts without a schema for it is an error here.  Every section
the loader closes to unknown keys has ``additionalProperties: false``.

The schema never refuses a config :func:`~canarystats.config.load_config` accepts; it may accept
some the loader refuses, for what a schema cannot say (unique metric names, ``min <= max``, a
group weight without a metric, a formula's syntax).  ``canarystats schema config`` prints it;
point the YAML language server at it with a first line such as
``# yaml-language-server: $schema=./canary-config.schema.json``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from canarystats.config.checks import MAX_DURATION, MAX_STEP
from canarystats.config.formulas import MAX_FORMULA_QUERIES, QUERY_NAME
from canarystats.config.judge import COMPONENTS, JUDGE_KEYS, MULTIPLICITY
from canarystats.config.load import (
    EFFECT_KEYS,
    METRIC_KEYS,
    MIN_EFFECT_KEYS,
    SCOPE_KEYS,
    THRESHOLD_KEYS,
    TOP_KEYS,
)
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
    MAX_MONITORS,
    MONITOR_KEYS,
    MONITOR_LEVELS,
)
from canarystats.config.sequential import METRIC_SEQUENTIAL_KEYS, SEQUENTIAL_KEYS, SPENDINGS
from canarystats.methods.registry import method_names

__all__ = ["DRAFT", "DURATION_PATTERN", "config_schema"]

#: the JSON Schema dialect of :func:`config_schema`
DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: a duration as the loader reads it: ``0``, or ``<number><unit>`` parts (``5m``, ``1h30m``);
#: case and spaces do not matter
DURATION_PATTERN = r"^\s*(?:0|(?:\d[\d ]*[smhdwSMHDW] *)+)\s*$"

_NULL: dict[str, Any] = {"type": "null"}
_TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
_BOOL: dict[str, Any] = {"type": "boolean"}
_DURATION: dict[str, Any] = {
    "description": "a duration such as 5m or 1h30m, or whole seconds",
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": MAX_DURATION},
        {"type": "string", "pattern": DURATION_PATTERN},
    ],
}
_STEP: dict[str, Any] = {
    "description": "bucket length in seconds",
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_STEP,
}


def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a canary config, as a fresh dict.

    ``judge.method`` lists the methods registered when it is called
    (:func:`canarystats.methods.method_names`).

    Returns
    -------
    dict
        The schema; ``json.dumps`` writes it as a file editors read.

    Examples
    --------
    >>> schema = config_schema()
    >>> schema["$schema"], schema["required"]
    ('https://json-schema.org/draft/2020-12/schema', ['name', 'metrics'])
    >>> schema["properties"]["judge"]["properties"]["method"]["enum"][:2]
    ['hosts', 'kayenta']
    """
    top = _closed(
        TOP_KEYS,
        {
            "name": _TEXT,
            "judge": _judge(),
            "groups": {
                "description": "weight of each group in percent; they total at most 100",
                "type": "object",
                "additionalProperties": _number(lo=0.0, hi=100.0),
            },
            "scopes": _closed(SCOPE_KEYS, {"canary": _TEXT, "baseline": _TEXT}),
            "step": _STEP,
            "metrics": {"type": "array", "minItems": 1, "items": _metric()},
            "sequential": _nullable(_sequential()),
            "monitors": _nullable(_monitors()),
        },
        required=("name", "metrics"),
    )
    # deep-copied: the shared pieces (a duration, a name) stay untouched by callers' edits
    return copy.deepcopy(
        {
            "$schema": DRAFT,
            "title": "canarystats canary config",
            "description": "A canary config of canarystats: the metrics to judge and how.",
            **top,
        }
    )


def _closed(
    keys: tuple[str, ...],
    properties: Mapping[str, Any],
    *,
    required: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An object of exactly ``keys`` (the loader's tuple), each with its schema in ``properties``.

    A key of the loader without a schema here, or a schema of a key the loader refuses, raises
    ``ValueError``: the schema cannot drift from the loader.
    """
    if set(properties) != set(keys):
        raise ValueError(f"schema keys {sorted(properties)} differ from the loader's {keys}")
    out: dict[str, Any] = {
        "type": "object",
        "properties": {key: properties[key] for key in keys},
        "additionalProperties": False,
    }
    if required:
        out["required"] = list(required)
    return out


def _number(
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> dict[str, Any]:
    """A number in the bounds of :func:`~canarystats.config.checks.as_number`."""
    out: dict[str, Any] = {"type": "number"}
    if lo is not None:
        out["exclusiveMinimum" if lo_open else "minimum"] = lo
    if hi is not None:
        out["exclusiveMaximum" if hi_open else "maximum"] = hi
    return out


def _nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"anyOf": [dict(schema), _NULL]}


def _choice(choices: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(choices)}


def _present(key: str) -> dict[str, Any]:
    """Holds ``key`` with a value other than null (the loader's ``data.get(key) is not None``)."""
    return {"required": [key], "properties": {key: {"not": _NULL}}}


def _judge() -> dict[str, Any]:
    weights = _closed(COMPONENTS, {key: _number(lo=0.0) for key in COMPONENTS})
    triple = {"type": "array", "minItems": 3, "maxItems": 3, "items": _number(lo=0.0)}
    return _closed(
        JUDGE_KEYS,
        {
            "method": _choice(method_names()),
            "confidence": _number(lo=0.0, hi=1.0, lo_open=True, hi_open=True),
            "tolerance": _number(lo=0.0),
            "pass_score": _number(lo=0.0, hi=100.0),
            "marginal_score": _number(lo=0.0, hi=100.0),
            "multiplicity": _choice(MULTIPLICITY),
            "alpha": _number(lo=0.0, hi=1.0, lo_open=True, hi_open=True),
            "pre_window": _DURATION,
            "warmup": _DURATION,
            "robust": _BOOL,
            "weights": {"anyOf": [weights, triple, _NULL]},
        },
    )


def _metric() -> dict[str, Any]:
    effect = _closed(
        EFFECT_KEYS,
        {"measure": _choice(EFFECT_MEASURES)} | {key: _number(lo=0.0) for key in EFFECT_KEYS[1:]},
    )
    # CLES is a probability: its gates are at most 1.
    effect["if"] = {"required": ["measure"], "properties": {"measure": {"const": "cles"}}}
    effect["then"] = {"properties": {key: {"maximum": 1.0} for key in EFFECT_KEYS[1:]}}
    threshold = _closed(
        THRESHOLD_KEYS,
        {
            "statistic": _choice(THRESHOLD_STATISTICS),
            "max": {"type": ["number", "null"]},
            "min": {"type": ["number", "null"]},
        },
    )
    threshold["anyOf"] = [_present("max"), _present("min")]
    group_list = {"type": "array", "minItems": 1, "uniqueItems": True, "items": _TEXT}
    metric = _closed(
        METRIC_KEYS,
        {
            "name": _TEXT,
            "query": {"type": "string", "minLength": 1},
            "step": _STEP,
            "groups": {"anyOf": [_TEXT, group_list]},
            "direction": _choice(DIRECTIONS),
            "nan_strategy": _choice(NAN_STRATEGIES),
            "outliers": _choice(OUTLIER_STRATEGIES),
            "outlier_factor": _number(lo=0.0, lo_open=True),
            "effect_size": effect,
            "critical": _BOOL,
            "must_have_data": _BOOL,
            "muted": _BOOL,
            "threshold": _nullable(threshold),
            "kind": _choice(METRIC_KINDS),
            "unit": {"type": "string"},
            "min_effect": _closed(MIN_EFFECT_KEYS, {k: _number(lo=0.0) for k in MIN_EFFECT_KEYS}),
            "exposure": {"anyOf": [_TEXT, _NULL]},
            "warmup": _nullable(_DURATION),
            "sequential": _nullable(
                _closed(METRIC_SEQUENTIAL_KEYS, {k: _DURATION for k in METRIC_SEQUENTIAL_KEYS})
            ),
            "queries": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": MAX_FORMULA_QUERIES,
                "propertyNames": {"pattern": QUERY_NAME.pattern},
                "additionalProperties": {"type": "string", "minLength": 1},
            },
            "formula": _TEXT,
        },
        required=("name",),
    )
    # Either one query, or named queries with a formula over them.
    formula = {"anyOf": [{"required": ["queries"]}, {"required": ["formula"]}]}
    metric["oneOf"] = [
        {"required": ["query"], "not": formula},
        {"required": ["queries", "formula"], "not": {"required": ["query"]}},
    ]
    return metric


def _sequential() -> dict[str, Any]:
    return _closed(
        SEQUENTIAL_KEYS,
        {
            "horizon": _DURATION,
            "look_every": _DURATION,
            "min_duration": _DURATION,
            "spending": _choice(SPENDINGS),
            "pass_alpha": _number(lo=0.0, hi=0.5, lo_open=True, hi_open=True),
            "count_tolerance": _number(lo=1.0, hi=100.0, lo_open=True),
        },
    )


def _monitors() -> dict[str, Any]:
    monitor_id = {"type": "integer", "minimum": 1}
    ids = {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_MONITORS,
        "uniqueItems": True,
        "items": monitor_id,
    }
    monitors = _closed(
        MONITOR_KEYS,
        {
            "ids": {"anyOf": [ids, monitor_id, _NULL]},
            "query": {"anyOf": [_TEXT, _NULL]},
            "level": _choice(MONITOR_LEVELS),
            "environment": _choice(ENVIRONMENT_OUTCOMES),
            "host_tag": {"type": "string", "minLength": 1, "pattern": "^[^:, ]+$"},
        },
    )
    # ids or query, not both and not neither
    monitors["oneOf"] = [_present("ids"), _present("query")]
    return monitors
