"""The Datadog source against ``FakeDatadog``: HTTP requests and seconds per judgment.

A config of M metrics (5 hosts per cohort, 30 one-minute points per host, ``by {host}``) is
fetched for both cohorts from :class:`canarystats.testing.FakeDatadog` on 127.0.0.1 by the real
``datadog-api-client`` inside :class:`canarystats.sources.DatadogSource`, three ways:

* **v2 batched** (the default): ``POST /api/v2/query/timeseries``, several metrics per request
  (``max_queries`` = 10 queries, i.e. 5 metrics x 2 cohorts);
* **v1 per metric**: ``GET /api/v1/query``, one request per metric, both cohorts in it;
* **naive**: v1, one request per metric *per cohort* (the source called once for each cohort),
  the obvious way to write it.

Requests are counted by the fake server (retries would show); seconds are wall time of the
fetch (medians), client and fake server together on one machine, so they say more about the
client's per-request cost than about a network.  Target: at most one request per metric.
The fake's own rate limit is raised out of the way (``naive`` at 1,000 metrics needs 2,000
requests, more than its default of 1,600 an hour, as a real account's limit would also bite).

Usage: ``python benchmarks/source_fetch.py [--quick]``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stats_kernels import machine

from canarystats.sources import DatadogSource, MetricQuery
from canarystats.testing import FakeDatadog
from canarystats.testing.fleet import START, STEP_S, make_fleet, tidy_frame

HOSTS = 5
POINTS = 30
SCOPES = {"canary": "role:canary", "baseline": "role:baseline"}
TAGS = {"role:canary": "canary", "role:baseline": "baseline"}


def _queries(names: list[str]) -> list[MetricQuery]:
    return [MetricQuery(name, f"avg:bench.{name}{{$scope}} by {{host}}") for name in names]


def bench_source(m: int, repeats: int, slow_subset: int | None = None) -> list[dict[str, Any]]:
    """Fetch M metrics three ways from one fake server; requests and seconds of each.

    With ``slow_subset`` the two one-request-per-metric ways fetch only that many metrics and
    their requests and seconds are scaled up to M (labelled as extrapolated): they grow
    linearly in M by construction, and at 1,000 metrics they would take minutes.
    """
    fleet = make_fleet(m, HOSTS, POINTS, seed=3)
    frame = tidy_frame(fleet, datadog_names=True)
    start = START.to_pydatetime()
    end = start + timedelta(seconds=STEP_S * POINTS)
    queries = _queries(fleet.names)
    few = queries[: slow_subset or m]
    expected_rows = len(frame)
    scale = m / len(few)

    def source(dd: FakeDatadog, api: str) -> DatadogSource:
        # The wall clock is put well after the window, so no bucket is cut as unfinished.
        return DatadogSource(
            host=dd.url,
            api_key="bench",
            app_key="bench",
            api=api,
            now=lambda: end + timedelta(hours=1),
        )

    def v2(dd: FakeDatadog) -> pd.DataFrame:
        return source(dd, "v2").fetch(queries, SCOPES, start, end)

    def v1(dd: FakeDatadog) -> pd.DataFrame:
        return source(dd, "v1").fetch(few, SCOPES, start, end)

    def naive(dd: FakeDatadog) -> pd.DataFrame:
        src = source(dd, "v1")
        parts = [src.fetch(few, {c: s}, start, end) for c, s in SCOPES.items()]
        return pd.concat(parts, ignore_index=True)

    ways: list[tuple[str, Callable[[FakeDatadog], pd.DataFrame], float]] = [
        ("v2 batched (default)", v2, 1.0),
        ("v1 per metric", v1, scale),
        ("naive: v1 per metric per cohort", naive, scale),
    ]
    out = []
    with FakeDatadog(frame, scopes=TAGS, rate_limit=10**9) as dd:
        for label, fetch, factor in ways:
            if factor != 1.0:
                label += f" (measured on {len(few):,}, scaled x{factor:g})"
            counts, times = [], []
            for _ in range(repeats):
                before, t0 = dd.requests, time.perf_counter()
                fetched = fetch(dd)
                times.append(time.perf_counter() - t0)
                counts.append(dd.requests - before)
            # Requests are counted on every repeat: a retry would make them differ.
            requests = max(counts) * factor
            seconds = float(np.median(times)) * factor
            complete = len(fetched) * factor == expected_rows
            out.append(
                {
                    "what": f"fetch, {m:,} metrics, {label}",
                    "metrics": m,
                    "way": label,
                    "requests": round(requests),
                    "requests_per_metric": requests / m,
                    "fetch_s": seconds,
                    "ms_per_metric": 1000 * seconds / m,
                    "rows_ok": complete,
                }
            )
    base = out[-1]
    for r in out:
        r["speedup_vs_naive"] = base["fetch_s"] / r["fetch_s"]
    return out


def run(quick: bool) -> list[dict[str, Any]]:
    """The source at 10, 100 and 1,000 metrics (quick: 10 and 30)."""
    logging.getLogger("canarystats").setLevel(logging.WARNING)
    if quick:
        return bench_source(10, 1)
    return [
        *bench_source(10, 3),
        *bench_source(100, 1),
        *bench_source(1_000, 1, slow_subset=100),
    ]


def table(results: list[dict[str, Any]]) -> str:
    """Markdown table of :func:`run`'s results."""
    lines = [
        "| metrics | way | HTTP requests | per metric | seconds | ms per metric | "
        "speed-up vs naive | frame complete |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['metrics']:,} | {r['way']} | {r['requests']:,} | "
            f"{r['requests_per_metric']:.2f} | {r['fetch_s']:.3g} | {r['ms_per_metric']:.3g} | "
            f"{r['speedup_vs_naive']:.2f}x | {'yes' if r['rows_ok'] else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    args = parser.parse_args(argv)
    results = run(args.quick)
    print(f"# Datadog source against FakeDatadog ({'quick' if args.quick else 'full'})")
    print(f"on {machine()}")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
