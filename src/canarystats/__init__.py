"""canarystats: a statistical canary judge.

Compare a canary cohort against a same-size baseline, metric by metric, with batched
Mann-Whitney tests, Hodges-Lehmann shift intervals, effect sizes and thresholds, and turn the
result into a verdict with a plain explanation.
"""

from __future__ import annotations

from canarystats.config import CanaryConfig, load_config
from canarystats.errors import CanaryStatsError, ConfigError, DataError, SourceError
from canarystats.judgment import Judgment, MetricResult, judge

__version__ = "0.1.0"

__all__ = [
    "CanaryConfig",
    "CanaryStatsError",
    "ConfigError",
    "DataError",
    "Judgment",
    "MetricResult",
    "SourceError",
    "__version__",
    "judge",
    "load_config",
]
