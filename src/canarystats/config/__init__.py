"""The canary config: what to fetch, how to judge each metric, and how to score the run.

:func:`load_config` reads YAML, JSON or a mapping (:mod:`~canarystats.config.load`) into the
frozen dataclasses of :mod:`~canarystats.config.model` and
:mod:`~canarystats.config.judge`; :mod:`~canarystats.config.kayenta` converts a Kayenta canary
config and :mod:`~canarystats.config.monitors` starts a config from Datadog monitors.
"""

from __future__ import annotations

from canarystats.config.judge import MULTIPLICITY, JudgeSettings
from canarystats.config.load import load_config
from canarystats.config.model import (
    DEFAULT_GROUP,
    DEFAULT_MIN_RELATIVE_EFFECT,
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

__all__ = [
    "DEFAULT_GROUP",
    "DEFAULT_MIN_RELATIVE_EFFECT",
    "DEFAULT_STEP",
    "DIRECTIONS",
    "EFFECT_MEASURES",
    "METRIC_KINDS",
    "MULTIPLICITY",
    "NAN_STRATEGIES",
    "OUTLIER_STRATEGIES",
    "THRESHOLD_STATISTICS",
    "CanaryConfig",
    "EffectSize",
    "JudgeSettings",
    "MetricConfig",
    "MinEffect",
    "Scopes",
    "Threshold",
    "load_config",
]
