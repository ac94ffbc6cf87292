"""Multiplicity control across a config's gating metrics: Holm, Bonferroni, Benjamini-Hochberg.

A config with ten gating metrics gives a healthy canary ten chances to fail.  These adjustments
turn the per-metric p-values of one run into adjusted p-values, so that "any adjusted p below
alpha" keeps the chance of failing a healthy run near alpha (Holm, Bonferroni: family-wise error
rate) or keeps the expected share of false failures among failures near alpha (Benjamini-Hochberg:
false discovery rate).

Input is 1-D (the metrics of one run) or 2-D (runs x metrics, one call for many runs).  NaN marks a
metric that is not gating in that run (muted, no data, ...): it is left out of the family, so it
neither counts towards ``m`` nor gets an adjusted value (its output stays NaN).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarystats.stats.rows import as_rows

AdjustMethod = Literal["holm", "bonferroni", "bh", "none"]

#: the names :func:`adjust_p_values` accepts, for config validation by the caller
ADJUST_METHODS: tuple[str, ...] = ("holm", "bonferroni", "bh", "none")


def adjust_p_values(p_values: ArrayLike, method: AdjustMethod = "holm") -> NDArray[np.float64]:
    """Adjust each run's p-values for the number of gating metrics in that run.

    Parameters
    ----------
    p_values : array_like
        1-D (metrics of one run) or 2-D (runs x metrics) p-values in [0, 1].  NaN means the metric
        does not gate in that run and is excluded from its family.
    method : {"holm", "bonferroni", "bh", "none"}
        ``"holm"`` (default): Holm's step-down method, which controls the family-wise error rate
        like Bonferroni and is never less powerful.  ``"bonferroni"``: ``min(1, m p)``.
        ``"bh"``: Benjamini-Hochberg step-up, controlling the false discovery rate (independent or
        positively dependent tests).  ``"none"``: the p-values unchanged.

    Returns
    -------
    ndarray
        Adjusted p-values, same shape as the input; NaN where the input is NaN.  Reject (fail the
        metric) where the adjusted value is below alpha.

    Raises
    ------
    ValueError
        For an unknown method, or a p-value outside [0, 1].

    Notes
    -----
    With ``m`` gating metrics of a run and their sorted p-values ``p_(1) <= ... <= p_(m)``:

    * Holm (1979): ``q_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``.
    * Benjamini & Hochberg (1995): ``q_(i) = min_{j >= i} min(1, m p_(j) / j)``.

    These are the definitions of R's ``p.adjust`` and ``scipy.stats.false_discovery_control``.

    Examples
    --------
    >>> adjust_p_values([0.01, 0.04, 0.03], method="holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p_values([0.01, float("nan"), 0.03], method="bonferroni").tolist()
    [0.02, nan, 0.06]
    """
    if method not in ADJUST_METHODS:
        raise ValueError(f"unknown multiplicity method {method!r}; use one of {ADJUST_METHODS}")
    p, one = as_rows(p_values)
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0.0) | (p[finite] > 1.0)):
        raise ValueError("p-values must lie in [0, 1] (NaN marks a metric that does not gate)")
    out = p.copy() if method == "none" or p.size == 0 else _adjust_rows(p, finite, method)
    return out[0] if one else out


def _adjust_rows(
    p: NDArray[np.float64], finite: NDArray[np.bool_], method: str
) -> NDArray[np.float64]:
    m = finite.sum(axis=1, keepdims=True).astype(np.float64)
    if method == "bonferroni":
        return np.where(finite, np.minimum(1.0, p * m), np.nan)
    # Sorting with NaN replaced by +inf puts the non-gating metrics after the m gating ones,
    # so the rank j of a gating p-value within its run is simply its sorted position + 1.
    order = np.argsort(np.where(finite, p, np.inf), axis=1, kind="stable")
    ps = np.take_along_axis(p, order, axis=1)
    rank = np.arange(1, p.shape[1] + 1, dtype=np.float64)[None, :]
    valid = rank <= m
    if method == "holm":
        scaled = np.where(valid, np.minimum(1.0, (m - rank + 1.0) * ps), -np.inf)
        adj_sorted = np.maximum.accumulate(scaled, axis=1)
    else:  # bh
        scaled = np.where(valid, np.minimum(1.0, m * ps / rank), np.inf)
        adj_sorted = np.minimum.accumulate(scaled[:, ::-1], axis=1)[:, ::-1]
    out = np.empty_like(p)
    np.put_along_axis(out, order, adj_sorted, axis=1)
    out[~finite] = np.nan
    return out


def any_rejected(
    p_values: ArrayLike, alpha: float = 0.05, method: AdjustMethod = "holm"
) -> bool | NDArray[np.bool_]:
    """Whether any gating metric of each run is rejected at ``alpha`` after adjustment.

    Examples
    --------
    >>> any_rejected([0.02, 0.03, 0.5], alpha=0.05, method="holm")
    False
    >>> any_rejected([0.01, 0.5], alpha=0.05, method="holm")
    True
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    adj = adjust_p_values(p_values, method)
    hit = np.any(np.nan_to_num(adj, nan=1.0) < alpha, axis=-1)
    return bool(hit) if np.ndim(hit) == 0 else hit
