"""Peak memory (RSS) of judging a large fleet in one call, in a fresh process.

The child process generates M metrics x 2 cohorts x n points (5 hosts per cohort), builds the
tidy frame, frees the arrays, and judges the frame once.  Reported against the bytes of the input
arrays (M x 2 x n float64 values, what the statistics need):

* ``judge_extra_over_input`` -- peak RSS during ``judge`` minus RSS just before it (the frame
  already built), over the input arrays: what judging costs on top of its input.  Target: < 3x.
  The peak is the kernel's high-water mark (``VmHWM``, reset just before the call through
  ``/proc/self/clear_refs``), so short spikes inside one numpy or pandas call count; a thread
  also samples RSS every 5 ms and stops the child past a cap (8 GiB, or 40% of the available
  memory), reporting how far it got.
* ``frame_over_input`` -- the tidy frame's own size over the arrays: the price of the tidy
  interchange format, paid before the judge runs.
* ``kernels_extra_over_input`` -- the same measurement for the statistics kernels alone on the
  arrays (another fresh process), the floor the judge could reach.

Usage: ``python benchmarks/memory.py [--quick]`` (quick: 1,000 metrics).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from judge_e2e import available_memory

HERE = Path(__file__).resolve().parent
HOSTS = 5

_CHILD = r"""
import gc, json, os, resource, sys, threading, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import canarystats
from canarystats.stats import compiled_kernels
from canarystats.testing.fleet import config_dict, make_fleet, tidy_frame
from judge_e2e import kernels

mode, m, n, method = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] or None
HOSTS, CAP = int(sys.argv[6]), int(sys.argv[7])
stage = "start"
out = {}

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()

class Peak:
    # Samples RSS all along; past CAP bytes it reports and ends the process, so a judge that
    # needs far more memory than the machine can spare fails alone instead of swapping others.
    def __init__(self):
        self.peak, self.stop = rss(), False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
    def run(self):
        while not self.stop:
            now = rss()
            self.peak = max(self.peak, now)
            if now > CAP:
                out.update(aborted=stage, rss_at_abort=now)
                print(json.dumps(out), flush=True)
                os._exit(3)
            time.sleep(0.005)
    def reset(self):
        self.peak = rss()
    def finish(self):
        self.stop = True
        self.thread.join()
        return max(self.peak, rss())

peak = Peak()
stage = "warm-up"
small = make_fleet(6, HOSTS, n // HOSTS, seed=99)
with compiled_kernels(True):  # too small to load the kernels by default
    canarystats.judge(canarystats.load_config(config_dict(small, method)), tidy_frame(small))
stage = "generating the fleet"
fleet = make_fleet(m, HOSTS, n // HOSTS)
inputs = fleet.nbytes
out["input_bytes"] = inputs
if mode == "judge":
    config = canarystats.load_config(config_dict(fleet, method))
    out["method"] = config.judge.method
    stage = "building the tidy frame"
    frame = tidy_frame(fleet)
    out["frame_bytes"] = int(frame.memory_usage(deep=True).sum())
    del fleet
    gc.collect()
    stage = "judging"
    run = lambda: canarystats.judge(config, frame)
else:
    stage = "kernels"
    run = kernels(fleet, method or "kayenta")
    gc.collect()
def high_water():
    # VmHWM: the kernel's exact peak RSS, including spikes inside one C call (which hold the
    # GIL, so the sampling thread cannot see them).
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0

try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # resets VmHWM to the current RSS
    exact = True
except OSError:
    exact = False
before = rss()
out["rss_before"] = before
peak.reset()
t0 = time.perf_counter()
result = run()
out["seconds"] = time.perf_counter() - t0
top = peak.finish()
out["peak_exact"] = exact
out["peak_extra"] = (max(top, high_water()) if exact else top) - before
out["max_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(out))
"""


def memory_cap() -> int:
    """Bytes a child may hold: 8 GiB, or 40% of the memory available now if less."""
    return min(8 * 2**30, int(0.4 * available_memory()))


def measure(
    mode: str, m: int, n: int, method: str | None, cap: int | None = None
) -> dict[str, Any]:
    """Run the child in ``mode`` ("judge" or "kernels") and return its JSON."""
    cap = cap or memory_cap()
    args = [str(HERE), mode, str(m), str(n), method or "", str(HOSTS), str(cap)]
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
    )
    if proc.returncode == 3 and proc.stdout.strip():
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]), cap=cap)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        return {"error": tail[0]}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def bench_memory(
    m: int, n: int, method: str | None = None, cap: int | None = None
) -> dict[str, Any]:
    """Judge and kernels at M x 2 x n, each in a fresh process; sizes in MiB and ratios.

    ``cap`` (bytes of RSS, default :func:`memory_cap`) stops a child that grows past it.
    """
    judged = measure("judge", m, n, method, cap)
    label = judged.get("method", method or "default")
    row: dict[str, Any] = {"what": f"peak memory, M={m:,} x 2 x n={n}, method {label}"}
    if "error" in judged:
        row["error"] = judged["error"]
        return row
    kern = measure("kernels", m, n, judged.get("method"), cap)
    mib = 2**20
    inputs = judged["input_bytes"]
    if "aborted" in judged:
        # Stopped at the cap: what it had reached is a lower bound of what it needed.
        reached = judged["rss_at_abort"] - judged["rss_before"] if "rss_before" in judged else 0
        row.update(
            {
                "metrics": m,
                "n": n,
                "method": label,
                "input_MiB": inputs / mib,
                "aborted": f"stopped while {judged['aborted']} at the cap of "
                f"{judged['cap'] / 2**30:.1f} GiB RSS",
                "judge_extra_MiB_at_least": reached / mib,
                "judge_extra_over_input_at_least": reached / inputs,
                # Unknown when the cap was hit before the judge started.
                "under_3x": False if reached >= 3 * inputs else None,
            }
        )
        if "frame_bytes" in judged:
            row["frame_MiB"] = judged["frame_bytes"] / mib
            row["frame_over_input"] = judged["frame_bytes"] / inputs
        return _add_kernels(row, kern, inputs)
    row.update(
        {
            "metrics": m,
            "n": n,
            "method": label,
            "input_MiB": inputs / mib,
            "frame_MiB": judged["frame_bytes"] / mib,
            "frame_over_input": judged["frame_bytes"] / inputs,
            "judge_extra_MiB": judged["peak_extra"] / mib,
            "judge_extra_over_input": judged["peak_extra"] / inputs,
            "judge_process_peak_MiB": judged["max_rss"] / mib,
            "judge_s": judged["seconds"],
            "under_3x": judged["peak_extra"] < 3 * inputs,
        }
    )
    return _add_kernels(row, kern, inputs)


def _add_kernels(row: dict[str, Any], kern: dict[str, Any], inputs: int) -> dict[str, Any]:
    if "error" in kern or "aborted" in kern:
        row["kernels_error"] = kern.get("error") or f"stopped at the cap while {kern['aborted']}"
    else:
        row["kernels_extra_MiB"] = kern["peak_extra"] / 2**20
        row["kernels_extra_over_input"] = kern["peak_extra"] / inputs
    return row


def run(quick: bool) -> list[dict[str, Any]]:
    """10,000 and 100,000 metrics x 2 x 300 points (quick: 1,000)."""
    if quick:
        return [bench_memory(1_000, 300)]
    return [bench_memory(10_000, 300), bench_memory(100_000, 300)]


def table(results: list[dict[str, Any]]) -> str:
    """Markdown table of :func:`run`'s results."""
    lines = [
        "| M x 2 x n | method | input arrays | tidy frame | judge: extra peak | "
        "judge extra / input | kernels alone: extra / input | judge process peak | "
        "judge (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['what']} | error: {r['error']} | | | | | | | |")
            continue
        kern = (
            f"{r['kernels_extra_over_input']:.2f}x"
            if "kernels_extra_over_input" in r
            else r.get("kernels_error", "")
        )
        if "aborted" in r:
            frame = (
                f"{r['frame_MiB']:,.0f} MiB ({r['frame_over_input']:.1f}x)"
                if "frame_MiB" in r
                else "not built"
            )
            lines.append(
                f"| {r['metrics']:,} x 2 x {r['n']} | {r['method']} | {r['input_MiB']:,.0f} MiB"
                f" | {frame} | > {r['judge_extra_MiB_at_least']:,.0f} MiB ({r['aborted']}) | "
                f"**> {r['judge_extra_over_input_at_least']:.2f}x** | {kern} | | |"
            )
            continue
        lines.append(
            f"| {r['metrics']:,} x 2 x {r['n']} | {r['method']} | {r['input_MiB']:,.0f} MiB | "
            f"{r['frame_MiB']:,.0f} MiB ({r['frame_over_input']:.1f}x) | "
            f"{r['judge_extra_MiB']:,.0f} MiB | **{r['judge_extra_over_input']:.2f}x** | {kern} | "
            f"{r['judge_process_peak_MiB']:,.0f} MiB | {r['judge_s']:.3g} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 metrics, a few seconds")
    args = parser.parse_args(argv)
    results = run(args.quick)
    print(table(results))
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
