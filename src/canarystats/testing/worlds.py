"""Simulated canary worlds for the sequential judge: what a canary looks like minute by minute.

A world is a service of ``canary_hosts + baseline_hosts`` hosts with a pre-deploy window and a
canary window, one point a minute, four metrics: ``latency`` (a positive gauge), ``cpu`` (a
gauge), ``requests`` (a count: each host's traffic) and ``errors`` (a count whose exposure is
``requests``).  Four kinds of world, the ways real fleets stray from textbook samples:

* ``iid`` -- every point independent around one level;
* ``offsets`` -- hosts differ persistently (hardware, placement: a per-host factor);
* ``autocorrelated`` -- each host's noise is AR(1), so neighbouring minutes agree;
* ``both`` -- host offsets and autocorrelation together (the usual case).

A regression multiplies the canary's latency from the start (``latency_factor``) or its error
rate (``error_factor``).  Frames are the same for the same seed on every machine.

The defaults are a modest web service: hosts 5 % apart, 20 requests a second each, 0.5 % of
them errors.  The data sets what any rule can see: with hosts 10 % apart three canary hosts
cannot tell a 20 % slowdown from their offsets half the time even at 30 minutes, and at
5 requests a second with 0.2 % errors a doubled error rate leaves too few events to rule out
a 25 % tolerance.

Examples
--------
>>> frame, start = make_world("both", seed=1)
>>> sorted(frame["metric"].unique()), str(start)
(['cpu', 'errors', 'latency', 'requests'], '2026-03-02 10:30:00+00:00')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["WORLDS", "make_world", "world_config"]

WORLDS = ("iid", "offsets", "autocorrelated", "both")
#: the first pre-deploy minute of every world
ORIGIN = pd.Timestamp("2026-03-02T10:00:00Z")


def make_world(
    kind: str,
    *,
    canary_hosts: int = 3,
    baseline_hosts: int = 6,
    pre_minutes: int = 30,
    minutes: int = 30,
    latency_factor: float = 1.0,
    error_factor: float = 1.0,
    error_rate: float = 0.005,
    requests_per_minute: float = 1200.0,
    host_spread: float = 0.05,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """A tidy frame of one simulated canary, and its canary start.

    Parameters
    ----------
    kind : {"iid", "offsets", "autocorrelated", "both"}
        How the points depend on each other (see the module docstring).
    canary_hosts, baseline_hosts : int
        Hosts per cohort.
    pre_minutes, minutes : int
        Minutes before and after the canary start.
    latency_factor, error_factor : float
        The canary's regression from the start: latency times ``latency_factor``, error rate
        times ``error_factor`` (1: healthy).
    error_rate : float
        Errors per request of a healthy host.
    requests_per_minute : float
        A host's mean traffic.
    host_spread : float
        In worlds with host offsets: the standard deviation of a host's persistent latency
        factor on the log scale (0.05: hosts differ by about 5 %, the fastest and slowest of
        nine by ~15 %); CPU offsets and traffic shares scale with it.
    seed : int
        Seeds every random draw.
    """
    if kind not in WORLDS:
        raise ValueError(f"kind must be one of {WORLDS}, got {kind!r}")
    rng = np.random.default_rng(seed)
    hosts = canary_hosts + baseline_hosts
    t = pre_minutes + minutes
    offsets = kind in ("offsets", "both")
    rho = 0.7 if kind in ("autocorrelated", "both") else 0.0
    canary = np.zeros(hosts, dtype=bool)
    canary[:canary_hosts] = True
    after = np.arange(t) >= pre_minutes
    regressed = canary[:, None] & after[None, :]

    def noise(sd: float) -> np.ndarray:
        e = rng.normal(0.0, sd, (hosts, t))
        out = np.empty_like(e)
        out[:, 0] = e[:, 0] / np.sqrt(max(1 - rho * rho, 1e-9))
        for i in range(1, t):
            out[:, i] = rho * out[:, i - 1] + e[:, i]
        return out

    host_lat = rng.normal(0.0, host_spread if offsets else 0.0, hosts)[:, None]
    latency = 120.0 * np.exp(host_lat + noise(0.05) * np.sqrt(1 - rho * rho))
    latency = np.where(regressed, latency * latency_factor, latency)
    host_cpu = rng.normal(0.0, 40.0 * host_spread if offsets else 0.0, hosts)[:, None]
    cpu = 40.0 + host_cpu + noise(1.5) * np.sqrt(1 - rho * rho)
    share = np.exp(rng.normal(0.0, 0.8 * host_spread if offsets else 0.0, hosts))[:, None]
    requests = rng.poisson(requests_per_minute * share, (hosts, t)).astype(np.float64)
    rate = error_rate * np.where(regressed, error_factor, 1.0)
    errors = rng.poisson(requests * rate).astype(np.float64)
    names = [f"canary-{i}" if canary[i] else f"baseline-{i - canary_hosts}" for i in range(hosts)]
    stamps = ORIGIN + pd.to_timedelta(np.arange(t), unit="min")
    frames = []
    for metric, values in (
        ("latency", latency),
        ("cpu", cpu),
        ("requests", requests),
        ("errors", errors),
    ):
        frames.append(
            pd.DataFrame(
                {
                    "metric": metric,
                    "cohort": np.repeat(np.where(canary, "canary", "baseline"), t),
                    "host": np.repeat(names, t),
                    "timestamp": np.tile(stamps, hosts),
                    "value": values.reshape(-1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), ORIGIN + pd.Timedelta(minutes=pre_minutes)


def world_config(**sequential: Any) -> dict[str, Any]:
    """The canary config of a world (a mapping for :func:`canarystats.load_config`).

    Keyword arguments replace keys of its ``sequential`` plan (default: looks every 5 minutes
    to 30, no warm-up since simulated canaries do not restart).

    Examples
    --------
    >>> world_config(horizon="20m")["sequential"]["horizon"]
    '20m'
    """
    return {
        "name": "world",
        "judge": {"warmup": 0},
        "sequential": {"horizon": "30m", "look_every": "5m", "min_duration": "5m", **sequential},
        "metrics": [
            {"name": "latency", "query": "avg:latency{$scope} by {host}", "direction": "increase"},
            {"name": "cpu", "query": "avg:cpu{$scope} by {host}", "direction": "increase"},
            {
                "name": "requests",
                "query": "sum:requests{$scope} by {host}.as_count()",
                "kind": "count",
                "direction": "decrease",
            },
            {
                "name": "errors",
                "query": "sum:errors{$scope} by {host}.as_count()",
                "kind": "count",
                "direction": "increase",
                "exposure": "requests",
            },
        ],
    }
