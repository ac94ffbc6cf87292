"""Sequential judging against the fixed test re-run at every look, in the same run.

Two kinds of canary, each judged look by look (a look every 5 minutes to 30, or every sixth of
a synthetic case's window):

* **simulated worlds** (:mod:`canarystats.testing.worlds`): 3 canary and 6 baseline hosts, four
  metrics (latency, CPU, requests, errors per request), in four worlds (i.i.d.; persistent host
  offsets; AR(1) noise; both), healthy or with a regression from the start (+20 % latency;
  doubled error rate), as new instances (no past) or with a 30-minute pre-deploy window;
* **synthetic fleets** (``../shared/synth``): raw-unit cases with restarted canaries replayed
  look by look (skipped when the generator is not beside the repository).

Each canary is judged by two rules on the same looks:

* **sequential** -- the config's ``sequential`` plan (:mod:`canarystats.sequential`):
  alpha spent over the looks, counts by their e-process, early pass when every metric rules
  out its minimum effect;
* **fixed every look** -- the one-shot judge at each look, stopping the deploy at the first
  look whose verdict is ``fail`` or ``marginal`` (what re-running a fixed test on an interval
  does).

Reported: the share of canaries stopped (``fail`` or ``marginal``), the median minute of the
decision, the share of healthy canaries passed early, and for synthetic cases the share passed
only at the horizon with a count among what held the early pass back whose events were too few
to rule out its tolerance within the horizon (the report's "too few events").  ``--quick``
judges a few canaries per cell (CI); ``--write`` puts the tables into ``RESULTS.md`` between
``<!-- sequential:start -->`` and ``<!-- sequential:end -->``.

Usage: ``python benchmarks/sequential.py [--quick] [--write] [--n 300] [--synth-seeds 201,202]``.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth_quality
from results_md import write_section

from canarystats import load_config
from canarystats.config import CanaryConfig
from canarystats.errors import DataError
from canarystats.labels import Verdict
from canarystats.plan import plan
from canarystats.plan_early_pass import EarlyPassOutlook
from canarystats.sequential.decide import decide
from canarystats.sequential.early_pass import too_few_events
from canarystats.sequential.looks import gather_looks
from canarystats.testing.worlds import WORLDS, make_world, world_config

STOPS = (Verdict.FAIL, Verdict.MARGINAL)
SCENARIOS = {
    "healthy": {},
    "+20% latency": {"latency_factor": 1.2},
    "2x errors": {"error_factor": 2.0},
}


@dataclass
class Tally:
    """Outcomes of one rule over many canaries."""

    stopped: int = 0
    early: int = 0
    passed: int = 0
    # Passed only at the horizon, held back by a count too rare to rule out its tolerance
    # (among other metrics, or alone: every metric that held it back was such a count).
    rare: int = 0
    rare_only: int = 0
    total: int = 0
    minutes: list[float] = field(default_factory=list)
    # The decision's minute as a share of the plan's horizon (cases differ in horizon).
    shares: list[float] = field(default_factory=list)
    # Passed early by half the horizon; and what ``canarystats plan`` foresaw from healthy
    # hosts' data: the chance of passing early by half the horizon and by the last early look.
    early_by_half: int = 0
    outlook_half: list[float] = field(default_factory=list)
    outlook: list[float] = field(default_factory=list)

    def add(
        self,
        stopped: bool,
        minute: float,
        passed: bool,
        early: bool = False,
        rare: bool = False,
        rare_only: bool = False,
        *,
        horizon: float = math.nan,
    ) -> None:
        self.total += 1
        self.stopped += stopped
        self.passed += passed
        self.early += early
        self.rare += rare
        self.rare_only += rare_only
        self.minutes.append(minute)
        self.shares.append(minute / horizon)
        self.early_by_half += early and minute <= horizon / 2

    def foresee(self, outlook: EarlyPassOutlook | None) -> None:
        """Add the plan's outlook of one canary (its first number of canary hosts)."""
        if outlook is None:
            return
        self.outlook_half.append(float(outlook.chance[0, outlook.half_horizon()]))
        self.outlook.append(float(outlook.chance[0, -1]))

    def foreseen(self, which: str) -> str:
        values = np.asarray(getattr(self, which), dtype=np.float64)
        return f"{np.nanmean(values):.1%}" if np.any(np.isfinite(values)) else "n/a"

    def rate(self, what: str) -> str:
        n = getattr(self, what)
        return f"{n / self.total:.1%}" if self.total else "n/a"

    def median(self) -> str:
        return f"{np.median(self.minutes):.3g}" if self.minutes else "n/a"

    def median_share(self) -> str:
        return f"{np.median(self.shares):.0%}" if self.shares else "n/a"


def judge_both(
    config: CanaryConfig, frame: pd.DataFrame, start: pd.Timestamp
) -> tuple[tuple[bool, float, bool, bool, bool, bool], tuple[bool, float, bool]]:
    """(stopped, minute, passed, early, rare, rare_only) of the sequential rule, (stopped,
    minute, passed) of the fixed one; ``rare``: passed at the horizon with a count among the
    metrics that held the early pass back whose events were too few to rule out its tolerance
    within it, ``rare_only``: every metric that held it back was such a count."""
    plan = config.sequential
    assert plan is not None
    times = plan.look_times()
    looks = gather_looks(config, frame, start, list(enumerate(times, start=1)))
    d = decide(config, plan, looks, config.judge.alpha)
    passed = d.verdict == Verdict.PASS
    held = [
        m for m in config.metrics if not m.muted and d.paths[m.name].status[-1:] != ["ruled out"]
    ]
    few = [too_few_events(m, looks[-1], plan) for m in held] if passed and not d.early else []
    sequential = (d.verdict in STOPS, d.at / 60, passed, d.early, any(few), bool(few) and all(few))
    last = looks[-1].judgment
    fixed = (False, times[-1] / 60, last is not None and last.verdict == Verdict.PASS)
    for look in looks:
        if look.judgment is not None and look.judgment.verdict in STOPS:
            fixed = (True, look.at / 60, False)
            break
    return sequential, fixed


def run_worlds(n: int, worlds: Iterable[str]) -> list[dict[str, Any]]:
    """One row per world x past x scenario: both rules' tallies."""
    config = load_config(world_config())
    rows = []
    for world in worlds:
        # The plan reads a larger fleet of the same world, its hosts all healthy peers.
        fleet, _ = make_world(world, canary_hosts=3, baseline_hosts=40, pre_minutes=60, seed=7)
        foreseen = plan(config, fleet, canary_hosts=(3,), baseline_hosts=6)
        for past in ("new instances", "30 min past"):
            pre = 0 if past == "new instances" else 30
            for scenario, effect in SCENARIOS.items():
                seq, fixed = Tally(), Tally()
                if scenario == "healthy":
                    seq.foresee(foreseen.early_pass_with_past if pre else foreseen.early_pass)
                for seed in range(n):
                    frame, start = make_world(world, seed=10_000 + seed, pre_minutes=pre, **effect)
                    s, f = judge_both(config, frame, start)
                    seq.add(*s, horizon=30.0)
                    fixed.add(*f, horizon=30.0)
                rows.append(
                    {"world": world, "past": past, "scenario": scenario, "seq": seq, "fixed": fixed}
                )
    return rows


def run_synth(seeds: Iterable[int], limit: int | None) -> dict[str, dict[str, Tally]]:
    """Tallies per case type for both rules over the synthetic fleets of ``seeds``."""
    out: dict[str, dict[str, Tally]] = {}
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for case in synth_quality.generate(seed, folder)[:limit]:
                kind = case["type"]
                tallies = out.setdefault(kind, {"seq": Tally(), "fixed": Tally()})
                config = load_config(_synth_config(case))
                frame = synth_quality.read_case(folder, case)
                s, f = judge_both(config, frame, pd.Timestamp(case["canary_start"]))
                assert config.sequential is not None
                horizon = config.sequential.look_times()[-1] / 60
                tallies["seq"].add(*s, horizon=horizon)
                tallies["fixed"].add(*f, horizon=horizon)
                if kind in ("healthy", "tricky_healthy"):
                    tallies["seq"].foresee(_synth_outlook(config, case, frame))
    return out


def _synth_outlook(
    config: CanaryConfig, case: dict[str, Any], frame: pd.DataFrame
) -> EarlyPassOutlook | None:
    """What ``canarystats plan`` foresees for a case from its baseline hosts' data (the
    pre-deploy window and the canary window): the design with each host's past, as judged."""
    baseline = frame[frame["cohort"] == "baseline"]
    hosts = {"canary_hosts": (len(case["canary_hosts"]),), "baseline_hosts": None}
    try:
        return plan(config, baseline, minutes=(1,), **hosts).early_pass_with_past
    except DataError:  # fewer than 3 baseline hosts: the plan cannot measure their spread
        return None


def _synth_config(case: dict[str, Any]) -> dict[str, Any]:
    """The case's config with a plan over its window: six looks, each at least a bucket."""
    step = int(case["step_s"])
    horizon = max(int(case["window_min"] * 60), step)
    look_every = min(horizon, max(step, 60 * max(1, round(horizon / 360))))
    plan = {
        "horizon": f"{horizon}s",
        "look_every": f"{look_every}s",
        "min_duration": f"{min(horizon, 300)}s",
    }
    return dict(case["config"], step=step, sequential=plan)


def render(worlds: list[dict[str, Any]], synth: dict[str, dict[str, Tally]], info: str) -> str:
    """The markdown tables."""
    lines = [
        "## Sequential judging",
        "",
        info,
        "",
        "| world | past | canary | stopped: sequential | fixed every look | median minute: "
        "sequential | fixed | passed early |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in worlds:
        s, f = r["seq"], r["fixed"]
        lines.append(
            f"| {r['world']} | {r['past']} | {r['scenario']} | {s.rate('stopped')} | "
            f"{f.rate('stopped')} | {s.median()} | {f.median()} | {s.rate('early')} |"
        )
    if synth:
        lines += [
            "",
            "| synthetic case type | cases | stopped: sequential | fixed every look | "
            "passed: sequential | fixed | median minute: sequential | fixed | "
            "median share of the horizon: sequential | fixed | passed at the horizon, held back "
            "by a rare count | by rare counts alone |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for kind in ("healthy", "tricky_healthy", "regression", "insufficient"):
            if kind in synth:
                s, f = synth[kind]["seq"], synth[kind]["fixed"]
                lines.append(
                    f"| {kind} | {s.total} | {s.rate('stopped')} | {f.rate('stopped')} | "
                    f"{s.rate('passed')} | {f.rate('passed')} | {s.median()} | {f.median()} | "
                    f"{s.median_share()} | {f.median_share()} | {s.rate('rare')} | "
                    f"{s.rate('rare_only')} |"
                )
    return "\n".join(lines + _outlook_table(worlds, synth)) + "\n"


def _outlook_table(worlds: list[dict[str, Any]], synth: dict[str, dict[str, Tally]]) -> list[str]:
    """Healthy canaries passed early, measured and as ``canarystats plan`` foresaw it."""
    rows = [(f"{r['world']}, {r['past']}", r["seq"]) for r in worlds if r["seq"].outlook]
    rows += [
        (f"synthetic {kind}", synth[kind]["seq"])
        for kind in ("healthy", "tricky_healthy")
        if kind in synth
    ]
    lines = [
        "",
        "| healthy canaries | passed early by half the horizon | plan's outlook | "
        "passed early | plan's outlook |",
        "|---|---|---|---|---|",
    ]
    for name, t in rows:
        lines.append(
            f"| {name} | {t.rate('early_by_half')} | {t.foreseen('outlook_half')} | "
            f"{t.rate('early')} | {t.foreseen('outlook')} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few canaries per cell (CI)")
    parser.add_argument("--write", action="store_true", help="write into RESULTS.md")
    parser.add_argument("--n", type=int, default=300, help="canaries per world cell")
    parser.add_argument("--synth-seeds", default="205,206,207,208", help="synthetic fleet seeds")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)
    began = time.perf_counter()
    n = 6 if args.quick else args.n
    worlds = run_worlds(n, ("both",) if args.quick else WORLDS)
    seeds = [int(s) for s in args.synth_seeds.split(",") if s]
    if args.quick:
        seeds = seeds[:1]
    synth = (
        run_synth(seeds, 12 if args.quick else None) if synth_quality.available() and seeds else {}
    )
    seconds = time.perf_counter() - began
    used = f"; synthetic seeds {', '.join(map(str, seeds))}" if synth else ""
    info = (
        f"`python benchmarks/sequential.py{' --quick' if args.quick else ''}` on "
        f"{platform.machine()} ({platform.processor() or 'cpu'}), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {seconds:.0f} s: {n} canaries per world cell"
        f"{used}.  Default plan (a look "
        "every 5 min to 30, O'Brien-Fleming-type spending of alpha 0.05 to fail, early pass at "
        "pass_alpha 0.1, counts against a rate ratio of 1.25); the fixed rule stops at the first "
        "look whose one-shot verdict is fail or marginal."
    )
    text = render(worlds, synth, info)
    print(text)
    if args.write:
        write_section("sequential", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
