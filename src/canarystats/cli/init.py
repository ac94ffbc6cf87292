"""``canarystats init``: a starting config from the Datadog monitors a team already has."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from canarystats.cli.console import Console
from canarystats.errors import DataError
from canarystats.exit_codes import ExitCode

__all__ = ["NAME", "add_parser", "read_monitors", "run"]

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
        help="write a starting config from exported Datadog monitors",
        description="Convert a Datadog monitor export (JSON list, GET /api/v1/monitor) into a "
        "canary config (YAML); monitors that cannot be converted are listed on stderr.",
    )
    parser.add_argument("--from-monitors", metavar="FILE", required=True)
    parser.add_argument("--name", default="canary", help="config name (default canary)")
    parser.add_argument("--output", metavar="FILE", help="write the YAML here, not stdout")
    return parser


def read_monitors(path: Path) -> list[Any]:
    """The monitors of an export: a JSON list, or an object whose ``monitors`` is one.

    Examples
    --------
    >>> len(read_monitors(Path("tests/data/monitors_export.json"))) > 0
    True
    """
    try:
        monitors = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"--from-monitors {path}: no such file; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"--from-monitors {path}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"--from-monitors {path}: not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    if isinstance(monitors, dict) and isinstance(monitors.get("monitors"), list):
        monitors = monitors["monitors"]
    if not isinstance(monitors, list):
        raise DataError(f"--from-monitors {path}: expected a JSON list of monitors")
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
    import yaml

    from canarystats.config import load_config
    from canarystats.config.monitors import config_from_monitors
    from canarystats.frame import write_atomic

    monitors = read_monitors(Path(args.from_monitors))
    config, skipped = config_from_monitors(monitors, name=args.name)
    load_config(config)  # a converted config must be valid before it is written
    for name, reason in skipped:
        console.note(f"skipped monitor {name!r}: {reason}")
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    if args.output is not None:
        write_atomic(args.output, text)
        console.progress(f"wrote {args.output}")
    else:
        console.stdout.write(text)
    return int(ExitCode.PASS)
