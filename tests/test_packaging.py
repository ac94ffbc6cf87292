"""The package's metadata says what the repository holds: the licence it declares is the one in
LICENSE, and its classifiers match the declared licence and Python versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
#: SPDX identifier -> (the words that open its licence text, its trove classifier)
LICENCES = {
    "Apache-2.0": (
        ["Apache License", "Version 2.0, January 2004"],
        "License :: OSI Approved :: Apache Software License",
    ),
}


def _declared() -> str:
    licence = PROJECT["license"]
    return str(licence["text"] if isinstance(licence, dict) else licence)


def test_the_declared_licence_is_one_whose_text_we_know() -> None:
    assert _declared() in LICENCES


def test_license_file_is_the_declared_licence_in_full() -> None:
    opening, _ = LICENCES[_declared()]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[:2] == opening
    # The whole text, not a stub: all nine sections of the terms.
    assert "END OF TERMS AND CONDITIONS" in text
    assert len(re.findall(r"^\s+\d\. \S", text, flags=re.MULTILINE)) == 9


def test_the_licence_classifier_matches_the_declared_licence() -> None:
    _, classifier = LICENCES[_declared()]
    licence_classifiers = [c for c in PROJECT["classifiers"] if c.startswith("License ::")]
    assert licence_classifiers == [classifier]


def test_python_classifiers_match_requires_python() -> None:
    lowest = re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"])
    assert lowest is not None
    versions = [
        int(m.group(1))
        for c in PROJECT["classifiers"]
        if (m := re.fullmatch(r"Programming Language :: Python :: 3\.(\d+)", c))
    ]
    assert versions and min(versions) == int(lowest.group(1))


def test_a_typed_package_says_so_and_ships_its_marker() -> None:
    assert "Typing :: Typed" in PROJECT["classifiers"]
    assert (ROOT / "src" / "canarystats" / "py.typed").exists()
