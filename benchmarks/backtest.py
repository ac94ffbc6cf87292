"""Deploys judged per second by ``canarystats.backtesting``, in-process and on a Dask LocalCluster.

A synthetic history of 10,000 deploys (``fixtures/generate.py``'s ``generate_history``: 4
metrics, 3 canary and 3 baseline hosts, 10 one-minute buckets each, ~2.4 million points) is
served by a :class:`~canarystats.sources.history.HistorySource` and backtested with
``examples/web-backtest.yaml``: once in this process, once on a ``LocalCluster`` of 2 worker
processes with one thread each.  The two result frames must be identical.

``python benchmarks/backtest.py [--n-deploys N] [--write]``; ``--write`` replaces the section
between ``<!-- backtest:start -->`` and ``<!-- backtest:end -->`` of ``benchmarks/RESULTS.md``.
The machine may be shared: the two figures measured in the same run are what to compare.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from canarystats import load_config
from canarystats.backtesting import backtest, summarize
from canarystats.sources.history import HistorySource

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import RESULTS, write_section

ROOT = Path(__file__).resolve().parents[1]


def load_generator():  # type: ignore[no-untyped-def]
    """``fixtures/generate.py`` as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location(
        "fixtures_generate", ROOT / "fixtures" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fixtures_generate"] = module  # registered first: dataclasses look it up
    spec.loader.exec_module(module)
    return module


def measure(n_deploys: int, workers: int) -> dict[str, object]:
    gen = load_generator()
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    frame, deploys = gen.generate_history(
        gen.History(n_deploys=n_deploys, n_bad=max(12, n_deploys * 6 // 100))
    )
    generated = time.perf_counter() - t0
    config = load_config(ROOT / "examples" / "web-backtest.yaml")
    source = HistorySource(frame, deploys)

    # Warm-up outside the timings: imports and compiled kernels loaded in every process.
    backtest(config, deploys.iloc[:10], source)
    t0 = time.perf_counter()
    local = backtest(config, deploys, source)
    in_process = time.perf_counter() - t0

    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        backtest(config, deploys.iloc[:20], source, client=client, partitions=2)
        t0 = time.perf_counter()
        remote = backtest(config, deploys, source, client=client)
        on_cluster = time.perf_counter() - t0
    pd.testing.assert_frame_equal(local, remote)
    return {
        "n_deploys": n_deploys,
        "points": len(frame),
        "generated_s": generated,
        "in_process_s": in_process,
        "cluster_s": on_cluster,
        "workers": workers,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "summary": summarize(local),
    }


def section(r: dict[str, object]) -> str:
    n = int(r["n_deploys"])  # type: ignore[call-overload]
    ip, cl = float(r["in_process_s"]), float(r["cluster_s"])  # type: ignore[arg-type]
    s = r["summary"]
    points = int(r["points"])  # type: ignore[call-overload]
    workers = r["workers"]
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    return (
        "## Backtest throughput\n\n"
        f"`python benchmarks/backtest.py --n-deploys {n} --write`, {date}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs (shared with other jobs during the run).  Synthetic history of "
        f"{n:,} deploys ({points:,} points; 4 metrics, 3+3 hosts, 10 one-minute buckets), "
        "`examples/web-backtest.yaml`, default `hosts` method.\n\n"
        "| where | wall time | deploys judged per second |\n|---|---|---|\n"
        f"| in-process | {ip:.1f} s | {n / ip:,.0f} |\n"
        f"| LocalCluster, {workers} worker processes x 1 thread | {cl:.1f} s "
        f"| {n / cl:,.0f} |\n\n"
        "Both runs give identical frames (checked by the script).  Each deploy is one `judge` "
        f"call (its metrics in one batched statistics call), {1000 * ip / n:.1f} ms a deploy "
        "in-process, "
        "about half of it in `align_hosts` (pandas work per call, by cProfile), so throughput "
        "comes from running deploys in parallel, not from "
        f"batch size.  Speed-up of the cluster: {ip / cl:.2f}x.  Load average (1 min) before/after "
        f"the run: {r['load_before']:.1f} / {r['load_after']:.1f} on {os.cpu_count()} CPUs: other "
        "jobs shared the CPUs, so the two workers had less than two free cores and the speed-up "
        "is a floor, not Dask's scaling on an idle machine.  "
        f"Judge on this history: {s['false_alarms']} false alarms in {s['good']:,} good deploys, "  # type: ignore[index]
        f"{s['caught']} of {s['bad']} bad caught.\n"  # type: ignore[index]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-deploys", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)
    result = measure(args.n_deploys, args.workers)
    markdown = section(result)
    print(markdown)
    if args.write:
        write_section("backtest", markdown)
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
