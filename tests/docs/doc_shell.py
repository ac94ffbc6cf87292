"""The shell blocks of README.md and docs/*.md, and what running one offline changes in it.

A block is a fenced ```` ```sh ````, ```` ```bash ```` or ```` ```console ```` block (in a
``console`` block only the ``$ `` lines and their continuations are commands).  Running it
offline needs three kinds of edits, each listed here with its reason so that none hides a
broken command:

* :data:`SKIPS`: commands that are recognised and not run (installs, the test suite itself);
  the other commands of the same ``&&`` list still run;
* :data:`SUBSTITUTIONS`: placeholders a reader fills (``...`` keys, the CI runner's paths);
* ports: a fake Datadog the block starts itself (``--port N``) gets a free port, and any other
  ``127.0.0.1:N`` ("the fake above") is the test's own fake.

Expected exit codes come from a comment on the line above the fence::

    <!-- doc-test: exits 1 0 -->

which lists the exit code of each ``canarystats`` call of the block, in order.  Without it,
every call must exit 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LEFTOVER",
    "SKIPS",
    "SUBSTITUTIONS",
    "Block",
    "Skip",
    "logical_lines",
    "own_ports",
    "runnable",
    "shell_blocks",
]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>sh|bash|console)[ \t]*$")
_MARKER = re.compile(r"<!--\s*doc-test:\s*exits((?:\s+\d+)+)\s*-->")
#: a placeholder a reader must fill, left over after the substitutions
LEFTOVER = re.compile(r"=\.\.\.|<[A-Za-z][\w-]*>|\[--[^\]]*\]")


@dataclass(frozen=True)
class Skip:
    """A command recognised and not run: ``pattern`` (a regex searched in one command of an
    ``&&`` list) and why it is not run."""

    pattern: str
    reason: str


#: Commands not run.  Kept short on purpose (a test holds it to a few entries, each matching
#: some doc command): every other command of every block runs.
SKIPS: tuple[Skip, ...] = (
    Skip(r"^python3? -m venv\b", "creates a virtual environment: the tests already run in one"),
    Skip(
        r"\bpip (?:install|wheel)\b",
        "installs or builds the package: slow and online; the tests use the checkout's install",
    ),
    Skip(r"\bpython -m pytest\b", "runs this test suite: recursive"),
)

#: (regex, replacement, why): placeholders a reader fills and paths of a CI runner.
SUBSTITUTIONS: tuple[tuple[str, str, str], ...] = (
    (r"=\.\.\.", "=fake-key", "keys the reader pastes: the fake takes any non-empty key"),
    (r"\.venv/bin/canarystats\b", "canarystats", "the checkout's CLI: the one on PATH"),
    (r"/var/lib/canary/", "", "a CI runner's state folder: the block's working folder"),
    (
        r"\$\(date -u \+%Y-%m-%dT%H:%M:%SZ\)",
        "{canary_start}",
        "the canary starts now: the canary start of the fake's live copy of the incident",
    ),
)


@dataclass(frozen=True)
class Block:
    """One shell block: where it is, its text (dedented) and the exit codes it expects."""

    path: str
    line: int
    text: str
    exits: tuple[int, ...] | None

    @property
    def id(self) -> str:
        """``file:line`` of the opening fence, the test id."""
        return f"{self.path}:{self.line}"


def shell_blocks(root: Path, paths: Iterable[Path]) -> list[Block]:
    """Every shell block of the Markdown files ``paths``, named relative to ``root``."""
    blocks = []
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines()
        at = 0
        while at < len(lines):
            fence = _FENCE.match(lines[at])
            if fence is None:
                at += 1
                continue
            indent = fence["indent"]
            end = at + 1
            while lines[end].strip() != "```":
                end += 1
            body = [line.removeprefix(indent) for line in lines[at + 1 : end]]
            if fence["lang"] == "console":
                body = _console_commands(body)
            marker = _MARKER.search(lines[at - 1]) if at else None
            exits = tuple(int(code) for code in marker[1].split()) if marker else None
            name = path.relative_to(root).as_posix()
            blocks.append(Block(name, at + 1, "\n".join(body) + "\n", exits))
            at = end + 1
    return blocks


def _console_commands(lines: list[str]) -> list[str]:
    # A console block shows a prompt before each command and the output after it.
    commands: list[str] = []
    continued = False
    for line in lines:
        if continued or line.startswith("$ "):
            commands.append(line.removeprefix("$ ") if not continued else line)
            continued = line.endswith("\\")
    return commands


def logical_lines(text: str) -> list[str]:
    """The block's lines with backslash continuations joined."""
    return text.replace("\\\n", " ").splitlines()


def runnable(
    block: Block, values: Mapping[str, str], own_port: Mapping[int, int], fake_port: int
) -> tuple[str, list[Skip]]:
    """The script that runs ``block`` offline, and the skips that removed commands from it.

    ``values`` fills the ``{name}`` fields of the substitutions; ``own_port`` maps the ports
    of fakes the block starts itself to free ones, every other ``127.0.0.1`` port is
    ``fake_port``.
    """
    used: list[Skip] = []
    lines = []
    for line in logical_lines(block.text):
        kept = []
        for command in line.split(" && "):
            skip = next((s for s in SKIPS if re.search(s.pattern, command.strip())), None)
            if skip is None:
                kept.append(command)
            elif skip not in used:
                used.append(skip)
        if kept:
            lines.append(" && ".join(kept))
    script = "\n".join(lines) + "\n"
    for pattern, replacement, _why in SUBSTITUTIONS:
        script = re.sub(pattern, replacement.format(**values), script)
    script = re.sub(r"--port (\d+)", lambda m: f"--port {own_port[int(m[1])]}", script)
    script = re.sub(
        r"127\.0\.0\.1:(\d+)",
        lambda m: f"127.0.0.1:{own_port.get(int(m[1]), fake_port)}",
        script,
    )
    return script, used


def own_ports(block: Block) -> list[int]:
    """The ports of the fakes ``block`` starts itself."""
    return sorted({int(port) for port in re.findall(r"--port (\d+)", block.text)})
