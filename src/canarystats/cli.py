"""The ``canarystats`` command: judge a canary in a deploy pipeline and exit with its verdict.

The command is a thin shell around the library: it parses flags, loads the config, gets the
tidy frame (from Datadog or a saved file), calls :func:`canarystats.judge`, renders the report
with :mod:`canarystats.report`, and turns the verdict into an exit code.  Progress goes to
stderr only on a terminal; stdout carries only the report.

Every error a user can cause ends in ONE line on stderr and a documented exit code, never a
traceback (set ``CANARYSTATS_DEBUG=1`` to see one) and never a key value.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from canarystats.errors import CanaryStatsError, ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd

    from canarystats.config import CanaryConfig
    from canarystats.judgment import Judgment

__all__ = ["EXIT_CODES", "main"]

#: exit codes of ``canarystats judge`` (DESIGN.md, issue 5)
EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_NO_VERDICT = 3
EXIT_CODES = {
    EXIT_PASS: "pass",
    EXIT_FAIL: "fail (marginal counts as fail unless --marginal-ok)",
    EXIT_USAGE: (
        "the command line or the config is wrong, or the Datadog keys are missing "
        "(never hidden by --soft-fail)"
    ),
    EXIT_NO_VERDICT: "no verdict: the source failed, or the judgment is nodata",
}

_EPILOG = """\
exit codes (judge):
  0  pass
  1  fail; marginal counts as fail unless --marginal-ok
  2  the command line or the config is wrong, or the Datadog keys are missing (never
     hidden by --soft-fail)
  3  no verdict: the source (Datadog) failed or the judgment is nodata
  --soft-fail exits 0 instead of 1 or 3, and prints (and records) the code it would have
  returned.

environment:
  DD_API_KEY, DD_APP_KEY  Datadog credentials (never printed)
  DD_SITE                 Datadog site, default datadoghq.com
  DATADOG_HOST            full API URL instead of the site (e.g. a fake Datadog in tests)
  NO_COLOR                no colour even on a terminal
  CANARYSTATS_DEBUG=1     show tracebacks of internal errors

example:
  canarystats judge examples/web.yaml --data fixtures/seed-incident.csv
  canarystats judge web.yaml --canary version:v2 --baseline version:v1 --lookback 10m \\
      --format markdown --soft-fail --history canary-history.sqlite
"""


class _UsageError(Exception):
    """A command-line mistake found by argparse."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (exit 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}; see {self.prog} --help")


# --------------------------------------------------------------------------- argument types


def _positive_float(flag: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
        return value

    parse.__name__ = flag
    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a score in [0, 100]")
    return value


# --------------------------------------------------------------------------- the parser


def _add_window(p: argparse.ArgumentParser) -> None:
    p.add_argument("--canary", metavar="SCOPE", help="canary scope (Datadog tags); config's")
    p.add_argument("--baseline", metavar="SCOPE", help="baseline scope; default the config's")
    p.add_argument(
        "--start", metavar="T", help="window start: ISO 8601 (UTC if no offset), now, -15m"
    )
    p.add_argument("--end", metavar="T", help="window end (default now)")
    p.add_argument("--lookback", metavar="DUR", help="window length, e.g. 10m, 1h30m")
    p.add_argument("--step", type=_positive_int, metavar="SECONDS", help="bucket size override")
    p.add_argument(
        "--deadline",
        type=_positive_float("deadline"),
        default=300.0,
        metavar="SECONDS",
        help="longest time to wait for Datadog, retries included (default 300)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``canarystats`` argument parser (for documentation tools and tests).

    Examples
    --------
    >>> build_parser().parse_args(["validate", "web.yaml"]).command
    'validate'
    """
    from canarystats import __version__
    from canarystats.report import FORMATS

    parser = _Parser(
        prog="canarystats",
        description="A statistical canary judge: compare canary against baseline metrics "
        "from Datadog and exit with the verdict.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"canarystats {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    judge = sub.add_parser(
        "judge",
        help="judge a canary and exit 0 pass, 1 fail, 2 usage, 3 no verdict",
        description="Fetch (or read) the metrics of both cohorts, judge them, print the "
        "report and exit with the verdict.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    judge.add_argument("config", metavar="CONFIG", help="canary config (YAML or JSON)")
    _add_window(judge)
    judge.add_argument(
        "--data", metavar="FILE", help="judge a saved tidy frame (.csv/.parquet/.json) offline"
    )
    judge.add_argument("--format", choices=FORMATS, default="text", help="report format")
    judge.add_argument("--output", metavar="FILE", help="write the report here (atomically)")
    judge.add_argument(
        "--soft-fail",
        action="store_true",
        help="exit 0 instead of 1 or 3, printing the code it would have returned",
    )
    judge.add_argument("--marginal-ok", action="store_true", help="a marginal verdict passes")
    judge.add_argument("--pass-score", type=_score, metavar="N", help="override pass_score")
    judge.add_argument("--marginal-score", type=_score, metavar="N", help="override marginal")
    judge.add_argument("--method", metavar="NAME", help="judging method override")
    judge.add_argument("--history", metavar="FILE", help="append the run to this SQLite file")

    fetch = sub.add_parser(
        "fetch",
        help="save both cohorts' metrics as a tidy frame to judge, share and replay offline",
        description="Fetch every configured metric for both cohorts and save the tidy frame "
        "(CSV, Parquet or JSON by extension).  Exit 0 saved, 2 usage, 3 source failed.",
    )
    fetch.add_argument("config", metavar="CONFIG")
    _add_window(fetch)
    fetch.add_argument("--output", metavar="FILE", required=True, help=".csv, .parquet, .json")

    validate = sub.add_parser(
        "validate",
        help="check a config (exit 0 valid, 2 not)",
        description="Check a config; with --render print each cohort's query as it would be "
        "sent (no request is made).",
    )
    validate.add_argument("config", metavar="CONFIG")
    validate.add_argument("--render", action="store_true", help="print the rendered queries")
    validate.add_argument("--canary", metavar="SCOPE", help="canary scope for --render")
    validate.add_argument("--baseline", metavar="SCOPE", help="baseline scope for --render")

    history = sub.add_parser(
        "history",
        help="summarise recorded runs per config (pass/fail/would-have-failed rates)",
        description="Summarise a --history file: runs, pass, fail, marginal, nodata and "
        "would-have-failed (hidden by --soft-fail) per config.",
    )
    history.add_argument("file", metavar="FILE")
    history.add_argument("--format", choices=("text", "json"), default="text")

    init = sub.add_parser(
        "init",
        help="write a starting config from exported Datadog monitors",
        description="Convert a Datadog monitor export (JSON list, GET /api/v1/monitor) into a "
        "canary config (YAML); monitors that cannot be converted are listed on stderr.",
    )
    init.add_argument("--from-monitors", metavar="FILE", required=True)
    init.add_argument("--name", default="canary", help="config name (default canary)")
    init.add_argument("--output", metavar="FILE", help="write the YAML here, not stdout")

    plan = sub.add_parser(
        "plan",
        help="how long, and with how many hosts, a canary must run to see a regression",
        description="From recent data of healthy hosts (--data, or the baseline scope fetched "
        "from Datadog over --lookback, default 2h), estimate per metric how many minutes and "
        "canary hosts the default (hosts) method needs to fail a canary with the given "
        "relative regression at the given power, at the config's alpha and multiplicity.",
    )
    plan.add_argument("config", metavar="CONFIG")
    _add_window(plan)
    plan.add_argument("--data", metavar="FILE", help="recent tidy frame of healthy hosts")
    plan.add_argument(
        "--change",
        type=_positive_float("change"),
        default=0.1,
        metavar="FRACTION",
        help="relative regression to detect (default 0.1: 10%% worse)",
    )
    plan.add_argument(
        "--power",
        type=_positive_float("power"),
        default=0.8,
        metavar="P",
        help="probability of catching it (default 0.8)",
    )
    plan.add_argument(
        "--canary-hosts",
        type=_positive_int,
        nargs="+",
        default=None,
        metavar="N",
        help="numbers of canary hosts to evaluate (default 1 2 3 4)",
    )
    plan.add_argument("--baseline-hosts", type=_positive_int, metavar="N")
    plan.add_argument("--format", choices=("text", "json"), default="text")

    backtest = sub.add_parser(
        "backtest",
        help="judge a history of deploys and count false alarms and caught incidents",
        description="Judge every deploy of DEPLOYS (CSV: deploy, canary_scope, baseline_scope, "
        "start, end, optional outcome good|bad) on the saved tidy frame --data, in-process or on "
        "a Dask cluster (--scheduler), and write one row per deploy as CSV.  Exit 0 when the "
        "backtest ran, 2 usage, 3 when the scheduler or data could not be used.",
    )
    backtest.add_argument("config", metavar="CONFIG")
    backtest.add_argument("deploys", metavar="DEPLOYS")
    backtest.add_argument("--data", metavar="FILE", required=True, help="saved tidy frame")
    backtest.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address")
    backtest.add_argument("--output", metavar="FILE", help="write the CSV here, not stdout")
    backtest.add_argument("--marginal-ok", action="store_true", help="a marginal verdict passes")

    sub.add_parser(
        "serve-fake-datadog",
        help="serve a Datadog-compatible API on 127.0.0.1 for tests and demos",
        add_help=False,
    )
    return parser


# --------------------------------------------------------------------------- helpers


class _Console:
    """Where messages go: progress only on a terminal, errors always, keys never."""

    def __init__(self, stdout: TextIO, stderr: TextIO) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.tty = _isatty(stderr)

    def progress(self, message: str) -> None:
        if self.tty:
            print(f"canarystats: {message}", file=self.stderr, flush=True)

    def note(self, message: str) -> None:
        print(f"canarystats: {scrub(message)}", file=self.stderr, flush=True)


@contextlib.contextmanager
def _logging_to(console: _Console) -> Iterator[None]:
    # The library logs retries and request counts; on a terminal they are progress, elsewhere
    # they would add lines to a CI log that must show one line per error (and Python's
    # last-resort handler would print warnings), so they go nowhere.  The logger is restored
    # afterwards: main() is also called in-process (tests, notebooks).
    logger = logging.getLogger("canarystats")
    saved = (logger.propagate, logger.level)
    handler: logging.Handler
    if console.tty:
        handler = logging.StreamHandler(console.stderr)
        handler.setFormatter(logging.Formatter("canarystats: %(message)s"))
        logger.setLevel(logging.INFO)
    else:
        handler = logging.NullHandler()
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate, _ = saved
        logger.setLevel(saved[1])


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def scrub(text: str) -> str:
    """Remove key values (``DD_API_KEY``, ``DD_APP_KEY``) from a message and keep one line.

    Examples
    --------
    >>> os.environ["DD_API_KEY"] = "sekrit-123"
    >>> scrub("bad key sekrit-123\\nmore")
    'bad key *** more'
    >>> del os.environ["DD_API_KEY"]
    """
    for var in ("DD_API_KEY", "DD_APP_KEY", "DD_APPLICATION_KEY", "DATADOG_API_KEY"):
        value = os.environ.get(var, "")
        if len(value) >= 4:
            text = text.replace(value, "***")
    return " ".join(text.split())


def write_atomic(path: str | os.PathLike[str], text: str, *, flag: str = "--output") -> Path:
    """Write text to a file through a temporary file and a rename: never half a file.

    Examples
    --------
    >>> write_atomic("report.md", "# ok\\n")  # doctest: +SKIP
    PosixPath('report.md')
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(f"{flag} {target}: folder {folder} does not exist; create it first")
    if target.is_dir():
        raise DataError(f"{flag} {target} is a folder; give a file name")
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise DataError(f"{flag} {target}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def _load(args: argparse.Namespace) -> CanaryConfig:
    from canarystats.config import load_config

    path = Path(args.config)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; check the path")
    config = load_config(path)
    if getattr(args, "step", None):
        step = int(args.step)
        config = replace(
            config, step=step, metrics=tuple(replace(m, step=step) for m in config.metrics)
        )
    return config


def _scopes(config: CanaryConfig, args: argparse.Namespace) -> dict[str, str]:
    scopes = {
        "canary": args.canary if args.canary is not None else config.scopes.canary,
        "baseline": args.baseline if args.baseline is not None else config.scopes.baseline,
    }
    for cohort, scope in scopes.items():
        if not scope.strip():
            raise ConfigError(f"--{cohort} is empty; give Datadog tags such as role:{cohort}")
    return scopes


def _fetch(
    config: CanaryConfig, args: argparse.Namespace, console: _Console
) -> tuple[pd.DataFrame, tuple[datetime, datetime], dict[str, str]]:
    from canarystats.sources import DatadogSource, metric_queries
    from canarystats.timeparse import resolve_window

    scopes = _scopes(config, args)
    start, end = resolve_window(args.start, args.end, args.lookback)
    source = DatadogSource(deadline=args.deadline)
    queries = metric_queries(config)
    console.progress(
        f"fetching {len(queries)} metrics for {len(scopes)} cohorts from {source.host} "
        f"({start.isoformat()} to {end.isoformat()})"
    )
    frame = source.fetch(queries, scopes, start, end)
    window = frame.attrs.get("window") or (start, end)
    console.progress(f"received {len(frame)} points in {frame.attrs.get('requests', '?')} requests")
    return frame, (window[0], window[1]), scopes


def _read_data(
    config: CanaryConfig, args: argparse.Namespace, console: _Console
) -> tuple[pd.DataFrame, tuple[datetime, datetime] | None, dict[str, str]]:
    from canarystats.frame import frame_window
    from canarystats.sources import read_frame
    from canarystats.timeparse import parse_duration, parse_time

    scopes = _scopes(config, args)
    console.progress(f"reading {args.data}")
    frame = read_frame(args.data)
    span = frame_window(frame, config.step)
    if args.end is not None and args.lookback is not None:
        raise ConfigError("--end and --lookback both set the window's end; give only one")
    if span is None:
        return frame, None, scopes
    start, end = span
    if args.start is not None:
        start = parse_time(args.start, flag="--start")
    if args.end is not None:
        end = parse_time(args.end, flag="--end")
    if args.lookback is not None:
        length = parse_duration(args.lookback)
        if args.start is not None:
            end = start + length
        else:
            start = end - length
    if end <= start:
        raise ConfigError(
            f"--end {end.isoformat()} is not after --start {start.isoformat()}; fix one"
        )
    if (start, end) != span:
        # A bucket belongs to the window when it starts inside it.
        stamps = frame["timestamp"]
        frame = frame[(stamps >= start) & (stamps < end)].reset_index(drop=True)
    return frame, (start, end), scopes


# --------------------------------------------------------------------------- commands


def _cmd_judge(args: argparse.Namespace, console: _Console) -> int:
    from canarystats.errors import SourceError
    from canarystats.judgment import exit_code, judge
    from canarystats.report import render

    if args.history is not None and Path(args.history).is_dir():
        raise DataError(f"--history {args.history} is a folder; give a file name")
    config = _load(args)
    if args.method is not None or args.pass_score is not None or args.marginal_score is not None:
        config = config.with_judge(
            method=args.method, pass_score=args.pass_score, marginal_score=args.marginal_score
        )
    judgment: Judgment | None = None
    window: tuple[datetime, datetime] | None = None
    scopes: dict[str, str] = {}
    try:
        if args.data is not None:
            frame, window, scopes = _read_data(config, args, console)
        else:
            frame, window, scopes = _fetch(config, args, console)
    except SourceError as exc:
        code = exc.exit_code
        console.note(f"error: {exc}")
        return _finish(args, console, None, config, code, window, scopes)
    console.progress(f"judging {len(config.metrics)} metrics")
    judgment = judge(config, frame)
    code = exit_code(judgment.verdict, marginal_ok=args.marginal_ok)
    report = render(
        judgment,
        args.format,
        frame=frame,
        config=config,
        window=window,
        scopes=scopes,
        color=args.output is None and _isatty(console.stdout) and "NO_COLOR" not in os.environ,
    )
    if args.output is not None:
        write_atomic(args.output, report)
        console.note(
            f"{judgment.verdict} (score {judgment.score:.0f}); report written to {args.output}"
        )
    else:
        console.stdout.write(report)
        console.stdout.flush()
    return _finish(args, console, judgment, config, code, window, scopes)


def _finish(
    args: argparse.Namespace,
    console: _Console,
    judgment: Judgment | None,
    config: CanaryConfig,
    would_exit: int,
    window: tuple[datetime, datetime] | None,
    scopes: Mapping[str, str],
) -> int:
    code = would_exit
    if args.soft_fail and would_exit in (EXIT_FAIL, EXIT_NO_VERDICT):
        code = EXIT_PASS
        what = judgment.verdict if judgment is not None else "no verdict (source failed)"
        console.note(
            f"soft-fail: {what} would have exited {would_exit}; exiting 0 "
            "(drop --soft-fail to stop deploys)"
        )
    if args.history is not None:
        from canarystats.history import append

        append(
            args.history,
            judgment,
            config_name=config.name,
            exit_code=code,
            would_exit=would_exit,
            soft_fail=bool(args.soft_fail),
            window=window,
            scopes=scopes,
        )
    return code


def _cmd_fetch(args: argparse.Namespace, console: _Console) -> int:
    from canarystats.sources import write_frame

    config = _load(args)
    frame, _window, _scopes_used = _fetch(config, args, console)
    path = write_frame(frame, args.output)
    console.progress(f"wrote {len(frame)} points to {path}")
    return EXIT_PASS


def _cmd_validate(args: argparse.Namespace, console: _Console) -> int:
    from canarystats.sources import render_query

    config = _load(args)
    out = console.stdout
    groups = sorted({g for m in config.metrics for g in m.groups})
    out.write(
        f"{args.config}: valid config {config.name!r}: {len(config.metrics)} metrics, "
        f"groups {', '.join(groups)}, method {config.judge.method}\n"
    )
    if args.render:
        scopes = _scopes(config, args)
        for m in config.metrics:
            for cohort, scope in scopes.items():
                out.write(f"{m.name}\t{cohort}\t{render_query(m.query, scope)}\n")
    return EXIT_PASS


def _cmd_history(args: argparse.Namespace, console: _Console) -> int:
    from canarystats.history import summary

    table = summary(args.file)
    if args.format == "json":
        console.stdout.write(json.dumps(table.to_dict(orient="records"), indent=2) + "\n")
        return EXIT_PASS
    if table.empty:
        console.stdout.write(f"{args.file}: no runs recorded yet\n")
        return EXIT_PASS
    shown = table.copy()
    for column in ("pass_rate", "fail_rate", "would_have_failed_rate"):
        shown[column] = shown[column].map(lambda x: f"{100 * x:.0f}%")
    shown = shown.rename(
        columns={"would_have_failed": "would_fail", "would_have_failed_rate": "would_fail_rate"}
    )
    console.stdout.write(shown.to_string(index=False) + "\n")
    return EXIT_PASS


def _cmd_init(args: argparse.Namespace, console: _Console) -> int:
    import yaml

    from canarystats.config import load_config
    from canarystats.monitors import config_from_monitors

    path = Path(args.from_monitors)
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
    return EXIT_PASS


def _cmd_plan(args: argparse.Namespace, console: _Console) -> int:
    from canarystats.plan import DEFAULT_CANARY_HOSTS, plan

    if not 0.0 < args.power < 1.0:
        raise _UsageError(f"canarystats: --power {args.power} must be between 0 and 1")
    config = _load(args)
    if args.data is not None:
        frame, _window, _scopes_used = _read_data(config, args, console)
    else:
        if args.lookback is None and args.start is None:
            args.lookback = "2h"
        # Only the baseline's healthy hosts are the yardstick; no canary is running yet.
        baseline = _scopes(config, args)["baseline"]
        args.canary = baseline
        frame, _window, _scopes_used = _fetch(config, args, console)
        frame = frame[frame["cohort"] == "baseline"].reset_index(drop=True)
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
    return EXIT_PASS


def _cmd_backtest(args: argparse.Namespace, console: _Console) -> int:
    from canarystats.backtesting import run_backtest_cli

    return run_backtest_cli(
        args.config,
        args.deploys,
        args.data,
        scheduler=args.scheduler,
        output=args.output,
        marginal_ok=args.marginal_ok,
        stdout=console.stdout,
        stderr=console.stderr,
    )


_COMMANDS = {
    "judge": _cmd_judge,
    "fetch": _cmd_fetch,
    "validate": _cmd_validate,
    "history": _cmd_history,
    "init": _cmd_init,
    "plan": _cmd_plan,
    "backtest": _cmd_backtest,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``canarystats`` command; return its exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 pass, 1 fail, 2 usage or config error, 3 no verdict (see ``canarystats --help``).

    Examples
    --------
    >>> main(["judge", "examples/web.yaml", "--data", "fixtures/seed-incident.csv",
    ...       "--format", "json"])  # doctest: +SKIP
    1
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    console = _Console(sys.stdout, sys.stderr)
    if args_list and args_list[0] == "serve-fake-datadog":
        from canarystats.testing import main as serve

        return serve(args_list[1:])
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(args_list)
        except SystemExit as done:  # --help and --version
            return int(done.code or 0)
        if args.command is None:
            raise _UsageError(
                "canarystats: give a command (judge, fetch, validate, plan, backtest, history, "
                "init, serve-fake-datadog); see canarystats --help"
            )
        with _logging_to(console):
            return _COMMANDS[args.command](args, console)
    except _UsageError as exc:
        print(scrub(str(exc)), file=sys.stderr)
        return EXIT_USAGE
    except CanaryStatsError as exc:
        print(f"canarystats: error: {scrub(str(exc))}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("canarystats: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (head, a closed pipe) went away; nothing more to say.
        return EXIT_PASS
    except Exception as exc:
        if os.environ.get("CANARYSTATS_DEBUG") == "1":
            raise
        print(
            f"canarystats: internal error ({type(exc).__name__}: {scrub(str(exc))}); "
            "rerun with CANARYSTATS_DEBUG=1 for the traceback and report it",
            file=sys.stderr,
        )
        return EXIT_NO_VERDICT
