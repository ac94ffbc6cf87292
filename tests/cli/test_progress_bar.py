"""A progress bar on a terminal: one line redrawn with a carriage return and wiped at the end,
for long fetches and backtests; never off a terminal, never with --quiet."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from canarystats.cli import main
from canarystats.cli.console import Console, Verbosity, logging_to
from canarystats.cli.progress import BAR_CELLS, ProgressBar
from canarystats.testing import FakeDatadog, Fault

ROOT = Path(__file__).resolve().parents[2]
BACKTEST_CONFIG = str(ROOT / "examples" / "web-backtest.yaml")
DEPLOYS = ROOT / "fixtures" / "history" / "deploys.csv"
HISTORY = str(ROOT / "fixtures" / "history" / "history.csv")
METRICS = 25  # past the fewest metrics a fetch shows a bar for (20)
COMMAND = (sys.executable, "-m", "canarystats", "backtest")


class _Terminal(io.StringIO):
    """What a terminal's stderr looks like to the command: a stream that says it is one."""

    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _visible(screen: str) -> str:
    """What a terminal shows at the end: each carriage return goes back to the line's start."""
    shown: list[str] = []
    for line in screen.split("\n"):
        cells: list[str] = []
        for part_no, part in enumerate(line.split("\r")):
            start = 0 if part_no else len(cells)
            cells[start : start + len(part)] = list(part)
        shown.append("".join(cells).rstrip())
    return "\n".join(shown).rstrip("\n")


# --------------------------------------------------------------------------- the bar itself


def test_the_bar_is_redrawn_in_place_and_wiped_at_the_end() -> None:
    screen = io.StringIO()
    bar = ProgressBar(screen, "fetching", 3, unit="metrics", interval=0.0)
    for done in (1, 2, 3):
        bar.update(done)
    drawn = screen.getvalue()
    assert drawn.count("\r") == 3 and "\n" not in drawn
    assert drawn.endswith(f"[{'#' * BAR_CELLS}] 3/3 metrics")
    bar.close()
    assert _visible(screen.getvalue()) == ""


def test_the_bar_is_redrawn_at_most_every_interval_but_always_at_the_end() -> None:
    screen, clock = io.StringIO(), _Clock()
    bar = ProgressBar(screen, "backtesting", 100, unit="deploys", clock=clock, interval=0.1)
    for done in range(1, 100):
        bar.update(done)  # the clock stands still: only the first is drawn
    assert screen.getvalue().count("\r") == 1
    clock.now = 0.5
    bar.update(99)
    bar.update(100)
    assert screen.getvalue().count("\r") == 3
    assert screen.getvalue().endswith("100/100 deploys")


def test_a_shorter_line_wipes_what_a_longer_one_left() -> None:
    screen = io.StringIO()
    bar = ProgressBar(screen, "fetching", 100, unit="metrics", interval=0.0)
    bar.update(100)
    bar.label = "x"
    bar.update(100)
    assert _visible(screen.getvalue()) == f"canarystats: x [{'#' * BAR_CELLS}] 100/100 metrics"


# --------------------------------------------------------------------------- when it is drawn


@pytest.mark.parametrize(
    ("stream", "verbosity", "total", "drawn"),
    [
        (_Terminal(), Verbosity.NORMAL, 30, True),
        (_Terminal(), Verbosity.VERBOSE, 30, True),
        (_Terminal(), Verbosity.QUIET, 30, False),
        (_Terminal(), Verbosity.NORMAL, 5, False),
        (io.StringIO(), Verbosity.NORMAL, 30, False),
    ],
    ids=["terminal", "verbose", "quiet", "short", "not-a-terminal"],
)
def test_a_bar_only_on_a_terminal_unless_quiet_and_only_for_long_work(
    stream: io.StringIO, verbosity: Verbosity, total: int, drawn: bool
) -> None:
    console = Console(io.StringIO(), stream, verbosity)
    with console.bar("fetching", total, unit="metrics", minimum=20) as update:
        assert (update is not None) == drawn
        if update is not None:
            update(total)
    assert ("\r" in stream.getvalue()) == drawn
    assert _visible(stream.getvalue()) == ""


def test_a_message_during_the_bar_gets_its_own_line_and_the_bar_comes_back() -> None:
    stream = _Terminal()
    console = Console(io.StringIO(), stream)
    with logging_to(console), console.bar("fetching", 30, unit="metrics") as update:
        assert update is not None
        update(10)
        logging.getLogger("canarystats.sources").info("HTTP 503; retrying in 1.0 s")
        console.note("warning: something")
        update(30)
    # Each message stands alone on its line; the bar is gone at the end.
    assert _visible(stream.getvalue()).splitlines() == [
        "canarystats: HTTP 503; retrying in 1.0 s",
        "canarystats: warning: something",
    ]


def test_the_bar_is_wiped_when_the_work_fails() -> None:
    stream = _Terminal()
    console = Console(io.StringIO(), stream)
    with pytest.raises(RuntimeError), console.bar("fetching", 30, unit="metrics") as update:
        assert update is not None
        update(3)
        raise RuntimeError("the source failed")
    assert "\r" in stream.getvalue() and _visible(stream.getvalue()) == ""


def test_a_real_pseudo_terminal_is_seen_as_a_terminal() -> None:
    master, slave = os.openpty()
    try:
        with open(slave, "w", encoding="utf-8", closefd=False) as tty:
            console = Console(io.StringIO(), tty)
            assert console.tty
            with console.bar("fetching", 30, unit="metrics") as update:
                assert update is not None
                update(30)
        seen = _read_all(master)
    finally:
        os.close(master)
        os.close(slave)
    assert "\rcanarystats: fetching [" in seen and "30/30 metrics" in seen
    assert _visible(seen) == ""


def _read_all(fd: int, timeout: float = 0.5) -> str:
    chunks = []
    while select.select([fd], [], [], timeout)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the other end closed (Linux reports EIO)
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


# --------------------------------------------------------------------------- a long fetch


def _fleet() -> pd.DataFrame:
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=5)
    rows = [
        (f"app.m{i}", cohort, f"{cohort}-{n}", end - pd.Timedelta(minutes=m), 100.0 + n + m)
        for i in range(METRICS)
        for cohort in ("canary", "baseline")
        for n in range(3)
        for m in range(1, 11)
    ]
    return pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])


@pytest.fixture
def many_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, object]]:
    """A config of 25 metrics and a fake Datadog that answers them."""
    for name in ("DD_SITE", "CANARYSTATS_DEBUG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DD_API_KEY", "dd-api-key-for-tests")
    monkeypatch.setenv("DD_APP_KEY", "dd-app-key-for-tests")
    metrics = "".join(
        f'  - name: m{i}\n    query: "avg:app.m{i}{{$scope}} by {{host}}"\n' for i in range(METRICS)
    )
    config = tmp_path / "many.yaml"
    config.write_text(
        f'name: many\nscopes: {{canary: "role:canary", baseline: "role:baseline"}}\n'
        f"metrics:\n{metrics}",
        encoding="utf-8",
    )
    scopes = {"role:canary": "canary", "role:baseline": "baseline"}
    with FakeDatadog(_fleet(), scopes=scopes) as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        yield str(config), fake


def _fetch(config: str, stderr: io.StringIO, out: Path, *flags: str) -> int:
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        return main([*flags, "fetch", config, "--lookback", "8m", "--output", str(out)])


def test_a_long_fetch_shows_a_bar_on_a_terminal(
    many_metrics: tuple[str, FakeDatadog], tmp_path: Path
) -> None:
    config, fake = many_metrics
    fake.inject(Fault(status=503, times=1))  # a retry line while the bar is up
    screen = _Terminal()
    assert _fetch(config, screen, tmp_path / "run.csv") == 0
    drawn = screen.getvalue()
    assert f"\rcanarystats: fetching [{'#' * BAR_CELLS}] {METRICS}/{METRICS} metrics" in drawn
    lines = _visible(drawn).splitlines()
    assert lines[0].startswith(f"canarystats: fetching {METRICS} metrics for 2 cohorts")
    assert any("retrying in" in line for line in lines)
    assert all(line.startswith("canarystats: ") and "[" not in line for line in lines), lines


@pytest.mark.parametrize(
    ("stream", "flags"),
    [(io.StringIO(), ()), (_Terminal(), ("--quiet",))],
    ids=["not-a-terminal", "quiet"],
)
def test_a_long_fetch_shows_no_bar_off_a_terminal_or_when_quiet(
    many_metrics: tuple[str, FakeDatadog], tmp_path: Path, stream: io.StringIO, flags: tuple[str]
) -> None:
    config, _ = many_metrics
    assert _fetch(config, stream, tmp_path / "run.csv", *flags) == 0
    assert "\r" not in stream.getvalue()
    assert "[" not in stream.getvalue()


# --------------------------------------------------------------------------- a long backtest


def _backtest(deploys: Path, out: Path, stderr: io.StringIO) -> int:
    argv = ["backtest", BACKTEST_CONFIG, str(deploys), "--data", HISTORY, "--output", str(out)]
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        return main(argv)


def test_a_backtest_in_parts_under_a_bar_writes_the_same_rows(tmp_path: Path) -> None:
    deploys = tmp_path / "deploys.csv"
    pd.read_csv(DEPLOYS).head(60).to_csv(deploys, index=False)
    plain, shown = io.StringIO(), _Terminal()
    assert _backtest(deploys, tmp_path / "plain.csv", plain) == 0
    assert _backtest(deploys, tmp_path / "shown.csv", shown) == 0
    assert "\r" not in plain.getvalue()
    assert "60/60 deploys" in shown.getvalue()
    assert (tmp_path / "shown.csv").read_text() == (tmp_path / "plain.csv").read_text()
    summary = plain.getvalue().replace("plain.csv", "shown.csv")
    assert _visible(shown.getvalue()) == summary.rstrip("\n")


def test_a_backtest_on_a_pseudo_terminal_draws_and_wipes_its_bar(tmp_path: Path) -> None:
    # The command as a user runs it: its own process, stderr a terminal, stdout not.
    out = tmp_path / "bt.csv"
    master, slave = os.openpty()
    try:
        done = subprocess.Popen(
            [*COMMAND, BACKTEST_CONFIG, str(DEPLOYS), "--data", HISTORY, "--output", str(out)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=slave,
            env={k: v for k, v in os.environ.items() if k != "CANARYSTATS_NO_NUMBA"},
        )
        os.close(slave)
        seen = []
        while done.poll() is None:
            seen.append(_read_all(master, timeout=0.2))
        seen.append(_read_all(master, timeout=0.2))
        stdout, _ = done.communicate(timeout=60)
    finally:
        os.close(master)
    screen = "".join(seen).replace("\r\n", "\n")  # the terminal's own line ends
    assert done.returncode == 0 and stdout == b""
    assert "\rcanarystats: backtesting [" in screen and "200/200 deploys" in screen
    # The summary line alone is left on screen, its counts those of the results written.
    rows = pd.read_csv(out)
    good, bad = rows[rows["outcome"] == "good"], rows[rows["outcome"] == "bad"]
    assert _visible(screen).strip().splitlines() == [
        f"backtest of 200 deploys: {int(good['false_alarm'].sum())} false alarms in "
        f"{len(good)} good, {int(bad['stopped'].sum())} of {len(bad)} bad caught, 0 without a "
        f"verdict; results written to {out}"
    ]
