"""``canarystats serve-fake-datadog``: a Datadog-compatible API on 127.0.0.1 until Ctrl-C.

It answers from a saved tidy frame or replays recorded answers
(:class:`canarystats.testing.FakeDatadog`), so a pipeline can be tested without credentials.
The command keeps argparse's own messages: it is a test tool, and its ``--help``
documents its flags, which the main parser only lists.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canarystats.cli.console import Console
from canarystats.cli.options import DashValueParser
from canarystats.errors import CanaryStatsError
from canarystats.exit_codes import ExitCode

if TYPE_CHECKING:
    import pandas as pd

    from canarystats.testing.replay import ReplayClock

__all__ = ["NAME", "add_parser", "build_parser", "check_port", "config_hint", "parse_scopes", "run"]

NAME = "serve-fake-datadog"
#: the port the fake listens on unless told otherwise (0: any free port)
DEFAULT_PORT = 18080
#: the largest TCP port number
MAX_PORT = 65535


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """List ``serve-fake-datadog`` among the subcommands ``commands``; :func:`run` parses it.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="canarystats")
    >>> serve = add_parser(parser.add_subparsers(dest="command"))
    >>> serve.prog
    'canarystats serve-fake-datadog'
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="serve a Datadog-compatible API on 127.0.0.1 for tests and demos",
        add_help=False,
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The command's own parser.

    Examples
    --------
    >>> build_parser().parse_args(["--scope", "role:canary=canary"]).port
    18080
    """
    parser = DashValueParser(
        prog=f"canarystats {NAME}",
        description="Serve a Datadog-compatible metrics API on 127.0.0.1 for tests and demos.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free port)")
    parser.add_argument(
        "--data", help="tidy frame file (.csv/.parquet/.json, .csv.gz/.json.gz) to answer from"
    )
    parser.add_argument(
        "--replay", action="append", default=[], help="recorded answer (.json) to replay"
    )
    parser.add_argument(
        "--config",
        metavar="CONFIG",
        help="answer this canary config's queries from --data, whose metrics are named as the "
        "config names them (as in fixtures/)",
    )
    parser.add_argument(
        "--monitors",
        metavar="FILE",
        help="monitors with their group states, as Datadog's API returns them (.json list)",
    )
    parser.add_argument(
        "--clock",
        metavar="T",
        help="serve --data as if it were arriving: only points before a data time that starts "
        "at T (ISO 8601) and runs with the wall clock (for canarystats watch)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="N",
        help="with --clock: N data seconds per wall second (default 1; 60: an hour a minute)",
    )
    parser.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="TAG=COHORT",
        help="tag carried by a cohort's rows, e.g. role:canary=canary (repeatable)",
    )
    return parser


def parse_scopes(items: Sequence[str]) -> dict[str, str]:
    """Tag -> cohort from ``TAG=COHORT`` items; a :class:`ValueError` names a bad one.

    Examples
    --------
    >>> parse_scopes(["role:canary=canary", "role:baseline=baseline"])
    {'role:canary': 'canary', 'role:baseline': 'baseline'}
    """
    scopes: dict[str, str] = {}
    for item in items:
        tag, sep, cohort = item.rpartition("=")
        if not sep or not tag or cohort not in ("canary", "baseline"):
            raise ValueError(f"--scope {item!r}: write TAG=COHORT, e.g. role:canary=canary")
        scopes[tag] = cohort
    return scopes


def check_port(port: int) -> int:
    """``port`` when a TCP port can have that number; a :class:`ValueError` says which can.

    Examples
    --------
    >>> check_port(0), check_port(18080)
    (0, 18080)
    >>> check_port(99999999)
    Traceback (most recent call last):
    ValueError: --port 99999999: a port is 0 to 65535 (0: any free port)
    """
    if not 0 <= port <= MAX_PORT:
        raise ValueError(f"--port {port}: a port is 0 to {MAX_PORT} (0: any free port)")
    return port


def run(argv: Sequence[str], console: Console) -> int:
    """Serve until interrupted; return the exit code (2 before serving when an input is bad).

    Every bad value is one line on stderr and exit 2, never a traceback; an unknown flag or a
    value of the wrong type gets argparse's usage message (exit 2 too).

    Examples
    --------
    >>> import io
    >>> run(["--scope", "nonsense"], Console(io.StringIO(), io.StringIO()))
    2
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, or argparse has printed a usage error
        return int(done.code or 0)
    from canarystats.cli.init import read_monitors
    from canarystats.config import load_config
    from canarystats.sources.files import read_frame
    from canarystats.testing.config_frame import frame_for_config
    from canarystats.testing.server import FakeDatadog, load_recording

    try:
        check_port(args.port)
        scopes = parse_scopes(args.scope)
        clock = _clock(args.clock, args.speed)
    except ValueError as exc:
        print(exc, file=console.stderr)
        return int(ExitCode.USAGE)
    # A malformed file can fail in any way while it is read; each is a bad input (exit 2).
    unreadable = (CanaryStatsError, OSError, ValueError, KeyError, TypeError)
    recordings = []
    for path in args.replay:
        try:
            recordings.append(load_recording(path))
        except unreadable as exc:
            print(_naming("--replay", path, exc), file=console.stderr)
            return int(ExitCode.USAGE)
    try:
        monitors = read_monitors(Path(args.monitors), flag="--monitors") if args.monitors else []
    except unreadable as exc:
        print(_naming("--monitors", args.monitors, exc), file=console.stderr)
        return int(ExitCode.USAGE)
    try:
        frame = read_frame(args.data) if args.data else None
        if frame is not None and args.config:
            frame = frame_for_config(frame, load_config(args.config))
        elif frame is not None and (hint := config_hint(frame, args.data)):
            print(hint, file=console.stderr)
        fake = FakeDatadog(
            frame,
            scopes=scopes,
            recordings=recordings,
            port=args.port,
            monitors=monitors,
            on_intake=lambda kind, item: _show_intake(console, kind, item),
            clock=clock,
        )
    except unreadable as exc:
        print(_naming("--data", args.data, exc), file=console.stderr)
        return int(ExitCode.USAGE)
    try:
        fake.start()
    except OSError as exc:
        print(
            f"--port {args.port}: cannot listen ({exc.strerror}); pick another", file=console.stderr
        )
        return int(ExitCode.USAGE)
    print(
        f"fake Datadog on {fake.url}  (export DATADOG_HOST={fake.url})",
        file=console.stdout,
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return int(ExitCode.PASS)


def config_hint(frame: pd.DataFrame, path: str) -> str | None:
    """A note when ``frame`` names its metrics as a config does, not as Datadog does; else None.

    Saved runs and fixtures name metrics as the config does (``request-latency``), and a
    Datadog metric name has a dot (``trace.rack.request.duration``): served without
    ``--config``, every query of that config would find nothing, which the judge can only
    report as missing data.

    Examples
    --------
    >>> import pandas as pd
    >>> config_hint(pd.DataFrame({"metric": ["request-latency"]}), "run.csv")[:60]
    'note: --data run.csv names its metrics as a config does (req'
    >>> config_hint(pd.DataFrame({"metric": ["trace.rack.request.duration"]}), "run.csv") is None
    True
    """
    names = sorted({str(name) for name in frame["metric"].unique()})
    if not names or any("." in name for name in names):
        return None
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return (
        f"note: --data {path} names its metrics as a config does ({shown}), not as Datadog "
        "does; add --config CONFIG to answer that config's queries from it"
    )


def _clock(start: str | None, speed: float) -> ReplayClock | None:
    """The replay clock of ``--clock`` and ``--speed``; a ValueError names the bad flag."""
    from canarystats.testing.replay import ReplayClock
    from canarystats.timeparse import parse_time

    if not (speed > 0 and math.isfinite(speed)):
        raise ValueError(f"--speed {speed:g}: give data seconds per wall second, above 0")
    if start is None:
        if speed != 1.0:
            raise ValueError("--speed needs --clock, the data time the replay starts at")
        return None
    try:
        at = parse_time(start, flag="--clock")
    except CanaryStatsError as exc:
        raise ValueError(str(exc)) from None
    return ReplayClock(at, speed)


def _naming(flag: str, path: str | None, exc: BaseException) -> str:
    # One line that names the flag's file, whatever the error says.
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if path is not None and str(path) in text else f"{flag} {path}: {text}"


def _show_intake(console: Console, kind: str, item: Mapping[str, Any]) -> None:
    # What a pipeline posted, for demos: one line per event or series.
    tags = ",".join(item.get("tags") or [])
    if kind == "event":
        line = f"received event {item.get('title')!r} ({item.get('alert_type')}, tags {tags})"
    else:
        values = [p.get("value") for p in item.get("points") or []]
        line = f"received series {item.get('metric')} {values} (tags {tags})"
    print(line, file=console.stdout, flush=True)
