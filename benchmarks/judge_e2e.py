"""``canarystats.judge`` end to end against the statistics kernels alone, on the same fleet.

For M metrics with n points per cohort (5 hosts per cohort, n / 5 points per host, see
``canarystats.testing.fleet``) the tidy frame is built once (not timed), then

* **judge** -- ``judge(config, frame)``: validation, alignment of the tidy frame into arrays,
  preprocessing, the statistics, classification, scoring and the per-metric results;
* **kernels** -- the batched calls the judge's maths needs, on arrays already in memory:
  ``mann_whitney`` (normal approximation; the 98% interval only for ``kayenta``, as the hosts
  method reports none) + ``mean_ratio`` + ``cles`` + ``describe`` of both cohorts, and, when the
  method is host-aware, ``host_test`` over the
  ``(metric, host, time)`` cubes, ``count_rate_test`` of the counters and the Holm adjustment.

The judge's overhead over its maths is ``judge / kernels - 1`` (target: under 25%).  Both the
config's default method and ``judge: {method: kayenta}`` are measured; each row is labelled with
the method ``judge()`` reports.  Sizes whose tidy frame would exceed ``MAX_ROWS`` rows are
skipped (``memory.py`` judges 100,000 metrics x 300 points once, in its own process).

``--profile`` prints where one judge call of 10,000 metrics x 300 points spends its time.
Usage: ``python benchmarks/judge_e2e.py [--quick] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from stats_kernels import machine, median_time

import canarystats
from canarystats import stats
from canarystats.stats.counts import count_rate_test
from canarystats.stats.hosts import host_test
from canarystats.stats.multiplicity import adjust_p_values
from canarystats.testing.fleet import KINDS, Fleet, config_dict, make_fleet, tidy_frame

HOSTS = 5
#: largest tidy frame built (rows); 2 x 100k x 300 points would need several GB
MAX_ROWS = 25_000_000
#: memory a judgment needs per frame row, frame included (memory.py measured ~250 B extra)
BYTES_PER_ROW = 400
TARGET_S = 5.0
TARGET_OVERHEAD = 0.25
METHODS = (None, "kayenta")  # None: whatever the config's default is


def kernels(fleet: Fleet, method: str) -> Callable[[], Any]:
    """The batched statistics ``judge`` computes for ``method``, on the fleet's arrays."""
    canary, baseline = fleet.pooled()
    host_aware = method != "kayenta"
    counters = np.flatnonzero(fleet.kinds == KINDS.index("counter"))

    def run() -> Any:
        out = [
            # The hosts method reports no pooled interval, so the judge does not compute it.
            stats.mann_whitney(
                canary,
                baseline,
                exact=False,
                continuity=True,
                confidence=0.98,
                conf_int=not host_aware,
            ),
            stats.mean_ratio(canary, baseline),
            stats.cles(canary, baseline),
            stats.describe(canary, (50.0, 95.0, 99.0)),
            stats.describe(baseline, (50.0, 95.0, 99.0)),
        ]
        if host_aware:
            hosts = host_test(fleet.canary, fleet.baseline)
            counts = count_rate_test(fleet.canary[counters], fleet.baseline[counters])
            p = np.array(hosts.p_value, dtype=np.float64, copy=True)
            p[counters] = counts.p_value
            out += [hosts, counts, adjust_p_values(p, "holm")]
        return out

    return run


def available_memory() -> int:
    """Bytes the kernel reports available now (MemAvailable), or 8 GiB when unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


def _warm_up(method: str | None, n: int) -> None:
    # A tiny fleet compiles the numba kernels (and fills caches) outside the timing; it is too
    # small to load them by default, so it asks for them.
    small = make_fleet(6, HOSTS, n // HOSTS, seed=99)
    with stats.compiled_kernels(True):
        canarystats.judge(canarystats.load_config(config_dict(small, method)), tidy_frame(small))


def _repeats(rows: int, quick: bool) -> int:
    if quick:
        return 1
    return 3 if rows <= 6_000_000 else 1


def bench_judge(m: int, n: int, *, quick: bool = False, seed: int = 0) -> list[dict[str, Any]]:
    """Judge and kernels at M = ``m``, n = ``n`` per cohort, for every method of :data:`METHODS`."""
    rows = 2 * m * n
    skip = None
    if rows > MAX_ROWS:
        skip = f"the tidy frame would have {rows:,} rows (> {MAX_ROWS:,})"
    elif rows * BYTES_PER_ROW > available_memory() // 2:
        skip = f"{rows:,} rows need about {rows * BYTES_PER_ROW / 2**30:.1f} GiB, too much now"
    if skip:
        return [{"what": f"judge, M={m:,}, n={n}", "skipped": skip}]
    fleet = make_fleet(m, HOSTS, n // HOSTS, seed=seed)
    frame = tidy_frame(fleet)
    repeats = _repeats(rows, quick)
    out = []
    for wanted in METHODS:
        config = canarystats.load_config(config_dict(fleet, wanted))
        method = config.judge.method
        label = f"{method} (default)" if wanted is None else method
        try:
            _warm_up(wanted, n)
            judge_s = median_time(lambda config=config: canarystats.judge(config, frame), repeats)
            judgment = canarystats.judge(config, frame) if quick else None
        except Exception as exc:  # a broken method is a result to report, not a crash
            out.append({"what": f"judge, M={m:,}, n={n}, method {label}", "error": repr(exc)})
            continue
        kern = kernels(fleet, method)
        kern()
        kernels_s = median_time(kern, repeats)
        row: dict[str, Any] = {
            "what": f"judge, M={m:,}, n={n}, method {label}",
            "metrics": m,
            "n": n,
            "method": label,
            "frame_rows": rows,
            "repeats": repeats,
            "judge_s": judge_s,
            "kernels_s": kernels_s,
            "overhead": judge_s / kernels_s - 1.0,
            "metrics_per_s": m / judge_s,
        }
        if judgment is not None:
            row["verdict"] = judgment.verdict
        if m == 10_000 and n == 300:
            row["target_met"] = judge_s < TARGET_S
        out.append(row)
    return out


def grid(quick: bool) -> list[tuple[int, int]]:
    """(M, n) pairs measured."""
    if quick:
        return [(200, 60), (1_000, 60)]
    return [(m, n) for m in (1_000, 10_000, 100_000) for n in (60, 300, 1_000)]


def run(quick: bool) -> list[dict[str, Any]]:
    """Every size of :func:`grid`, every method; a full run adds :func:`breakdown`."""
    out: list[dict[str, Any]] = []
    for m, n in grid(quick):
        out.extend(bench_judge(m, n, quick=quick))
    if not quick:
        out.append(breakdown())
    return out


def _profiled_judgment(m: int, n: int, method: str | None) -> tuple[cProfile.Profile, float, str]:
    """One ``judge`` call on a generated fleet, after a warm-up, under cProfile."""
    fleet = make_fleet(m, HOSTS, n // HOSTS)
    frame = tidy_frame(fleet)
    config = canarystats.load_config(config_dict(fleet, method))
    _warm_up(method, n)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    canarystats.judge(config, frame)
    prof.disable()
    return prof, time.perf_counter() - t0, config.judge.method


def breakdown(m: int = 10_000, n: int = 300, method: str | None = None) -> dict[str, Any]:
    """Where one judgment's time goes: cProfile, canarystats functions and the hottest others."""
    prof, wall, judged_by = _profiled_judgment(m, n, method)
    st = pstats.Stats(prof)
    rows = []
    for (path, line, func), (_, calls, tottime, cumtime, _) in st.stats.items():  # type: ignore[attr-defined]
        short = path.split("/src/")[-1] if "/src/canarystats/" in path else path
        short = short.split("site-packages/")[-1]
        rows.append((f"{short}:{line}({func})", calls, tottime, cumtime, "/canarystats/" in path))
    ours = sorted((r for r in rows if r[4]), key=lambda r: -r[3])[:12]
    hot = sorted(rows, key=lambda r: -r[2])[:8]
    return {
        "what": f"profile, M={m:,}, n={n}, method {judged_by}",
        "profile_wall_s": wall,
        "cumulative": [(f, c, ct) for f, c, _, ct, _ in ours],
        "self_time": [(f, c, tt) for f, c, tt, _, _ in hot],
    }


def profile(m: int = 10_000, n: int = 300, method: str | None = None, top: int = 25) -> str:
    """cProfile of one ``judge`` call (after a warm-up): the top functions by cumulative time."""
    prof, wall, judged_by = _profiled_judgment(m, n, method)
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("cumulative").print_stats(top)
    st.sort_stats("tottime").print_stats(top // 2)
    head = f"# judge profile, M={m:,}, n={n}, method {judged_by}: {wall:.2f} s\n"
    return head + buf.getvalue()


def table(results: list[dict[str, Any]]) -> str:
    """Markdown table of :func:`run`'s results."""
    lines = [
        "| M | n | method | judge (s) | kernels alone (s) | overhead | metrics/s |",
        "|---|---|---|---|---|---|---|",
    ]
    profiles = [r for r in results if "cumulative" in r]
    for r in results:
        if "cumulative" in r:
            continue
        if "skipped" in r or "error" in r:
            lines.append(f"| {r['what']} | | | {r.get('skipped') or r.get('error')} | | | |")
            continue
        lines.append(
            f"| {r['metrics']:,} | {r['n']} | {r['method']} | {r['judge_s']:.3g} | "
            f"{r['kernels_s']:.3g} | {r['overhead']:+.0%} | {r['metrics_per_s']:,.0f} |"
        )
    for p in profiles:
        lines += [
            "",
            f"Where the time goes ({p['what']}; {p['profile_wall_s']:.1f} s under cProfile): "
            "canarystats functions by cumulative time, then the functions with the most time "
            "of their own.",
            "",
            "| function | calls | cumulative (s) |",
            "|---|---|---|",
            *(f"| `{f}` | {c:,} | {t:.2f} |" for f, c, t in p["cumulative"]),
            "",
            "| function | calls | own time (s) |",
            "|---|---|---|",
            *(f"| `{f}` | {c:,} | {t:.2f} |" for f, c, t in p["self_time"]),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, well under a minute")
    parser.add_argument("--profile", action="store_true", help="profile one 10k x 300 judgment")
    args = parser.parse_args(argv)
    if args.profile:
        for method in METHODS:
            print(profile(method=method))
        return 0
    results = run(args.quick)
    print(f"# judge end to end ({'quick' if args.quick else 'full'}) on {machine()}")
    print(table(results))
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
