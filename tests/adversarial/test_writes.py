"""Every write that can fail, failing: the verdict survives, in one warning line.

``judge`` writes a report (``--output``) and a record (``--history``) beside its verdict.  When
either fails -- a full disk, a read-only file system, a folder in place of the file, a folder
it may not write in, a history locked by another process or that is no history -- the command
says so in ONE warning line naming the verdict and what to do, prints the report on stdout
when the file failed, keeps the verdict's exit code (``--soft-fail`` still applies), and leaves
no half-written file.  ``fetch`` and ``backtest``, whose file is their result, exit 2 instead.

A full disk is ``/dev/full`` (every write fails with ENOSPC, no root needed) or, for the rename
of an atomic write and for SQLite, the operating system's or SQLite's own "full" error raised
where it would be; a folder one may not write in needs a user who is not root.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from canarystats.cli import main
from canarystats.history import runs

WEB = str(ROOT / "examples" / "web.yaml")
INCIDENT = str(ROOT / "fixtures" / "seed-incident.csv")  # a failing deploy: exit 1
FAIL = ["--quiet", "judge", WEB, "--data", INCIDENT]
VERDICT = "the verdict was FAIL (exit 1)"
DEV_FULL = Path("/dev/full")
# A run with a child interpreter: no numba compilation (not what these tests are about).
CHILD_ENV = {**os.environ, "CANARYSTATS_NO_NUMBA": "1"}


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("canarystats: warning:")]


def _one_warning(err: str, *mentions: str) -> str:
    """The single warning line of ``err``, which names the verdict and each of ``mentions``."""
    lines = _warnings(err)
    assert len(lines) == 1, err
    assert "Traceback" not in err and "internal error" not in err
    for text in (*mentions, VERDICT):
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def full_disk() -> Iterator[Path]:
    """``/dev/full``, checked to be the device before and after (a rename would replace it)."""
    if not DEV_FULL.exists() or not stat.S_ISCHR(DEV_FULL.stat().st_mode):
        pytest.skip("no /dev/full character device (Linux) to simulate a full disk")
    yield DEV_FULL
    assert stat.S_ISCHR(DEV_FULL.stat().st_mode), "/dev/full was replaced by a file"
    assert not list(Path("/dev").glob(".full.*")), "a temporary file was left in /dev"


# --------------------------------------------------------------------------- judge --output


def test_report_to_a_full_disk_is_printed_and_the_run_recorded(
    full_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite"
    assert main(["--quiet", *FAIL, "--output", str(full_disk), "--history", str(db)]) == 1
    out, err = capsys.readouterr()
    _one_warning(err, f"--output {full_disk}", "No space left on device", "free some space")
    assert out.startswith("FAIL  canary web")
    assert err.count("\n") == 1
    assert runs(db)["verdict"].tolist() == ["fail"]


def test_soft_fail_still_applies_when_the_report_cannot_be_written(
    full_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--quiet", *FAIL, "--output", str(full_disk), "--soft-fail"]) == 0
    out, err = capsys.readouterr()
    warning = _warnings(err)
    assert len(warning) == 1 and "FAIL (exit 0 with --soft-fail, 1 without)" in warning[0]
    assert "soft-fail: fail would have exited 1; exiting 0" in err
    assert out.startswith("FAIL")


@pytest.mark.parametrize(
    ("code", "advice"),
    [(errno.ENOSPC, "free some space"), (errno.EROFS, "the file system is read-only")],
)
def test_a_failed_rename_keeps_the_old_report_and_leaves_no_temporary(
    code: int,
    advice: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The last step of an atomic write, failing as a full disk or a read-only mount makes it.
    def refuse(src: object, dst: object) -> None:
        raise OSError(code, os.strerror(code))

    report = tmp_path / "report.txt"
    report.write_text("the last run's report\n")
    monkeypatch.setattr(os, "replace", refuse)
    assert main(["--quiet", *FAIL, "--output", str(report)]) == 1
    out, err = capsys.readouterr()
    _one_warning(err, f"--output {report}: cannot write it ({os.strerror(code)})", advice)
    assert out.startswith("FAIL")
    assert report.read_text() == "the last run's report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


@pytest.mark.parametrize(
    ("where", "says"),
    [("folder", "is a folder; give a file name"), ("missing", "does not exist; create it")],
)
def test_a_report_path_that_cannot_be_a_file_keeps_the_verdict(
    where: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "folder").mkdir()
    target = tmp_path / where if where == "folder" else tmp_path / "missing" / "r.txt"
    db = tmp_path / "h.sqlite"
    assert main(["--quiet", *FAIL, "--output", str(target), "--history", str(db)]) == 1
    out, err = capsys.readouterr()
    _one_warning(err, f"--output {target}", says)
    assert out.startswith("FAIL")
    assert len(runs(db)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "h.sqlite"]


def test_a_report_through_a_symbolic_link_keeps_the_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A rename over the link would replace it (as root, /dev/stdout itself) with a plain file.
    (tmp_path / "real").mkdir()
    link = tmp_path / "report.txt"
    link.symlink_to(tmp_path / "real" / "report.txt")
    assert main(["--quiet", *FAIL, "--output", str(link)]) == 1
    assert capsys.readouterr().out == ""
    assert link.is_symlink() and link.read_text().startswith("FAIL")
    assert [p.name for p in (tmp_path / "real").iterdir()] == ["report.txt"]


def test_stdout_on_a_full_disk_keeps_the_verdict(full_disk: Path, tmp_path: Path) -> None:
    # A CI job that redirects stdout to a file on the full disk; a real process, since the
    # interpreter's last flush at exit is part of what must not change the exit code.
    db = tmp_path / "h.sqlite"
    argv = [sys.executable, "-m", "canarystats", *FAIL, "--history", str(db)]
    for extra, code in (([], 1), (["--soft-fail"], 0)):
        with full_disk.open("w") as stdout:
            done = subprocess.run(
                [*argv, *extra], stdout=stdout, stderr=subprocess.PIPE, text=True,
                env=CHILD_ENV, timeout=60, check=False,
            )  # fmt: skip
        assert done.returncode == code, done.stderr
        warning = _warnings(done.stderr)
        assert len(warning) == 1 and "cannot print the report (No space left" in warning[0]
        assert "the verdict was FAIL" in warning[0] and "Traceback" not in done.stderr
    assert runs(db)["would_exit"].tolist() == [1, 1]


# --------------------------------------------------------------------------- judge --history


def test_history_where_a_folder_is_keeps_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--quiet", *FAIL, "--history", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    _one_warning(err, f"--history {tmp_path} is a folder", "the run was not recorded")
    assert out.startswith("FAIL")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_no_history_is_left_alone_and_the_verdict_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("this is not sqlite\n" * 100)
    other = tmp_path / "app.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
    conn.close()
    before = {p: p.read_bytes() for p in (text, other)}
    for path in before:
        assert main(["--quiet", *FAIL, "--history", str(path)]) == 1
        out, err = capsys.readouterr()
        line = _one_warning(err, f"--history {path}: not a canarystats history file")
        assert "locked" not in line
        assert out.startswith("FAIL")
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.sqlite", "notes.txt"]


def test_a_history_locked_past_the_deadline_is_named_as_locked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite"
    assert main(["--quiet", *FAIL, "--history", str(db)]) == 1
    # Another process holds an exclusive transaction for far longer than the run's deadline.
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        capsys.readouterr()
        started = time.monotonic()
        assert main(["--quiet", *FAIL, "--history", str(db), "--deadline", "1"]) == 1
        waited = time.monotonic() - started
        out, err = capsys.readouterr()
    finally:
        holder.kill()
        holder.wait(timeout=10)
    line = _one_warning(err, f"--history {db}: locked by another process (waited 1 s")
    assert "not a canarystats history" not in line and "the run was not recorded" in line
    assert out.startswith("FAIL")
    assert 1.0 <= waited < 15.0
    # The lock gone, the file is the history it was: one run, and the next one is recorded.
    assert len(runs(db)) == 1
    assert main(["--quiet", *FAIL, "--history", str(db)]) == 1
    assert len(runs(db)) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.sqlite"]


_HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(60)
"""


def test_a_full_disk_under_the_history_records_nothing_and_keeps_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite"
    assert main(["--quiet", *FAIL, "--history", str(db)]) == 1
    capsys.readouterr()
    with sqlite3.connect(db) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    real_connect = sqlite3.connect

    def no_room_left(*args: object, **kwargs: object) -> sqlite3.Connection:
        # SQLite's own "database or disk is full" (SQLITE_FULL): the file may not grow.
        conn = real_connect(*args, **kwargs)  # type: ignore[arg-type]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(sqlite3, "connect", no_room_left)
    assert main(["--quiet", *FAIL, "--history", str(db)]) == 1
    out, err = capsys.readouterr()
    _one_warning(err, f"--history {db}: cannot write it (database or disk is full)")
    assert out.startswith("FAIL")
    monkeypatch.undo()
    assert len(runs(db)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.sqlite"]


# --------------------------------------------------------------------------- no permission


def _unprivileged() -> list[str] | None:
    """A command prefix that runs a program as ``nobody`` (we are root), if one works here."""
    for prefix in (
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
        ["runuser", "-u", "nobody", "-m", "--"],
    ):
        if shutil.which(prefix[0]) is None:
            continue
        probe = [*prefix, sys.executable, "-c", "import canarystats, pandas"]
        done = subprocess.run(probe, capture_output=True, env=CHILD_ENV, timeout=60, check=False)
        if done.returncode == 0:
            return prefix
    return None


def test_a_folder_one_may_not_write_in_keeps_the_verdict(tmp_path: Path) -> None:
    # Root writes anywhere, whatever the mode: the run is made as nobody, in a folder of root's.
    prefix: list[str] = []
    if os.geteuid() == 0:
        found = _unprivileged()
        if found is None:
            pytest.skip("running as root, and neither setpriv nor runuser can run Python as nobody")
        prefix = found
    base = Path(tempfile.mkdtemp(prefix="canarystats-ro-"))
    try:
        locked = base / "reports"
        locked.mkdir()
        base.chmod(0o755)
        locked.chmod(0o555)
        argv = [*FAIL, "--output", str(locked / "r.txt"), "--history", str(locked / "h.sqlite")]
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "canarystats", *argv],
            capture_output=True, text=True, env=CHILD_ENV, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert list(locked.iterdir()) == []
    finally:
        (base / "reports").chmod(0o755)
        shutil.rmtree(base)
    lines = _warnings(done.stderr)
    assert len(lines) == 2 and "Traceback" not in done.stderr, done.stderr
    assert "cannot write in its folder (Permission denied)" in lines[0] and VERDICT in lines[0]
    assert "--history" in lines[1] and "the run was not recorded" in lines[1]
    assert VERDICT in lines[1]
    assert done.stdout.startswith("FAIL")


# --------------------------------------------------------------------------- fetch, backtest


def test_fetch_into_a_folder_fails_before_fetching(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No Datadog is set up: the path is refused before any request.
    assert main(["--quiet", "fetch", WEB, "--lookback", "10m", "--output", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"canarystats: error: --output {tmp_path} is a folder; give a file name\n"
    )


def test_fetch_to_a_full_disk_is_one_error_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from canarystats.sources import read_frame
    from canarystats.testing import FakeDatadog

    def disk_full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    frame = read_frame(INCIDENT).assign(tags="service:web")
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(hours=1)
    frame["timestamp"] += end - (frame["timestamp"].max() + pd.Timedelta(minutes=1))
    scopes = {"role:canary": "canary", "role:baseline": "baseline"}
    window = ["--start", frame["timestamp"].min().isoformat(), "--end", end.isoformat()]
    saved = tmp_path / "run.csv"
    with FakeDatadog(frame, scopes=scopes, metrics=_DATADOG_NAMES) as dd:
        monkeypatch.setenv("DATADOG_HOST", dd.url)
        monkeypatch.setenv("DD_API_KEY", "dd-api-key-0000")
        monkeypatch.setenv("DD_APP_KEY", "dd-app-key-0000")
        monkeypatch.setattr(os, "replace", disk_full)
        code = main(["--quiet", "fetch", WEB, *window, "--output", str(saved)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err == (
        f"canarystats: error: --output {saved}: cannot write it (No space left on device); "
        "free some space or write elsewhere\n"
    )
    assert out == "" and list(tmp_path.iterdir()) == []


# Datadog metric names of examples/web.yaml's queries -> the fixture's metric column.
_DATADOG_NAMES = {
    "sidekiq.jobs.failure": "background-jobs-failed",
    "sidekiq.jobs.success": "background-jobs-processed",
    "sidekiq.queue.latency": "background-queue-latency",
    "trace.rack.request.duration": "request-latency",
    "trace.rack.request.errors": "request-errors",
    "trace.rack.request.hits": "requests",
    "system.cpu.user": "cpu-user",
}


def test_backtest_to_a_full_disk_prints_the_rows_and_exits_2(
    full_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deploys = tmp_path / "deploys.csv"
    pd.read_csv(ROOT / "fixtures" / "history" / "deploys.csv").head(2).to_csv(deploys, index=False)
    config = str(ROOT / "examples" / "web-backtest.yaml")
    data = str(ROOT / "fixtures" / "history" / "history.csv")
    argv = ["backtest", config, str(deploys), "--data", data, "--output", str(full_disk)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out.startswith("deploy,canary_scope,") and len(out.splitlines()) == 3
    lines = err.splitlines()
    assert lines[0].startswith("backtest of 2 deploys") and "written" not in lines[0]
    assert lines[1].startswith(f"canarystats: error: --output {full_disk}: cannot write it")
    assert lines[1].endswith("; the results are on stdout instead") and len(lines) == 2
