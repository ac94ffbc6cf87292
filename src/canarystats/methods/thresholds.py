"""Absolute thresholds on the canary: which statistic each metric compares, and whether it crossed.

A threshold labels a metric whatever the comparison with the baseline says (Kayenta's metric
"scope" bounds): a canary averaging 3 failed jobs a minute against a limit of 2 is High even
when the baseline fails as often.  Every method applies them the same way, before its own test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from canarystats.config import MetricConfig
from canarystats.stats import Description

__all__ = ["breach", "threshold_statistics"]


def _column(stats: Description, name: str) -> NDArray[np.float64]:
    pct = name in ("p95", "p99")
    value = stats.percentiles[float(name[1:])] if pct else getattr(stats, name)
    return np.asarray(value, dtype=np.float64).reshape(-1)


def threshold_statistics(metrics: Sequence[MetricConfig], stats: Description) -> list[float | None]:
    """The canary statistic each metric's threshold names (row ``i`` is ``metrics[i]``).

    None for a metric without a threshold; each statistic's column is read once.

    Examples
    --------
    >>> from canarystats.config import Threshold
    >>> from canarystats.stats import describe
    >>> d = describe(np.array([[1.0, 3.0], [2.0, 6.0]]))
    >>> ms = [MetricConfig("a", "q", threshold=Threshold("max", max=2.0)), MetricConfig("b", "q")]
    >>> threshold_statistics(ms, d)
    [3.0, None]
    """
    columns: dict[str, list[float]] = {}
    out: list[float | None] = []
    for i, m in enumerate(metrics):
        if m.threshold is None:
            out.append(None)
            continue
        name = m.threshold.statistic
        if name not in columns:
            columns[name] = _column(stats, name).tolist()
        out.append(columns[name][i])
    return out


def breach(metric: MetricConfig, value: float | None) -> str | None:
    """``"max"`` or ``"min"`` when ``value`` crossed that bound of the metric's threshold.

    None without a threshold, without a value, or inside the bounds.

    Examples
    --------
    >>> from canarystats.config import Threshold
    >>> m = MetricConfig("a", "q", threshold=Threshold("mean", max=2.0, min=0.5))
    >>> breach(m, 3.0), breach(m, 0.1), breach(m, 1.0)
    ('max', 'min', None)
    """
    t = metric.threshold
    if t is None or value is None or math.isnan(value):
        return None
    if t.max is not None and value > t.max:
        return "max"
    if t.min is not None and value < t.min:
        return "min"
    return None
