"""Run every benchmark and, with ``--write``, put the figures into ``benchmarks/RESULTS.md``.

``python benchmarks/run.py [--quick] [--write [--results FILE]] [--only NAME,...]`` runs, in order,

* ``kernels`` -- ``stats_kernels.py``: the statistics kernels against scipy and the sort floor;
* ``judge`` -- ``judge_e2e.py``: ``judge`` end to end against the kernels alone;
* ``source`` -- ``source_fetch.py``: the Datadog source against ``FakeDatadog``;
* ``memory`` -- ``memory.py``: peak RSS of judging 100,000 metrics in one call;
* ``scaling`` -- ``scaling.py``: time against M and n, with fitted exponents;
* ``startup`` -- ``startup.py``: ``canarystats judge`` on the 7-metric fixture against importing
  pandas and scipy.stats, in fresh processes.

``--quick`` runs small sizes of each (well under a minute; CI runs it) and asserts nothing about
time: a benchmark that fails to *run* (an exception, a judge method that errors) makes the exit
code 1.  ``--write`` replaces, in ``RESULTS.md``, only the sections between
``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` of the benchmarks that ran (plus ``run``, the
machine, date and command), leaving other sections (such as ``quality``) alone; a full run also
(every benchmark) also adds a line of headline figures to the ``history`` section, so
regressions show.  ``--results`` writes another file than ``RESULTS.md`` (the tests write a copy).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import judge_e2e
import memory
import scaling
import source_fetch
import startup
import stats_kernels
from results_md import replace_section, section

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HISTORY_KEEP = 12

Results = list[dict[str, Any]]


def bullets(results: Results) -> str:
    """One bullet per result, ``key=value`` (the format ``stats_kernels.py`` prints)."""
    lines = []
    for r in results:
        items = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in r.items()
            if k != "what"
        )
        lines.append(f"- {r['what']}: {items}")
    return "\n".join(lines)


#: name -> (title, run, render, what the section says besides the table)
BENCHMARKS: dict[str, tuple[str, Callable[[bool], Results], Callable[[Results], str], str]] = {
    "kernels": (
        "Statistics kernels",
        stats_kernels.run,
        bullets,
        "`benchmarks/stats_kernels.py`: canarystats against scipy, the all-pairs Hodges-Lehmann "
        "and the `np.sort` floor (medians over repeats; ratios measured in the same run).",
    ),
    "judge": (
        "The judge end to end",
        judge_e2e.run,
        judge_e2e.table,
        "`benchmarks/judge_e2e.py`: `judge(config, frame)` on a tidy frame of M metrics x 2 "
        "cohorts x n points (5 hosts per cohort) against the statistics kernels alone on the same "
        "values as arrays.  Overhead = judge / kernels - 1 (target < 25%); target 10,000 metrics "
        "x n = 300 in < 5 s.  Frames over 25 M rows are not built.",
    ),
    "source": (
        "The Datadog source",
        source_fetch.run,
        source_fetch.table,
        "`benchmarks/source_fetch.py`: `DatadogSource` (the official client) against "
        "`FakeDatadog` on loopback, 5 hosts x 30 one-minute points per cohort per metric.  "
        "Target: at most one request per metric.  Seconds include the fake server's own work.",
    ),
    "memory": (
        "Peak memory",
        memory.run,
        memory.table,
        "`benchmarks/memory.py`: fresh processes.  Extra peak = the kernel's RSS high-water mark "
        "during the call (`VmHWM`, reset just before it) minus RSS just before it (tidy frame "
        "already built); input = the M x 2 x n float64 values.  Target: judge extra < 3x input.  "
        "A child past 8 GiB (or 40% of available memory) is stopped: its figure is a lower bound.",
    ),
    "scaling": (
        "How time grows",
        scaling.run,
        scaling.table,
        "`benchmarks/scaling.py`: least-squares exponents of log time on log size.",
    ),
    "startup": (startup.TITLE, startup.run, startup.table, startup.INTRO),
}


def headline(results: dict[str, Results], stamp: str) -> str:
    """One history line: the figures to watch for regressions."""
    parts = [stamp]
    for r in results.get("judge", []):
        if r.get("metrics") == 10_000 and r.get("n") == 300:
            parts.append(
                f"judge 10k x 300 {r['method']}: {r['judge_s']:.2f} s "
                f"(overhead {r['overhead']:+.0%})"
            )
    for r in results.get("memory", []):
        size = f"memory {r.get('metrics', 0):,} x 2 x {r.get('n', 0)}"
        if "judge_extra_over_input" in r:
            parts.append(f"{size}: {r['judge_extra_over_input']:.2f}x input")
        elif r.get("judge_extra_over_input_at_least"):
            parts.append(f"{size}: > {r['judge_extra_over_input_at_least']:.2f}x input (capped)")
    for r in results.get("source", []):
        if r.get("metrics") == 1_000 and r.get("way", "").startswith("v2"):
            parts.append(f"fetch 1,000 metrics: {r['requests']} requests, {r['fetch_s']:.1f} s")
    for r in results.get("scaling", []):
        parts.append(f"exponent in {r['kind']}: judge {r['judge_exponent']:.2f}")
    for r in results.get("kernels", []):
        if "speedup_vs_scipy" in r:
            parts.append(f"{r['what']}: {r['canarystats_s']:.3g} s")
    for r in results.get("startup", []):
        parts.append(f"judge the fixture: {r['judge_s']:.2f} s, {r['ratio']:.2f}x the imports")
    return "- " + "; ".join(parts)


def write(
    results: dict[str, Results], quick: bool, command: str, seconds: float, path: Path = RESULTS
) -> None:
    """Replace the sections of the benchmarks that ran, the run header and the history."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%d %H:%M UTC")
    head = (
        "## Latest run\n\n"
        f"- command: `{command}`{' (quick sizes: not for comparison)' if quick else ''}\n"
        f"- date: {stamp}; took {seconds:.0f} s\n"
        f"- machine: {stats_kernels.machine()} (shared with other work while measured: compare "
        "ratios from one run, not absolute seconds across runs)\n"
        f"- sections written: {', '.join(results)}"
    )
    text = replace_section(text, "run", head)
    for name, res in results.items():
        title, _, render, intro = BENCHMARKS[name]
        when = f"_Measured {stamp} by `{command}`._"
        text = replace_section(text, name, f"## {title}\n\n{intro}\n\n{when}\n\n{render(res)}")
    if not quick and set(results) == set(BENCHMARKS):
        old = section("history", text) or ""
        entries = [line for line in old.splitlines() if line.startswith("- ")]
        entries = [headline(results, stamp), *entries][:HISTORY_KEEP]
        text = replace_section(
            text,
            "history",
            "## History\n\nHeadline figures of full runs, newest first (same shared machine "
            "unless the machine line says otherwise).\n\n" + "\n".join(entries),
        )
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, well under a minute")
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="the file --write updates (a copy, in tests)"
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of {', '.join(BENCHMARKS)}"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"--only: unknown benchmark {unknown[0]!r}; use {', '.join(BENCHMARKS)}")
    print(f"# canarystats benchmarks ({'quick' if args.quick else 'full'})")
    print(f"# {stats_kernels.machine()}")
    t0 = time.perf_counter()
    results: dict[str, Results] = {}
    failed = False
    for name in names:
        title, bench, render, _ = BENCHMARKS[name]
        t1 = time.perf_counter()
        res = bench(args.quick)
        results[name] = res
        failed |= any("error" in r or "kernels_error" in r for r in res)
        print(f"\n## {title} ({time.perf_counter() - t1:.0f} s)\n\n{render(res)}", flush=True)
    seconds = time.perf_counter() - t0
    print(f"\n# done in {seconds:.0f} s")
    if args.write:
        command = "python benchmarks/run.py" + (" --quick" if args.quick else "")
        if args.only:
            command += f" --only {','.join(names)}"
        write(results, args.quick, command + " --write", seconds, args.results)
        print(f"# wrote {args.results}")
    if failed:
        print("# some benchmark failed to run (see 'error' above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
