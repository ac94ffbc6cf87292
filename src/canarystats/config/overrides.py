"""Settings moved over a config for one run: a backtest's ``overrides``, a sweep's grid.

Keys are judge settings (``alpha``, ``confidence``, ``method``, ...) or ``"<metric>.<field>"``
with a field of :data:`METRIC_SETTINGS` (``"*.<field>"``: every metric).  Each mistake is one
:class:`~canarystats.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from canarystats.config.judge import JudgeSettings
from canarystats.config.model import CanaryConfig, EffectSize, MetricConfig
from canarystats.errors import ConfigError

__all__ = ["JUDGE_SETTINGS", "METRIC_SETTINGS", "apply_settings"]

#: judge settings a sweep or ``overrides`` may move (``CanaryConfig.with_judge``)
JUDGE_SETTINGS = tuple(f.name for f in fields(JudgeSettings))
#: per-metric settings a sweep may move, as ``"<metric>.<field>"`` (``"*.<field>"``: all)
METRIC_SETTINGS = (
    "allowed_increase",
    "allowed_decrease",
    "critical_increase",
    "critical_decrease",
    "threshold_max",
    "threshold_min",
    "outlier_factor",
    "min_effect_relative",
    "min_effect_absolute",
)


def apply_settings(config: CanaryConfig, settings: Mapping[str, Any]) -> CanaryConfig:
    """Return ``config`` with judge or metric settings replaced.

    Keys are judge settings (``confidence``, ``tolerance``, ``pass_score``,
    ``marginal_score``, ``method``) or ``"<metric>.<field>"`` with a field of
    :data:`METRIC_SETTINGS`; ``"*.<field>"`` sets it on every metric (``threshold_*`` only on
    metrics that have a threshold).

    Raises
    ------
    canarystats.errors.ConfigError
        Naming the unknown key or the invalid value.

    Examples
    --------
    >>> from canarystats import load_config
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "lat", "query": "q"}]})
    >>> new = apply_settings(cfg, {"confidence": 0.9, "lat.allowed_increase": 1.2})
    >>> new.judge.confidence, new.metric("lat").effect_size.allowed_increase
    (0.9, 1.2)
    """
    judge_part = {k: v for k, v in settings.items() if k in JUDGE_SETTINGS}
    if judge_part:
        config = config.with_judge(**judge_part)
    metrics = list(config.metrics)
    for key, value in settings.items():
        if key in JUDGE_SETTINGS:
            continue
        name, dot, field = str(key).rpartition(".")
        if not dot or field not in METRIC_SETTINGS:
            raise ConfigError(
                f"setting {key!r} is unknown; use one of {', '.join(JUDGE_SETTINGS)} or "
                f"'<metric>.<field>' with a field of {', '.join(METRIC_SETTINGS)}"
            )
        if name != "*" and name not in {m.name for m in metrics}:
            raise ConfigError(f"setting {key!r} names no metric of config {config.name!r}")
        number = _setting_number(key, value)
        for i, m in enumerate(metrics):
            if name in ("*", m.name):
                metrics[i] = _with_metric_setting(m, field, number, key, star=name == "*")
    return replace(config, metrics=tuple(metrics))


def _setting_number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"setting {key!r} is {value!r}; give a finite number")
    if value < 0:
        raise ConfigError(f"setting {key!r} is {value!r}; give a number >= 0")
    return float(value)


def _with_metric_setting(
    m: MetricConfig, field: str, value: float, key: str, *, star: bool
) -> MetricConfig:
    if field == "outlier_factor":
        if value <= 0:
            raise ConfigError(f"setting {key!r} is {value!r}; give a number > 0")
        return replace(m, outlier_factor=value)
    if field.startswith("min_effect_"):
        floor = (
            replace(m.min_effect, relative=value)
            if field == "min_effect_relative"
            else replace(m.min_effect, absolute=value)
        )
        return replace(m, min_effect=floor)
    if field.startswith("threshold_"):
        bound = field.removeprefix("threshold_")
        if m.threshold is None:
            if star:
                return m
            raise ConfigError(f"setting {key!r}: metric {m.name!r} has no threshold to move")
        t = replace(m.threshold, max=value) if bound == "max" else replace(m.threshold, min=value)
        if t.max is not None and t.min is not None and t.min > t.max:
            raise ConfigError(f"setting {key!r} puts threshold min above max; keep min <= max")
        return replace(m, threshold=t)
    if m.effect_size.measure == "cles" and value > 1:
        if star:
            return m
        raise ConfigError(f"setting {key!r} is {value!r}; a CLES bound lies in [0, 1]")
    effect: EffectSize = replace(m.effect_size, **{field: value})  # type: ignore[arg-type]
    return replace(m, effect_size=effect)
