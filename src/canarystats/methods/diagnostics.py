"""Diagnostics: what a metric's test stood on, for the report and the JSON.

Whatever the method, a report shows how the hosts of each cohort behaved (each host's points,
location, trend and jitter), how much of the baseline's variance lies between hosts, and how
autocorrelated the points are: the reasons pooling every point can mislead, and what a reader
checks before trusting a verdict.  A method adds its own test's numbers on top.

A judgment of 100,000 metrics would hold a dict per host per metric, more memory than the points
themselves, and most are never read: diagnostics are built from the batched results when first
read (:class:`LazyDiagnostics`), and keep no reference to the cubes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from canarystats.align import HostCubes
from canarystats.stats import HostTestResult

__all__ = ["HostDiagnostics", "LazyDiagnostics", "finite_or_none"]


def finite_or_none(x: Any) -> float | None:
    """A finite float, or None (NaN and infinities have no JSON number).

    Examples
    --------
    >>> finite_or_none(2), finite_or_none(float("nan"))
    (2.0, None)
    """
    v = float(x)
    return v if math.isfinite(v) else None


class HostDiagnostics:
    """The per-host part of every row's diagnostics, from one batched host test.

    Holds the test's per-host summaries and each run's host names, not the cubes (the bulk of
    a judgment's memory), so the cubes are free to go once the statistics are done.
    """

    def __init__(self, hosts: HostTestResult, cubes: HostCubes) -> None:
        self.h = hosts
        self.per_run = max(len(cubes.names), 1)
        self.canary_names, self.baseline_names = cubes.canary_host_table, cubes.baseline_host_table

    def row(self, i: int) -> dict[str, Any]:
        """Units, host counts, between-host share, lag-1 autocorrelation and hosts of row ``i``."""
        h = self.h
        run = i // self.per_run
        per_host = []
        for cohort, table, summ in (
            ("canary", self.canary_names, h.canary),
            ("baseline", self.baseline_names, h.baseline),
        ):
            names = table[run] if table else ()
            # One row as Python numbers, rather than a numpy scalar per host and field.
            points, location = summ.n_points[i].tolist(), summ.location[i].tolist()
            trend, jitter = summ.trend[i].tolist(), summ.jitter[i].tolist()
            for j, host in enumerate(names):
                if points[j] == 0:
                    continue
                per_host.append(
                    {
                        "host": host,
                        "cohort": cohort,
                        "n_points": int(points[j]),
                        "location": finite_or_none(location[j]),
                        "trend": finite_or_none(trend[j]),
                        "jitter": finite_or_none(jitter[j]),
                    }
                )
        return {
            "units": "hosts",
            "n_canary_hosts": int(h.n_canary_hosts[i]),
            "n_baseline_hosts": int(h.n_baseline_hosts[i]),
            "between_host_share": finite_or_none(h.between_host_share[i]),
            "lag1_autocorrelation": finite_or_none(h.lag1_autocorrelation[i]),
            "hosts": per_host,
        }


class LazyDiagnostics(Mapping[str, Any]):
    """A metric's diagnostics, built from the batched results when first read.

    Reads like the dict it stands for; pickles (to a Dask worker, to disk) as that plain dict.

    Examples
    --------
    >>> d = LazyDiagnostics(lambda: {"units": "hosts"})
    >>> d["units"], dict(d), d == {"units": "hosts"}
    ('hosts', {'units': 'hosts'}, True)
    """

    __slots__ = ("_build", "_data")

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build: Callable[[], dict[str, Any]] | None = build
        self._data: dict[str, Any] | None = None

    def _dict(self) -> dict[str, Any]:
        if self._data is None:
            assert self._build is not None
            self._data, self._build = self._build(), None
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __repr__(self) -> str:
        return repr(self._dict())

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self._dict(),))
