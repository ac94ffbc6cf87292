"""Counts compared as rates: a conditional (quasi-)binomial test of canary events given all events.

Error counts are not a continuous gauge.  A rank test on per-bucket error counts passes a canary
that throws errors against a baseline with none (every baseline bucket ties at 0 and Kayenta's
interval rule then needs the interval to exclude 0 by a margin; a known Kayenta failure).  Counts
have their own exact test: if canary and baseline produce events at the same rate per unit of
exposure (requests, or host-buckets), then given the total number of events ``n``, the canary's
share is ``Binomial(n, p0)`` with ``p0 = E_canary / (E_canary + E_baseline)`` (the conditional
test of two Poisson rates; Przyborowski & Wilenski 1940, R's ``poisson.test`` for two samples).

Hosts of a fleet do not share one Poisson rate exactly: their rates vary around the fleet's
(overdispersion), and with thousands of events the exact test then fails healthy canaries.  So a
count metric fails only when two tests agree (an intersection-union test, level alpha whenever
either test is): the exact test of the events, and the host-as-unit t-type test of each host's
log rate (:func:`canarystats.stats.unit_tests.unit_t_test`), which measures the canary against how
much the baseline hosts' rates differ.  Against a zero-error baseline the hosts' rates do not
differ at all, so the exact test alone decides: a canary with errors against a baseline without
any fails once the number of errors is itself significant.

Events also come in bursts: a retry storm or a dependency hiccup puts twenty errors into one
bucket of one host, and the exact test would read them as twenty independent witnesses.  Where
overdispersion is allowed for, the events are weighed by the canary's own *burstiness*
(:func:`burstiness`: how much its hosts' buckets vary around each host's mean, Pearson's
chi-square over its degrees of freedom, at least 1): the exact test runs on effective counts
``x / b`` (a quasi-binomial test, as quasi-Poisson models weigh overdispersed counts; McCullagh &
Nelder 1989, sec. 6.2).  A steady rate of errors keeps ``b`` near 1 and every event counts; a
single burst counts as a few events.  Under no change the canary's buckets come from the same
process as the baseline's, so they estimate its burstiness as well as any; the baseline's own
bursts already make the canary look better and so cannot cause a false failure.

The quasi-Poisson dispersion ``phi`` (Pearson's chi-square of the baseline hosts over their
degrees of freedom) is reported as a diagnostic.

Datadog's agent sends a counter's zeros only for a few minutes after its last event, then nothing:
a quiet, healthy host has null buckets or no series at all.  :func:`fill_quiet_buckets` turns the
missing buckets of hosts known to be in the cohort into zeros before testing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betainc

from canarystats.stats.inconclusive import Inconclusive, reason_sentences
from canarystats.stats.unit_tests import unit_t_test

Direction = Literal["either", "increase", "decrease"]
_DIRECTION_CODES = {"either": 0, "increase": 1, "decrease": -1}


def fill_quiet_buckets(counts: ArrayLike, known_hosts: ArrayLike) -> NDArray[np.float64]:
    """Replace missing buckets of hosts known to be in the cohort by zero events.

    Parameters
    ----------
    counts : array_like
        ``(metric, host, time)`` event counts, NaN where the backend returned null or the host had
        no series (a row of NaN).  A 2-D ``(host, time)`` array is one metric.
    known_hosts : array_like of bool
        Which hosts are known to be in the cohort (they report the request-count metric, or the
        scope lists them): shape ``(host,)`` or ``(metric, host)``.

    Returns
    -------
    ndarray
        Counts of the same shape as ``counts``, with NaN replaced by 0 for known hosts; the
        buckets of unknown hosts stay NaN (no evidence they exist, so no evidence of zero errors).

    Examples
    --------
    >>> nan = float("nan")
    >>> fill_quiet_buckets([[3.0, nan], [nan, nan]], [True, False]).tolist()
    [[3.0, 0.0], [nan, nan]]
    """
    c = np.array(counts, dtype=np.float64)
    known = np.asarray(known_hosts, dtype=bool)
    if c.ndim == 2:
        mask = np.broadcast_to(known.reshape(-1)[:, None], c.shape)
    elif c.ndim == 3:
        mask = np.broadcast_to(np.atleast_2d(known)[:, :, None], c.shape)
    else:
        raise ValueError(
            f"counts must be 2-D (host, time) or 3-D (metric, host, time), got {c.ndim}"
        )
    c[np.isnan(c) & mask] = 0.0
    return c


@dataclass(frozen=True)
class CountTestResult:
    """Result of :func:`count_rate_test`; every field is an array over metrics.

    Attributes
    ----------
    p_value : ndarray
        p-value of a practically relevant rate difference: the test's p-value where the effect
        reaches the minimum (``practical``), 1 where it does not, NaN where inconclusive.
    p_raw : ndarray
        ``max(p_events, p_hosts)`` (``p_events`` alone with fewer than ``min_baseline_hosts``
        baseline hosts), whatever the effect.
    p_events, p_hosts : ndarray
        The exact conditional test of the events, and the host-as-unit test of the hosts'
        rates (NaN where it cannot run).
    canary_events, baseline_events, canary_exposure, baseline_exposure : ndarray
        Totals over hosts and buckets.
    canary_rate, baseline_rate : ndarray
        Events per unit of exposure.
    rate_ratio : ndarray
        ``canary_rate / baseline_rate``; ``inf`` for events against a zero baseline, NaN for 0/0.
    rate_diff : ndarray
        ``canary_rate - baseline_rate``.
    dispersion : ndarray
        Quasi-Poisson dispersion ``phi >= 1`` of the baseline hosts (1: Poisson-like).
    burstiness : ndarray
        :func:`burstiness` of the canary's buckets (1 without the overdispersion allowance):
        the exact test of the events divides the event counts by it.
    baseline_burstiness : ndarray
        The same of the baseline's buckets.  Not used to fail a canary (the baseline's bursts
        only make it look better), but a test that rules a regression *out* must weigh them
        (:func:`canarystats.stats.noninferiority.rate_margin_test`).
    practical : ndarray of bool
        Whether the difference reaches the minimum practical effect in the harmful direction.
    inconclusive : ndarray of bool
        True where a cohort has no exposure, so no rate can be compared.
    reason : ndarray of str
        One sentence for an inconclusive metric, ``""`` otherwise.
    inconclusive_code : ndarray of int8
        Why a metric is inconclusive, as an :class:`canarystats.stats.inconclusive.Inconclusive`
        code (``NO_CANARY_EXPOSURE`` or ``NO_BASELINE_EXPOSURE``; 0 where it is decided).
    """

    p_value: NDArray[np.float64]
    p_raw: NDArray[np.float64]
    p_events: NDArray[np.float64]
    p_hosts: NDArray[np.float64]
    canary_events: NDArray[np.float64]
    baseline_events: NDArray[np.float64]
    canary_exposure: NDArray[np.float64]
    baseline_exposure: NDArray[np.float64]
    canary_rate: NDArray[np.float64]
    baseline_rate: NDArray[np.float64]
    rate_ratio: NDArray[np.float64]
    rate_diff: NDArray[np.float64]
    dispersion: NDArray[np.float64]
    burstiness: NDArray[np.float64]
    baseline_burstiness: NDArray[np.float64]
    practical: NDArray[np.bool_]
    inconclusive: NDArray[np.bool_]
    reason: NDArray[np.str_]
    inconclusive_code: NDArray[np.int8]


def _per_host(
    values: ArrayLike | None, counts: NDArray[np.float64], counts_ndim: int, name: str
) -> NDArray[np.float64]:
    """Exposure totals per (metric, host); ``None`` means one unit per reported bucket."""
    if values is None:
        return np.sum(~np.isnan(counts), axis=2).astype(np.float64)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == counts_ndim:  # per bucket, shaped like the counts
        v = np.nansum(_cube(v, name), axis=2)
    elif v.ndim == counts_ndim - 1:  # per host totals
        v = v.reshape(counts.shape[:2]) if v.size == counts.shape[0] * counts.shape[1] else v
    if v.shape != counts.shape[:2]:
        raise ValueError(f"{name} has shape {v.shape}; expected per-host totals {counts.shape[:2]}")
    if np.any(v < 0):
        raise ValueError(f"{name} must not be negative")
    return np.nan_to_num(v)


def _cube(values: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"{name} must be 3-D (metric, host, time), got {arr.ndim} dimensions")
    if np.any(arr < 0):
        raise ValueError(f"{name} must not contain negative counts")
    return arr


def binomial_tail(
    successes: ArrayLike, trials: ArrayLike, p0: ArrayLike, *, upper: bool
) -> NDArray[np.float64]:
    """``P(X >= x)`` (upper) or ``P(X <= x)`` for ``X ~ Binomial(n, p0)``, for real ``x`` and ``n``.

    Uses the regularized incomplete beta function, which equals the binomial tail for integer
    arguments and extends it smoothly to the non-integer effective counts of a quasi-binomial test.

    Examples
    --------
    >>> round(float(binomial_tail(5, 5, 0.25, upper=True)), 6)
    0.000977
    >>> round(float(binomial_tail(0, 4, 0.5, upper=False)), 4)
    0.0625
    """
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    p = np.asarray(p0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if upper:
            # P(X >= x) = I_p(x, n - x + 1); certain for x <= 0.
            out = np.where(x <= 0, 1.0, betainc(np.maximum(x, 1e-300), n - x + 1.0, p))
        else:
            # P(X <= x) = I_{1-p}(n - x, x + 1); certain for x >= n.
            out = np.where(x >= n, 1.0, betainc(np.maximum(n - x, 1e-300), x + 1.0, 1.0 - p))
    return np.clip(out, 0.0, 1.0)


def burstiness(counts: ArrayLike) -> NDArray[np.float64]:
    """How much each metric's buckets vary around their host's mean, as a share of Poisson's.

    Pearson's chi-square of every host's bucket counts around that host's mean count, summed
    over the hosts with at least one event and two buckets, over their degrees of freedom
    (buckets - 1 per host); at least 1, and 1 where no host has events.  Poisson counts give
    about 1; a burst (many events in one bucket) gives much more.

    Parameters
    ----------
    counts : array_like
        ``(metric, host, time)`` event counts per bucket, NaN for a missing bucket (a 2-D
        ``(host, time)`` array is one metric).

    Returns
    -------
    ndarray
        One value ``>= 1`` per metric.

    Examples
    --------
    >>> steady = [[[1.0, 0.0, 1.0, 2.0, 1.0, 1.0]]]
    >>> burst = [[[0.0, 0.0, 0.0, 6.0, 0.0, 0.0]]]
    >>> burstiness(steady).round(2).tolist(), burstiness(burst).round(2).tolist()
    ([1.0], [6.0])
    """
    c = _cube(counts, "counts")
    return _burstiness(np.sum(~np.isnan(c), axis=2), np.nansum(c, axis=2), _squares(c))


def _squares(c: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(metric, host)``: the sum of each host's squared bucket counts."""
    return np.asarray(np.nansum(c * c, axis=2), dtype=np.float64)


def _burstiness(
    n: NDArray[np.int64], total: NDArray[np.float64], squares: NDArray[np.float64]
) -> NDArray[np.float64]:
    """:func:`burstiness` from each ``(metric, host)``'s buckets, events and sum of squares."""
    hosts = (total > 0) & (n >= 2)
    # Pearson's chi-square around the host's mean m = total / n: sum (x - m)^2 / m, which is
    # sum x^2 / m - total, from sums the count test has anyway (one pass over the buckets).
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = squares * n / total - total
    chi2 = np.where(hosts, chi2, 0.0).sum(axis=1)
    df = np.where(hosts, n - 1, 0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(df > 0, chi2 / df, 1.0)
    return np.maximum(b, 1.0)


def _dispersion(events: NDArray[np.float64], exposure: NDArray[np.float64]) -> NDArray[np.float64]:
    hosts = exposure > 0
    m = hosts.sum(axis=1)
    total_e = np.where(hosts, events, 0.0).sum(axis=1)
    total_x = np.where(hosts, exposure, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = total_e / total_x
        expected = exposure * rate[:, None]
        chi2 = np.where(hosts, (events - expected) ** 2 / expected, 0.0).sum(axis=1)
        phi = chi2 / (m - 1)
    # Without two hosts with events there is nothing to estimate: assume Poisson (phi = 1).
    phi[~np.isfinite(phi) | (m < 2) | (rate <= 0)] = 1.0
    return np.maximum(phi, 1.0)


def count_rate_test(
    canary_counts: ArrayLike,
    baseline_counts: ArrayLike,
    *,
    canary_exposure: ArrayLike | None = None,
    baseline_exposure: ArrayLike | None = None,
    direction: Direction | Sequence[str] = "increase",
    overdispersion: bool = True,
    min_baseline_hosts: int = 3,
    min_rate_ratio: float | ArrayLike = 1.0,
    min_rate_diff: float | ArrayLike = 0.0,
    min_points: int = 1,
    few_hosts: str = "events",
) -> CountTestResult:
    """Test whether the canary's event rate differs from the baseline's, for every metric at once.

    Parameters
    ----------
    canary_counts, baseline_counts : array_like
        ``(metric, host, time)`` event counts per bucket, NaN-padded (run
        :func:`fill_quiet_buckets` first so quiet known hosts count as zeros).  2-D is one metric.
    canary_exposure, baseline_exposure : array_like, optional
        Requests (or other exposure) per bucket ``(metric, host, time)`` or per host
        ``(metric, host)``.  Omitted: each reported bucket of a host is one unit of exposure
        (host-buckets), which compares events per host per bucket.
    direction : {"increase", "decrease", "either"} or sequence of them, one per metric
        ``increase`` (default for error counts): only a higher canary rate fails.
    overdispersion : bool
        Also require the host-as-unit test of the hosts' rates (needs ``min_baseline_hosts``
        baseline hosts with exposure), so differences between healthy hosts do not fail a
        canary.  False: the exact test of the events alone (valid only for Poisson-like counts).
    min_baseline_hosts : int
        Fewest baseline hosts for the host-as-unit test of the rates.
    min_rate_ratio, min_rate_diff : float or array_like (one per metric)
        Minimum practical effect: a canary rate must be at least ``min_rate_ratio`` times and at
        least ``min_rate_diff`` above the baseline rate (mirrored for ``decrease``) to fail.
    min_points : int
        Fewest reported buckets (quiet ones filled) of a unit; no canary unit: inconclusive.
    few_hosts : {"events", "inconclusive"}
        Below ``min_baseline_hosts`` baseline units: decide on the events alone, or call the
        metric inconclusive (the judge's choice: two hosts cannot show how rates vary).

    Returns
    -------
    CountTestResult

    Notes
    -----
    With ``x`` canary events, ``n`` events in all, and ``p0`` the canary's share of the exposure,
    the one-sided p-value of the events for an increase is ``P(Binomial(n, p0) >= x)``; the
    two-sided one is twice the smaller tail, capped at 1.  Zero events on both sides give p = 1
    (nothing happened: a pass, not missing data).  Five canary errors, spread over its buckets,
    against none on three equally busy baseline hosts give ``0.25 ** 5 < 0.001``; with the
    overdispersion allowance, ``x`` and ``n`` are first divided by the canary's
    :func:`burstiness`, so the same five errors in one burst weigh less.

    Examples
    --------
    >>> quiet = [[[0, 0, 0], [0, 0, 0], [0, 0, 0]]]
    >>> res = count_rate_test([[[2, 1, 2]]], quiet)
    >>> round(float(res.p_value[0]), 6), float(res.rate_ratio[0])
    (0.000977, inf)
    >>> burst = count_rate_test([[[0, 5, 0]]], quiet)
    >>> round(float(burst.burstiness[0]), 2), bool(burst.p_value[0] > 0.01)
    (5.0, True)
    """
    c, b = _cube(canary_counts, "canary_counts"), _cube(baseline_counts, "baseline_counts")
    if c.shape[0] != b.shape[0]:
        raise ValueError(f"canary has {c.shape[0]} metrics and baseline {b.shape[0]}")
    rows = c.shape[0]
    names, code, min_ratio, min_diff = _options(direction, rows, min_rate_ratio, min_rate_diff)

    ce_host = _per_host(canary_exposure, c, np.ndim(canary_counts), "canary_exposure")
    be_host = _per_host(baseline_exposure, b, np.ndim(baseline_counts), "baseline_exposure")
    limits = _Limits(min_ratio, min_diff, min_baseline_hosts, min_points, overdispersion, few_hosts)
    return _count_rows(c, b, ce_host, be_host, names, code, limits)


@dataclass(frozen=True)
class _Limits:
    min_ratio: NDArray[np.float64]
    min_diff: NDArray[np.float64]
    min_baseline_hosts: int
    min_points: int
    overdispersion: bool
    few_hosts: str


def _count_rows(
    c: NDArray[np.float64],
    b: NDArray[np.float64],
    ce_host: NDArray[np.float64],
    be_host: NDArray[np.float64],
    names: list[str],
    code: NDArray[np.int64],
    lim: _Limits,
) -> CountTestResult:
    """:func:`count_rate_test` on checked cubes and per-host exposures."""
    min_ratio, min_diff, min_points = lim.min_ratio, lim.min_diff, lim.min_points
    min_baseline_hosts, overdispersion, few_hosts = (
        lim.min_baseline_hosts,
        lim.overdispersion,
        lim.few_hosts,
    )
    c_host, b_host = np.nansum(c, axis=2), np.nansum(b, axis=2)
    c_n, b_n = np.sum(~np.isnan(c), axis=2), np.sum(~np.isnan(b), axis=2)
    xc, xb = c_host.sum(axis=1), b_host.sum(axis=1)
    ec, eb = ce_host.sum(axis=1), be_host.sum(axis=1)
    p0, rate_c, rate_b, ratio = _rates(xc, xb, ec, eb)
    # Bursts: the events weigh as many independent witnesses as the canary's burstiness allows.
    burst, baseline_burst = (
        (_burstiness(c_n, c_host, _squares(c)), _burstiness(b_n, b_host, _squares(b)))
        if overdispersion
        else (np.ones(c.shape[0]), np.ones(b.shape[0]))
    )
    p_events = _events_p(xc / burst, xb / burst, p0, code)
    p_hosts = _hosts_p(c_host, b_host, ce_host, be_host, names, min_baseline_hosts, overdispersion)
    p_raw, diff = np.fmax(p_events, p_hosts), rate_c - rate_b
    practical = _practical(diff, ratio, code, min_ratio, min_diff)

    b_units = _units(b_n, be_host, min_points)
    codes = count_inconclusive_codes(
        ec,
        eb,
        canary_units=_units(c_n, ce_host, min_points),
        baseline_units=b_units if overdispersion and few_hosts == "inconclusive" else None,
        min_baseline_hosts=min_baseline_hosts,
    )
    reason = reason_sentences(
        codes,
        n_baseline_hosts=b_units,
        min_points=min_points,
        min_baseline_hosts=min_baseline_hosts,
    )
    inconclusive = codes != Inconclusive.NONE
    p_value = np.where(practical, p_raw, 1.0)
    p_value[inconclusive] = np.nan
    p_raw[inconclusive] = np.nan
    return CountTestResult(
        p_value=p_value,
        p_raw=p_raw,
        p_events=p_events,
        p_hosts=p_hosts,
        canary_events=xc,
        baseline_events=xb,
        canary_exposure=ec,
        baseline_exposure=eb,
        canary_rate=rate_c,
        baseline_rate=rate_b,
        rate_ratio=ratio,
        rate_diff=diff,
        dispersion=_dispersion(b_host, be_host),
        burstiness=burst,
        baseline_burstiness=baseline_burst,
        practical=practical & ~inconclusive,
        inconclusive=inconclusive,
        reason=reason,
        inconclusive_code=codes,
    )


def _units(
    buckets: NDArray[np.int64], exposure: NDArray[np.float64], min_points: int
) -> NDArray[np.int64]:
    """Hosts per metric that are units of the rate comparison: enough reported buckets (per
    ``(metric, host)``), some exposure."""
    return np.sum((buckets >= min_points) & (exposure > 0), axis=1)


def _options(
    direction: Direction | Sequence[str],
    rows: int,
    min_rate_ratio: float | ArrayLike,
    min_rate_diff: float | ArrayLike,
) -> tuple[list[str], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Direction names and codes, and the minimum effects, one per metric (checked)."""
    names = [direction] * rows if isinstance(direction, str) else list(direction)
    if len(names) != rows or any(d not in _DIRECTION_CODES for d in names):
        raise ValueError(f"direction must be one of {tuple(_DIRECTION_CODES)}, one per metric")
    code = np.array([_DIRECTION_CODES[d] for d in names])
    min_ratio = np.broadcast_to(np.asarray(min_rate_ratio, dtype=np.float64), (rows,))
    min_diff = np.broadcast_to(np.asarray(min_rate_diff, dtype=np.float64), (rows,))
    if np.any(min_ratio < 1.0) or np.any(min_diff < 0.0):
        raise ValueError("min_rate_ratio must be >= 1 and min_rate_diff >= 0")
    return names, code, min_ratio, min_diff


def _rates(
    xc: NDArray[np.float64],
    xb: NDArray[np.float64],
    ec: NDArray[np.float64],
    eb: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The canary's share of the exposure, both rates, and their ratio."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p0 = ec / (ec + eb)
        rate_c = xc / ec
        rate_b = xb / eb
        ratio = np.where(rate_b > 0, rate_c / rate_b, np.where(rate_c > 0, np.inf, np.nan))
    return p0, rate_c, rate_b, ratio


def _events_p(
    xc: NDArray[np.float64],
    xb: NDArray[np.float64],
    p0: NDArray[np.float64],
    code: NDArray[np.int64],
) -> NDArray[np.float64]:
    """The exact conditional test of the canary's share of all events."""
    upper = binomial_tail(xc, xc + xb, p0, upper=True)
    lower = binomial_tail(xc, xc + xb, p0, upper=False)
    p_events = np.where(
        code > 0, upper, np.where(code < 0, lower, np.minimum(1.0, 2 * np.minimum(upper, lower)))
    )
    p_events[(xc + xb) == 0] = 1.0
    return p_events


def _hosts_p(
    c_host: NDArray[np.float64],
    b_host: NDArray[np.float64],
    ce_host: NDArray[np.float64],
    be_host: NDArray[np.float64],
    names: list[str],
    min_baseline_hosts: int,
    overdispersion: bool,
) -> NDArray[np.float64]:
    """The host-as-unit test of the hosts' rates; NaN with too few baseline hosts, or when off."""
    if not overdispersion:
        return np.full(c_host.shape[0], np.nan)
    # Hosts' rates differ multiplicatively (right-skewed), so they are compared on a log scale,
    # where a t-type test keeps its level; half an event keeps quiet hosts finite.
    with np.errstate(divide="ignore", invalid="ignore"):
        c_rates = np.where(ce_host > 0, np.log((c_host + 0.5) / ce_host), np.nan)
        b_rates = np.where(be_host > 0, np.log((b_host + 0.5) / be_host), np.nan)
    enough = np.sum(be_host > 0, axis=1) >= min_baseline_hosts
    _, _, p_hosts = unit_t_test(c_rates, b_rates, direction=names)
    p_hosts[~enough] = np.nan
    return p_hosts


def _practical(
    diff: NDArray[np.float64],
    ratio: NDArray[np.float64],
    code: NDArray[np.int64],
    min_ratio: NDArray[np.float64],
    min_diff: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Whether the rate difference reaches the minimum practical effect in the harmful direction."""
    # An undefined ratio (no events on either side) counts as no change; an infinite one (errors
    # against a zero baseline) stays infinite.
    ratio_or_one = np.where(np.isnan(ratio), 1.0, ratio)
    up = (diff >= min_diff) & (ratio_or_one >= min_ratio) & (diff > 0)
    with np.errstate(divide="ignore"):
        down = (-diff >= min_diff) & (diff < 0) & (ratio_or_one * min_ratio <= 1.0)
    return np.where(code > 0, up, np.where(code < 0, down, up | down))


def count_inconclusive_codes(
    canary_exposure: ArrayLike,
    baseline_exposure: ArrayLike,
    *,
    canary_units: ArrayLike | None = None,
    baseline_units: ArrayLike | None = None,
    min_baseline_hosts: int = 3,
) -> NDArray[np.int8]:
    """Why each metric's rates cannot be compared, as :class:`Inconclusive` codes (0: they can).

    Parameters
    ----------
    canary_exposure, baseline_exposure : array_like
        Total exposure of each cohort, per metric.
    canary_units, baseline_units : array_like of int, optional
        Hosts of each cohort with enough buckets to be units; without them, only exposure is
        checked.
    min_baseline_hosts : int
        Fewest baseline units for a decision.

    Returns
    -------
    ndarray of int8
        ``NO_CANARY_EXPOSURE`` where the canary has none (also when the baseline has none
        either), ``NO_BASELINE_EXPOSURE`` where only the baseline has none; then
        ``NO_CANARY_HOST`` and ``TOO_FEW_BASELINE_HOSTS`` for too few units.

    Examples
    --------
    >>> [Inconclusive(c).name for c in count_inconclusive_codes([0.0, 5.0, 5.0], [0.0, 0.0, 5.0])]
    ['NO_CANARY_EXPOSURE', 'NO_BASELINE_EXPOSURE', 'NONE']
    >>> int(count_inconclusive_codes([5.0], [5.0], baseline_units=[2])[0])
    5
    """
    ec = np.asarray(canary_exposure, dtype=np.float64)
    eb = np.asarray(baseline_exposure, dtype=np.float64)
    codes = np.zeros(ec.shape, dtype=np.int8)
    if baseline_units is not None:
        codes[np.asarray(baseline_units) < min_baseline_hosts] = Inconclusive.TOO_FEW_BASELINE_HOSTS
    if canary_units is not None:
        codes[np.asarray(canary_units) < 1] = Inconclusive.NO_CANARY_HOST
    codes[eb <= 0] = Inconclusive.NO_BASELINE_EXPOSURE
    codes[ec <= 0] = Inconclusive.NO_CANARY_EXPOSURE
    return codes
