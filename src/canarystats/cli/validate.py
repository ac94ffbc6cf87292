"""``canarystats validate``: check a config, and show the queries it would send."""

from __future__ import annotations

import argparse
from typing import Any

from canarystats.cli.console import Console
from canarystats.cli.inputs import load_config_file, scopes
from canarystats.exit_codes import ExitCode

__all__ = ["NAME", "add_parser", "run"]

NAME = "validate"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``validate`` to the subcommands ``commands`` (from ``add_subparsers``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="canarystats")
    >>> validate = add_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["validate", "web.yaml", "--render"]).render
    True
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="check a config (exit 0 valid, 2 not)",
        description="Check a config; with --render print each cohort's query as it would be "
        "sent (no request is made).",
    )
    parser.add_argument("config", metavar="CONFIG", help="canary config (YAML or JSON) to check")
    parser.add_argument("--render", action="store_true", help="print the rendered queries")
    parser.add_argument("--canary", metavar="SCOPE", help="canary scope for --render")
    parser.add_argument("--baseline", metavar="SCOPE", help="baseline scope for --render")
    return parser


def run(args: argparse.Namespace, console: Console) -> int:
    """Print one line about the config (and each rendered query with ``--render``); return 0.

    Examples
    --------
    >>> import io
    >>> from canarystats.cli import build_parser
    >>> console = Console(io.StringIO(), io.StringIO())
    >>> run(build_parser().parse_args(["validate", "examples/web.yaml"]), console)
    0
    >>> console.stdout.getvalue().split(":")[0]
    'examples/web.yaml'
    """
    from canarystats.kinds import undeclared_counts
    from canarystats.sources import render_query

    config = load_config_file(args, console)
    out = console.stdout
    groups = sorted({g for m in config.metrics for g in m.groups})
    out.write(
        f"{args.config}: valid config {config.name!r}: {len(config.metrics)} metrics, "
        f"groups {', '.join(groups)}, method {config.judge.method}\n"
    )
    for m in undeclared_counts(config.metrics):
        console.note(
            f"{args.config}: warning: metric {m.name!r} looks like a count of events but "
            "declares no kind; add kind: count (a quiet host's missing bucket is then zero "
            "events), or kind: gauge"
        )
    if args.render:
        used = scopes(config, args)
        for m in config.metrics:
            for cohort, scope in used.items():
                out.write(f"{m.name}\t{cohort}\t{render_query(m.query, scope)}\n")
    return int(ExitCode.PASS)
