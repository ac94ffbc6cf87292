"""Where the command's messages go: progress as plain lines unless --quiet, colour on a terminal
only, keys never."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from canarystats.cli import build_parser, main
from canarystats.cli.console import Console, Verbosity, logging_to, scrub
from canarystats.testing import FakeDatadog, Fault

ROOT = Path(__file__).resolve().parents[2]
WEB = str(ROOT / "examples" / "web.yaml")
HEALTHY = str(ROOT / "fixtures" / "healthy-deploy.csv")
APP_KEY = "dd-app-KEY-SECRET-456"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_scrub_removes_key_values_and_newlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    assert scrub(f"refused {APP_KEY}\nagain") == "refused *** again"


def test_scrub_leaves_keys_too_short_to_be_real_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # Replacing a one- or two-letter value would mangle every message.
    monkeypatch.setenv("DD_API_KEY", "ab")
    assert scrub("tab stab") == "tab stab"


def test_progress_shows_unless_quiet_and_notes_always() -> None:
    plain = Console(io.StringIO(), io.StringIO())
    plain.progress("fetching")
    plain.note("written")
    assert plain.stderr.getvalue() == "canarystats: fetching\ncanarystats: written\n"
    quiet = Console(io.StringIO(), io.StringIO(), Verbosity.QUIET)
    quiet.progress("fetching")
    quiet.note("written")
    assert quiet.stderr.getvalue() == "canarystats: written\n"


def test_a_line_holds_no_control_characters() -> None:
    console = Console(io.StringIO(), io.StringIO())
    console.progress("got \x1b[31mred\x1b[0m\r\nand a bell\x07 \x9b")
    assert console.stderr.getvalue() == "canarystats: got [31mred[0m and a bell \n"


@pytest.mark.parametrize(
    ("verbosity", "shown"),
    [
        (Verbosity.QUIET, ["a warning"]),
        (Verbosity.NORMAL, ["retrying in 2 s", "a warning"]),
        (Verbosity.VERBOSE, ["request 1", "retrying in 2 s", "a warning"]),
    ],
)
def test_library_logs_follow_the_verbosity_and_the_logger_is_restored(
    verbosity: Verbosity, shown: list[str]
) -> None:
    logger = logging.getLogger("canarystats")
    before = (logger.propagate, logger.level, list(logger.handlers))
    console = Console(io.StringIO(), io.StringIO(), verbosity)
    with logging_to(console):
        logging.getLogger("canarystats.sources").debug("request 1")
        logging.getLogger("canarystats.sources").info("retrying in\n2 s")
        logger.warning("a warning")
    assert console.stderr.getvalue() == "".join(f"canarystats: {line}\n" for line in shown)
    assert (logger.propagate, logger.level, list(logger.handlers)) == before


def test_the_flags_numbers_are_the_verbosities() -> None:
    # options.py spells the levels as numbers so that --help loads no more than it needs.
    parser = build_parser()
    assert parser.parse_args(["-q", "validate", "w.yaml"]).verbosity == Verbosity.QUIET
    assert parser.parse_args(["validate", "w.yaml", "-v"]).verbosity == Verbosity.VERBOSE
    assert parser.parse_args(["--verbose", "validate", "w.yaml"]).verbosity == Verbosity.VERBOSE
    assert parser.parse_args(["validate", "w.yaml"]).verbosity is None


def test_quiet_and_verbose_together_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["judge", WEB, "--data", HEALTHY, "-q", "-v"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "canarystats judge: argument -v/--verbose: not allowed with argument -q/--quiet; "
        "see canarystats judge --help"
    ]


def test_quiet_after_the_command_silences_progress_but_not_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["judge", WEB, "--data", HEALTHY, "--history", str(tmp_path), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"canarystats: warning: --history {tmp_path} is a folder; give a file name; "
        "the run was not recorded; the verdict was PASS (exit 0)"
    ]


def test_progress_lines_without_a_terminal_colour_only_on_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out, err = _Terminal(), _Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["judge", WEB, "--data", HEALTHY]) == 0
    assert "reading" in err.getvalue() and "judging" in err.getvalue()
    assert out.getvalue().startswith("\033[32;1mPASS")
    plain_out, plain_err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", plain_out)
    monkeypatch.setattr(sys, "stderr", plain_err)
    assert main(["judge", WEB, "--data", HEALTHY]) == 0
    assert (
        plain_err.getvalue()
        == err.getvalue()
        == (f"canarystats: reading {HEALTHY}\ncanarystats: judging 7 metrics\n")
    )
    assert plain_out.getvalue().startswith("PASS")


# --------------------------------------------------------------------------- retries in a CI log


def _fleet() -> pd.DataFrame:
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=5)
    rows = [
        ("app.latency", cohort, f"{cohort}-{n}", end - pd.Timedelta(minutes=m), 100.0 + n + m)
        for cohort in ("canary", "baseline")
        for n in range(3)
        for m in range(1, 16)
    ]
    return pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])


@pytest.fixture
def flaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A config whose Datadog answers 503 once (its error text with escape sequences)."""
    for name in ("DD_SITE", "CANARYSTATS_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DD_API_KEY", "dd-api-KEY-SECRET-123")
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    config = tmp_path / "tiny.yaml"
    config.write_text(
        'name: tiny\nscopes: {canary: "role:canary", baseline: "role:baseline"}\n'
        'metrics:\n  - name: latency\n    query: "avg:app.latency{$scope} by {host}"\n',
        encoding="utf-8",
    )
    scopes = {"role:canary": "canary", "role:baseline": "baseline"}
    with FakeDatadog(_fleet(), scopes=scopes) as fake:
        fake.inject(Fault(status=503, errors=["overloaded\x1b[2K\x07 try later"], times=1))
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        yield str(config)


def _judge_flaky(config: str, *flags: str) -> tuple[int, list[str]]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([*flags, "judge", config, "--lookback", "10m"])
    return code, err.getvalue().splitlines()


def test_a_retry_is_one_plain_line_in_a_ci_log(flaky: str) -> None:
    code, lines = _judge_flaky(flaky)
    assert code in (0, 1)
    retries = [line for line in lines if "retrying in" in line]
    assert len(retries) == 1
    assert "HTTP 503 (overloaded[2K try later); retrying in" in retries[0]
    for line in lines:
        assert line.startswith("canarystats: ")
        assert not any(unicodedata.category(ch) == "Cc" for ch in line), repr(line)


def test_quiet_hides_the_retry(flaky: str) -> None:
    code, quiet = _judge_flaky(flaky, "--quiet")
    assert code in (0, 1) and quiet == []


def test_verbose_shows_each_request(flaky: str) -> None:
    code, lines = _judge_flaky(flaky, "-v")
    assert code in (0, 1)
    requests = [line for line in lines if ": request " in line]
    assert [line.rsplit(": request ", 1)[1].split()[0] for line in requests] == ["1", "2"]
    assert any("retrying in" in line for line in lines)
