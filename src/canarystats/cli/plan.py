"""``canarystats plan``: how long, and on how many hosts, a canary must run to see a regression.

Only the baseline's healthy hosts are the yardstick: the plan is made before any canary runs.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from canarystats.cli.console import Console
from canarystats.cli.inputs import (
    fetch_frame,
    load_config_file,
    naming_the_data,
    pre_seconds,
    read_data,
    scopes,
)
from canarystats.cli.options import (
    TABLE_FORMATS,
    UsageError,
    add_window_flags,
    positive_float,
    positive_int,
)
from canarystats.exit_codes import ExitCode

__all__ = ["NAME", "add_parser", "run"]

NAME = "plan"
#: how much recent data of healthy hosts ``plan`` fetches when no window is given
DEFAULT_LOOKBACK = "2h"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``plan`` to the subcommands ``commands`` (from ``add_subparsers``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="canarystats")
    >>> plan = add_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["plan", "web.yaml", "--change", "0.2"]).change
    0.2
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="how long, and with how many hosts, a canary must run to see a regression",
        description="From recent data of healthy hosts (--data, or the baseline scope fetched "
        "from Datadog over --lookback, default 2h), estimate per metric how many minutes and "
        "canary hosts the default (hosts) method needs to fail a canary with the given "
        "relative regression at the given power, at the config's alpha and multiplicity.",
    )
    parser.add_argument("config", metavar="CONFIG", help="canary config (YAML or JSON)")
    add_window_flags(
        parser,
        start_help="start of the healthy hosts' recent data to plan from (ISO 8601, UTC if no "
        "offset; -3h); default: --lookback before --end",
        pre_help="each host's own past in the design with a pre-deploy window (default the "
        "config's judge.pre_window, 30m; 0 for none)",
    )
    parser.add_argument("--data", metavar="FILE", help="recent tidy frame of healthy hosts")
    parser.add_argument(
        "--change",
        type=positive_float("change"),
        default=0.1,
        metavar="FRACTION",
        help="relative regression to detect (default 0.1: 10%% worse)",
    )
    parser.add_argument(
        "--power",
        type=positive_float("power"),
        default=0.8,
        metavar="P",
        help="probability of catching it (default 0.8)",
    )
    parser.add_argument(
        "--canary-hosts",
        type=positive_int,
        nargs="+",
        default=None,
        metavar="N",
        help="numbers of canary hosts to evaluate (default 1 2 3 4)",
    )
    parser.add_argument(
        "--baseline-hosts",
        type=positive_int,
        metavar="N",
        help="baseline hosts the canary will be compared with (default the hosts in the data)",
    )
    parser.add_argument(
        "--format",
        choices=TABLE_FORMATS,
        default="text",
        help="a table or the same rows as JSON: %(choices)s (default %(default)s)",
    )
    return parser


def run(args: argparse.Namespace, console: Console) -> int:
    """Plan from ``--data`` (or the baseline fetched from Datadog), print it; return 0.

    Examples
    --------
    >>> import io
    >>> from canarystats.cli import build_parser
    >>> argv = ["plan", "examples/web.yaml", "--data", "fixtures/healthy-deploy.csv"]
    >>> run(build_parser().parse_args(argv), Console(io.StringIO(), io.StringIO()))
    0
    """
    from canarystats.plan import DEFAULT_CANARY_HOSTS, plan

    if not 0.0 < args.power < 1.0:
        raise UsageError(f"canarystats: --power {args.power} must be between 0 and 1")
    config = load_config_file(args, console)
    # The data is healthy hosts' recent history, bounded by --start and --end (nothing before
    # --start is read); --pre is the past of the design with a pre-deploy window.
    past = config.judge.pre_window if args.pre is None else pre_seconds(args.pre)
    args.pre = None
    history, config = config.with_judge(pre_window=0), config.with_judge(pre_window=past)
    if args.data is not None:
        frame, _window, _scopes = read_data(history, args, console)
    else:
        if args.lookback is None and args.start is None:
            args.lookback = DEFAULT_LOOKBACK
        # No canary is running yet: both cohorts are asked for the baseline's hosts.
        baseline = scopes(config, args)["baseline"]
        args.canary = baseline
        frame, _window, _scopes = fetch_frame(history, args, console)
        frame = frame[frame["cohort"] == "baseline"].reset_index(drop=True)
    with naming_the_data(args):
        result = plan(
            config,
            frame,
            relative_change=args.change,
            power=args.power,
            canary_hosts=tuple(args.canary_hosts or DEFAULT_CANARY_HOSTS),
            baseline_hosts=args.baseline_hosts,
        )
    if args.format == "json":
        console.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        console.stdout.write(result.to_text().rstrip("\n") + "\n")
    return int(ExitCode.PASS)
