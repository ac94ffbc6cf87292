"""Smoke tests of the benchmarks, run as CI runs them: ``python benchmarks/run.py --quick``.

The benchmark scripts are programs, so they are run as programs (a subprocess), never imported.
One quick run, writing a copy of ``RESULTS.md`` through ``--results``, shows that every benchmark
runs, that its tables carry the figures they promise, and that ``--write`` replaces only the
sections of the benchmarks that ran.  The fleet the benchmarks judge is tested with the library
(``tests/testing/test_fleet.py``).
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
# A results file as a full run leaves it: a section no quick run writes, an old scaling section
# and a history of full runs.
RESULTS_BEFORE = """\
# Benchmark results

<!-- quality:start -->
quality table
<!-- quality:end -->

<!-- scaling:start -->
old scaling figures
<!-- scaling:end -->

<!-- history:start -->
## History

- 2026-01-01 00:00 UTC; judge 10k x 300 hosts: 1.00 s
<!-- history:end -->
"""


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], str]:
    """The output of ``run.py --quick --write`` and the results file it wrote."""
    results = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    results.write_text(RESULTS_BEFORE)
    command = [sys.executable, str(BENCH / "run.py"), "--quick", "--write"]
    proc = subprocess.run(
        [*command, "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return proc, results.read_text()


@pytest.mark.slow
def test_run_quick_works_as_ci_runs_it(
    quick_run: tuple[subprocess.CompletedProcess[str], str],
) -> None:
    proc, _ = quick_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for title in (
        "Statistics kernels",
        "judge end to end",
        "Datadog source",
        "Peak memory",
        "Start-up of a small judgment",
    ):
        assert title in out
    # The start-up benchmark ran the command and the imports it is measured against.
    assert re.search(r"judge / import = \d+\.\d\d over 2 repeats", out), out[-2000:]
    assert "Fitted exponent in M" in out and "Fitted exponent in n" in out
    # 10 metrics: v2 batches 5 metrics (10 queries) per request -> 2 requests; v1 sends one per
    # metric; the naive way one per metric per cohort (docs/datadog.md).
    assert "| 10 | v2 batched (default) | 2 |" in out
    assert "| 10 | v1 per metric | 10 |" in out
    assert "| 10 | naive: v1 per metric per cohort | 20 |" in out


@pytest.mark.slow
def test_scaling_reports_the_exponent_n_log_n_itself_shows(
    quick_run: tuple[subprocess.CompletedProcess[str], str],
) -> None:
    proc, _ = quick_run
    # The quick sweep in n is 60, 120, 240: evenly spaced in log n, so the least-squares slope
    # of log(n ln n) on log n is the slope between the ends, 1 + ln(ln 240 / ln 60) / ln 4.
    expected = 1 + math.log(math.log(240) / math.log(60)) / math.log(4)
    found = re.search(r"n log n over this range: (\d+\.\d\d)", proc.stdout)
    assert found is not None, proc.stdout[-2000:]
    assert float(found.group(1)) == pytest.approx(expected, abs=0.005)
    assert "(linear: 1.00)" in proc.stdout


@pytest.mark.slow
def test_write_replaces_only_the_sections_that_ran(
    quick_run: tuple[subprocess.CompletedProcess[str], str],
) -> None:
    proc, text = quick_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<!-- quality:start -->\nquality table\n<!-- quality:end -->" in text
    assert "old scaling figures" not in text
    for name in ("run", "kernels", "judge", "source", "memory", "scaling", "startup"):
        assert text.count(f"<!-- {name}:start -->") == 1, name
    assert "(quick sizes: not for comparison)" in text
    # A quick run adds nothing to the history of full runs.
    history = text.split("<!-- history:start -->")[1].split("<!-- history:end -->")[0]
    assert history == "\n## History\n\n- 2026-01-01 00:00 UTC; judge 10k x 300 hosts: 1.00 s\n"
