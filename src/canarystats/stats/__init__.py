"""Batched statistics kernels: numpy/scipy over 2-D arrays, one row per metric.

Nothing here imports pandas or knows about configs; every function takes arrays (1-D for one
metric, 2-D NaN-padded for many) and returns arrays.  Orientation is always canary minus
baseline, as R's ``wilcox.test(x = canary, y = baseline)``.

One module per question: :mod:`~canarystats.stats.mannwhitney` (the rank test and its shift
interval) over :mod:`~canarystats.stats.ranks` (rank sums) and :mod:`~canarystats.stats.pairwise`
(order statistics of pairwise differences); :mod:`~canarystats.stats.hosts` (the host-level
test) over :mod:`~canarystats.stats.host_summaries` and :mod:`~canarystats.stats.unit_tests`;
:mod:`~canarystats.stats.counts` (rates); :mod:`~canarystats.stats.effects`;
:mod:`~canarystats.stats.multiplicity`; :mod:`~canarystats.stats.outliers`;
:mod:`~canarystats.stats.inconclusive` (why a metric is undecided).  :func:`compiled_kernels`
switches the optional numba kernels (:mod:`~canarystats.stats.compiled`); results are identical
either way.
"""

from __future__ import annotations

from canarystats.stats.compiled import compiled_enabled, compiled_kernels
from canarystats.stats.counts import CountTestResult, count_rate_test, fill_quiet_buckets
from canarystats.stats.effects import Description, cles, describe, mean_ratio, median_ratio
from canarystats.stats.host_summaries import summarize_hosts
from canarystats.stats.hosts import HostTestResult, host_test
from canarystats.stats.inconclusive import Inconclusive
from canarystats.stats.mannwhitney import MannWhitneyResult, mann_whitney
from canarystats.stats.multiplicity import adjust_p_values, any_rejected

__all__ = [
    "CountTestResult",
    "Description",
    "HostTestResult",
    "Inconclusive",
    "MannWhitneyResult",
    "adjust_p_values",
    "any_rejected",
    "cles",
    "compiled_enabled",
    "compiled_kernels",
    "count_rate_test",
    "describe",
    "fill_quiet_buckets",
    "host_test",
    "mann_whitney",
    "mean_ratio",
    "median_ratio",
    "summarize_hosts",
]
