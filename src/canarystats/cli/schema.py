"""``canarystats schema``: print the JSON Schema of a config, or of the JSON report.

``canarystats schema config > canary-config.schema.json`` gives editors (the YAML language server
of VS Code, with ``# yaml-language-server: $schema=./canary-config.schema.json`` as a config's
first line) what they need to check a config as it is typed; ``canarystats schema judgment``
prints the layout of ``judge --format json``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from canarystats.cli.console import Console
from canarystats.exit_codes import ExitCode

__all__ = ["NAME", "SCHEMAS", "add_parser", "run"]

NAME = "schema"
#: the schemas the command prints
SCHEMAS = ("config", "judgment")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``schema`` to the subcommands ``commands`` (from ``add_subparsers``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="canarystats")
    >>> schema = add_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["schema", "config"]).which
    'config'
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="print the JSON Schema of a config (for editors) or of the JSON report",
        description="Print a JSON Schema (draft 2020-12): 'config' for canary configs (point "
        "an editor at it, e.g. '# yaml-language-server: $schema=./canary-config.schema.json'), "
        "'judgment' for the output of judge --format json.",
    )
    parser.add_argument("which", metavar="WHICH", choices=SCHEMAS, help="config or judgment")
    return parser


def run(args: argparse.Namespace, console: Console) -> int:
    """Print the schema ``args.which`` names as JSON; return 0.

    Examples
    --------
    >>> import io
    >>> from canarystats.cli import build_parser
    >>> console = Console(io.StringIO(), io.StringIO())
    >>> run(build_parser().parse_args(["schema", "config"]), console)
    0
    >>> json.loads(console.stdout.getvalue())["title"]
    'canarystats canary config'
    """
    if args.which == "config":
        from canarystats.config.schema import config_schema

        text = json.dumps(config_schema(), indent=2) + "\n"
    else:
        from importlib import resources

        text = resources.files("canarystats").joinpath("schemas/judgment.schema.json").read_text()
    console.stdout.write(text)
    return int(ExitCode.PASS)
