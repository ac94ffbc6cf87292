"""Anytime-valid evidence on a count's rate ratio: an e-process over looks.

A count metric (errors, failed jobs) is watched as its events arrive.  Between two looks the
canary has ``c`` events over exposure ``e_c`` (requests, or host-buckets) and the baseline ``b``
over ``e_b``.  If events are Poisson with rates proportional to exposure and the canary's rate
is ``r`` times the baseline's, then given the increment's ``n = c + b`` events, ``c`` is
binomial with success probability ``pi(r) = r e_c / (r e_c + e_b)``.  The likelihood ratio of an
alternative ratio ``r1`` against the tolerated ratio ``r0``, multiplied over increments, is a
nonnegative martingale under ``r = r0`` and a supermartingale under any ``r`` on the tolerated
side (the binomial family has a monotone likelihood ratio); an equal-weight mixture over a grid
of alternatives is one too.  By Ville's inequality the chance that this e-process ever reaches
``1 / alpha`` is at most ``alpha``, however often it is looked at: a test that may be read at
every look, or stopped at any time, without inflating false alarms.

References
----------
Ville, J. (1939). Etude critique de la notion de collectif.  Ramdas, A., Gruenwald, P., Vovk, V.
and Shafer, G. (2023). Game-theoretic statistics and safe anytime-valid inference.  Statistical
Science 38(4).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

__all__ = ["ALTERNATIVE_FACTORS", "anytime_p_values", "rate_ratio_log_e"]

#: alternatives of the mixture, as factors beyond the tolerated ratio: from a little worse to
#: ten times worse, so small and large regressions both build evidence quickly
ALTERNATIVE_FACTORS = (1.2, 1.5, 2.0, 3.0, 5.0, 10.0)


def rate_ratio_log_e(
    canary_events: ArrayLike,
    canary_exposure: ArrayLike,
    baseline_events: ArrayLike,
    baseline_exposure: ArrayLike,
    *,
    null_ratio: float | ArrayLike,
    side: str | Sequence[str] = "above",
    factors: Sequence[float] = ALTERNATIVE_FACTORS,
) -> NDArray[np.float64]:
    """Log e-values, after each look, against a tolerated rate ratio; rows are metrics.

    Parameters
    ----------
    canary_events, canary_exposure, baseline_events, baseline_exposure : array_like
        ``(row, look)`` increments: events and exposure of each cohort since the previous look
        (exposure in any unit proportional to the expected events: requests, host-buckets).
    null_ratio : float or array_like
        The tolerated ratio ``r0`` of the canary's rate to the baseline's, per row.
    side : {"above", "below"} or sequence of them
        ``"above"``: evidence that the ratio exceeds ``r0`` (a regression of errors); the null
        is ``r <= r0``.  ``"below"``: evidence that it is under ``r0`` (a drop of throughput, or
        an early pass ruling a regression out); the null is ``r >= r0``.
    factors : sequence of float
        The mixture's alternatives: ``r0 * f`` above, ``r0 / f`` below, equally weighted.

    Returns
    -------
    ndarray
        ``(row, look)`` cumulative log e-values; 0 where nothing was observed yet.  An increment
        without events on either side, or without exposure on either side, carries no evidence.

    Examples
    --------
    Twelve errors on the canary against none on a baseline of the same size: past 1/0.05.

    >>> log_e = rate_ratio_log_e([[4, 8]], [[100, 100]], [[0, 0]], [[100, 100]], null_ratio=1.25)
    >>> bool(np.exp(log_e[0, -1]) >= 20)
    True
    """
    c = np.asarray(canary_events, dtype=np.float64)
    ec = np.asarray(canary_exposure, dtype=np.float64)
    b = np.asarray(baseline_events, dtype=np.float64)
    eb = np.asarray(baseline_exposure, dtype=np.float64)
    if c.ndim != 2 or not c.shape == ec.shape == b.shape == eb.shape:
        raise ValueError("events and exposures must be (row, look) arrays of one shape")
    if np.any(c < 0) or np.any(b < 0) or np.any(ec < 0) or np.any(eb < 0):
        raise ValueError("events and exposures must not be negative")
    rows = c.shape[0]
    r0 = np.broadcast_to(np.asarray(null_ratio, dtype=np.float64), (rows,))[:, None]
    if np.any(~(r0 > 0)):
        raise ValueError("null_ratio must be above 0")
    sides = [side] * rows if isinstance(side, str) else list(side)
    if len(sides) != rows or any(s not in ("above", "below") for s in sides):
        raise ValueError("side must be 'above' or 'below', one per row")
    up = np.array([s == "above" for s in sides])[:, None, None]
    f = np.asarray(factors, dtype=np.float64)
    if f.ndim != 1 or len(f) == 0 or np.any(f <= 1):
        raise ValueError("factors must be numbers above 1")
    r1 = np.where(up, r0[..., None] * f, r0[..., None] / f)  # (row, 1, alternative)
    informative = (ec > 0) & (eb > 0) & (c + b > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(informative, ec / np.where(informative, eb, 1.0), 1.0)[..., None]
        pi0 = r0[..., None] * share / (r0[..., None] * share + 1.0)
        pi1 = r1 * share / (r1 * share + 1.0)
        step = c[..., None] * np.log(pi1 / pi0) + b[..., None] * np.log((1 - pi1) / (1 - pi0))
    step = np.where(informative[..., None], step, 0.0)
    cumulative = np.cumsum(step, axis=1)  # (row, look, alternative)
    return np.asarray(logsumexp(cumulative, axis=2) - np.log(len(f)), dtype=np.float64)


def anytime_p_values(log_e: ArrayLike) -> NDArray[np.float64]:
    """Anytime-valid p-values after each look: ``min(1, 1 / max e-value so far)``.

    Under the null, the chance that this p-value is ever at most ``u`` is at most ``u``
    (Ville's inequality), so it may be read at every look and combined across metrics like any
    valid p-value.

    Examples
    --------
    >>> anytime_p_values([[0.0, np.log(4.0), np.log(2.0)]]).tolist()
    [[1.0, 0.25, 0.25]]
    """
    running = np.maximum.accumulate(np.asarray(log_e, dtype=np.float64), axis=-1)
    return np.asarray(np.exp(np.minimum(-running, 0.0)), dtype=np.float64)
