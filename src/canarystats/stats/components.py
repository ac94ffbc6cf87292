"""The components of a host test, and their weighted-Bonferroni combination into one p-value.

A metric is tested on up to three components -- the hosts' location, trend and jitter -- each
with its own p-value and effect.  :func:`combine_components` turns them into the metric's
p-value: the smallest weighted p-value among the components whose effect reaches the minimum
practical effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["COMPONENTS", "EQUAL_WEIGHTS", "HostComponents", "check_weights", "combine_components"]

#: the components, in the order of their weights
COMPONENTS = ("location", "trend", "jitter")
#: weights of the components in the weighted Bonferroni combination, renormalised over the
#: components available for a metric.  Equal weights are plain Bonferroni (x 3).
EQUAL_WEIGHTS = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class HostComponents:
    """Each component's test of every metric, before they are combined (arrays over metrics).

    Attributes
    ----------
    statistic, df : ndarray
        t statistic and degrees of freedom of the location's t-type test.
    p_location, p_trend, p_jitter : ndarray
        Each component's p-value; NaN for a component that is off or cannot be computed.
    location_test : ndarray of str
        ``"t"`` or ``"mann-whitney"``.
    effect_abs, effect_rel, trend_effect_abs, jitter_effect_abs : ndarray
        Each component's effect, as in :class:`HostTestResult`.
    baseline_centre, baseline_scale : ndarray
        Mean and standard deviation (n-1) of the baseline hosts' locations.
    n_canary_hosts, n_baseline_hosts : ndarray of int
        Hosts with a location (at least ``min_points`` points).
    """

    statistic: NDArray[np.float64]
    df: NDArray[np.float64]
    p_location: NDArray[np.float64]
    p_trend: NDArray[np.float64]
    p_jitter: NDArray[np.float64]
    location_test: NDArray[np.str_]
    effect_abs: NDArray[np.float64]
    effect_rel: NDArray[np.float64]
    trend_effect_abs: NDArray[np.float64]
    jitter_effect_abs: NDArray[np.float64]
    baseline_centre: NDArray[np.float64]
    baseline_scale: NDArray[np.float64]
    n_canary_hosts: NDArray[np.int64]
    n_baseline_hosts: NDArray[np.int64]


def check_weights(weights: Sequence[float]) -> tuple[float, float, float]:
    """The three component weights as a tuple, checked: finite, >= 0, not all 0.

    Examples
    --------
    >>> check_weights([0.6, 0.2, 0.2])
    (0.6, 0.2, 0.2)
    """
    w = tuple(float(x) for x in weights)
    if len(w) != 3 or not all(np.isfinite(x) and x >= 0 for x in w) or sum(w) <= 0:
        raise ValueError(f"weights must be 3 numbers >= 0, not all 0 (got {weights!r})")
    return w[0], w[1], w[2]


def combine_components(
    comp: HostComponents,
    min_abs: ArrayLike,
    min_rel: ArrayLike,
    weights: Sequence[float] = EQUAL_WEIGHTS,
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.str_]]:
    """Weighted Bonferroni over the components whose effect reaches the minimum practical effect.

    Parameters
    ----------
    comp : HostComponents
    min_abs, min_rel : array_like
        Minimum practical effect per metric, absolute and relative to ``|baseline centre|``.
    weights : sequence of 3 floats
        Weights of location, trend and jitter, renormalised per metric over the components
        available (not NaN).

    Returns
    -------
    p_value, practical, component : ndarray
        ``min(1, min_i p_i / w_i)`` over the components with an effect at or above the minimum,
        ``w_i`` the renormalised weights; 1 where none reaches it.  ``practical`` says whether
        one does, ``component`` names the one behind ``p_value`` (``""`` if none).

    Notes
    -----
    Weighted Bonferroni (Holm 1979; Benjamini & Hochberg 1997, "Multiple hypotheses testing with
    weights") rejects component ``i`` when ``p_i <= w_i alpha`` with weights summing to 1, which
    keeps the per-metric false-fail rate at most ``alpha`` whatever the dependence between
    components.  Equal weights are plain Bonferroni, ``c * min p_i``.  Jitter is one-sided (only
    more of it counts); location and trend count in either direction here, their p-values being
    already directional.

    Examples
    --------
    >>> from canarystats.stats.hosts import host_components, summarize_hosts
    >>> cs = summarize_hosts([[[12.0, 12.5, 11.5]]])
    >>> bs = summarize_hosts([[[10.0, 10.5, 9.5], [10.2, 10.1, 9.9], [9.8, 9.9, 10.1]]])
    >>> p, practical, which = combine_components(host_components(cs, bs, np.array([1])), 0.0, 0.08)
    >>> bool(practical[0]), str(which[0])
    (True, 'location')
    """
    floor = np.maximum(min_abs, min_rel * np.nan_to_num(np.abs(comp.baseline_centre)))
    big = np.stack(
        [
            np.abs(comp.effect_abs) >= floor,
            np.abs(comp.trend_effect_abs) >= floor,
            comp.jitter_effect_abs >= floor,
        ]
    )
    ps = np.stack([comp.p_location, comp.p_trend, comp.p_jitter])
    available = ~np.isnan(ps)
    w = np.where(available, np.asarray(check_weights(weights))[:, None], 0.0)
    # p_i / (w_i / sum w) as p_i * (sum w / w_i): equal weights give exactly c * p_i.
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = w.sum(axis=0) / w
        gated = np.where(available & big & (w > 0), ps * scale, np.inf)
    best = np.min(gated, axis=0)
    practical = np.isfinite(best)
    component = np.array(COMPONENTS)[np.argmin(gated, axis=0)]
    component = np.where(practical, component, "")
    p_value = np.where(practical, np.minimum(1.0, best), 1.0)
    return p_value, practical, component
