"""Every flag says what it does: a help text for each option of each command, choices listed,
durations written the same way everywhere, one name for one column."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from canarystats import history, judge, load_config
from canarystats.cli import build_parser, main, serve_fake_datadog
from canarystats.cli.options import step_seconds
from canarystats.methods.registry import method_names
from canarystats.sources import read_frame

ROOT = Path(__file__).resolve().parents[2]
WEB = str(ROOT / "examples" / "web.yaml")
INCIDENT = str(ROOT / "fixtures" / "seed-incident.csv")


def _parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """The main parser, each command's, and serve-fake-datadog's own, by command line."""
    main_parser = build_parser()
    yield "canarystats", main_parser
    for action in main_parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, parser in action.choices.items():
                yield f"canarystats {name}", parser
    yield "canarystats serve-fake-datadog", serve_fake_datadog.build_parser()


def _options() -> Iterator[tuple[str, argparse.ArgumentParser, argparse.Action]]:
    for where, parser in _parsers():
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            yield f"{where} {'/'.join(action.option_strings) or action.dest}", parser, action


OPTIONS = list(_options())


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    # As --help prints it: %(default)s and %(choices)s filled in.
    return parser._get_formatter()._expand_help(action) if action.help else ""


@pytest.mark.parametrize(("name", "parser", "action"), OPTIONS, ids=[o[0] for o in OPTIONS])
def test_every_option_of_every_command_says_what_it_does(
    name: str, parser: argparse.ArgumentParser, action: argparse.Action
) -> None:
    assert action.help not in (None, argparse.SUPPRESS), f"{name} has no help"
    assert len(_help(parser, action).split()) >= 2, f"{name}: {action.help!r} says too little"


CHOICES = [o for o in OPTIONS if o[2].choices is not None]


@pytest.mark.parametrize(("name", "parser", "action"), CHOICES, ids=[o[0] for o in CHOICES])
def test_an_option_with_choices_lists_them_in_its_help(
    name: str, parser: argparse.ArgumentParser, action: argparse.Action
) -> None:
    text = _help(parser, action)
    assert action.choices is not None
    missing = [str(c) for c in action.choices if str(c) not in text]
    assert missing == [], f"{name}: {text!r} does not list {missing}"


def test_the_options_checked_include_those_that_had_no_help() -> None:
    # The parametrised tests above see every command's flags, not only some.
    names = {name for name, _, _ in OPTIONS}
    for expected in (
        "canarystats plan --baseline-hosts",
        "canarystats history --format",
        "canarystats backtest deploys",
        "canarystats judge --method",
        "canarystats serve-fake-datadog --port",
        "canarystats -v/--verbose",
    ):
        assert expected in names


def test_canary_help_is_a_whole_sentence() -> None:
    judge_parser = dict(_parsers())["canarystats judge"]
    (canary,) = [a for a in judge_parser._actions if "--canary" in a.option_strings]
    assert canary.help is not None
    assert "Datadog tags" in canary.help and canary.help.rstrip().endswith(")")
    assert "scopes.canary" in canary.help


def test_method_offers_the_registered_methods() -> None:
    judge_parser = dict(_parsers())["canarystats judge"]
    (method,) = [a for a in judge_parser._actions if "--method" in a.option_strings]
    assert tuple(method.choices or ()) == method_names()
    assert "hosts, kayenta" in _help(judge_parser, method)


def test_an_unknown_method_is_one_line_naming_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["judge", WEB, "--data", INCIDENT, "--method", "bogus"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "invalid choice: 'bogus'" in err[0] and "'hosts'" in err[0]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60", 60), ("60s", 60), ("1m", 60), ("2m30s", 150), ("1h", 3600), ("1d", 86400)],
)
def test_step_takes_a_duration_or_plain_seconds(text: str, seconds: int) -> None:
    assert step_seconds(text) == seconds
    args = build_parser().parse_args(["judge", WEB, "--step", text])
    assert args.step == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "out of range"),
        ("0s", "not a positive duration"),
        ("2d", "out of range"),
        ("1.5", "60s"),
    ],
)
def test_a_bad_step_is_one_line(
    capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    assert main(["judge", WEB, "--data", INCIDENT, f"--step={text}"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and message in err[0] and "--step" in err[0]


def test_step_as_a_duration_judges_as_the_same_seconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reports = []
    for step in ("120", "2m"):
        assert main(["-q", "judge", WEB, "--data", INCIDENT, "--step", step, "--soft-fail"]) == 0
        reports.append(capsys.readouterr().out)
    assert reports[0] == reports[1]


def test_history_names_the_soft_failed_runs_would_have_failed_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One name for one column: the library's summary, the JSON and the table all say
    # would_have_failed.
    path = tmp_path / "runs.sqlite"
    judgment = judge(load_config(WEB), read_frame(INCIDENT))
    history.append(path, judgment, config_name="web", exit_code=0, would_exit=1, soft_fail=True)
    assert main(["history", str(path)]) == 0
    table = capsys.readouterr().out
    header = table.splitlines()[0].split()
    assert "would_have_failed" in header and "would_have_failed_rate" in header
    assert "would_fail" not in header
    assert main(["history", str(path), "--format", "json"]) == 0
    (row,) = json.load(io.StringIO(capsys.readouterr().out))
    assert row["would_have_failed"] == 1
    assert set(history.SUMMARY_COLUMNS) <= set(row)
