"""The validated canary config as frozen dataclasses: metrics, their tests, groups and scopes.

Nothing here reads a file; :func:`canarystats.config.load.load_config` builds these from YAML,
JSON or a mapping, and the judge settings live in :mod:`canarystats.config.judge`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from canarystats.config.checks import Context
from canarystats.config.judge import JudgeSettings, validate_judge
from canarystats.config.monitor_settings import MonitorSettings
from canarystats.config.sequential import SequentialPlan
from canarystats.errors import ConfigError

#: values allowed for the enumerated keys, in the order they are listed in messages
DIRECTIONS = ("increase", "decrease", "either")
NAN_STRATEGIES = ("remove", "replace")
OUTLIER_STRATEGIES = ("keep", "remove")
EFFECT_MEASURES = ("mean_ratio", "cles")
THRESHOLD_STATISTICS = ("mean", "median", "p95", "p99", "max", "min", "sum")
METRIC_KINDS = ("auto", "gauge", "count")
#: minimum practical effect of the hosts method, relative to the baseline level: the smallest
#: that kept healthy false failures at or below 5% on the real-fleet evaluation (docs/methods.md)
DEFAULT_MIN_RELATIVE_EFFECT = 0.08

DEFAULT_GROUP = "default"
DEFAULT_STEP = 60


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
    """One metric to fetch and judge; ``step`` is already resolved against the config's.

    ``kind`` is ``count`` (events summed per bucket; a known host's missing bucket is zero
    events), ``gauge`` (a level averaged per bucket), or ``auto`` (undeclared: judged as a count
    where its values look like one, see :mod:`canarystats.kinds`).  ``warmup`` (seconds; None:
    the judge's) is how long after the canary start the metric is left out of the tests;
    a metric computed by a ``formula`` over named ``queries`` has them here, and ``query`` is
    the formula written as one Datadog expression (:mod:`canarystats.config.formulas`);
    ``min_duration`` (seconds; None: the sequential plan's) is the data time before it may pass
    early.
    """

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
    kind: str = "auto"
    unit: str = ""
    min_effect: MinEffect = field(default_factory=MinEffect)
    exposure: str | None = None
    warmup: int | None = None
    min_duration: int | None = None
    queries: tuple[tuple[str, str], ...] = ()
    formula: str | None = None

    @property
    def is_count(self) -> bool:
        """Declared a count (``kind: count``): silence of a known host is zero events."""
        return self.kind == "count"


@dataclass(frozen=True)
class CanaryConfig:
    """A validated canary config.

    ``groups`` maps group names to weights in percent; groups without a weight share what the
    configured weights leave of 100.  ``source`` names where the config came from, for messages.
    ``sequential`` is the plan of looks, or None for a one-shot judgment.  ``monitors`` names
    the Datadog monitors that gate the canary (None: no monitor gate).
    """

    name: str
    metrics: tuple[MetricConfig, ...]
    judge: JudgeSettings = field(default_factory=JudgeSettings)
    groups: Mapping[str, float] = field(default_factory=dict)
    scopes: Scopes = field(default_factory=Scopes)
    step: int = DEFAULT_STEP
    source: str = "<config>"
    sequential: SequentialPlan | None = None
    monitors: MonitorSettings | None = None

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
        >>> from canarystats.config import load_config
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
            "pre_window": self.judge.pre_window,
            "warmup": self.judge.warmup,
            "robust": self.judge.robust,
            "weights": list(self.judge.weights),
        }
        for key, value in overrides.items():
            if key not in merged:
                raise ConfigError(
                    f"judge override {key!r} is unknown; use one of {', '.join(merged)}"
                )
            if value is not None:
                merged[key] = value
        return replace(self, judge=validate_judge(Context("judge override"), merged, ""))
