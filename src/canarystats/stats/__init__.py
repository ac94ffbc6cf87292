"""Batched statistics kernels: numpy/scipy over 2-D arrays, one row per metric.

Nothing here imports pandas or knows about configs; every function takes arrays (1-D for one
metric, 2-D NaN-padded for many) and returns arrays.  Orientation is always canary minus
baseline, as R's ``wilcox.test(x = canary, y = baseline)``.
"""

from __future__ import annotations

from canarystats.stats.effects import Description, cles, describe, mean_ratio, median_ratio
from canarystats.stats.mannwhitney import MannWhitneyResult, mann_whitney

__all__ = [
    "Description",
    "MannWhitneyResult",
    "cles",
    "describe",
    "mann_whitney",
    "mean_ratio",
    "median_ratio",
]
