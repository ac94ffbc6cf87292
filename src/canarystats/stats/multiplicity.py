"""Multiplicity control across a config's gating metrics: Hommel, Holm, Bonferroni, BH.

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

AdjustMethod = Literal["hommel", "holm", "bonferroni", "bh", "none"]

#: the names :func:`adjust_p_values` accepts, for config validation by the caller
ADJUST_METHODS: tuple[str, ...] = ("hommel", "holm", "bonferroni", "bh", "none")
#: largest family Hommel's method is computed for (its adjusted p-values take O(m^2) time);
#: a larger family gets Holm's, which Hommel's never exceeds, so the control still holds
HOMMEL_MAX_FAMILY = 2000


def adjust_p_values(p_values: ArrayLike, method: AdjustMethod = "holm") -> NDArray[np.float64]:
    """Adjust each run's p-values for the number of gating metrics in that run.

    Parameters
    ----------
    p_values : array_like
        1-D (metrics of one run) or 2-D (runs x metrics) p-values in [0, 1].  NaN means the metric
        does not gate in that run and is excluded from its family.
    method : {"hommel", "holm", "bonferroni", "bh", "none"}
        ``"hommel"``: Hommel's method, which controls the family-wise error rate where the
        p-values are independent or positively dependent (Simes' inequality holds), and is
        never less powerful than Holm's; families over :data:`HOMMEL_MAX_FAMILY` metrics get
        Holm's.  ``"holm"`` (default): Holm's step-down method, which controls the family-wise
        error rate whatever the dependence, like Bonferroni, and is never less powerful.
        ``"bonferroni"``: ``min(1, m p)``.
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
    * Hommel (1988), "A stagewise rejective multiple test procedure based on a modified
      Bonferroni test", Biometrika 75: the adjusted p-values of R's ``p.adjust(method =
      "hommel")`` (Wright 1992).
    * Benjamini & Hochberg (1995): ``q_(i) = min_{j >= i} min(1, m p_(j) / j)``.

    These are the definitions of R's ``p.adjust`` and ``scipy.stats.false_discovery_control``.

    Examples
    --------
    >>> adjust_p_values([0.01, 0.04, 0.03], method="holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p_values([0.01, float("nan"), 0.03], method="bonferroni").tolist()
    [0.02, nan, 0.06]
    >>> adjust_p_values([0.01, 0.04, 0.03], method="hommel").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    if method not in ADJUST_METHODS:
        raise ValueError(f"unknown multiplicity method {method!r}; use one of {ADJUST_METHODS}")
    p, one = as_rows(p_values)
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0.0) | (p[finite] > 1.0)):
        raise ValueError("p-values must lie in [0, 1] (NaN marks a metric that does not gate)")
    if method == "none" or p.size == 0:
        out = p.copy()
    elif method == "hommel":
        out = _hommel_rows(p, finite)
    else:
        out = _adjust_rows(p, finite, method)
    return out[0] if one else out


def _hommel_rows(p: NDArray[np.float64], finite: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Hommel's adjusted p-values of each row's finite entries, rows of equal family together."""
    out = np.full_like(p, np.nan)
    sizes = finite.sum(axis=1)
    for m in np.unique(sizes).tolist():
        rows = np.flatnonzero(sizes == m)
        if m == 0:
            continue
        if m > HOMMEL_MAX_FAMILY:
            out[rows] = _adjust_rows(p[rows], finite[rows], "holm")
            continue
        # The family's p-values of each row, sorted (NaN last), then Wright's recursion.
        order = np.argsort(np.where(finite[rows], p[rows], np.inf), axis=1, kind="stable")[:, :m]
        ps = np.take_along_axis(p[rows], order, axis=1)
        adj = _hommel_sorted(ps)
        block = np.full((len(rows), p.shape[1]), np.nan)
        np.put_along_axis(block, order, adj, axis=1)
        out[rows] = block
    return out


def _hommel_sorted(ps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Hommel's adjusted p-values of sorted rows of ``n`` p-values (R's ``p.adjust``)."""
    n = ps.shape[1]
    i = np.arange(1, n + 1, dtype=np.float64)
    q = np.repeat(np.min(n * ps / i, axis=1, keepdims=True), n, axis=1)
    pa = q.copy()
    for m in range(n - 1, 1, -1):
        head = n - m + 1  # the first n - m + 1 p-values, then the m - 1 largest
        q1 = np.min(m * ps[:, head:] / np.arange(2, m + 1, dtype=np.float64), axis=1)
        q[:, :head] = np.minimum(m * ps[:, :head], q1[:, None])
        q[:, head:] = q[:, head - 1 : head]
        pa = np.maximum(pa, q)
    return np.minimum(1.0, np.maximum(pa, ps))


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
