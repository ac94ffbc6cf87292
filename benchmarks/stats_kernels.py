"""Benchmark of the statistics kernels against the obvious alternatives, in one run.

(a) Mann-Whitney U and p-value of M metrics at n points per cohort: ``canarystats.stats.
    mann_whitney(conf_int=False)`` against ``scipy.stats.mannwhitneyu(axis=1,
    method="asymptotic")`` and against ``np.sort`` of the same data (the floor: any rank test
    has to order the values).
(b) Hodges-Lehmann estimate with its 95% interval at n = 1,000: canarystats (compiled selection
    when numba is installed, and the plain numpy path) against materialising all n^2 pairwise
    differences and partitioning them (measured on a subset of rows, reported per row).
(c) Effect sizes (mean ratio, CLES) and descriptive statistics.
(d) Peak memory of (a)/(b) over the input arrays, measured in a fresh subprocess.

Times are medians over repeats; the machine is shared, so ratios measured in the same run are
what to compare.  ``python benchmarks/stats_kernels.py --quick`` finishes in well under a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.stats

from canarystats.stats import (
    cles,
    compiled_enabled,
    compiled_kernels,
    describe,
    mann_whitney,
    mean_ratio,
)


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def metric_data(m: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Latency-like data: log-normal, a shifted canary on every tenth metric."""
    rng = np.random.default_rng(seed)
    canary = rng.lognormal(3.0, 0.4, size=(m, n))
    baseline = rng.lognormal(3.0, 0.4, size=(m, n))
    canary[::10] *= 1.05
    return canary, baseline


def bench_u_p(m: int, n: int, repeats: int) -> dict[str, Any]:
    c, b = metric_data(m, n)
    both = np.concatenate([c, b], axis=1)
    with compiled_kernels(True):  # load the kernel outside the timing
        mann_whitney(c[:2], b[:2], conf_int=False)
    ours = median_time(lambda: mann_whitney(c, b, conf_int=False), repeats)
    with compiled_kernels(False):
        numpy_path = median_time(lambda: mann_whitney(c, b, conf_int=False), repeats)
    floor = median_time(lambda: np.sort(both, axis=1), repeats)
    sp = median_time(
        lambda: scipy.stats.mannwhitneyu(c, b, axis=1, method="asymptotic"), max(1, repeats // 2)
    )
    return {
        "what": f"U + p, M={m:,}, n={n}",
        "canarystats_s": ours,
        "compiled_kernel": compiled_enabled(),
        "numpy_path_s": numpy_path,
        "scipy_s": sp,
        "np_sort_floor_s": floor,
        "speedup_vs_scipy": sp / ours,
        "ratio_to_floor": ours / floor,
        "numpy_path_speedup_vs_scipy": sp / numpy_path,
        "numpy_path_ratio_to_floor": numpy_path / floor,
    }


def bench_hl(m: int, n: int, subset: int, repeats: int) -> dict[str, Any]:
    c, b = metric_data(m, n, seed=1)
    with compiled_kernels(True):  # load the kernel outside the timing
        mann_whitney(c[:2], b[:2])
    compiled = median_time(lambda: mann_whitney(c, b, confidence=0.95), repeats)
    with compiled_kernels(False):
        rows = min(m, max(subset * 5, 200))
        numpy_path = median_time(lambda: mann_whitney(c[:rows], b[:rows]), 1) / rows * m
    n_pairs = n * n
    lo, mid = int(n_pairs * 0.0236), n_pairs // 2  # where a 95% bound falls at this n

    def all_pairs() -> None:
        for i in range(subset):
            d = np.subtract.outer(c[i], b[i]).ravel()
            np.partition(d, [lo, mid - 1, mid, n_pairs - lo])

    per_row_pairs = median_time(all_pairs, repeats) / subset
    return {
        "what": f"HL estimate + 95% CI, M={m:,}, n={n}",
        "canarystats_s": compiled,
        "compiled_kernel": compiled_enabled(),
        "numpy_path_s": numpy_path,
        "all_pairs_s": per_row_pairs * m,
        "speedup_vs_all_pairs": per_row_pairs * m / compiled,
        "numpy_path_speedup_vs_all_pairs": per_row_pairs * m / numpy_path,
        "compiled_over_numpy": numpy_path / compiled,
    }


def bench_effects(m: int, n: int, repeats: int) -> dict[str, Any]:
    c, b = metric_data(m, n, seed=2)
    ours = median_time(lambda: (mean_ratio(c, b), cles(c, b), describe(c), describe(b)), repeats)
    sp = median_time(
        lambda: (
            c.mean(axis=1) / b.mean(axis=1),
            scipy.stats.mannwhitneyu(c, b, axis=1, method="asymptotic").statistic / (n * n),
            scipy.stats.describe(c, axis=1),
            np.percentile(c, [50, 95, 99], axis=1),
            scipy.stats.describe(b, axis=1),
            np.percentile(b, [50, 95, 99], axis=1),
        ),
        repeats,
    )
    return {
        "what": f"effect sizes + describe, M={m:,}, n={n}",
        "canarystats_s": ours,
        "scipy_numpy_s": sp,
        "speedup": sp / ours,
    }


_MEMORY_CHILD = """
import sys, tracemalloc, numpy as np
from canarystats.stats import mann_whitney
m, n, ci = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
rng = np.random.default_rng(0)
c = rng.lognormal(3.0, 0.4, size=(m, n)); b = rng.lognormal(3.0, 0.4, size=(m, n))
mann_whitney(c[:2], b[:2])
# numpy reports its allocations to tracemalloc: the peak is what the call added on top of
# its inputs, temporaries and results included.
tracemalloc.start()
mann_whitney(c, b, conf_int=ci)
_, peak = tracemalloc.get_traced_memory()
print(peak, c.nbytes + b.nbytes)
"""


def bench_memory(m: int, n: int, conf_int: bool) -> dict[str, Any]:
    """Peak memory one call allocates, over the bytes of the two input arrays (fresh process)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(m), str(n), "1" if conf_int else "0"],
        capture_output=True,
        text=True,
        check=True,
    )
    extra, inputs = (int(v) for v in out.stdout.split())
    return {
        "what": f"peak memory, M={m:,}, n={n}, {'with' if conf_int else 'without'} interval",
        "input_MB": inputs / 2**20,
        "extra_peak_MB": extra / 2**20,
        "extra_over_input": extra / inputs,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"
    )


def run(quick: bool) -> list[dict[str, Any]]:
    if quick:
        return [
            bench_u_p(2_000, 300, 3),
            bench_hl(200, 1_000, 20, 1),
            bench_effects(2_000, 300, 3),
        ]
    return [
        bench_u_p(100_000, 300, 3),
        bench_hl(100_000, 1_000, 100, 1),
        bench_effects(100_000, 300, 3),
        bench_memory(100_000, 300, False),
        bench_memory(100_000, 300, True),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, well under a minute")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    results = run(args.quick)
    if args.json:
        print(json.dumps({"machine": machine(), "results": results}, indent=2))
    else:
        print(f"# stats kernels ({'quick' if args.quick else 'full'}) on {machine()}")
        for r in results:
            items = ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in r.items()
                if k != "what"
            )
            print(f"- {r['what']}: {items}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
