"""The command loads what its work needs and nothing more (``benchmarks/startup.py`` times it).

Each case runs in a fresh interpreter and reports which of the heavy packages ended up in
``sys.modules``: ``--help`` and argument parsing load no statistics stack, and judging a small
saved frame as text loads neither the Datadog client, nor matplotlib, nor numba (whose
kernels only pay for themselves on large batches).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = str(ROOT / "examples" / "web.yaml")
INCIDENT = str(ROOT / "fixtures" / "seed-incident.csv")
HEAVY = ("numpy", "pandas", "scipy", "numba", "datadog_api_client", "matplotlib", "urllib3", "dask")

# Runs main(argv) (or only parses argv with "--parse-only" first) and prints the exit code and
# which heavy packages were imported.
_PROBE = """
import contextlib, io, json, sys
from canarystats.cli import build_parser, main
argv = sys.argv[1:]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    if argv[0] == "--parse-only":
        build_parser().parse_args(argv[1:])
        code = 0
    else:
        code = main(argv)
print(json.dumps({"code": code, "loaded": sorted(m for m in HEAVY if m in sys.modules)}))
""".replace("HEAVY", repr(HEAVY))


def _loaded(*argv: str) -> tuple[int, set[str]]:
    """The exit code of ``canarystats ARGV`` in a fresh process and the heavy packages loaded."""
    env = {k: v for k, v in os.environ.items() if k != "CANARYSTATS_NO_NUMBA"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    return result["code"], set(result["loaded"])


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["judge", "--help"],
        ["watch", "--help"],
        ["backtest", "--help"],
        ["serve-fake-datadog", "--help"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_help_loads_no_statistics_stack(argv: list[str]) -> None:
    code, loaded = _loaded(*argv)
    assert code == 0
    assert loaded == set()


def test_parsing_a_full_judge_command_line_loads_no_statistics_stack() -> None:
    code, loaded = _loaded(
        "--parse-only",
        "-v",
        "judge",
        WEB,
        "--start",
        "-15m",
        "--lookback",
        "10m",
        "--step",
        "1m",
        "--method",
        "kayenta",
        "--pass-score",
        "90",
        "--format",
        "html",
    )
    assert code == 0
    assert loaded == set()


def test_judging_the_fixture_as_text_loads_no_datadog_client_plots_or_numba() -> None:
    code, loaded = _loaded("judge", WEB, "--data", INCIDENT)
    assert code == 1  # the incident fails
    assert {"numpy", "pandas", "scipy"} <= loaded
    assert loaded.isdisjoint({"datadog_api_client", "urllib3", "matplotlib", "numba", "dask"})


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_the_html_report_is_what_loads_matplotlib() -> None:
    code, loaded = _loaded("judge", WEB, "--data", INCIDENT, "--format", "html")
    assert code == 1
    assert "matplotlib" in loaded
    assert loaded.isdisjoint({"datadog_api_client", "numba"})
