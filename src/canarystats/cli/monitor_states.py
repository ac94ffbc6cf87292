"""The monitor states ``judge`` gives the monitor gate: read from Datadog for the canary window,
or from a file saved with them (``fetch --monitor-states``), for a judgment replayed offline.

Only where the config names ``monitors:``; a config without them reads nothing.  A failure to
read them from Datadog is a source failure like the metrics' (no verdict, exit 3): a gate that
could not look must not pass a canary by silence.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from canarystats.cli.console import Console
from canarystats.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from canarystats.config import CanaryConfig

__all__ = ["add_monitor_flags", "monitor_states", "states_from_datadog"]


def add_monitor_flags(parser: argparse.ArgumentParser) -> None:
    """Add ``--monitor-states`` to a command that judges.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_monitor_flags(parser)
    >>> parser.parse_args(["--monitor-states", "m.json"]).monitor_states
    'm.json'
    """
    parser.add_argument(
        "--monitor-states",
        metavar="FILE",
        help="the states of the config's monitors saved by fetch --monitor-states, instead of "
        "reading them from Datadog (for judging a saved --data run with its monitors)",
    )


def monitor_states(
    config: CanaryConfig,
    args: argparse.Namespace,
    console: Console,
    window: tuple[datetime, datetime] | None,
) -> pd.DataFrame | None:
    """The states of the config's monitors: ``--monitor-states``, else Datadog's for the canary
    ``window`` (live runs only), else None (the gate then says it did not check).

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> import io
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "q"}]})
    >>> args = argparse.Namespace(monitor_states=None, data=None, deadline=30.0)
    >>> monitor_states(cfg, args, Console(io.StringIO(), io.StringIO()), None) is None
    True
    """
    path = getattr(args, "monitor_states", None)
    if config.monitors is None:
        if path is not None:
            raise ConfigError(
                f"--monitor-states {path}: the config {config.source} names no monitors; "
                "add a monitors: section or drop the flag"
            )
        return None
    if path is not None:
        from canarystats.monitors import read_monitor_states

        console.progress(f"reading the monitor states {path}")
        return read_monitor_states(path)
    if args.data is not None or window is None:
        return None
    return states_from_datadog(config, args, console, window)


def states_from_datadog(
    config: CanaryConfig,
    args: argparse.Namespace,
    console: Console,
    window: tuple[datetime, datetime],
) -> pd.DataFrame:
    """The states of the config's monitors, read from Datadog for the canary ``window``.

    Examples
    --------
    >>> states_from_datadog(config, args, console, window)  # doctest: +SKIP
    """
    from canarystats.sources.datadog import DatadogSource
    from canarystats.sources.datadog_monitors import DatadogMonitors

    if config.monitors is None:
        raise ConfigError(
            f"--monitor-states: the config {config.source} names no monitors; add a monitors: "
            "section or drop the flag"
        )
    reader = DatadogMonitors(DatadogSource(deadline=args.deadline))
    console.progress(f"reading the states of {config.monitors.describe()} from Datadog")
    states = reader.states(config.monitors, window)
    console.progress(f"read {len(states)} monitor groups in {reader.requests} requests")
    return states
