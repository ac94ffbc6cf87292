"""The canary config: what to fetch, how to judge each metric, and how to score the run.

A config is YAML or JSON (or a dict), loaded by :func:`load_config` into frozen dataclasses.
Every mistake a user can make is reported as one :class:`~canarystats.errors.ConfigError` line
naming the file, the key path (``metrics[2].effect_size.measure``) and the allowed values.
Unknown keys are errors, because a misspelt key would otherwise silently disable a check.

A Kayenta canary-config JSON is accepted too: it is recognised by its shape and converted by
:mod:`canarystats.kayenta` before validation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from canarystats.errors import ConfigError

#: values allowed for the enumerated keys, in the order they are listed in messages
DIRECTIONS = ("increase", "decrease", "either")
NAN_STRATEGIES = ("remove", "replace")
OUTLIER_STRATEGIES = ("keep", "remove")
EFFECT_MEASURES = ("mean_ratio", "cles")
THRESHOLD_STATISTICS = ("mean", "median", "p95", "p99", "max", "min", "sum")
METRIC_KINDS = ("gauge", "count")
#: judging methods (classify.py holds one function per method); the first is the default
METHODS = ("hosts", "kayenta")
#: multiplicity adjustments across a run's gating metrics (canarystats.stats.multiplicity)
MULTIPLICITY = ("holm", "bonferroni", "bh", "none")
#: minimum practical effect of the hosts method, relative to the baseline level: the smallest
#: that kept healthy false failures at or below 5% on the real-fleet evaluation (docs/methods.md)
DEFAULT_MIN_RELATIVE_EFFECT = 0.08

DEFAULT_GROUP = "default"
DEFAULT_STEP = 60


@dataclass(frozen=True)
class JudgeSettings:
    """How metrics are tested and how the score becomes a verdict.

    ``confidence`` is the two-sided confidence level of the Mann-Whitney shift interval and
    ``tolerance`` the fraction of the shift estimate the interval must clear (Kayenta's
    hard-coded 0.98 and 0.25 are the defaults; they apply to ``method: kayenta``).
    ``pass_score`` and ``marginal_score`` are the score thresholds (percent) of the ``pass`` and
    ``marginal`` verdicts.  ``multiplicity`` and ``alpha`` are how the ``hosts`` method decides:
    a metric fails when its p-value, adjusted over the run's gating metrics, is below ``alpha``.
    """

    method: str = "hosts"
    confidence: float = 0.98
    tolerance: float = 0.25
    pass_score: float = 95.0
    marginal_score: float = 75.0
    multiplicity: str = "holm"
    alpha: float = 0.05


@dataclass(frozen=True)
class Scopes:
    """Datadog tag filters selecting the canary and the baseline hosts."""

    canary: str = "role:canary"
    baseline: str = "role:baseline"


@dataclass(frozen=True)
class EffectSize:
    """Effect-size gates applied after the rank test (Kayenta's ``effectSize``).

    With ``mean_ratio`` a High needs ``mean(canary)/mean(baseline) >= allowed_increase``; with
    ``cles`` (P(canary > baseline)) a High needs ``cles >= allowed_increase``.  Low is the mirror
    image with ``allowed_decrease``.  ``critical_*`` decide when a critical metric's High/Low
    fails the whole canary.
    """

    measure: str = "mean_ratio"
    allowed_increase: float = 1.0
    allowed_decrease: float = 1.0
    critical_increase: float = 1.0
    critical_decrease: float = 1.0


@dataclass(frozen=True)
class MinEffect:
    """Minimum practical effect of the ``hosts`` method: a smaller change never fails a metric.

    A change must be at least ``relative`` times the baseline level and at least ``absolute``
    (in the metric's unit) to count, whatever its p-value.
    """

    relative: float = DEFAULT_MIN_RELATIVE_EFFECT
    absolute: float = 0.0


@dataclass(frozen=True)
class Threshold:
    """Absolute bounds on a statistic of the canary; a breach is High (above) or Low (below)."""

    statistic: str = "mean"
    max: float | None = None
    min: float | None = None


@dataclass(frozen=True)
class MetricConfig:
    """One metric to fetch and judge; ``step`` is already resolved against the config's."""

    name: str
    query: str
    step: int = DEFAULT_STEP
    groups: tuple[str, ...] = (DEFAULT_GROUP,)
    direction: str = "either"
    nan_strategy: str = "remove"
    outliers: str = "keep"
    outlier_factor: float = 3.0
    effect_size: EffectSize = field(default_factory=EffectSize)
    critical: bool = False
    must_have_data: bool = False
    muted: bool = False
    threshold: Threshold | None = None
    kind: str = "gauge"
    unit: str = ""
    min_effect: MinEffect = field(default_factory=MinEffect)
    exposure: str | None = None


@dataclass(frozen=True)
class CanaryConfig:
    """A validated canary config.

    ``groups`` maps group names to weights in percent; groups without a weight share what the
    configured weights leave of 100.  ``source`` names where the config came from, for messages.
    """

    name: str
    metrics: tuple[MetricConfig, ...]
    judge: JudgeSettings = field(default_factory=JudgeSettings)
    groups: Mapping[str, float] = field(default_factory=dict)
    scopes: Scopes = field(default_factory=Scopes)
    step: int = DEFAULT_STEP
    source: str = "<config>"

    def metric(self, name: str) -> MetricConfig:
        """Return the metric called ``name`` (``KeyError`` if there is none)."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(name)

    def with_judge(self, **overrides: Any) -> CanaryConfig:
        """Return a copy with judge settings replaced, validated like the file's keys.

        Examples
        --------
        >>> cfg = load_config({"name": "web", "metrics": [{"name": "cpu", "query": "avg:cpu"}]})
        >>> cfg.with_judge(confidence=0.95).judge.confidence
        0.95
        """
        merged = {
            "method": self.judge.method,
            "confidence": self.judge.confidence,
            "tolerance": self.judge.tolerance,
            "pass_score": self.judge.pass_score,
            "marginal_score": self.judge.marginal_score,
            "multiplicity": self.judge.multiplicity,
            "alpha": self.judge.alpha,
        }
        for key, value in overrides.items():
            if key not in merged:
                raise ConfigError(
                    f"judge override {key!r} is unknown; use one of {', '.join(merged)}"
                )
            if value is not None:
                merged[key] = value
        ctx = _Ctx("judge override")
        return replace(self, judge=_judge_settings(ctx, merged, ""))


# --------------------------------------------------------------------------- loading


def load_config(source: str | Path | Mapping[str, Any]) -> CanaryConfig:
    """Load and validate a canary config from a file path, YAML/JSON text, or a dict.

    Parameters
    ----------
    source : str, pathlib.Path or mapping
        A path to a ``.yaml``/``.yml``/``.json`` file, the text of a config, or the already
        parsed mapping.  A Kayenta canary config (JSON with ``classifier.groupWeights`` or
        ``metrics[*].analysisConfigurations``) is converted first.

    Returns
    -------
    CanaryConfig

    Raises
    ------
    canarystats.errors.ConfigError
        One line naming the file, the key path and what is allowed.

    Examples
    --------
    >>> cfg = load_config('''
    ... name: web
    ... metrics:
    ...   - {name: errors, query: "sum:errors{$scope}.as_count()", direction: increase}
    ... ''')
    >>> cfg.metrics[0].direction, cfg.metrics[0].groups, cfg.judge.confidence
    ('increase', ('default',), 0.98)
    """
    label, data = _read(source)
    from canarystats.kayenta import convert_kayenta_config, is_kayenta_config

    if isinstance(data, Mapping) and is_kayenta_config(data):
        data = convert_kayenta_config(data, source=label)
        # A Kayenta config was written for Kayenta's rule: keep judging it that way.
        judge = dict(data.get("judge") or {})
        judge.setdefault("method", "kayenta")
        data = {**data, "judge": judge}
    return _config(_Ctx(label), data)


def _read(source: str | Path | Mapping[str, Any]) -> tuple[str, Any]:
    if isinstance(source, Mapping):
        return "<config>", dict(source)
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and _looks_like_path(source)
    ):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found; check the path") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the config file ({exc})") from None
        return str(path), _parse(str(path), text)
    if isinstance(source, str):
        return "<config>", _parse("<config>", source)
    raise ConfigError(
        f"config must be a path, YAML/JSON text or a mapping, not {type(source).__name__}"
    )


def _looks_like_path(text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped[0] in "{[" or ": " in stripped:
        return False
    return Path(stripped).suffix.lower() in (".yaml", ".yml", ".json") or Path(stripped).exists()


def _parse(label: str, text: str) -> Any:
    try:
        # JSON is a subset of YAML 1.2, but PyYAML is YAML 1.1: parse JSON with json so
        # Kayenta configs with e.g. 1e-5 literals read as numbers.
        if text.lstrip().startswith("{"):
            return json.loads(text)
        return yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        elif isinstance(exc, json.JSONDecodeError):
            where = f" at line {exc.lineno}, column {exc.colno}"
        problem = getattr(exc, "problem", None) or getattr(exc, "msg", None) or "syntax error"
        raise ConfigError(f"{label}: not valid YAML/JSON{where}: {problem}") from None


# --------------------------------------------------------------------------- validation


class _Ctx:
    """The file label used in every message of one validation run."""

    def __init__(self, label: str) -> None:
        self.label = label

    def error(self, path: str, problem: str) -> ConfigError:
        where = f"{self.label}: {path}" if path else self.label
        return ConfigError(f"{where}: {problem}")


def _join(path: str, key: str) -> str:
    # A key with spaces at its ends or unprintable characters is quoted so the message stays
    # one readable line.
    if not key or not key.isprintable() or key.strip() != key:
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def _mapping(ctx: _Ctx, value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ctx.error(path, f"expected a mapping of keys, got {_kind(value)}")
    for key in value:
        if not isinstance(key, str):
            raise ctx.error(path, f"key {key!r} must be a string")
    return value


def _check_keys(ctx: _Ctx, data: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            raise ctx.error(
                _join(path, key), f"unknown key; allowed keys here are {', '.join(allowed)}"
            )


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def _string(ctx: _Ctx, value: Any, path: str, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ctx.error(path, f"expected a string, got {_kind(value)}")
    if not empty and not value.strip():
        raise ctx.error(path, "must not be empty")
    return value


def _choice(ctx: _Ctx, value: Any, path: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ctx.error(path, f"{_kind(value)} is not allowed; use one of {', '.join(allowed)}")
    return value


def _bool(ctx: _Ctx, value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ctx.error(path, f"expected true or false, got {_kind(value)}")
    return value


def _number(
    ctx: _Ctx,
    value: Any,
    path: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ctx.error(path, f"expected a finite number, got {_kind(value)}")
    x = float(value)
    bad_lo = lo is not None and (x <= lo if lo_open else x < lo)
    bad_hi = hi is not None and (x >= hi if hi_open else x > hi)
    if bad_lo or bad_hi:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        low = "-inf" if lo is None else _fmt(lo)
        high = "inf" if hi is None else _fmt(hi)
        span = f"{left}{low}, {high}{right}"
        raise ctx.error(path, f"{_fmt(x)} is out of range; use a number in {span}")
    return x


def _fmt(x: float) -> str:
    return f"{x:g}"


def _step(ctx: _Ctx, value: Any, path: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise ctx.error(path, f"expected a whole number of seconds, got {_kind(value)}")
    if value < 1:
        raise ctx.error(path, f"{value} is out of range; use at least 1 second")
    return int(value)


_TOP_KEYS = ("name", "judge", "groups", "scopes", "step", "metrics")
_JUDGE_KEYS = (
    "method",
    "confidence",
    "tolerance",
    "pass_score",
    "marginal_score",
    "multiplicity",
    "alpha",
)
_METRIC_KEYS = (
    "name",
    "query",
    "step",
    "groups",
    "direction",
    "nan_strategy",
    "outliers",
    "outlier_factor",
    "effect_size",
    "critical",
    "must_have_data",
    "muted",
    "threshold",
    "kind",
    "unit",
    "min_effect",
    "exposure",
)
_MIN_EFFECT_KEYS = ("relative", "absolute")
_EFFECT_KEYS = (
    "measure",
    "allowed_increase",
    "allowed_decrease",
    "critical_increase",
    "critical_decrease",
)
_THRESHOLD_KEYS = ("statistic", "max", "min")


def _config(ctx: _Ctx, data: Any) -> CanaryConfig:
    if data is None:
        raise ctx.error("", "the config is empty; it needs at least name and metrics")
    data = _mapping(ctx, data, "")
    _check_keys(ctx, data, "", _TOP_KEYS)
    for required in ("name", "metrics"):
        if required not in data:
            raise ctx.error(required, "missing; every config needs name and metrics")
    name = _string(ctx, data["name"], "name")
    judge = _judge_settings(ctx, data.get("judge", {}), "judge")
    step = _step(ctx, data["step"], "step") if "step" in data else DEFAULT_STEP
    scopes = _scopes(ctx, data.get("scopes", {}))
    weights = _weights(ctx, data.get("groups", {}))
    raw_metrics = data["metrics"]
    if not isinstance(raw_metrics, list) or not raw_metrics:
        raise ctx.error(
            "metrics", f"expected a non-empty list of metrics, got {_kind(raw_metrics)}"
        )
    metrics: list[MetricConfig] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_metrics):
        metric = _metric(ctx, raw, f"metrics[{i}]", step)
        if metric.name in seen:
            raise ctx.error(
                f"metrics[{i}].name",
                f"{metric.name!r} is already the name of metrics[{seen[metric.name]}]; "
                "metric names must be unique",
            )
        seen[metric.name] = i
        metrics.append(metric)
    _check_group_weights(ctx, weights, metrics)
    _check_exposures(ctx, metrics)
    return CanaryConfig(
        name=name,
        metrics=tuple(metrics),
        judge=judge,
        groups=weights,
        scopes=scopes,
        step=step,
        source=ctx.label,
    )


def _judge_settings(ctx: _Ctx, raw: Any, path: str) -> JudgeSettings:
    data = _mapping(ctx, raw, path) if path else raw
    _check_keys(ctx, data, path, _JUDGE_KEYS)
    d = JudgeSettings()
    method = _choice(ctx, data.get("method", d.method), _join(path, "method"), METHODS)
    confidence = _number(
        ctx,
        data.get("confidence", d.confidence),
        _join(path, "confidence"),
        lo=0.0,
        hi=1.0,
        lo_open=True,
        hi_open=True,
    )
    tolerance = _number(ctx, data.get("tolerance", d.tolerance), _join(path, "tolerance"), lo=0.0)
    pass_score = _number(
        ctx, data.get("pass_score", d.pass_score), _join(path, "pass_score"), lo=0.0, hi=100.0
    )
    marginal_score = _number(
        ctx,
        data.get("marginal_score", d.marginal_score),
        _join(path, "marginal_score"),
        lo=0.0,
        hi=100.0,
    )
    if marginal_score > pass_score:
        raise ctx.error(
            _join(path, "marginal_score"),
            f"{_fmt(marginal_score)} is above pass_score {_fmt(pass_score)}; "
            "marginal_score must be <= pass_score",
        )
    multiplicity = _choice(
        ctx,
        data.get("multiplicity", d.multiplicity),
        _join(path, "multiplicity"),
        MULTIPLICITY,
    )
    alpha = _number(
        ctx,
        data.get("alpha", d.alpha),
        _join(path, "alpha"),
        lo=0.0,
        hi=1.0,
        lo_open=True,
        hi_open=True,
    )
    return JudgeSettings(
        method, confidence, tolerance, pass_score, marginal_score, multiplicity, alpha
    )


def _scopes(ctx: _Ctx, raw: Any) -> Scopes:
    data = _mapping(ctx, raw, "scopes")
    _check_keys(ctx, data, "scopes", ("canary", "baseline"))
    d = Scopes()
    return Scopes(
        canary=_string(ctx, data.get("canary", d.canary), "scopes.canary"),
        baseline=_string(ctx, data.get("baseline", d.baseline), "scopes.baseline"),
    )


def _weights(ctx: _Ctx, raw: Any) -> dict[str, float]:
    data = _mapping(ctx, raw, "groups")
    weights = {
        str(k): _number(ctx, v, _join("groups", str(k)), lo=0.0, hi=100.0) for k, v in data.items()
    }
    total = sum(weights.values())
    # Kayenta's API doc says the weights "must total 100" but never checks; a total above 100
    # would let the score exceed 100, so it is an error here.
    if total > 100.0 + 1e-9:
        raise ctx.error("groups", f"weights total {_fmt(total)}; they must total at most 100")
    return weights


def _check_group_weights(
    ctx: _Ctx, weights: Mapping[str, float], metrics: list[MetricConfig]
) -> None:
    used = {g for m in metrics for g in m.groups}
    for group in weights:
        if group not in used:
            raise ctx.error(
                _join("groups", group),
                "has a weight but no metric lists this group; fix the name or remove it",
            )
    total = sum(weights.values())
    if total >= 100.0 - 1e-9:
        for i, m in enumerate(metrics):
            for j, group in enumerate(m.groups):
                if group not in weights:
                    raise ctx.error(
                        f"metrics[{i}].groups[{j}]",
                        f"group {group!r} has no weight and the weights in groups already "
                        "total 100, so it would count for nothing; weight it or fix the name",
                    )


def _metric(ctx: _Ctx, raw: Any, path: str, default_step: int) -> MetricConfig:
    data = _mapping(ctx, raw, path)
    _check_keys(ctx, data, path, _METRIC_KEYS)
    for required in ("name", "query"):
        if required not in data:
            raise ctx.error(_join(path, required), "missing; every metric needs name and query")
    d = MetricConfig(name="", query="")
    name = _string(ctx, data["name"], _join(path, "name"))
    if not name.isprintable():
        # A name is printed in one-line reasons, reports and JUnit test names.
        raise ctx.error(
            _join(path, "name"),
            f"{name!r} has a character that does not print (a newline, a tab); use plain text",
        )
    query = _string(ctx, data["query"], _join(path, "query"))
    step = _step(ctx, data["step"], _join(path, "step")) if "step" in data else default_step
    groups = _groups(ctx, data.get("groups", [DEFAULT_GROUP]), _join(path, "groups"))
    effect = _effect_size(ctx, data.get("effect_size", {}), _join(path, "effect_size"))
    threshold = None
    if data.get("threshold") is not None:
        threshold = _threshold(ctx, data["threshold"], _join(path, "threshold"))
    return MetricConfig(
        name=name,
        query=query,
        step=step,
        groups=groups,
        direction=_choice(
            ctx, data.get("direction", d.direction), _join(path, "direction"), DIRECTIONS
        ),
        nan_strategy=_choice(
            ctx,
            data.get("nan_strategy", d.nan_strategy),
            _join(path, "nan_strategy"),
            NAN_STRATEGIES,
        ),
        outliers=_choice(
            ctx, data.get("outliers", d.outliers), _join(path, "outliers"), OUTLIER_STRATEGIES
        ),
        outlier_factor=_number(
            ctx,
            data.get("outlier_factor", d.outlier_factor),
            _join(path, "outlier_factor"),
            lo=0.0,
            lo_open=True,
        ),
        effect_size=effect,
        critical=_bool(ctx, data.get("critical", d.critical), _join(path, "critical")),
        must_have_data=_bool(
            ctx, data.get("must_have_data", d.must_have_data), _join(path, "must_have_data")
        ),
        muted=_bool(ctx, data.get("muted", d.muted), _join(path, "muted")),
        threshold=threshold,
        kind=_choice(ctx, data.get("kind", d.kind), _join(path, "kind"), METRIC_KINDS),
        unit=_string(ctx, data.get("unit", d.unit), _join(path, "unit"), empty=True),
        min_effect=_min_effect(ctx, data.get("min_effect", {}), _join(path, "min_effect")),
        exposure=None
        if data.get("exposure") is None
        else _string(ctx, data["exposure"], _join(path, "exposure")),
    )


def _min_effect(ctx: _Ctx, raw: Any, path: str) -> MinEffect:
    data = _mapping(ctx, raw, path)
    _check_keys(ctx, data, path, _MIN_EFFECT_KEYS)
    d = MinEffect()
    return MinEffect(
        relative=_number(ctx, data.get("relative", d.relative), _join(path, "relative"), lo=0.0),
        absolute=_number(ctx, data.get("absolute", d.absolute), _join(path, "absolute"), lo=0.0),
    )


def _check_exposures(ctx: _Ctx, metrics: list[MetricConfig]) -> None:
    index = {m.name: i for i, m in enumerate(metrics)}
    for i, m in enumerate(metrics):
        if m.exposure is None:
            continue
        path = f"metrics[{i}].exposure"
        if m.kind != "count":
            raise ctx.error(path, "only a count metric (kind: count) has an exposure; remove it")
        j = index.get(m.exposure)
        if j is None:
            raise ctx.error(
                path, f"{m.exposure!r} is not the name of a metric of this config; name one"
            )
        if j == i or metrics[j].kind != "count":
            raise ctx.error(
                path,
                f"{m.exposure!r} must be another count metric (the requests it served)",
            )


def _groups(ctx: _Ctx, raw: Any, path: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise ctx.error(
            path, f"expected a group name or a non-empty list of them, got {_kind(raw)}"
        )
    groups = tuple(_string(ctx, g, f"{path}[{j}]") for j, g in enumerate(raw))
    if len(set(groups)) != len(groups):
        raise ctx.error(path, "lists a group twice; list each group once")
    return groups


def _effect_size(ctx: _Ctx, raw: Any, path: str) -> EffectSize:
    data = _mapping(ctx, raw, path)
    _check_keys(ctx, data, path, _EFFECT_KEYS)
    measure = _choice(
        ctx, data.get("measure", "mean_ratio"), _join(path, "measure"), EFFECT_MEASURES
    )
    # Kayenta's defaults: 1.0 for a ratio (no change), 0.5 for CLES (no change).
    neutral = 1.0 if measure == "mean_ratio" else 0.5
    hi = None if measure == "mean_ratio" else 1.0
    values = {
        key: _number(ctx, data.get(key, neutral), _join(path, key), lo=0.0, hi=hi)
        for key in _EFFECT_KEYS[1:]
    }
    return EffectSize(measure=measure, **values)


def _threshold(ctx: _Ctx, raw: Any, path: str) -> Threshold:
    data = _mapping(ctx, raw, path)
    _check_keys(ctx, data, path, _THRESHOLD_KEYS)
    statistic = _choice(
        ctx, data.get("statistic", "mean"), _join(path, "statistic"), THRESHOLD_STATISTICS
    )
    hi = _number(ctx, data["max"], _join(path, "max")) if data.get("max") is not None else None
    lo = _number(ctx, data["min"], _join(path, "min")) if data.get("min") is not None else None
    if hi is None and lo is None:
        raise ctx.error(path, "needs max, min or both")
    if hi is not None and lo is not None and lo > hi:
        raise ctx.error(
            _join(path, "min"), f"{_fmt(lo)} is above max {_fmt(hi)}; min must be <= max"
        )
    return Threshold(statistic=statistic, max=hi, min=lo)
