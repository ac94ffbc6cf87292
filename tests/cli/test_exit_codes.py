"""The exit codes of ``canarystats``: documented in the help, one line on stderr for each error.

The codes and their meanings are :mod:`canarystats.exit_codes`'s; the help must say the same.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import canarystats.cli
from canarystats.cli import main
from canarystats.errors import SourceError

ROOT = Path(__file__).resolve().parents[2]
WEB = str(ROOT / "examples" / "web.yaml")
HEALTHY = str(ROOT / "fixtures" / "healthy-deploy.csv")
# The help's exit-code section, as users read it.
HELP_EXIT_CODES = """\
exit codes (judge):
  0  pass
  1  fail; marginal counts as fail unless --marginal-ok
  2  the command line, the config or the data is wrong, or the set-up cannot work
     (missing or refused Datadog keys, a wrong DATADOG_HOST or DD_SITE); never hidden by
     --soft-fail
  3  no verdict: the source (Datadog) is down or throttling past the deadline, or the
     judgment is nodata
  4  undecided (with --state): no boundary reached yet; call again after the next look
  --soft-fail exits 0 instead of 1 or 3, and prints (and records) the code it would have
  returned.
"""


def test_version_and_help_document_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    from canarystats import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"canarystats {__version__}\n"
    for argv in (["--help"], ["judge", "--help"]):
        assert main(argv) == 0
        assert HELP_EXIT_CODES in capsys.readouterr().out


def test_no_command_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--help" in err


@pytest.mark.parametrize(
    "command", ["judge", "fetch", "validate", "history", "init", "plan", "backtest"]
)
def test_an_unknown_flag_is_one_line_naming_the_commands_help(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"canarystats {command}: ")
    assert err.endswith(f"; see canarystats {command} --help\n")


def test_a_bad_argument_value_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["judge", WEB, "--pass-score", "200"]) == 2
    assert capsys.readouterr().err == (
        "canarystats judge: argument --pass-score: '200' is not a score in [0, 100]; "
        "see canarystats judge --help\n"
    )


def _raising(exc: BaseException) -> object:
    def run(args: argparse.Namespace, console: object) -> int:
        raise exc

    return run


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (SourceError("Datadog answered 503"), 3, "canarystats: error: Datadog answered 503\n"),
        (KeyboardInterrupt(), 130, "canarystats: interrupted\n"),
        (BrokenPipeError(), 0, ""),
        (
            ZeroDivisionError("division by zero"),
            3,
            "canarystats: internal error (ZeroDivisionError: division by zero); rerun with "
            "CANARYSTATS_DEBUG=1 for the traceback and report it\n",
        ),
    ],
)
def test_what_escapes_a_command_becomes_its_documented_code(
    exc: BaseException,
    code: int,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("CANARYSTATS_DEBUG", raising=False)
    monkeypatch.setitem(canarystats.cli.COMMANDS, "validate", _raising(exc))
    assert main(["validate", WEB]) == code
    assert capsys.readouterr().err == message


def test_debug_shows_the_traceback_of_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANARYSTATS_DEBUG", "1")
    monkeypatch.setitem(canarystats.cli.COMMANDS, "validate", _raising(ZeroDivisionError()))
    with pytest.raises(ZeroDivisionError):
        main(["validate", WEB])
