"""What a command judges: the config, the two scopes, and the tidy frame with its window.

The frame comes from Datadog (:func:`fetch_frame`, the window from ``--start``, ``--end`` and
``--lookback``) or from a saved file (:func:`read_data`, the window that of the file unless the
flags cut it).  ``--start`` is the canary start: the frame then also holds the pre-deploy window
before it (``--pre``, default the config's ``judge.pre_window``), fetched in the same request
per metric.  The library is imported inside each function, so building the parser for
``--help`` loads none of it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from canarystats.cli.console import Console
from canarystats.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from canarystats.config import CanaryConfig

__all__ = [
    "canary_start",
    "fetch_frame",
    "load_config_file",
    "name_missing_cohorts",
    "name_missing_data",
    "naming_the_data",
    "pre_window",
    "read_data",
    "scopes",
]

Window = tuple[datetime, datetime]
#: the fewest metrics a fetch needs for a progress bar on a terminal: fewer go in one or two
#: requests (five metrics each), over before a bar could say anything
FETCH_BAR_METRICS = 20
#: rows of a saved frame read to find the spacing of its points
SPACING_ROWS = 100_000


def canary_start(args: argparse.Namespace) -> datetime | None:
    """The canary start ``--start`` gives (None without it: every point is the canary window).

    Examples
    --------
    >>> canary_start(argparse.Namespace(start="2026-01-01T10:00:00Z")).isoformat()
    '2026-01-01T10:00:00+00:00'
    """
    from canarystats.timeparse import parse_time

    return None if args.start is None else parse_time(args.start, flag="--start")


def pre_window(config: CanaryConfig, args: argparse.Namespace) -> int:
    """Seconds of pre-deploy window to fetch before ``--start``: ``--pre``, else the config's.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(judge=SimpleNamespace(pre_window=1800))
    >>> pre_window(config, argparse.Namespace(pre="1h", start="-10m")), pre_window(
    ...     config, argparse.Namespace(pre=None, start="-10m"))
    (3600, 1800)
    """
    pre = getattr(args, "pre", None)
    if pre is None:
        return int(config.judge.pre_window)
    if args.start is None:
        raise ConfigError("--pre needs --start: the pre-deploy window is the time before it")
    return pre_seconds(pre)


def pre_seconds(text: str) -> int:
    """Seconds of a ``--pre`` duration, ``0`` for none.

    Examples
    --------
    >>> pre_seconds("1h"), pre_seconds("0")
    (3600, 0)
    """
    from canarystats.timeparse import parse_duration

    if text.strip() in ("0", "0m", "0s"):
        return 0
    return int(parse_duration(text, flag="--pre").total_seconds())


def load_config_file(args: argparse.Namespace, console: Console | None = None) -> CanaryConfig:
    """Load ``args.config``, with the bucket size ``--step`` overrides where given.

    With a ``console``, each warning about the config (a setting that most likely lacks its
    unit, a critical metric that is muted) goes to its standard error first: a pipeline never
    runs ``validate``, and ``warmup: 5`` judges five seconds of warm-up without a word.

    Examples
    --------
    >>> load_config_file(argparse.Namespace(config="examples/web.yaml", step=120)).step
    120
    """
    from canarystats.config import load_config

    path = Path(args.config)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; check the path")
    config = load_config(path)
    if console is not None:
        from canarystats.config.advice import config_warnings

        for line in config_warnings(config):
            console.note(f"{path}: {line}")
    if getattr(args, "step", None):
        step = int(args.step)
        config = replace(
            config, step=step, metrics=tuple(replace(m, step=step) for m in config.metrics)
        )
    return config


def scopes(config: CanaryConfig, args: argparse.Namespace) -> dict[str, str]:
    """Each cohort's scope: ``--canary`` and ``--baseline`` where given, else the config's.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(scopes=SimpleNamespace(canary="role:canary",
    ...                                                 baseline="role:baseline"))
    >>> scopes(config, argparse.Namespace(canary="version:v2", baseline=None))
    {'canary': 'version:v2', 'baseline': 'role:baseline'}
    """
    chosen = {
        "canary": args.canary if args.canary is not None else config.scopes.canary,
        "baseline": args.baseline if args.baseline is not None else config.scopes.baseline,
    }
    for cohort, scope in chosen.items():
        if not scope.strip():
            raise ConfigError(f"--{cohort} is empty; give Datadog tags such as role:{cohort}")
    return chosen


def _no_pre(args: argparse.Namespace) -> int:
    """0: without ``--start`` there is no pre-deploy window; ``--pre`` alone is a usage error."""
    if getattr(args, "pre", None) is not None and args.start is None:
        raise ConfigError("--pre needs --start: the pre-deploy window is the time before it")
    return 0


def fetch_frame(
    config: CanaryConfig, args: argparse.Namespace, console: Console
) -> tuple[pd.DataFrame, Window, dict[str, str]]:
    """Fetch every metric of both cohorts from Datadog over the window the flags give.

    Returns the tidy frame, the canary window (from the start to the end Datadog answered
    for; the frame also holds the pre-deploy window before it), and the scopes used.

    Examples
    --------
    >>> frame, window, used = fetch_frame(config, args, console)  # doctest: +SKIP
    """
    from canarystats.sources import DatadogSource, metric_queries
    from canarystats.timeparse import resolve_window

    used = scopes(config, args)
    start, end = resolve_window(args.start, args.end, args.lookback)
    before = pre_window(config, args) if args.start is not None else _no_pre(args)
    fetch_from = start - timedelta(seconds=before)
    source = DatadogSource(deadline=args.deadline)
    queries = metric_queries(config)
    console.progress(
        f"fetching {len(queries)} metrics for {len(used)} cohorts from {source.host} "
        f"({fetch_from.isoformat()} to {end.isoformat()})"
    )
    with console.bar("fetching", len(queries), unit="metrics", minimum=FETCH_BAR_METRICS) as bar:
        if bar is not None:
            source.progress = lambda done, _total: bar(done)
        frame = source.fetch(queries, used, fetch_from, end)
    window = frame.attrs.get("window") or (fetch_from, end)
    console.progress(f"received {len(frame)} points in {frame.attrs.get('requests', '?')} requests")
    return frame, (start, window[1]), used


@contextmanager
def naming_the_data(args: argparse.Namespace) -> Iterator[None]:
    """Data errors raised while a saved frame ``--data`` is judged name that file first.

    The judge checks the data as it aligns it (a duplicated point, a negative count), far from
    where the file was read; without the file's name a replay's error would not say which file.

    Examples
    --------
    >>> from canarystats.errors import DataError
    >>> try:
    ...     with naming_the_data(argparse.Namespace(data="run.csv")):
    ...         raise DataError("metric 'm' has two points for one canary host")
    ... except DataError as exc:
    ...     print(exc)
    run.csv: metric 'm' has two points for one canary host
    """
    from canarystats.errors import DataError

    try:
        yield
    except DataError as exc:
        path = getattr(args, "data", None)
        if path is None or str(exc).startswith(f"{path}:"):
            raise
        raise type(exc)(f"{path}: {exc}") from None


def name_missing_data(
    config: CanaryConfig,
    frame: pd.DataFrame,
    console: Console,
    *,
    scopes: Mapping[str, str] | None = None,
    path: str | None = None,
) -> None:
    """Warn about each config metric, and each cohort, of which a non-empty frame holds no row.

    Datadog answers a query with no series as readily as a misspelt one, and a count with no
    series is judged as zero events, so a typo in a metric's name or tag would pass in silence;
    a cohort with no series at all is most often a scope that matches no host (``--canary``).
    ``path`` names the saved frame (``--data``) the rows were read from; without it they came
    from Datadog, asked with ``scopes``.  Not for the looks of a sequential plan: early on, a
    quiet count has no series yet, and every poll would say so again.

    Examples
    --------
    >>> import io
    >>> import pandas as pd
    >>> from canarystats.config import load_config
    >>> cfg = load_config({"name": "c", "metrics": [{"name": "latency.p99", "query": "q"}]})
    >>> console = Console(io.StringIO(), io.StringIO())
    >>> rows = pd.DataFrame({"metric": ["latency.p95"] * 2, "cohort": ["canary", "baseline"]})
    >>> name_missing_data(cfg, rows, console, path="r.csv")
    >>> print(console.stderr.getvalue().strip())  # doctest: +NORMALIZE_WHITESPACE
    canarystats: warning: r.csv holds no row of metric 'latency.p99' (did you mean
    'latency.p95'?); it is judged as if Datadog had returned no series for it
    """
    import difflib

    present = sorted({str(name) for name in frame["metric"].unique()}) if len(frame) else []
    if not present:
        return
    name_missing_cohorts(frame, console, scopes=scopes, path=path)
    for m in config.metrics:
        if m.name in present:
            continue
        if path is None:
            console.note(
                f"warning: Datadog returned no series of metric {m.name!r} for either cohort; a "
                "misspelt metric or tag returns none too: check its query "
                "(canarystats validate CONFIG --render)"
            )
            continue
        close = difflib.get_close_matches(m.name, present, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"it holds {', '.join(present[:6])}"
        if not close and len(present) > 6:
            hint += ", ..."
        console.note(
            f"warning: {path} holds no row of metric {m.name!r} ({hint}); it is judged as if "
            "Datadog had returned no series for it"
        )


def name_missing_cohorts(
    frame: pd.DataFrame,
    console: Console,
    *,
    scopes: Mapping[str, str] | None = None,
    path: str | None = None,
) -> None:
    """Warn about each cohort of which the frame holds no row: most often a scope (``--canary``)
    that matches no host.

    ``path`` and ``scopes`` as for :func:`name_missing_data`.  Unlike a metric, a cohort is
    missing for a reason whatever its metrics' kinds, so the first poll of a sequential plan
    warns too.

    Examples
    --------
    >>> import io
    >>> import pandas as pd
    >>> console = Console(io.StringIO(), io.StringIO())
    >>> rows = pd.DataFrame({"metric": ["latency"], "cohort": ["baseline"]})
    >>> name_missing_cohorts(rows, console, scopes={"canary": "role:canry"})
    >>> print(console.stderr.getvalue().strip())  # doctest: +NORMALIZE_WHITESPACE
    canarystats: warning: Datadog returned no series of any metric for the canary scope
    'role:canry': check --canary (or scopes.canary in the config)
    """
    cohorts = {str(c) for c in frame["cohort"].unique()} if len(frame) else set()
    for cohort in ("canary", "baseline"):
        if cohort not in cohorts:
            scope = (scopes or {}).get(cohort)
            console.note(
                f"warning: {path} holds no {cohort} row"
                if path is not None
                else f"warning: Datadog returned no series of any metric for the {cohort} scope "
                f"{scope!r}: check --{cohort} (or scopes.{cohort} in the config)"
            )


def _check_spacing(config: CanaryConfig, frame: pd.DataFrame, path: str, console: Console) -> None:
    """Warn where a saved frame's points are not one config step apart.

    The step is the bucket a count's rate is per and the last point's bucket ends after: 10-s
    points read with a 60-s step give rates six times too low and a window a step too long,
    while every test stays the same, so nothing else would show it.
    """
    from canarystats.frame import frame_spacing

    # The first rows hold whole host series (files are written metric by metric); reading
    # only those keeps the check cheap on a large file.
    spacing = frame_spacing(frame.iloc[:SPACING_ROWS])
    # A metric may have a step of its own: a spacing that some metric's step matches is meant.
    if spacing is not None and spacing not in {m.step for m in config.metrics} | {config.step}:
        console.note(
            f"warning: {path} has a point every {spacing} s, but the config's step is "
            f"{config.step} s, so rates and the window's end are read per {config.step} s: "
            f"give --step {spacing} (or step: {spacing} in the config)"
        )


def read_data(
    config: CanaryConfig, args: argparse.Namespace, console: Console
) -> tuple[pd.DataFrame, Window | None, dict[str, str]]:
    """Read the saved frame ``--data``, cut to ``--start``, ``--end`` and ``--lookback``.

    Without those flags the window is the one the file covers (None for an empty file).

    Examples
    --------
    >>> import io
    >>> args = argparse.Namespace(config="examples/web.yaml", data="fixtures/healthy-deploy.csv",
    ...     canary=None, baseline=None, start=None, end=None, lookback="5m")
    >>> console = Console(io.StringIO(), io.StringIO())
    >>> frame, window, used = read_data(load_config_file(args), args, console)
    >>> [t.isoformat() for t in window]
    ['2026-03-11T16:40:00+00:00', '2026-03-11T16:45:00+00:00']
    """
    from canarystats.frame import cut_window, frame_window
    from canarystats.sources import read_frame
    from canarystats.timeparse import parse_duration, parse_time

    used = scopes(config, args)
    _no_pre(args)
    console.progress(f"reading {args.data}")
    frame = read_frame(args.data)
    name_missing_data(config, frame, console, path=args.data)
    _check_spacing(config, frame, args.data, console)
    span = frame_window(frame, config.step)
    if args.end is not None and args.lookback is not None:
        raise ConfigError("--end and --lookback both set the window's end; give only one")
    if span is None:
        return frame, None, used
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
        if args.end is None and args.lookback is None:
            # The end is the file's: say so, and where its data lies.
            raise ConfigError(
                f"--start {start.isoformat()} is not before the end of the data in {args.data} "
                f"({span[0].isoformat()} to {span[1].isoformat()}); give a start inside it"
            )
        if args.start is None:
            # The start is the file's: the end given is before its data.
            raise ConfigError(
                f"--end {end.isoformat()} is not after the start of the data in {args.data} "
                f"({span[0].isoformat()} to {span[1].isoformat()}); give an end inside it"
            )
        raise ConfigError(
            f"--end {end.isoformat()} is not after --start {start.isoformat()}; fix one"
        )
    if end <= span[0] or start >= span[1]:
        console.note(
            f"warning: {args.data} holds no point from {start.isoformat()} to {end.isoformat()} "
            f"(its data runs {span[0].isoformat()} to {span[1].isoformat()})"
        )
    if (start, end) != span:
        # With a canary start the pre-deploy window before it stays in the frame.
        before = pre_window(config, args) if args.start is not None else 0
        frame = cut_window(frame, start - timedelta(seconds=before), end)
    return frame, (start, end), used
