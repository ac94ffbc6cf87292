"""``canarystats history``: what the recorded runs say, per config."""

from __future__ import annotations

import argparse
import json
from typing import Any

from canarystats.cli.console import Console
from canarystats.cli.options import TABLE_FORMATS
from canarystats.exit_codes import ExitCode

__all__ = ["NAME", "add_parser", "run"]

NAME = "history"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``history`` to the subcommands ``commands`` (from ``add_subparsers``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="canarystats")
    >>> history = add_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["history", "runs.sqlite"]).format
    'text'
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="summarise recorded runs per config (pass/fail/would-have-failed rates)",
        description="Summarise a --history file: runs, pass, fail, marginal, nodata and "
        "would-have-failed (hidden by --soft-fail) per config.",
    )
    parser.add_argument("file", metavar="FILE", help="SQLite history written by judge --history")
    parser.add_argument(
        "--format",
        choices=TABLE_FORMATS,
        default="text",
        help="a table or the same rows as JSON: %(choices)s (default %(default)s)",
    )
    return parser


def run(args: argparse.Namespace, console: Console) -> int:
    """Print the summary of ``args.file`` as a table or JSON; return 0.

    Examples
    --------
    >>> run(build_parser().parse_args(["history", "runs.sqlite"]), console)  # doctest: +SKIP
    0
    """
    import pandas as pd

    from canarystats.history import summary

    table = summary(args.file)
    if args.format == "json":
        console.stdout.write(json.dumps(table.to_dict(orient="records"), indent=2) + "\n")
        return int(ExitCode.PASS)
    if table.empty:
        console.stdout.write(f"{args.file}: no runs recorded yet\n")
        return int(ExitCode.PASS)
    shown = table.copy()
    for column in ("pass_rate", "fail_rate", "would_have_failed_rate"):
        shown[column] = shown[column].map(lambda x: f"{100 * x:.0f}%")
    # A run's second is enough to find it; the JSON keeps the recorded instant.
    shown["last_run"] = pd.to_datetime(shown["last_run"], utc=True).dt.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    console.stdout.write(shown.to_string(index=False) + "\n")
    return int(ExitCode.PASS)
