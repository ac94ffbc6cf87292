"""``canarystats fetch``: save both cohorts' metrics as a tidy frame to judge again offline."""

from __future__ import annotations

import argparse
from typing import Any

from canarystats.cli.console import Console
from canarystats.cli.inputs import fetch_frame, load_config_file
from canarystats.cli.options import add_window_flags
from canarystats.exit_codes import ExitCode

__all__ = ["NAME", "add_parser", "run"]

NAME = "fetch"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``fetch`` to the subcommands ``commands`` (from ``add_subparsers``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="canarystats")
    >>> fetch = add_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["fetch", "web.yaml", "--output", "run.csv"]).output
    'run.csv'
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="save both cohorts' metrics as a tidy frame to judge, share and replay offline",
        description="Fetch every configured metric for both cohorts and save the tidy frame "
        "(CSV, Parquet or JSON by extension).  Exit 0 saved, 2 usage, 3 source failed.",
    )
    parser.add_argument("config", metavar="CONFIG")
    add_window_flags(parser)
    parser.add_argument("--output", metavar="FILE", required=True, help=".csv, .parquet, .json")
    return parser


def run(args: argparse.Namespace, console: Console) -> int:
    """Fetch the window from Datadog and write the frame to ``--output``; return 0.

    Examples
    --------
    >>> run(args, console)  # doctest: +SKIP
    0
    """
    from canarystats.sources import write_frame

    config = load_config_file(args)
    frame, _window, _scopes = fetch_frame(config, args, console)
    path = write_frame(frame, args.output)
    console.progress(f"wrote {len(frame)} points to {path}")
    return int(ExitCode.PASS)
