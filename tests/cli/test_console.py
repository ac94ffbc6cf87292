"""Where the command's messages go: progress and colour on a terminal only, keys never."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import pytest

from canarystats.cli import main
from canarystats.cli.console import Console, logging_to, scrub

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


def test_notes_always_show_progress_only_on_a_terminal() -> None:
    plain = Console(io.StringIO(), io.StringIO())
    plain.progress("fetching")
    plain.note("written")
    assert plain.stderr.getvalue() == "canarystats: written\n"
    terminal = Console(io.StringIO(), _Terminal())
    terminal.progress("fetching")
    assert terminal.stderr.getvalue() == "canarystats: fetching\n"


def test_library_logs_reach_a_terminal_only_and_the_logger_is_restored() -> None:
    logger = logging.getLogger("canarystats")
    before = (logger.propagate, logger.level, list(logger.handlers))
    terminal = Console(io.StringIO(), _Terminal())
    with logging_to(terminal):
        logger.info("retrying in 2 s")
    plain = Console(io.StringIO(), io.StringIO())
    with logging_to(plain):
        logger.warning("retrying in 2 s")
    assert terminal.stderr.getvalue() == "canarystats: retrying in 2 s\n"
    assert plain.stderr.getvalue() == ""
    assert (logger.propagate, logger.level, list(logger.handlers)) == before


def test_progress_and_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out, err = _Terminal(), _Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["judge", WEB, "--data", HEALTHY]) == 0
    assert "reading" in err.getvalue() and "judging" in err.getvalue()
    assert out.getvalue().startswith("\033[32;1mPASS")
    monkeypatch.setenv("NO_COLOR", "1")
    plain_out, plain_err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", plain_out)
    monkeypatch.setattr(sys, "stderr", plain_err)
    assert main(["judge", WEB, "--data", HEALTHY]) == 0
    assert plain_err.getvalue() == ""
    assert plain_out.getvalue().startswith("PASS")
