"""Batched statistics kernels: numpy/scipy over 2-D arrays, one row per metric.

Nothing here imports pandas or knows about configs; every function takes arrays (1-D for one
metric, 2-D NaN-padded for many) and returns arrays.  Orientation is always canary minus
baseline, as R's ``wilcox.test(x = canary, y = baseline)``.
"""

from __future__ import annotations

from canarystats.stats.counts import CountTestResult, count_rate_test, fill_quiet_buckets
from canarystats.stats.effects import Description, cles, describe, mean_ratio, median_ratio
from canarystats.stats.hosts import HostTestResult, host_test, summarize_hosts
from canarystats.stats.mannwhitney import MannWhitneyResult, mann_whitney
from canarystats.stats.multiplicity import adjust_p_values, any_rejected

__all__ = [
    "CountTestResult",
    "Description",
    "HostTestResult",
    "MannWhitneyResult",
    "adjust_p_values",
    "any_rejected",
    "cles",
    "count_rate_test",
    "describe",
    "fill_quiet_buckets",
    "host_test",
    "mann_whitney",
    "mean_ratio",
    "median_ratio",
    "summarize_hosts",
]
