"""The command modules: each registers its subcommand, and ``--help`` lists them all, fast."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from types import ModuleType

import pytest

from canarystats.cli import (
    backtest,
    build_parser,
    fetch,
    history,
    init,
    judge,
    main,
    plan,
    schema,
    serve_fake_datadog,
    validate,
    watch,
)

COMMANDS = {
    "judge": judge,
    "watch": watch,
    "fetch": fetch,
    "validate": validate,
    "history": history,
    "init": init,
    "plan": plan,
    "backtest": backtest,
    "schema": schema,
    "serve-fake-datadog": serve_fake_datadog,
}


#: the least each command needs to parse
ARGS = {
    "judge": ["web.yaml"],
    "watch": ["web.yaml", "--start", "now"],
    "fetch": ["web.yaml", "--output", "run.csv"],
    "validate": ["web.yaml"],
    "history": ["runs.sqlite"],
    "init": ["--from-monitors", "monitors.json"],
    "plan": ["web.yaml"],
    "backtest": ["web.yaml", "deploys.csv", "--data", "history.csv"],
    "schema": ["config"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_module_registers_its_subcommand(name: str) -> None:
    module: ModuleType = COMMANDS[name]
    parser = argparse.ArgumentParser(prog="canarystats")
    commands = parser.add_subparsers(dest="command")
    added = module.add_parser(commands)
    assert name == module.NAME
    assert list(commands.choices) == [name]
    assert added is commands.choices[name]
    assert added.prog == f"canarystats {name}"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    section = out.split("positional arguments:")[1].split("options:")[0]
    # A command starts its line four spaces in; wrapped help text is indented further.
    listed = re.findall(r"^    (\S+)", section, flags=re.MULTILINE)
    assert listed == list(COMMANDS)


@pytest.mark.parametrize("name", [n for n in COMMANDS if n != "serve-fake-datadog"])
def test_the_main_parser_dispatches_every_command_it_parses(name: str) -> None:
    from canarystats.cli import COMMANDS as RUNNERS

    # serve-fake-datadog parses its own flags before the main parser sees them.
    args = build_parser().parse_args([name, *ARGS[name]])
    assert RUNNERS[args.command] is COMMANDS[name].run


def test_the_report_formats_offered_are_the_reports_formats() -> None:
    from canarystats.cli.options import REPORT_FORMATS
    from canarystats.report import FORMATS

    assert tuple(FORMATS) == REPORT_FORMATS


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "canarystats", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.startswith("canarystats ")) == (0, True)


#: a flag of each command, and the same flag with one letter dropped
TYPOS = {
    "judge": ("--marginal-ok", "--margnal-ok"),
    "watch": ("--state", "--stat-"),
    "fetch": ("--canary", "--canry"),
    "validate": ("--render", "--rendr"),
    "history": ("--format", "--frmat"),
    "init": ("--monitor-search", "--monitor-serch"),
    "plan": ("--change", "--chnge"),
    "backtest": ("--canary-start", "--canary-strt"),
    "schema": ("--verbose", "--verbse"),
}


@pytest.mark.parametrize("name", list(ARGS))
def test_an_unknown_flag_names_its_command_and_the_flag_it_most_likely_meant(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    own, typo = TYPOS[name]
    assert main([name, *ARGS[name], typo, "x"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"canarystats {name}: unrecognized arguments: {typo} x (did you mean {own}?); "
        f"see canarystats {name} --help"
    ]
    # A word like no flag is named without a guess; a flag with a known flag's stem, with it.
    assert main([name, *ARGS[name], "--zzzzqqq"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"canarystats {name}: unrecognized arguments: --zzzzqqq; see canarystats {name} --help"
    ]
