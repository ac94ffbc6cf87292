"""``canarystats init``: a starting config from the Datadog monitors a team already has.

The monitors come from an export (``--from-monitors FILE``) or straight from Datadog by its
monitor search (``--monitor-search "tag:service:web type:metric"``, with ``DD_API_KEY`` and
``DD_APP_KEY``).  Each conversion decision (a threshold left out, a ratio kept as a share, a
query grouped by host) is a comment above its metric in the YAML.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from canarystats.cli.console import Console
from canarystats.cli.options import positive_seconds
from canarystats.errors import DataError
from canarystats.exit_codes import ExitCode
from canarystats.jsonfile import read_json_file

__all__ = ["NAME", "add_parser", "read_monitors", "run", "search_monitors"]

NAME = "init"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``init`` to the subcommands ``commands`` (from ``add_subparsers``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="canarystats")
    >>> init = add_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["init", "--from-monitors", "monitors.json"]).name
    'canary'
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="write a starting config from Datadog monitors (an export, or a monitor search)",
        description="Convert Datadog monitors (an export: a JSON list as GET /api/v1/monitor "
        "gives it, or the monitors a Datadog monitor search finds) into a canary config "
        "(YAML); monitors that cannot be converted are listed on stderr.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-monitors", metavar="FILE", help="a monitor export (.json)")
    source.add_argument(
        "--monitor-search",
        metavar="QUERY",
        help='read the monitors from Datadog by monitor search, e.g. "tag:service:web '
        'type:metric" (needs DD_API_KEY and DD_APP_KEY)',
    )
    parser.add_argument(
        "--deadline",
        type=positive_seconds("deadline"),
        default=60.0,
        metavar="DUR",
        help="longest time to wait for Datadog with --monitor-search: seconds or a duration "
        "(default 60 s)",
    )
    parser.add_argument("--name", default="canary", help="config name (default canary)")
    parser.add_argument("--output", metavar="FILE", help="write the YAML here, not stdout")
    return parser


def read_monitors(path: Path, *, flag: str = "--from-monitors") -> list[Any]:
    """The monitors of an export: a JSON list, or an object whose ``monitors`` is one
    (``flag`` names the file in errors).

    Examples
    --------
    >>> len(read_monitors(Path("tests/data/monitors_export.json"))) > 0
    True
    """
    monitors = read_json_file(path, f"{flag} {path}")
    if isinstance(monitors, dict) and isinstance(monitors.get("monitors"), list):
        monitors = monitors["monitors"]
    if not isinstance(monitors, list):
        raise DataError(f"{flag} {path}: expected a JSON list of monitors")
    return monitors


def run(args: argparse.Namespace, console: Console) -> int:
    """Convert the monitors, list the skipped ones on stderr, print or write the YAML; return 0.

    Examples
    --------
    >>> import io
    >>> from canarystats.cli import build_parser
    >>> console = Console(io.StringIO(), io.StringIO())
    >>> argv = ["init", "--from-monitors", "tests/data/monitors_export.json", "--name", "web"]
    >>> run(build_parser().parse_args(argv), console)
    0
    >>> console.stdout.getvalue().splitlines()[0]
    'name: web'
    """
    from canarystats.config import load_config
    from canarystats.config.monitors import conversion_yaml, convert_monitors
    from canarystats.frame import write_atomic

    if args.from_monitors is not None:
        monitors = read_monitors(Path(args.from_monitors))
    else:
        monitors = search_monitors(args.monitor_search, args.deadline, console)
    conversion = convert_monitors(monitors, name=args.name)
    load_config(conversion.config)  # a converted config must be valid before it is written
    for name, reason in conversion.skipped:
        console.note(f"skipped monitor {name!r}: {reason}")
    text = conversion_yaml(conversion)
    if args.output is not None:
        write_atomic(args.output, text)
        console.progress(f"wrote {args.output}")
    else:
        console.stdout.write(text)
    return int(ExitCode.PASS)


def search_monitors(query: str, deadline: float, console: Console) -> list[Any]:
    """The monitors Datadog's monitor search finds for ``query`` (at most a thousand).

    Examples
    --------
    >>> search_monitors("tag:service:web", 60.0, console)  # doctest: +SKIP
    [{'id': 1001, 'name': 'Web 5xx errors are high', ...}]
    """
    from canarystats.errors import ConfigError
    from canarystats.sources.datadog import DatadogSource
    from canarystats.sources.datadog_monitors import DatadogMonitors

    if not query.strip():
        raise ConfigError(
            "--monitor-search is empty; give a monitor search such as tag:service:web"
        )
    reader = DatadogMonitors(DatadogSource(deadline=deadline))
    console.progress(f"searching Datadog's monitors for {query!r}")
    found = reader.search(query)
    console.progress(f"found {len(found)} monitors in {reader.requests} requests")
    return found
