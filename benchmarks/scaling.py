"""How the cost of judging grows with the number of metrics M and the points per cohort n.

Two sweeps, each timing ``judge`` end to end (the config's default method) and the statistics
kernels alone (as in ``judge_e2e.py``) on fleets from ``canarystats.testing.fleet``:

* in M at fixed n: a judge whose work is per metric should grow like M^1;
* in n at fixed M: the rank test sorts each row and the Hodges-Lehmann interval selects among
  n^2 pairwise differences in O(n log n), so time should grow like n log n.  Over a range of n
  the power law that n log n itself follows has an exponent a little above 1 (the slope of
  log(n log n) against log n); it is reported next to the fitted one.

Exponents are least-squares slopes of log time against log size.  Sizes are modest (the sweeps
run in a few minutes on a shared machine); the small sizes include fixed costs, so the fitted
exponents of the judge are lower bounds of its asymptotic growth.

Usage: ``python benchmarks/scaling.py [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from judge_e2e import HOSTS, kernels
from stats_kernels import median_time

import canarystats
from canarystats.testing.fleet import config_dict, make_fleet, tidy_frame


def power_exponent(sizes: list[int] | np.ndarray, times: list[float] | np.ndarray) -> float:
    """Least-squares slope of log(time) on log(size): b in time ~ a * size^b.

    Examples
    --------
    >>> round(power_exponent([10, 100, 1000], [2.0, 20.0, 200.0]), 6)
    1.0
    """
    x = np.log(np.asarray(sizes, dtype=np.float64))
    y = np.log(np.asarray(times, dtype=np.float64))
    return float(np.polyfit(x, y, 1)[0])


def nlogn_exponent(sizes: list[int] | np.ndarray) -> float:
    """The power-law exponent that n log n itself shows over ``sizes`` (above 1).

    Examples
    --------
    >>> 1.0 < nlogn_exponent([100, 1000]) < 1.2
    True
    """
    n = np.asarray(sizes, dtype=np.float64)
    return power_exponent(n, n * np.log(n))


def _time(m: int, n: int, repeats: int) -> tuple[float, float, str]:
    fleet = make_fleet(m, HOSTS, n // HOSTS, seed=5)
    frame = tidy_frame(fleet)
    config = canarystats.load_config(config_dict(fleet))
    method = config.judge.method
    canarystats.judge(config, frame)  # warm-up: compiles and caches outside the timing
    judge_s = median_time(lambda: canarystats.judge(config, frame), repeats)
    kern = kernels(fleet, method)
    kern()
    return judge_s, median_time(kern, max(repeats, 3)), method


def sweep(kind: str, sizes: list[int], fixed: int) -> dict[str, Any]:
    """Time judge and kernels over ``sizes`` of M (``kind="M"``) or n, the other fixed."""
    judge_s, kernels_s = [], []
    method = ""
    for size in sizes:
        m, n = (size, fixed) if kind == "M" else (fixed, size)
        repeats = 3 if m * n <= 250_000 else 1
        j, k, method = _time(m, n, repeats)
        judge_s.append(j)
        kernels_s.append(k)
    row: dict[str, Any] = {
        "what": f"time vs {kind} ({'n' if kind == 'M' else 'M'} = {fixed:,}), method {method}",
        "kind": kind,
        "fixed": fixed,
        "method": method,
        "sizes": sizes,
        "judge_s": judge_s,
        "kernels_s": kernels_s,
        "judge_exponent": power_exponent(sizes, judge_s),
        "kernels_exponent": power_exponent(sizes, kernels_s),
    }
    if kind == "n":
        row["nlogn_exponent"] = nlogn_exponent(sizes)
        # Flat if the kernels are n log n: time per n log n unit, largest over smallest.
        per = np.asarray(kernels_s) / (np.asarray(sizes) * np.log(sizes))
        row["kernels_per_nlogn_spread"] = float(per.max() / per.min())
    return row


def run(quick: bool) -> list[dict[str, Any]]:
    """Both sweeps (quick: three small sizes each)."""
    if quick:
        return [sweep("M", [100, 200, 400], 60), sweep("n", [60, 120, 240], 100)]
    return [
        sweep("M", [1_000, 2_000, 4_000, 8_000, 16_000], 100),
        sweep("n", [60, 150, 300, 600, 1_200, 2_400], 500),
    ]


def table(results: list[dict[str, Any]]) -> str:
    """Markdown: one table per sweep, then the exponents."""
    out = []
    for r in results:
        var = r["kind"]
        out.append(f"Time vs {var} ({'n' if var == 'M' else 'M'} = {r['fixed']:,}):\n")
        out.append(f"| {var} | judge (s), {r['method']} | kernels alone (s) |")
        out.append("|---|---|---|")
        for s, j, k in zip(r["sizes"], r["judge_s"], r["kernels_s"], strict=True):
            out.append(f"| {s:,} | {j:.3g} | {k:.3g} |")
        expo = (
            f"\nFitted exponent in {var}: judge **{r['judge_exponent']:.2f}**, "
            f"kernels **{r['kernels_exponent']:.2f}**"
        )
        if var == "n":
            expo += (
                f" (n log n over this range: {r['nlogn_exponent']:.2f}; kernel time per "
                f"n log n varies {r['kernels_per_nlogn_spread']:.2f}x across the range)"
            )
        else:
            expo += " (linear: 1.00)"
        out.append(expo + ".\n")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    args = parser.parse_args(argv)
    print(table(run(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
