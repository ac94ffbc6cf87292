"""Synthetic fleets for tests, demos and benchmarks: M metrics x H hosts per cohort x T points.

Three kinds of metric, in turn (metric ``i`` has kind ``KINDS[i % 3]``):

* **latency** -- log-normal per point (a long right tail, no ties), with a per-host factor;
* **counter** -- Poisson counts per bucket (small integers: many ties), with a per-host rate;
* **gauge** -- a level plus a per-host offset plus normal noise, rounded to 0.1 (a CPU
  percentage, a queue length): ties and host-to-host differences.

Every tenth metric has a regressed canary (latency and gauges 10% higher, counters 30% higher) so
the judge has something to find.  Missing data comes as NaN gaps: a contiguous outage of a few
buckets in about one host series in eight, plus scattered single nulls (``nan_rate``).

The values are generated chunk by chunk straight into preallocated ``(metric, host, time)``
arrays, so 100,000 metrics cost only the arrays themselves; each chunk has its own generator
spawned from ``seed``, which makes a fleet the same whatever machine or chunk order produced it.
:func:`tidy_frame` turns a fleet into the judge's tidy frame (one row per point) for the sizes
where that fits in memory; the kernels take :meth:`Fleet.pooled` (2-D, one row per metric).

Example
-------
>>> f = make_fleet(6, hosts=2, points=5, seed=1)
>>> f.canary.shape, f.pooled()[0].shape
((6, 2, 5), (6, 10))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

KINDS = ("latency", "counter", "gauge")
#: one row a minute, from a fixed start, so frames are the same on every run
START = pd.Timestamp("2026-03-02T10:00:00Z")
STEP_S = 60
#: metrics generated per chunk (bounds the temporaries of the generator)
CHUNK = 2048
#: which metrics have a regressed canary, and by how much (multiplicative)
SHIFT_EVERY = 10
SHIFT = {"latency": 1.10, "counter": 1.30, "gauge": 1.10}
#: share of host series with one contiguous outage, and its longest length (buckets)
GAP_SHARE = 0.125
GAP_MAX = 8


@dataclass(frozen=True)
class Fleet:
    """Canary and baseline values of a fleet, ``(metric, host, time)``, NaN for a missing point.

    ``kinds`` holds each metric's kind code (an index into :data:`KINDS`); ``shifted`` flags the
    metrics with a regressed canary.
    """

    canary: NDArray[np.float64]
    baseline: NDArray[np.float64]
    kinds: NDArray[np.int8]
    shifted: NDArray[np.bool_]
    seed: int

    @property
    def metrics(self) -> int:
        """Number of metrics M."""
        return int(self.canary.shape[0])

    @property
    def names(self) -> list[str]:
        """Metric names, ``m000000`` ... (sortable, as a config lists them)."""
        return [f"m{i:06d}" for i in range(self.metrics)]

    @property
    def nbytes(self) -> int:
        """Bytes of the two value arrays."""
        return int(self.canary.nbytes + self.baseline.nbytes)

    def pooled(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Every host's points pooled per cohort: two ``(metric, hosts * points)`` views.

        Examples
        --------
        >>> f = make_fleet(3, hosts=2, points=4)
        >>> c, b = f.pooled()
        >>> c.shape, bool(np.shares_memory(c, f.canary))
        ((3, 8), True)
        """
        m = self.metrics
        return self.canary.reshape(m, -1), self.baseline.reshape(m, -1)


def _fill(
    rng: np.random.Generator,
    out: NDArray[np.float64],
    kinds: NDArray[np.int8],
    level: NDArray[np.float64],
    host_factor: NDArray[np.float64],
    factor: NDArray[np.float64],
    nan_rate: float,
) -> None:
    """Draw one cohort's chunk ``out[metric, host, time]`` in place."""
    m, h, t = out.shape
    lvl = (level * factor)[:, None, None] * host_factor[:, :, None]
    lat, cnt, gau = (kinds == 0), (kinds == 1), (kinds == 2)
    if lat.any():
        # Log-normal with sigma 0.4: median lvl, mean about 1.08 lvl.
        out[lat] = lvl[lat] * rng.lognormal(0.0, 0.4, size=(int(lat.sum()), h, t))
    if cnt.any():
        out[cnt] = rng.poisson(np.broadcast_to(lvl[cnt], (int(cnt.sum()), h, t)))
    if gau.any():
        noise = rng.normal(0.0, 0.08, size=(int(gau.sum()), h, t))
        out[gau] = np.round(lvl[gau] * (1.0 + noise), 1)
    # One outage of 1..GAP_MAX buckets in about GAP_SHARE of the host series.
    has_gap = rng.random((m, h)) < GAP_SHARE
    start = rng.integers(0, t, size=(m, h))
    length = rng.integers(1, GAP_MAX + 1, size=(m, h))
    steps = np.arange(t)
    gap = (
        has_gap[:, :, None] & (steps >= start[:, :, None]) & (steps < (start + length)[:, :, None])
    )
    out[gap] = np.nan
    if nan_rate > 0:
        out[rng.random(out.shape) < nan_rate] = np.nan


def make_fleet(
    metrics: int,
    hosts: int = 3,
    points: int = 100,
    *,
    seed: int = 0,
    canary_hosts: int | None = None,
    nan_rate: float = 0.01,
) -> Fleet:
    """Generate a fleet (see the module docstring for the distributions).

    Parameters
    ----------
    metrics : int
        M, the number of metrics.
    hosts : int
        Baseline hosts (and canary hosts unless ``canary_hosts`` is given).
    points : int
        T, points per host (one a minute).  A pooled cohort has ``hosts * points`` values.
    seed : int
        Everything follows from it.
    canary_hosts : int, optional
        Canary hosts, default ``hosts``.
    nan_rate : float
        Probability of a scattered null point (on top of the outages).

    Returns
    -------
    Fleet

    Examples
    --------
    >>> a, b = make_fleet(30, 2, 10, seed=3), make_fleet(30, 2, 10, seed=3)
    >>> bool(np.array_equal(a.canary, b.canary, equal_nan=True))
    True
    """
    hc = hosts if canary_hosts is None else canary_hosts
    canary = np.empty((metrics, hc, points), dtype=np.float64)
    baseline = np.empty((metrics, hosts, points), dtype=np.float64)
    kinds = (np.arange(metrics) % len(KINDS)).astype(np.int8)
    shifted = np.arange(metrics) % SHIFT_EVERY == SHIFT_EVERY - 1
    chunks = max(1, -(-metrics // CHUNK))
    for k, child in enumerate(np.random.SeedSequence(seed).spawn(chunks)):
        rng = np.random.default_rng(child)
        sl = slice(k * CHUNK, min(metrics, (k + 1) * CHUNK))
        kd = kinds[sl]
        m = len(kd)
        # Levels span decades (1 ms .. 1 s latencies, 0.5 .. 50 events a minute, 5 .. 95 %).
        level = np.select(
            [kd == 0, kd == 1],
            [10 ** rng.uniform(0, 3, m), 10 ** rng.uniform(-0.3, 1.7, m)],
            rng.uniform(5, 95, m),
        )
        # Hosts differ: a few percent for latency and gauges, more for a counter's traffic share.
        spread = np.where(kd == 1, 0.15, 0.05)[:, None]
        shift = np.where(shifted[sl], np.array([SHIFT[k] for k in KINDS])[kd], 1.0)
        for out, n_hosts, factor in ((canary, hc, shift), (baseline, hosts, np.ones(m))):
            host_factor = np.exp(rng.normal(0.0, 1.0, (m, n_hosts)) * spread)
            _fill(rng, out[sl], kd, level, host_factor, factor, nan_rate)
    return Fleet(canary, baseline, kinds, shifted, seed)


def tidy_frame(fleet: Fleet, *, datadog_names: bool = False) -> pd.DataFrame:
    """The tidy frame of a fleet: one row per point (null points as NaN rows).

    Strings are shared objects (one per metric, host and cohort), as the Datadog source builds
    them.  ``datadog_names`` names the metrics ``bench.m000000`` (a Datadog metric name, for
    :class:`canarystats.testing.FakeDatadog`) instead of the config name ``m000000``.

    Examples
    --------
    >>> frame = tidy_frame(make_fleet(2, hosts=2, points=3))
    >>> len(frame), sorted(frame["cohort"].unique())
    (24, ['baseline', 'canary'])
    """
    m = fleet.metrics
    prefix = "bench." if datadog_names else ""
    names = np.array([prefix + n for n in fleet.names], dtype=object)
    parts = []
    for cohort, values in (("canary", fleet.canary), ("baseline", fleet.baseline)):
        _, h, t = values.shape
        host_names = np.array([f"{cohort[0]}-{j + 1}" for j in range(h)], dtype=object)
        stamps = np.datetime64(START.tz_localize(None), "ns") + np.arange(t) * np.timedelta64(
            STEP_S * 10**9, "ns"
        )
        parts.append(
            pd.DataFrame(
                {
                    "metric": np.repeat(names, h * t),
                    "cohort": np.full(m * h * t, cohort, dtype=object),
                    "host": np.tile(np.repeat(host_names, t), m),
                    "timestamp": np.tile(stamps, m * h),
                    "value": values.reshape(-1),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    frame["timestamp"] = frame["timestamp"].dt.tz_localize("UTC")
    return frame


def config_dict(fleet: Fleet, method: str | None = None) -> dict[str, object]:
    """A canary config judging every metric of ``fleet`` (``judge.method`` when given).

    Counters are declared ``kind: count`` (summed per bucket) so a count-aware method treats
    them as such.

    Examples
    --------
    >>> config_dict(make_fleet(3, 2, 2), "kayenta")["judge"]
    {'method': 'kayenta'}
    """
    metrics: list[dict[str, str]] = []
    for name, k in zip(fleet.names, fleet.kinds, strict=True):
        if KINDS[int(k)] == "counter":
            query = f"sum:bench.{name}{{$scope}} by {{host}}.as_count()"
            metrics.append({"name": name, "query": query, "kind": "count"})
        else:
            metrics.append({"name": name, "query": f"avg:bench.{name}{{$scope}} by {{host}}"})
    out: dict[str, object] = {"name": f"fleet-{fleet.metrics}", "metrics": metrics}
    if method is not None:
        out["judge"] = {"method": method}
    return out
