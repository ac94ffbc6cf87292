"""``canarystats schema``: the JSON Schemas of a config and of the JSON report, for editors."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from canarystats.cli import main
from canarystats.config.schema import config_schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_config_prints_the_config_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "config"]) == 0
    out = capsys.readouterr().out
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema == config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    example = yaml.safe_load((ROOT / "examples" / "web.yaml").read_text())
    assert jsonschema.Draft202012Validator(schema).is_valid(example)


def test_schema_judgment_prints_the_report_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "judgment"]) == 0
    shipped = resources.files("canarystats").joinpath("schemas/judgment.schema.json").read_text()
    assert json.loads(capsys.readouterr().out) == json.loads(shipped)


def test_an_unknown_schema_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "nonsense"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "invalid choice: 'nonsense'" in captured.err


def test_schema_help_loads_no_statistics() -> None:
    code = (
        "import sys; from canarystats.cli import main; main(['schema', '--help'])"
        "; sys.exit(sorted({'pandas', 'scipy', 'numpy'} & set(sys.modules)) or None)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "usage: canarystats schema" in done.stdout
