"""Deploys judged per second by ``canarystats.backtesting``, in-process and on a Dask LocalCluster.

A synthetic history of 10,000 deploys (``fixtures/generate.py``'s ``generate_history``: 4
metrics, 3 canary and 3 baseline hosts, 10 one-minute buckets each, ~2.4 million points) is
served by a :class:`~canarystats.sources.history.HistorySource` and backtested with
``examples/web-backtest.yaml``: once in this process, once on a ``LocalCluster`` of 2 worker
processes with one thread each.  The two result frames must be identical.  The obvious
alternative is measured in the same run: one ``judge`` call per deploy on that deploy's rows (on
the first ``--loop-deploys`` deploys, as a rate), which is what the batched path replaces.

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

from canarystats import judge, load_config
from canarystats.backtesting import backtest, fetch_deploys, judge_deploys, summarize
from canarystats.sources.history import HistorySource
from canarystats.stats import compiled_kernels

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


def measure(n_deploys: int, workers: int, loop_deploys: int = 1000) -> dict[str, object]:
    gen = load_generator()
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    frame, deploys = gen.generate_history(
        gen.History(n_deploys=n_deploys, n_bad=max(12, n_deploys * 6 // 100))
    )
    generated = time.perf_counter() - t0
    config = load_config(ROOT / "examples" / "web-backtest.yaml")
    source = HistorySource(frame, deploys)

    # Warm-up outside the timings: imports and compiled kernels loaded in every process (ten
    # deploys are too few to load the kernels by default).
    with compiled_kernels(True):
        backtest(config, deploys.iloc[:10], source)
    t0 = time.perf_counter()
    local = backtest(config, deploys, source)
    in_process = time.perf_counter() - t0
    # Where the in-process time goes: the batched fetch, then the batched judgment.
    t0 = time.perf_counter()
    fetched = fetch_deploys(config, deploys, source)
    fetch_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    judge_deploys(config, fetched, deploys)
    judge_s = time.perf_counter() - t0
    # The alternative: a judge() call per deploy on its own rows (selection not timed).
    ids = deploys["deploy"].iloc[:loop_deploys].tolist()
    groups = dict(tuple(fetched.groupby(fetched["deploy"].astype(str), sort=False)))
    one_by_one = [groups[d] for d in ids if d in groups]
    t0 = time.perf_counter()
    for part in one_by_one:
        judge(config, part)
    loop_s = time.perf_counter() - t0

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
        "fetch_s": fetch_s,
        "judge_s": judge_s,
        "loop_deploys": len(one_by_one),
        "loop_s": loop_s,
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
    loop_rate = int(r["loop_deploys"]) / float(r["loop_s"])  # type: ignore[call-overload, arg-type]
    fetch_s, judge_s = float(r["fetch_s"]), float(r["judge_s"])  # type: ignore[arg-type]
    return (
        "## Backtest throughput\n\n"
        f"`python benchmarks/backtest.py --n-deploys {n} --write`, {date}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs (shared with other jobs during the run).  Synthetic history of "
        f"{n:,} deploys ({points:,} points; 4 metrics, 3+3 hosts, 10 one-minute buckets), "
        "`examples/web-backtest.yaml`, default `hosts` method.\n\n"
        "| where | wall time | deploys judged per second | vs one judge() per deploy |\n"
        "|---|---|---|---|\n"
        f"| one `judge()` call per deploy (first {int(r['loop_deploys']):,} deploys, "  # type: ignore[call-overload]
        f"judging only) | {float(r['loop_s']):.1f} s | {loop_rate:,.0f} | 1.00x |\n"  # type: ignore[arg-type]
        f"| `backtest`, in-process (batched) | {ip:.1f} s | {n / ip:,.0f} "
        f"| {n / ip / loop_rate:.1f}x |\n"
        f"| `backtest`, LocalCluster, {workers} worker processes x 1 thread | {cl:.1f} s "
        f"| {n / cl:,.0f} | {n / cl / loop_rate:.1f}x |\n\n"
        "Both `backtest` runs give identical frames (checked by the script).  In-process, the "
        f"batched fetch of every deploy's rows took {fetch_s:.1f} s and the batched judgment "
        f"(`judge_runs` with the deploy id as run key: every deploy's metrics are rows of the "
        f"same statistics calls) {judge_s:.1f} s.  Speed-up of the cluster over in-process: "
        f"{ip / cl:.2f}x; each worker fetches and judges its partitions, so the fixed costs "
        "(sending the source, starting tasks) weigh against a judgment that is already batched.  "
        f"Load average (1 min) before/after the run: {r['load_before']:.1f} / "
        f"{r['load_after']:.1f} on {os.cpu_count()} CPUs.  "
        f"Judge on this history: {s['false_alarms']} false alarms in {s['good']:,} good deploys, "  # type: ignore[index]
        f"{s['caught']} of {s['bad']} bad caught.\n"  # type: ignore[index]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-deploys", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--loop-deploys", type=int, default=1000)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)
    result = measure(args.n_deploys, args.workers, args.loop_deploys)
    markdown = section(result)
    print(markdown)
    if args.write:
        write_section("backtest", markdown)
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
