"""Loading a canary config: reading YAML or JSON, and validating every key of it.

A config is YAML or JSON (or a dict), loaded by :func:`load_config` into frozen dataclasses.
Every mistake a user can make is reported as one :class:`~canarystats.errors.ConfigError` line
naming the file, the key path (``metrics[2].effect_size.measure``) and the allowed values.
Unknown keys are errors, because a misspelt key would otherwise silently disable a check.

A Kayenta canary-config JSON is accepted too: it is recognised by its shape and converted by
:mod:`canarystats.config.kayenta` before validation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from canarystats.config.checks import (
    Context,
    as_bool,
    as_choice,
    as_duration,
    as_mapping,
    as_number,
    as_step,
    as_string,
    check_keys,
    describe,
    format_number,
    join_key,
)
from canarystats.config.formulas import divides, expand_formula, validate_formula
from canarystats.config.judge import validate_judge
from canarystats.config.kayenta import convert_kayenta_config, is_kayenta_config
from canarystats.config.model import (
    DEFAULT_GROUP,
    DEFAULT_STEP,
    DIRECTIONS,
    EFFECT_MEASURES,
    METRIC_KINDS,
    NAN_STRATEGIES,
    OUTLIER_STRATEGIES,
    THRESHOLD_STATISTICS,
    CanaryConfig,
    EffectSize,
    MetricConfig,
    MinEffect,
    Scopes,
    Threshold,
)
from canarystats.config.monitor_settings import validate_monitors
from canarystats.config.sequential import metric_min_duration, validate_sequential
from canarystats.errors import ConfigError

#: the keys each part of a config may have (the schema of :mod:`canarystats.config.schema` too)
TOP_KEYS = ("name", "judge", "groups", "scopes", "step", "metrics", "sequential", "monitors")
METRIC_KEYS = (
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
    "warmup",
    "sequential",
    "queries",
    "formula",
)
MIN_EFFECT_KEYS = ("relative", "absolute")
EFFECT_KEYS = (
    "measure",
    "allowed_increase",
    "allowed_decrease",
    "critical_increase",
    "critical_decrease",
)
THRESHOLD_KEYS = ("statistic", "max", "min")
SCOPE_KEYS = ("canary", "baseline")


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
    if isinstance(data, Mapping) and is_kayenta_config(data):
        data = convert_kayenta_config(data, source=label)
        # A Kayenta config was written for Kayenta's rule: keep judging it that way.
        judge = dict(data.get("judge") or {})
        judge.setdefault("method", "kayenta")
        data = {**data, "judge": judge}
    return _config(Context(label), data)


# --------------------------------------------------------------------------- reading


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


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping.

    YAML says keys are unique, but PyYAML keeps the last one: ``must_have_data: true`` followed
    by ``must_have_data: false`` would silently turn a check off.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the validation names it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice; keep one", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} is given twice; keep one")
        out[key] = value
    return out


def _parse(label: str, text: str) -> Any:
    try:
        # JSON is a subset of YAML 1.2, but PyYAML is YAML 1.1: parse JSON with json so
        # Kayenta configs with e.g. 1e-5 literals read as numbers.
        if text.lstrip().startswith("{"):
            return json.loads(text, object_pairs_hook=_unique_pairs)
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
    except RecursionError:
        raise ConfigError(f"{label}: the config is nested too deeply to be a config") from None
    except ValueError as exc:
        if not isinstance(exc, json.JSONDecodeError):
            raise ConfigError(f"{label}: {exc}") from None
        raise ConfigError(
            f"{label}: not valid YAML/JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(f"{label}: not valid YAML/JSON{where}: {problem}") from None


# --------------------------------------------------------------------------- validation


def _config(ctx: Context, data: Any) -> CanaryConfig:
    if data is None:
        raise ctx.error("", "the config is empty; it needs at least name and metrics")
    data = as_mapping(ctx, data, "")
    check_keys(ctx, data, "", TOP_KEYS)
    for required in ("name", "metrics"):
        if required not in data:
            raise ctx.error(required, "missing; every config needs name and metrics")
    name = as_string(ctx, data["name"], "name")
    judge = validate_judge(ctx, data.get("judge", {}), "judge")
    step = as_step(ctx, data["step"], "step") if "step" in data else DEFAULT_STEP
    scopes = _scopes(ctx, data.get("scopes", {}))
    weights = _weights(ctx, data.get("groups", {}))
    raw_metrics = data["metrics"]
    if not isinstance(raw_metrics, list) or not raw_metrics:
        raise ctx.error(
            "metrics", f"expected a non-empty list of metrics, got {describe(raw_metrics)}"
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
    sequential = (
        None
        if data.get("sequential") is None
        else validate_sequential(ctx, data["sequential"], "sequential")
    )
    return CanaryConfig(
        name=name,
        metrics=tuple(metrics),
        judge=judge,
        groups=weights,
        scopes=scopes,
        step=step,
        source=ctx.label,
        sequential=sequential,
        monitors=None
        if data.get("monitors") is None
        else validate_monitors(ctx, data["monitors"], "monitors"),
    )


def _scopes(ctx: Context, raw: Any) -> Scopes:
    data = as_mapping(ctx, raw, "scopes")
    check_keys(ctx, data, "scopes", SCOPE_KEYS)
    d = Scopes()
    return Scopes(
        canary=as_string(ctx, data.get("canary", d.canary), "scopes.canary"),
        baseline=as_string(ctx, data.get("baseline", d.baseline), "scopes.baseline"),
    )


def _weights(ctx: Context, raw: Any) -> dict[str, float]:
    data = as_mapping(ctx, raw, "groups")
    weights = {
        str(k): as_number(ctx, v, join_key("groups", str(k)), lo=0.0, hi=100.0)
        for k, v in data.items()
    }
    total = sum(weights.values())
    # Kayenta's API doc says the weights "must total 100" but never checks; a total above 100
    # would let the score exceed 100, so it is an error here.
    if total > 100.0 + 1e-9:
        raise ctx.error(
            "groups", f"weights total {format_number(total)}; they must total at most 100"
        )
    return weights


def _check_group_weights(
    ctx: Context, weights: Mapping[str, float], metrics: list[MetricConfig]
) -> None:
    used = {g for m in metrics for g in m.groups}
    for group in weights:
        if group not in used:
            raise ctx.error(
                join_key("groups", group),
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


def _metric(ctx: Context, raw: Any, path: str, default_step: int) -> MetricConfig:
    data = as_mapping(ctx, raw, path)
    check_keys(ctx, data, path, METRIC_KEYS)
    queries, formula, query = _query_or_formula(ctx, data, path)
    d = MetricConfig(name="", query="")
    name = as_string(ctx, data["name"], join_key(path, "name"))
    step = as_step(ctx, data["step"], join_key(path, "step")) if "step" in data else default_step
    groups = _groups(ctx, data.get("groups", [DEFAULT_GROUP]), join_key(path, "groups"))
    effect = _effect_size(ctx, data.get("effect_size", {}), join_key(path, "effect_size"))
    threshold = None
    if data.get("threshold") is not None:
        threshold = _threshold(ctx, data["threshold"], join_key(path, "threshold"))
    return MetricConfig(
        name=name,
        query=query,
        step=step,
        groups=groups,
        direction=as_choice(
            ctx, data.get("direction", d.direction), join_key(path, "direction"), DIRECTIONS
        ),
        nan_strategy=as_choice(
            ctx,
            data.get("nan_strategy", d.nan_strategy),
            join_key(path, "nan_strategy"),
            NAN_STRATEGIES,
        ),
        outliers=as_choice(
            ctx, data.get("outliers", d.outliers), join_key(path, "outliers"), OUTLIER_STRATEGIES
        ),
        outlier_factor=as_number(
            ctx,
            data.get("outlier_factor", d.outlier_factor),
            join_key(path, "outlier_factor"),
            lo=0.0,
            lo_open=True,
        ),
        effect_size=effect,
        critical=as_bool(ctx, data.get("critical", d.critical), join_key(path, "critical")),
        must_have_data=as_bool(
            ctx, data.get("must_have_data", d.must_have_data), join_key(path, "must_have_data")
        ),
        muted=as_bool(ctx, data.get("muted", d.muted), join_key(path, "muted")),
        threshold=threshold,
        kind=_kind(ctx, data, path, query, formula),
        unit=as_string(ctx, data.get("unit", d.unit), join_key(path, "unit"), empty=True),
        min_effect=_min_effect(ctx, data.get("min_effect", {}), join_key(path, "min_effect")),
        exposure=None
        if data.get("exposure") is None
        else as_string(ctx, data["exposure"], join_key(path, "exposure")),
        warmup=None
        if data.get("warmup") is None
        else as_duration(ctx, data["warmup"], join_key(path, "warmup")),
        min_duration=metric_min_duration(ctx, data.get("sequential"), join_key(path, "sequential")),
        queries=queries,
        formula=formula,
    )


def _query_or_formula(
    ctx: Context, data: Mapping[str, Any], path: str
) -> tuple[tuple[tuple[str, str], ...], str | None, str]:
    """A metric's ``query``, or its named ``queries`` and ``formula`` (then ``query`` is the
    formula as one Datadog expression)."""
    if "name" not in data:
        raise ctx.error(join_key(path, "name"), "missing; every metric needs name and query")
    if "queries" in data or "formula" in data:
        if "query" in data:
            raise ctx.error(
                join_key(path, "query"),
                "a metric has either query or queries with a formula, not both; remove one",
            )
        queries, formula = validate_formula(ctx, data, path)
        return queries, formula, expand_formula(queries, formula)
    if "query" not in data:
        raise ctx.error(join_key(path, "query"), "missing; every metric needs name and query")
    return (), None, as_string(ctx, data["query"], join_key(path, "query"), multiline=True)


def _kind(ctx: Context, data: Mapping[str, Any], path: str, query: str, formula: str | None) -> str:
    """The declared kind; an undeclared metric with an exposure, or whose query ends in
    ``.as_count()``, is a count (Datadog sums its buckets), else ``auto``.  An undeclared
    formula that divides is a gauge: a ratio of counts is a share, not a count of events."""
    kind = as_choice(ctx, data.get("kind", "auto"), join_key(path, "kind"), METRIC_KINDS)
    if kind == "auto" and formula is not None and divides(formula):
        return "gauge"
    if kind == "auto" and (data.get("exposure") is not None or ".as_count()" in query):
        return "count"
    return kind


def _min_effect(ctx: Context, raw: Any, path: str) -> MinEffect:
    data = as_mapping(ctx, raw, path)
    check_keys(ctx, data, path, MIN_EFFECT_KEYS)
    d = MinEffect()
    return MinEffect(
        relative=as_number(
            ctx, data.get("relative", d.relative), join_key(path, "relative"), lo=0.0
        ),
        absolute=as_number(
            ctx, data.get("absolute", d.absolute), join_key(path, "absolute"), lo=0.0
        ),
    )


def _check_exposures(ctx: Context, metrics: list[MetricConfig]) -> None:
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


def _groups(ctx: Context, raw: Any, path: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise ctx.error(
            path, f"expected a group name or a non-empty list of them, got {describe(raw)}"
        )
    groups = tuple(as_string(ctx, g, f"{path}[{j}]") for j, g in enumerate(raw))
    if len(set(groups)) != len(groups):
        raise ctx.error(path, "lists a group twice; list each group once")
    return groups


def _effect_size(ctx: Context, raw: Any, path: str) -> EffectSize:
    data = as_mapping(ctx, raw, path)
    check_keys(ctx, data, path, EFFECT_KEYS)
    measure = as_choice(
        ctx, data.get("measure", "mean_ratio"), join_key(path, "measure"), EFFECT_MEASURES
    )
    # Kayenta's defaults: 1.0 for a ratio (no change), 0.5 for CLES (no change).
    neutral = 1.0 if measure == "mean_ratio" else 0.5
    hi = None if measure == "mean_ratio" else 1.0
    values = {
        key: as_number(ctx, data.get(key, neutral), join_key(path, key), lo=0.0, hi=hi)
        for key in EFFECT_KEYS[1:]
    }
    return EffectSize(measure=measure, **values)


def _threshold(ctx: Context, raw: Any, path: str) -> Threshold:
    data = as_mapping(ctx, raw, path)
    check_keys(ctx, data, path, THRESHOLD_KEYS)
    statistic = as_choice(
        ctx, data.get("statistic", "mean"), join_key(path, "statistic"), THRESHOLD_STATISTICS
    )
    hi = as_number(ctx, data["max"], join_key(path, "max")) if data.get("max") is not None else None
    lo = as_number(ctx, data["min"], join_key(path, "min")) if data.get("min") is not None else None
    if hi is None and lo is None:
        raise ctx.error(path, "needs max, min or both")
    if hi is not None and lo is not None and lo > hi:
        raise ctx.error(
            join_key(path, "min"),
            f"{format_number(lo)} is above max {format_number(hi)}; min must be <= max",
        )
    return Threshold(statistic=statistic, max=hi, min=lo)
