"""Start-up: how long ``canarystats judge`` takes on a small input, against importing its stack.

A deploy pipeline runs the command once per canary, and most canaries have a handful of
metrics, so on a small input the wall time is nearly all start-up: importing Python modules and
loading what the judgment needs.  The floor is the statistics stack itself, measured in the same
run as ``python -c "import pandas, scipy.stats"``; the target is a judge within 1.5x of it.

Each repeat runs, one after the other in fresh processes of this interpreter (the venv's):

* ``judge`` -- ``canarystats judge examples/web.yaml --data fixtures/seed-incident.csv
  --soft-fail`` (7 metrics, offline, text report);
* ``import`` -- ``python -c "import pandas, scipy.stats"``;
* ``help`` -- ``canarystats --help`` (argument parsing alone).

The commands alternate, so a load spike from other work on a shared machine falls on all of
them alike, and a first run of each (not counted) warms the file cache.  Reported: the median
of each and ``judge / import``.

Usage: ``python benchmarks/startup.py [--quick] [--repeats N] [--write]`` (7 repeats, quick 2;
``--write`` replaces the ``startup`` section of ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_md import RESULTS, write_section
from stats_kernels import machine

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 7
QUICK_REPEATS = 2
#: the target: judging the fixture within this factor of importing pandas and scipy.stats
TARGET_RATIO = 1.5
JUDGE_ARGS = (
    "judge",
    "examples/web.yaml",
    "--data",
    "fixtures/seed-incident.csv",
    "--soft-fail",
)
TITLE = "Start-up of a small judgment"
INTRO = (
    "`benchmarks/startup.py`: wall time of `canarystats judge examples/web.yaml --data "
    "fixtures/seed-incident.csv --soft-fail` (7 metrics, offline, text report) against "
    '`python -c "import pandas, scipy.stats"` and `canarystats --help`, fresh processes of '
    "the venv's interpreter, alternating, medians of the repeats after one warm-up run each.  "
    f"Target: judge / import <= {TARGET_RATIO}.  Before the command stopped loading numba, the "
    "Datadog client and the sequential module for such a judgment (2026-12-03 14:13 UTC, same "
    "script and machine): judge 2.68 s, import 1.57 s, 1.70x."
)


def canarystats_command() -> list[str]:
    """The ``canarystats`` console script run by this interpreter (``-m canarystats`` without).

    The script sits beside the interpreter in a venv; running it with ``sys.executable`` keeps
    the interpreter the one measured whatever ``PATH`` says.
    """
    script = Path(sys.executable).parent / "canarystats"
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "canarystats"]


def commands() -> dict[str, list[str]]:
    """What each repeat runs, by name."""
    cli = canarystats_command()
    return {
        "judge": [*cli, *JUDGE_ARGS],
        "import": [sys.executable, "-c", "import pandas, scipy.stats"],
        "help": [*cli, "--help"],
    }


def wall_time(command: list[str]) -> tuple[float, int]:
    """Seconds one run of ``command`` takes from the repository root, and its exit code."""
    t0 = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - t0, proc.returncode


def run(quick: bool, repeats: int | None = None) -> list[dict[str, Any]]:
    """Median wall times of each command and the ratio of judge to import (one result)."""
    n = repeats if repeats is not None else (QUICK_REPEATS if quick else REPEATS)
    load_before = os.getloadavg()[0]
    todo = commands()
    times: dict[str, list[float]] = {name: [] for name in todo}
    codes: dict[str, int] = {}
    for name, command in todo.items():  # warm-up: file cache, bytecode
        _, codes[name] = wall_time(command)
    for _ in range(n):
        for name, command in todo.items():
            seconds, code = wall_time(command)
            times[name].append(seconds)
            codes[name] = code or codes[name]
    result: dict[str, Any] = {
        "what": "judge the 7-metric fixture",
        "repeats": n,
        "machine": machine(),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
    for name, values in times.items():
        result[f"{name}_s"] = statistics.median(values)
        result[f"{name}_min_s"] = min(values)
    result["ratio"] = result["judge_s"] / result["import_s"]
    failed = {name: code for name, code in codes.items() if code != 0}
    if failed:
        result["error"] = f"exit codes {failed}"
    return [result]


def table(results: list[dict[str, Any]]) -> str:
    """Markdown table of :func:`run`'s results."""
    lines = [
        "| command | median (s) | fastest (s) | vs import |",
        "|---|---|---|---|",
    ]
    for r in results:
        for name, label in (
            ("judge", "`canarystats judge` (7 metrics, offline)"),
            ("import", '`python -c "import pandas, scipy.stats"`'),
            ("help", "`canarystats --help`"),
        ):
            lines.append(
                f"| {label} | {r[f'{name}_s']:.2f} | {r[f'{name}_min_s']:.2f} | "
                f"{r[f'{name}_s'] / r['import_s']:.2f}x |"
            )
        verdict = "within" if r["ratio"] <= TARGET_RATIO else "NOT within"
        lines.append("")
        lines.append(
            f"judge / import = {r['ratio']:.2f} over {r['repeats']} repeats "
            f"({verdict} the {TARGET_RATIO}x target)"
        )
        lines.append(
            f"On {r['machine']}; load average (1 min) before/after: "
            f"{r['load_before']:.1f} / {r['load_after']:.1f} (the machine is shared: compare the "
            "ratio, measured in the same run, rather than seconds across runs)."
        )
        if "error" in r:
            lines.append(f"error: {r['error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_REPEATS} repeats")
    parser.add_argument(
        "--repeats", type=int, metavar="N", help=f"repeats of each command (default {REPEATS})"
    )
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="the file --write updates (a copy, in tests)"
    )
    args = parser.parse_args(argv)
    results = run(args.quick, args.repeats)
    print(f"# start-up ({'quick' if args.quick else 'full'})")
    print(f"# {machine()}")
    rendered = table(results)
    print(rendered)
    if args.write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        command = "python benchmarks/startup.py" + (" --quick" if args.quick else "")
        when = f"_Measured {stamp} by `{command} --write`._"
        write_section("startup", f"## {TITLE}\n\n{INTRO}\n\n{when}\n\n{rendered}", args.results)
        print(f"# wrote {args.results}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
