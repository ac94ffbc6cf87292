"""canarystats: a statistical canary judge.

Compare a canary cohort against a same-size baseline, metric by metric, with batched
Mann-Whitney tests, Hodges-Lehmann shift intervals, host-level tests, effect sizes and
thresholds, and turn the result into a verdict with a plain explanation.

The public names are imported on first use, so that ``import canarystats`` (and the command
line's ``--help``) stays fast; the statistics stack (scipy, pandas, numba) loads when a judgment
needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from canarystats.errors import (
    CanaryStatsError,
    ConfigError,
    CredentialsError,
    DataError,
    SetupError,
    SourceError,
)
from canarystats.lazy import lazy_attributes

if TYPE_CHECKING:
    from canarystats.backtesting import backtest, backtest_sweep
    from canarystats.config import CanaryConfig, load_config
    from canarystats.judgment import judge, judge_runs
    from canarystats.results import Judgment, MetricResult

__version__ = "0.1.0"

_LAZY = {
    "backtest": "canarystats.backtesting",
    "backtest_sweep": "canarystats.backtesting",
    "CanaryConfig": "canarystats.config",
    "load_config": "canarystats.config",
    "Judgment": "canarystats.results",
    "MetricResult": "canarystats.results",
    "judge": "canarystats.judgment",
    "judge_runs": "canarystats.judgment",
}

__all__ = [
    "CanaryConfig",
    "CanaryStatsError",
    "ConfigError",
    "CredentialsError",
    "DataError",
    "Judgment",
    "MetricResult",
    "SetupError",
    "SourceError",
    "__version__",
    "backtest",
    "backtest_sweep",
    "judge",
    "judge_runs",
    "load_config",
]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
