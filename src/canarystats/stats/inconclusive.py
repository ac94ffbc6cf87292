"""Why a metric is inconclusive: one code per case, and the sentence that reports it.

The host-level test (:func:`canarystats.stats.host_test`) and the count test
(:func:`canarystats.stats.count_rate_test`) return an ``inconclusive_code`` per metric, 0 where
the metric is decided.  Callers branch on the code; the sentence in ``reason`` is made from the
code here, in one place, for people to read.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray


class Inconclusive(IntEnum):
    """Why no decision is supported for a metric (stored as ``int8``, 0 for a decision).

    Three families, so a caller can tell a metric that has nothing to judge from one that has
    data but not enough hosts to judge it:

    * **no data at all** (:meth:`no_data` is true): ``NO_DATA``, ``NO_CANARY_DATA``,
      ``NO_BASELINE_DATA`` -- a cohort has no point in the window, a metric that is absent or
      not reported;
    * **data, but not enough hosts**: ``NO_CANARY_HOST``, ``TOO_FEW_BASELINE_HOSTS`` -- points
      exist, but too few hosts have enough of them to serve as units of the host-level test;
    * **nothing to measure a rate against** (count test): ``NO_CANARY_EXPOSURE``,
      ``NO_BASELINE_EXPOSURE`` -- a cohort has no known host and no requests; whether it also
      lacks events is in the result's event totals.

    When several apply, a code of an earlier family wins, and within the first family
    ``NO_DATA`` wins over the one-sided codes.
    """

    NONE = 0
    #: neither cohort has a point in the window
    NO_DATA = 1
    #: the canary has no point in the window (the baseline has)
    NO_CANARY_DATA = 2
    #: the baseline has no point in the window (the canary has)
    NO_BASELINE_DATA = 3
    #: no canary host has ``min_points`` points
    NO_CANARY_HOST = 4
    #: fewer than ``min_baseline_hosts`` baseline hosts have ``min_points`` points
    TOO_FEW_BASELINE_HOSTS = 5
    #: the canary has no exposure: no known host, no requests
    NO_CANARY_EXPOSURE = 6
    #: the baseline has no exposure: no known host, no requests
    NO_BASELINE_EXPOSURE = 7

    @property
    def no_data(self) -> bool:
        """Whether the code means no data at all (a cohort without any point in the window).

        Examples
        --------
        >>> Inconclusive.NO_CANARY_DATA.no_data, Inconclusive.NO_CANARY_HOST.no_data
        (True, False)
        """
        return self in _NO_DATA


_NO_DATA = frozenset(
    {Inconclusive.NO_DATA, Inconclusive.NO_CANARY_DATA, Inconclusive.NO_BASELINE_DATA}
)


def is_no_data(codes: ArrayLike) -> NDArray[np.bool_]:
    """Whether each code means no data at all (see :class:`Inconclusive`).

    Examples
    --------
    >>> is_no_data([0, Inconclusive.NO_DATA, Inconclusive.TOO_FEW_BASELINE_HOSTS]).tolist()
    [False, True, False]
    """
    return np.isin(np.asarray(codes), [int(c) for c in _NO_DATA])


def reason_sentences(
    codes: ArrayLike,
    *,
    n_baseline_hosts: ArrayLike = 0,
    min_points: int = 3,
    min_baseline_hosts: int = 3,
) -> NDArray[np.str_]:
    """The sentence that reports each code, ``""`` for a decided metric.

    Parameters
    ----------
    codes : array_like of int
        :class:`Inconclusive` codes, one per metric.
    n_baseline_hosts : array_like of int
        Baseline hosts with at least ``min_points`` points, per metric (or one for all); only
        ``TOO_FEW_BASELINE_HOSTS`` says it.
    min_points, min_baseline_hosts : int
        The host-level test's settings that the host sentences quote.

    Returns
    -------
    ndarray of str

    Examples
    --------
    >>> reason_sentences([0, 1]).tolist()
    ['', 'no data in the window for either cohort']
    >>> str(reason_sentences([5], n_baseline_hosts=[2], min_baseline_hosts=3)[0])[:43]
    'only 2 baseline host(s) with at least 3 poi'
    """
    code = np.asarray(codes, dtype=np.int64).reshape(-1)
    m = np.broadcast_to(np.asarray(n_baseline_hosts), code.shape)
    reason = np.full(code.shape, "", dtype=object)
    too_few = code == Inconclusive.TOO_FEW_BASELINE_HOSTS
    reason[too_few] = np.char.add(
        np.char.add("only ", m[too_few].astype(str)),
        f" baseline host(s) with at least {min_points} points; the host-aware test needs "
        f"{min_baseline_hosts} to estimate how much healthy hosts differ",
    )
    fixed = {
        Inconclusive.NO_CANARY_HOST: (
            f"no canary host has at least {min_points} points in the window"
        ),
        Inconclusive.NO_BASELINE_DATA: "the baseline has no data in the window",
        Inconclusive.NO_CANARY_DATA: "the canary has no data in the window",
        Inconclusive.NO_DATA: "no data in the window for either cohort",
        Inconclusive.NO_BASELINE_EXPOSURE: (
            "the baseline has no exposure (no known host, no requests) in the window"
        ),
        Inconclusive.NO_CANARY_EXPOSURE: (
            "the canary has no exposure (no known host, no requests) in the window"
        ),
    }
    for case, sentence in fixed.items():
        reason[code == case] = sentence
    return reason.astype(str)
