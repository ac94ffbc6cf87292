"""Every shell command in README.md and docs/*.md runs, offline, and exits as the doc says.

Each block (see :mod:`doc_shell` for what counts as one and how it is edited to run offline)
is a bash script run in a fresh working folder holding copies of ``examples/`` and
``fixtures/``, the files a pipeline example names (``canary.yaml``, ``deploy/canary.yaml``,
``promote.sh``, ``rollback.sh``, a ``canary-history.sqlite``), with ``canarystats`` on PATH
as the checkout's CLI (``sys.executable -m canarystats``) and Datadog being a fake that serves
the seed incident twice: at its own time (2026-03-10T15:00Z) and as a live copy ending now.

A block's ``canarystats`` calls must exit with the codes of its ``<!-- doc-test: exits ... -->``
comment (0 each without one) and print no traceback.  The blocks run a few at a time, since
most of their time is each call's start-up.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from doc_shell import LEFTOVER, SKIPS, Block, Skip, own_ports, runnable, shell_blocks

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = shell_blocks(ROOT, DOCS)
#: the most entries the skip list may have: a longer one would start hiding commands
MAX_SKIPS = 4
#: the tags the fake gives each cohort: the doc's own scopes and the versions below
NEW, OLD = "1.4.2", "1.4.1"
SCOPES = {
    "role:canary": "canary",
    "version:abc123": "canary",
    f"version:{NEW}": "canary",
    "role:baseline": "baseline",
    "version:stable": "baseline",
    f"version:{OLD}": "baseline",
}
#: longest a block may run: the replay in docs/sequential.md takes the most, about 20 s
BLOCK_TIMEOUT_S = 120
#: blocks run at once; their calls mostly wait for imports and the fake
WORKERS = 3
WRAPPER = """#!/bin/sh
# canarystats as a doc reader runs it, each call's exit code logged for the test.
"{python}" -m canarystats "$@"
code=$?
printf '%s\\t%s\\n' "$code" "$*" >> "$DOC_TEST_CALLS"
exit "$code"
"""


@dataclass(frozen=True)
class Outcome:
    """What running a block gave: its script, its calls' exit codes, stdout and stderr."""

    script: str
    codes: tuple[int, ...]
    calls: tuple[str, ...]
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Fake:
    """The test's fake Datadog: its port and the canary start of its live copy."""

    port: int
    canary_start: str


@pytest.fixture(scope="module")
def fake() -> Iterator[Fake]:
    """A fake Datadog with the seed incident at its own time and shifted to end now."""
    from canarystats import load_config
    from canarystats.cli.init import read_monitors
    from canarystats.sources import read_frame
    from canarystats.testing import FakeDatadog
    from canarystats.testing.config_frame import frame_for_config

    incident = read_frame(ROOT / "fixtures" / "seed-incident.csv")
    first = incident["timestamp"].min()
    # The live copy starts 25 minutes ago, so `--lookback 10m` and `--start -15m` find the
    # failing half of the incident; its last minutes lie ahead, as a canary's would.
    start = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=25)
    live = incident.assign(timestamp=incident["timestamp"] + (start - first))
    both = frame_for_config(
        pd.concat([incident, live], ignore_index=True),
        load_config(ROOT / "examples" / "web.yaml"),
    )
    monitors = read_monitors(ROOT / "examples" / "seed-incident-monitors.json")
    with FakeDatadog(both, scopes=SCOPES, monitors=monitors) as dd:
        yield Fake(int(dd.url.rsplit(":", 1)[1]), start.strftime("%Y-%m-%dT%H:%M:%SZ"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working folder every block starts from (copied per block) and the CLI on PATH."""
    base = tmp_path_factory.mktemp("doc-commands")
    work = base / "work"
    shutil.copytree(ROOT / "examples", work / "examples")
    shutil.copytree(ROOT / "fixtures", work / "fixtures")
    # A pipeline's config is the team's own; the example config stands in for it.
    (work / "deploy").mkdir()
    for name in ("canary.yaml", "deploy/canary.yaml"):
        shutil.copy(ROOT / "examples" / "web.yaml", work / name)
    for name in ("promote.sh", "rollback.sh"):
        (work / name).write_text(f"#!/bin/sh\necho {name}\n")
        (work / name).chmod(0o755)
    _history(work / "canary-history.sqlite")
    (base / "bin").mkdir()
    cli = base / "bin" / "canarystats"
    cli.write_text(WRAPPER.format(python=sys.executable))
    cli.chmod(0o755)
    return base


def _history(path: Path) -> None:
    # A history with one soft-failed run, for `canarystats history FILE`.
    from canarystats import history, judge, load_config
    from canarystats.sources import read_frame

    judgment = judge(
        load_config(ROOT / "examples" / "web.yaml"),
        read_frame(ROOT / "fixtures" / "seed-incident.csv"),
    )
    history.append(path, judgment, config_name="web", exit_code=0, would_exit=1, soft_fail=True)


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, fake: Fake, folder: Path
) -> Iterator[dict[str, Future[Outcome]]]:
    """The outcome of every selected block, by id, run a few at a time."""
    selected = {
        item.callspec.id
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_doc_block" and hasattr(item, "callspec")
    }
    chosen = [block for block in BLOCKS if block.id in selected and _commands(block)]
    # A replay in data time mostly waits: started first, it waits while the others run.
    chosen.sort(key=lambda block: "--clock" not in block.text)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        yield {block.id: pool.submit(_run, block, fake, folder) for block in chosen}


def _commands(block: Block) -> str:
    # The block with its skipped commands left out ("" when nothing is left to run).
    return _offline(block)[0].strip()


def _offline(block: Block) -> tuple[str, list[Skip]]:
    # The block's script and skips, without a fake's ports and times (for what is skipped).
    return runnable(block, {"canary_start": ""}, {p: 0 for p in own_ports(block)}, 0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(block: Block, fake: Fake, folder: Path) -> Outcome:
    ports = {port: _free_port() for port in own_ports(block)}
    script, _ = runnable(block, {"canary_start": fake.canary_start}, ports, fake.port)
    here = folder / re.sub(r"\W", "-", block.id)
    shutil.copytree(folder / "work", here)
    calls = here / ".calls"
    calls.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "DATADOG_"))}
    env.update(
        PATH=f"{folder / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        DATADOG_HOST=f"http://127.0.0.1:{fake.port}",
        DD_API_KEY="fake-api-key",
        DD_APP_KEY="fake-app-key",
        NEW=NEW,
        OLD=OLD,
        T0=fake.canary_start,
        DOC_TEST_CALLS=str(calls),
    )
    out, err = here / ".stdout", here / ".stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        shell = subprocess.Popen(
            ["bash", "-c", script],
            cwd=here,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            shell.wait(timeout=BLOCK_TIMEOUT_S)
        finally:
            # A fake the block started in the background ends with it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)
            shell.wait()
    logged = [line.split("\t", 1) for line in calls.read_text().splitlines()]
    return Outcome(
        script,
        tuple(int(code) for code, _ in logged),
        tuple(argv for _, argv in logged),
        out.read_text(),
        err.read_text(),
    )


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_doc_block(block: Block, outcomes: dict[str, Future[Outcome]]) -> None:
    if block.id not in outcomes:
        _, skipped = _offline(block)
        pytest.skip("; ".join(f"{s.pattern}: {s.reason}" for s in skipped))
    outcome = outcomes[block.id].result()
    leftover = LEFTOVER.findall(outcome.script)
    assert not leftover, f"unfilled placeholders {leftover} in:\n{outcome.script}"
    calls = list(zip(outcome.codes, outcome.calls, strict=True))
    shown = (
        f"script:\n{outcome.script}\ncalls: {calls}\n"
        f"stdout (end):\n{outcome.stdout[-2000:]}\nstderr:\n{outcome.stderr[-4000:]}"
    )
    for sign in ("Traceback", "command not found", "syntax error", "internal error"):
        assert sign not in outcome.stderr, shown
    assert outcome.codes, f"no canarystats call ran\n{shown}"
    expected = block.exits if block.exits is not None else (0,) * len(outcome.codes)
    assert outcome.codes == expected, shown


def test_the_skip_list_is_short_and_each_entry_skips_a_doc_command() -> None:
    assert len(SKIPS) <= MAX_SKIPS
    used = [skip for block in BLOCKS for skip in _offline(block)[1]]
    for skip in SKIPS:
        assert skip in used, f"{skip.pattern} matches no command in the docs: remove it"


def test_blocks_are_found_in_every_doc_with_commands() -> None:
    files = {block.path for block in BLOCKS}
    assert {"README.md", "docs/datadog.md", "docs/pipeline.md", "docs/sequential.md"} <= files


def test_no_doc_installs_canarystats_from_a_package_index() -> None:
    # canarystats is on no public index: `pip install canarystats` (extras or not) fails, or
    # worse installs someone else's package of that name.  A checkout or a built wheel works.
    by_name = re.compile(r"pip install\s+(?:-\S+\s+)*['\"]?canarystats\b(?![-\w.*]*\.whl)")
    for path in [*DOCS, ROOT / "fixtures" / "README.md"]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not by_name.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
