"""Judging quality on raw-unit synthetic canary fleets (``../shared/synth``), both designs.

``../shared/synth/synth_fleet.py`` writes labelled cases in the units Datadog returns: persistent
host offsets, a daily cycle, autocorrelated noise, quantised latency percentiles, sparse
DogStatsD counts, gaps, and a deploy that restarts the canary hosts at ``T0`` (warm-up) while the
baseline keeps running.  Every case has a pre-deploy window before ``T0``.  Each case is judged
as a pipeline would, and scored by what the pipeline would do (``fail`` or ``marginal`` stops the
deploy; ``nodata`` is no verdict):

* **with a pre-window** -- the default judge with ``start=T0`` on all of the case's points: each
  host against its own past where it has one;
* **new instances** -- the default judge with ``start=T0`` on the points from ``T0`` on only (no
  past; the warm-up still applies);
* **previous default** -- the judge as it was before canary starts existed, on the points from
  ``T0`` on: window means, plain Bonferroni over the components, Holm across metrics, no
  warm-up, undeclared metrics as gauges.

The generator is run for each seed into a temporary folder; nothing is copied into the
repository.  Used by ``benchmarks/quality.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from canarystats import judge, load_config

SYNTH = Path(__file__).resolve().parents[1].parent / "shared" / "synth" / "synth_fleet.py"
#: seeds judged by a full run (any seeds do: the generator is the same for all)
SEEDS = (201, 202, 203, 204)
DESIGNS = ("pre-window", "new instances", "previous default")
#: the previous default, as settings of today's judge
PREVIOUS = {"multiplicity": "holm", "robust": False, "weights": [1, 1, 1], "warmup": 0}


def available() -> bool:
    """Whether the synthetic fleet generator is beside the repository."""
    return SYNTH.is_file()


def generate(seed: int, folder: Path) -> list[dict[str, Any]]:
    """Write the cases of ``seed`` into ``folder`` and return their descriptions."""
    subprocess.run(
        [sys.executable, str(SYNTH), "--out", str(folder), "--seed", str(seed)],
        check=True,
        capture_output=True,
    )
    cases: list[dict[str, Any]] = json.loads((folder / "cases.json").read_text())["cases"]
    return cases


def read_case(folder: Path, case: dict[str, Any]) -> pd.DataFrame:
    """The tidy frame of one generated case, as the generator wrote it."""
    return pd.read_csv(
        folder / f"{case['id']}.csv.gz",
        parse_dates=["timestamp"],
        keep_default_na=False,
        na_values={"value": ["", "NaN", "nan"]},
        dtype={"host": str},
    )


def judge_case(folder: Path, case: dict[str, Any], design: str) -> str:
    """``stopped``, ``pass`` or ``nodata``: what a pipeline would do with the case."""
    frame = read_case(folder, case)
    config = dict(case["config"], step=case["step_s"])
    start: pd.Timestamp | None = pd.Timestamp(case["canary_start"])
    if design != "pre-window":
        frame = frame[frame["timestamp"] >= start]
    if design == "previous default":
        config["judge"] = dict(PREVIOUS)
        config["metrics"] = [dict(m, kind=m.get("kind", "gauge")) for m in config["metrics"]]
        start = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        verdict = str(judge(load_config(config), frame, start=start).verdict)
    return "stopped" if verdict in ("fail", "marginal") else verdict


def evaluate(seeds: Iterable[int]) -> dict[str, Any]:
    """Judge every case of every seed in every design; counts per case type and variant."""
    by_type: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    by_variant: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    n_cases = 0
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for case in generate(seed, folder):
                n_cases += 1
                for design in DESIGNS:
                    outcome = judge_case(folder, case, design)
                    by_type[case["type"]][(design, outcome)] += 1
                    by_variant[case["variant"]][(design, outcome)] += 1
    return {"by_type": by_type, "by_variant": by_variant, "cases": n_cases}


def _rate(counts: Counter[tuple[str, str]], design: str, outcome: str) -> str:
    total = sum(v for (d, _), v in counts.items() if d == design)
    return f"{counts[(design, outcome)] / total:.0%}" if total else "n/a"


def render(result: dict[str, Any], seeds: Iterable[int], seconds: float) -> str:
    """The markdown section written into RESULTS.md."""
    seeds = list(seeds)
    lines = [
        "## Judging quality on synthetic fleets with restarted canaries",
        "",
        f"`python benchmarks/quality.py` on `../shared/synth` cases of seeds "
        f"{', '.join(map(str, seeds))} ({result['cases']} cases), {seconds:.0f} s.  Each case "
        "is judged three ways (see `benchmarks/synth_quality.py`): the default judge with the "
        "canary start and the pre-deploy window (**pre-window**), the default judge on the points "
        "from the canary start only (**new instances**), and the previous default on those "
        "points (**previous**).  A deploy is stopped by `fail` or `marginal` (exit 1).",
        "",
        "| case type | expected | stopped: pre-window | new instances | previous | "
        "passed: pre-window | new instances | previous | no verdict: pre-window | new instances "
        "| previous |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    expected = {
        "healthy": "pass",
        "tricky_healthy": "pass",
        "regression": "stop",
        "insufficient": "never pass",
    }
    for kind in ("healthy", "tricky_healthy", "regression", "insufficient"):
        c = result["by_type"].get(kind, Counter())
        cells = [_rate(c, d, o) for o in ("stopped", "pass", "nodata") for d in DESIGNS]
        lines.append(f"| {kind} | {expected[kind]} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Per kind of case (share stopped: pre-window / new instances / previous):",
        "",
        "| case | pre-window | new instances | previous |",
        "|---|---|---|---|",
    ]
    for variant, c in sorted(result["by_variant"].items()):
        cells = [_rate(c, d, "stopped") for d in DESIGNS]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Targets of the default: with a pre-window, healthy stopped <= 3%, tricky healthy <= 5%, "
        "regressions stopped >= 85% (+20% latency >= 75%); new instances: healthy stopped <= 5%, "
        "regressions >= 75%; insufficient data never passes.",
    ]
    return "\n".join(lines) + "\n"
