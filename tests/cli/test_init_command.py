"""``canarystats init``: a starting config from exported Datadog monitors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canarystats.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "tests" / "data" / "monitors_export.json"


def test_init_from_monitors_writes_a_valid_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from canarystats import load_config

    out = tmp_path / "canary.yaml"
    assert (
        main(["init", "--from-monitors", str(EXPORT), "--name", "web", "--output", str(out)]) == 0
    )
    config = load_config(out)
    assert config.name == "web"
    monitors = json.loads(EXPORT.read_text())
    skipped = capsys.readouterr().err.count("skipped monitor")
    assert len(config.metrics) + skipped == len(monitors)


def test_without_output_the_yaml_goes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--from-monitors", str(EXPORT)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("name: canary\nmetrics:\n")
    assert all(line.startswith("canarystats: skipped monitor ") for line in err.splitlines())


def test_an_export_wrapped_in_an_object_is_read_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"monitors": json.loads(EXPORT.read_text())}))
    assert main(["init", "--from-monitors", str(wrapped)]) == 0
    direct = capsys.readouterr().out
    assert main(["init", "--from-monitors", str(EXPORT)]) == 0
    assert capsys.readouterr().out == direct


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file; check the path"),
        ("{not json", "not JSON (line 1, column 2)"),
        ('"a string"', "expected a JSON list of monitors"),
    ],
)
def test_a_bad_export_is_one_line_exit_2(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitors.json"
    if content is not None:
        path.write_text(content)
    assert main(["init", "--from-monitors", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"canarystats: error: --from-monitors {path}: ")
    assert message in err and err.count("\n") == 1
