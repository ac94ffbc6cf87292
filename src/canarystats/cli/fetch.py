"""``canarystats fetch``: save both cohorts' metrics as a tidy frame to judge again offline."""

from __future__ import annotations

import argparse
from typing import Any

from canarystats.cli.console import Console
from canarystats.cli.inputs import fetch_frame, load_config_file, name_missing_data
from canarystats.cli.monitor_states import states_from_datadog
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
    parser.add_argument("config", metavar="CONFIG", help="canary config (YAML or JSON)")
    add_window_flags(parser)
    parser.add_argument(
        "--output",
        metavar="FILE",
        required=True,
        help="where to save the frame; .csv, .parquet or .json (.csv.gz, .json.gz compressed)",
    )
    parser.add_argument(
        "--monitor-states",
        metavar="FILE",
        help="also save the states of the config's monitors over the canary window (.json), "
        "for judge --data ... --monitor-states FILE",
    )
    return parser


def run(args: argparse.Namespace, console: Console) -> int:
    """Fetch the window from Datadog and write the frame to ``--output``; return 0.

    Examples
    --------
    >>> run(args, console)  # doctest: +SKIP
    0
    """
    from canarystats.frame import check_output_path
    from canarystats.monitors import write_monitor_states
    from canarystats.sources import write_frame
    from canarystats.sources.files import frame_format

    # Saving the frame is fetch's whole job (there is no verdict to keep), so a file that
    # cannot be written is an error, exit 2, in one line: checked before the fetch for a
    # path that can never be a file, and by write_frame for the rest (no permission, a full
    # disk, a read-only file system), which leaves no half-written file.  A suffix that is no
    # frame format is refused before the fetch too.
    check_output_path(args.output)
    frame_format(args.output)
    config = load_config_file(args, console)
    if args.monitor_states is not None:
        check_output_path(args.monitor_states, flag="--monitor-states")
    frame, window, used = fetch_frame(config, args, console)
    name_missing_data(config, frame, console, scopes=used)
    # Read before anything is written: a fetch that fails leaves no half of a run behind.
    states = (
        None if args.monitor_states is None else states_from_datadog(config, args, console, window)
    )
    path = write_frame(frame, args.output)
    console.progress(f"wrote {len(frame)} points to {path}")
    if states is not None:
        saved = write_monitor_states(states, args.monitor_states, flag="--monitor-states")
        console.progress(f"wrote {len(states)} monitor groups to {saved}")
    return int(ExitCode.PASS)
