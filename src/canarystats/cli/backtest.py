"""``canarystats backtest``: judge a history of deploys, write one CSV row per deploy.

The work is :func:`canarystats.backtesting.backtest`; this command reads the files, connects to
a Dask scheduler when asked, writes the frame as CSV and says in one line how the judge did.  On
a terminal, a long in-process backtest runs in parts under a progress bar
(:func:`backtest_in_parts`); each deploy is judged on its own, so the rows are the same.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from canarystats.cli.console import Console
from canarystats.errors import ConfigError, DataError
from canarystats.exit_codes import ExitCode

if TYPE_CHECKING:
    import pandas as pd
    from distributed import Client

    from canarystats.config import CanaryConfig
    from canarystats.sources.base import Source

__all__ = [
    "NAME",
    "add_parser",
    "backtest_in_parts",
    "connect",
    "results_csv",
    "run",
    "summary_line",
]

NAME = "backtest"
#: seconds to wait for a Dask scheduler before telling the user the address is wrong
CONNECT_TIMEOUT_S = 30
#: the fewest deploys for a progress bar on a terminal
BAR_DEPLOYS = 50
#: parts a backtest under a bar is cut into: enough steps to show progress, few enough that each
#: part stays one large batched judgment (the batching is what makes a backtest fast)
BAR_PARTS = 20


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``backtest`` to the subcommands ``commands`` (from ``add_subparsers``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="canarystats")
    >>> backtest = add_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["backtest", "c.yaml", "deploys.csv", "--data", "h.csv"]).data
    'h.csv'
    """
    parser: argparse.ArgumentParser = commands.add_parser(
        NAME,
        help="judge a history of deploys and count false alarms and caught incidents",
        description="Judge every deploy of DEPLOYS (CSV: deploy, canary_scope, baseline_scope, "
        "start, end, optional outcome good|bad) on the saved tidy frame --data, in-process or on "
        "a Dask cluster (--scheduler), and write one row per deploy as CSV.  Exit 0 when the "
        "backtest ran, 2 usage, 3 when the scheduler or data could not be used.",
    )
    parser.add_argument("config", metavar="CONFIG", help="canary config (YAML or JSON)")
    parser.add_argument(
        "deploys",
        metavar="DEPLOYS",
        help="CSV of deploys: deploy, canary_scope, baseline_scope, start, end[, outcome]",
    )
    parser.add_argument("--data", metavar="FILE", required=True, help="saved tidy frame")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address")
    parser.add_argument("--output", metavar="FILE", help="write the CSV here, not stdout")
    parser.add_argument("--marginal-ok", action="store_true", help="a marginal verdict passes")
    parser.add_argument(
        "--canary-start",
        action="store_true",
        help="each deploy's start is its canary start, as judge --start: the config's "
        "pre-deploy window before it is read too (each host against its own past) and the "
        "warm-up after it is left out",
    )
    return parser


def run(args: argparse.Namespace, console: Console) -> int:
    """Backtest, write the CSV to ``--output`` (or stdout), summarise on stderr; return 0.

    The exit code is 0 whatever the judge got wrong: the backtest ran.  It is 2 when the CSV
    cannot be written to ``--output`` (the rows are then printed on stdout).

    Examples
    --------
    >>> import io
    >>> from canarystats.cli import build_parser
    >>> argv = ["backtest", "examples/web-backtest.yaml", "fixtures/history/deploys.csv",
    ...         "--data", "fixtures/history/history.csv", "--output", "bt.csv"]
    >>> run(build_parser().parse_args(argv), Console(io.StringIO(), io.StringIO()))
    ... # doctest: +SKIP
    0
    """
    from canarystats.backtesting import backtest, summarize
    from canarystats.cli.inputs import load_config_file
    from canarystats.frame import check_output_path, write_atomic
    from canarystats.sources.history import HistorySource, read_deploys

    if args.output is not None:
        # A path that can never be a file fails now, not after the whole backtest.
        check_output_path(args.output)
    config = load_config_file(args, console)
    table = read_deploys(args.deploys)
    source = HistorySource.from_files(args.data, table)
    how = {"marginal_ok": args.marginal_ok, "canary_start": args.canary_start}
    if args.scheduler is None:
        result = backtest_in_parts(config, table, source, console, **how)
    else:
        client = connect(args.scheduler)
        try:
            result = backtest(config, table, source, client=client, **how)
        finally:
            client.close()
    text = results_csv(result)
    if args.output is not None:
        try:
            write_atomic(args.output, text)
        except DataError as exc:
            # The CSV is the backtest's result, and a script would go on to read a missing or
            # stale file: exit 2.  The rows took long to compute, so they go to stdout rather
            # than nowhere.
            console.stdout.write(text)
            console.stdout.flush()
            console.stderr.write(summary_line(summarize(result)) + "\n")
            console.note(f"error: {exc}; the results are on stdout instead")
            return int(ExitCode.USAGE)
    else:
        console.stdout.write(text)
        console.stdout.flush()
    console.stderr.write(summary_line(summarize(result), args.output) + "\n")
    return int(ExitCode.PASS)


def backtest_in_parts(
    config: CanaryConfig,
    table: pd.DataFrame,
    source: Source,
    console: Console,
    *,
    marginal_ok: bool,
    canary_start: bool = False,
) -> pd.DataFrame:
    """Backtest in this process: in one piece, or in parts under a progress bar on a terminal.

    A deploy's judgment depends on its own rows only (the cluster path cuts the table the same
    way), so the parts put together are the one-piece result.

    Examples
    --------
    >>> result = backtest_in_parts(config, table, source, console,
    ...                            marginal_ok=False)  # doctest: +SKIP
    """
    import numpy as np
    import pandas as pd

    from canarystats.backtesting import backtest

    with console.bar("backtesting", len(table), unit="deploys", minimum=BAR_DEPLOYS) as bar:
        if bar is None:
            return backtest(
                config, table, source, marginal_ok=marginal_ok, canary_start=canary_start
            )
        parts = []
        done = 0
        for rows in np.array_split(np.arange(len(table)), min(BAR_PARTS, len(table))):
            part = table.iloc[rows].reset_index(drop=True)
            parts.append(
                backtest(config, part, source, marginal_ok=marginal_ok, canary_start=canary_start)
            )
            done += len(part)
            bar(done)
        return pd.concat(parts, ignore_index=True)


def results_csv(result: pd.DataFrame) -> str:
    """The backtest frame as CSV, times as ISO 8601 in UTC with a ``Z``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.Timestamp("2026-02-02T14:00:00Z")
    >>> print(results_csv(pd.DataFrame({"deploy": ["d1"], "start": [t], "end": [t]})), end="")
    deploy,start,end
    d1,2026-02-02T14:00:00Z,2026-02-02T14:00:00Z
    """
    out = result.copy()
    for c in ("start", "end"):
        out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(out.to_csv(index=False))


def summary_line(summary: Mapping[str, float], output: str | None = None) -> str:
    """One line on how the judge did (from :func:`canarystats.backtesting.summarize`).

    Examples
    --------
    >>> s = {"deploys": 5, "false_alarms": 1, "good": 2, "caught": 1, "bad": 2, "nodata": 1}
    >>> summary_line(s)
    'backtest of 5 deploys: 1 false alarms in 2 good, 1 of 2 bad caught, 1 without a verdict'
    """
    return (
        f"backtest of {summary['deploys']} deploys: {summary['false_alarms']} false alarms in "
        f"{summary['good']} good, {summary['caught']} of {summary['bad']} bad caught, "
        f"{summary['nodata']} without a verdict"
        + (f"; results written to {output}" if output is not None else "")
    )


def connect(address: str) -> Client:
    """A Dask client of the scheduler at ``address``; a :class:`ConfigError` when it cannot be.

    Examples
    --------
    >>> client = connect("tcp://127.0.0.1:8786")  # doctest: +SKIP
    """
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(
            "--scheduler needs dask: install the distributed extra "
            "(pip install '.[distributed]' in a canarystats checkout, "
            "or pip install 'dask[distributed]')"
        ) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"--scheduler {address}: cannot connect to the Dask scheduler ({first}); "
            "check the address (tcp://host:8786)"
        ) from None
