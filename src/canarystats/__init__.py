"""canarystats: a statistical canary judge.

Compare a canary cohort against a same-size baseline, metric by metric, with batched
Mann-Whitney tests, Hodges-Lehmann shift intervals, effect sizes and thresholds, and turn the
result into a verdict with a plain explanation.
"""

from __future__ import annotations

from canarystats.errors import CanaryStatsError, ConfigError, DataError, SourceError

__version__ = "0.1.0"

__all__ = [
    "CanaryStatsError",
    "ConfigError",
    "DataError",
    "SourceError",
    "__version__",
]
