"""Time flags take relative times with a space: ``--start -15m`` reads as ``--start=-15m``."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canarystats.cli import build_parser, main
from canarystats.cli import serve_fake_datadog as serve
from canarystats.cli.options import attach_dash_values
from canarystats.timeparse import parse_time

ROOT = Path(__file__).resolve().parents[2]
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: the least each command with time flags needs besides them
COMMANDS = {
    "judge": ["web.yaml"],
    "watch": ["web.yaml"],
    "fetch": ["web.yaml", "--output", "run.csv"],
    "plan": ["web.yaml"],
}
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)

# A relative duration as people type it, with its length in seconds worked out apart.
parts = st.lists(
    st.tuples(st.integers(min_value=1, max_value=500), st.sampled_from(sorted(UNIT_SECONDS))),
    min_size=1,
    max_size=3,
)


def _typed(duration: list[tuple[int, str]]) -> tuple[str, int]:
    text = "".join(f"{n}{unit}" for n, unit in duration)
    return text, sum(n * UNIT_SECONDS[unit] for n, unit in duration)


@given(
    duration=parts,
    command=st.sampled_from(sorted(COMMANDS)),
    flag=st.sampled_from(["--start", "--end"]),
)
def test_a_relative_time_after_a_space_parses_as_with_an_equals_sign(
    duration: list[tuple[int, str]], command: str, flag: str
) -> None:
    text, seconds = _typed(duration)
    value = f"-{text}"
    spaced = build_parser().parse_args([command, *COMMANDS[command], flag, value])
    joined = build_parser().parse_args([command, *COMMANDS[command], f"{flag}={value}"])
    dest = flag.lstrip("-")
    assert getattr(spaced, dest) == getattr(joined, dest) == value
    assert parse_time(value, now=NOW, flag=flag) == NOW - timedelta(seconds=seconds)


@given(duration=parts)
def test_fake_datadog_clock_takes_a_relative_time_after_a_space(
    duration: list[tuple[int, str]],
) -> None:
    value = "-" + _typed(duration)[0]
    assert serve.build_parser().parse_args(["--clock", value]).clock == value


def test_start_and_end_both_relative_and_an_abbreviated_flag() -> None:
    args = build_parser().parse_args(["judge", "web.yaml", "--star", "-15m", "--end", "-5m"])
    assert (args.start, args.end) == ("-15m", "-5m")


def test_a_negative_lookback_is_one_line_naming_the_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["judge", str(ROOT / "examples" / "web.yaml"), "--lookback", "-15m"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "--lookback '-15m' is not a duration" in err
    assert "expected one argument" not in err


def test_a_flag_without_a_value_is_not_joined_to_a_dash_word(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # --soft-fail takes no value: -15m stays a word of its own, which argparse refuses.
    code = main(["judge", "web.yaml", "--soft-fail", "-15m"])
    err = capsys.readouterr().err
    assert code == 2
    assert "unrecognized arguments: -15m" in err


def test_words_after_a_double_dash_are_left_alone() -> None:
    words = ["--start", "-15m", "--", "--end", "-5m"]
    assert attach_dash_values(words, lambda flag: True) == ["--start=-15m", "--", "--end", "-5m"]


def test_an_iso_time_or_a_flag_after_a_flag_is_not_joined() -> None:
    words = ["--start", "2026-03-10T15:00:00Z", "--end", "--lookback", "10m"]
    assert attach_dash_values(words, lambda flag: True) == words


def _documented_commands_with_relative_times() -> list[str]:
    commands = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text().replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("canarystats ") and re.search(r"--\w[\w-]* -\d", line):
                commands.append(line)
    return commands


DOCUMENTED = _documented_commands_with_relative_times()


def test_the_docs_use_relative_times_after_a_space() -> None:
    assert DOCUMENTED, "README shows --start -15m; the extraction lost it"


@pytest.mark.parametrize("line", DOCUMENTED)
def test_every_documented_command_with_a_relative_time_parses(line: str) -> None:
    words = shlex.split(line)[1:]
    args = build_parser().parse_args(words)
    for flag in ("start", "end"):
        value = getattr(args, flag, None)
        if value is not None:
            parse_time(value, now=NOW, flag=f"--{flag}")


@given(parts)
def test_waits_take_seconds_or_a_duration(duration: list[tuple[int, str]]) -> None:
    text, seconds = _typed(duration)
    parser = build_parser()
    judge = parser.parse_args(["judge", "web.yaml", "--deadline", text])
    watch = parser.parse_args(["watch", "web.yaml", "--poll", text])
    assert judge.deadline == watch.poll == float(seconds)
    assert parser.parse_args(["judge", "web.yaml", "--deadline", "2.5"]).deadline == 2.5


@pytest.mark.parametrize("word", ["0", "-5m", "soon", "0s", "nan"])
def test_a_wait_that_is_no_positive_duration_is_one_line_naming_the_flag(
    word: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["judge", str(ROOT / "examples" / "web.yaml"), f"--deadline={word}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "--deadline" in err[0] and repr(word) in err[0]
