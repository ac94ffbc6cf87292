"""The shared ``benchmarks/RESULTS.md``: each benchmark owns a section between markers.

A section is the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; a benchmark
rewrites only its own, so figures measured by different scripts and at different times stay
side by side.
"""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def replace_section(text: str, name: str, body: str) -> str:
    """Put ``body`` between ``name``'s markers in ``text`` (appended when the markers are absent).

    Examples
    --------
    >>> replace_section("a\\n<!-- x:start -->\\nold\\n<!-- x:end -->\\nb", "x", "new")
    'a\\n<!-- x:start -->\\nnew\\n<!-- x:end -->\\nb'
    >>> replace_section("a\\n", "y", "z")
    'a\\n\\n<!-- y:start -->\\nz\\n<!-- y:end -->\\n'
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    return text.rstrip("\n") + "\n\n" + block + "\n"


def section(name: str, text: str) -> str | None:
    """The body between ``name``'s markers, or None."""
    m = re.search(
        re.escape(f"<!-- {name}:start -->") + r"\n?(.*?)\n?" + re.escape(f"<!-- {name}:end -->"),
        text,
        re.DOTALL,
    )
    return m.group(1) if m else None


def write_section(name: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) section ``name`` of the results file with ``body``."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    path.write_text(replace_section(text, name, body), encoding="utf-8")
