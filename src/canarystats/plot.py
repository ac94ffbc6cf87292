"""Pictures of a judgment: canary against baseline per metric, and backtest trade-offs.

matplotlib is an optional extra (``pip install 'canarystats[plots]'``); it is imported inside
the functions, so ``import canarystats.plot`` always works and only drawing needs it.  Figures
are built with :class:`matplotlib.figure.Figure`, never pyplot, so plotting touches no global
state and works without a display (in CI, in threads, in the HTML report).

What :func:`plot_metric` draws, and why:

- every host of each cohort as a thin line, so one misbehaving host is visible;
- each cohort's median across hosts per bucket as a thick line, the level the test compares;
- a band at *baseline median + shift interval* (the Hodges-Lehmann confidence interval of
  canary minus baseline): where the canary's level is, as far as the test can tell; when the
  band clears the baseline line, the shift is real;
- the absolute threshold bounds, when the metric has them;
- the classification and its reason in the title, coloured by outcome.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from canarystats.errors import ConfigError
from canarystats.labels import LABEL_COLOURS, Label
from canarystats.results import failing_first

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from canarystats.results import Judgment, MetricResult

__all__ = ["figure_to_svg", "plot_backtest", "plot_judgment", "plot_metric"]

#: colours of the two cohorts (colour-blind safe pair)
COHORT_COLORS = {"canary": "#d95f02", "baseline": "#1b9e77"}


def require_matplotlib() -> None:
    """Raise a one-line ConfigError naming the extra to install when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError(
            "plots need matplotlib, which is not installed: pip install 'canarystats[plots]'"
        ) from None


def _new_axes(figsize: tuple[float, float]) -> Axes:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_metric(
    frame: pd.DataFrame,
    result: MetricResult,
    ax: Axes | None = None,
    *,
    start: str | pd.Timestamp | None = None,
) -> Axes:
    """Draw one metric's canary and baseline over the window, with the verdict and interval.

    Parameters
    ----------
    frame : pandas.DataFrame
        The tidy frame of the run (other metrics in it are ignored).
    result : MetricResult
        The metric's entry of the :class:`~canarystats.judgment.Judgment`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure's axes.
    start : time, optional
        The canary start (the judgment's ``canary_start``): a vertical line labelled
        ``canary start`` marks it, and the metric's warm-up after it is shaded (``warm-up``).

    Returns
    -------
    matplotlib.axes.Axes
        Lines labelled ``canary``/``baseline`` (medians) and ``_host ...`` per host, a patch
        labelled ``shift interval`` when the interval exists, threshold lines labelled
        ``threshold max``/``threshold min``, and the canary start and warm-up where given.

    Raises
    ------
    canarystats.errors.ConfigError
        When matplotlib is not installed.

    Examples
    --------
    >>> from canarystats import judge, load_config  # doctest: +SKIP
    >>> j = judge(cfg, frame)  # doctest: +SKIP
    >>> ax = plot_metric(frame, j.metric("request-latency"))  # doctest: +SKIP
    >>> ax.figure.savefig("latency.png")  # doctest: +SKIP
    """
    require_matplotlib()
    if ax is None:
        ax = _new_axes((7.0, 3.2))
    rows = frame[frame["metric"] == result.name]
    for cohort in ("baseline", "canary"):
        side = rows[rows["cohort"] == cohort]
        color = COHORT_COLORS[cohort]
        for host, series in side.groupby("host", sort=True):
            series = series.sort_values("timestamp")
            ax.plot(
                series["timestamp"].dt.tz_localize(None),
                series["value"],
                color=color,
                alpha=0.3,
                linewidth=0.8,
                label=f"_host {cohort} {host}",
            )
        if len(side):
            level = side.groupby("timestamp")["value"].median().sort_index()
            ax.plot(
                pd.DatetimeIndex(level.index).tz_localize(None),
                level.to_numpy(),
                color=color,
                linewidth=2.2,
                label=cohort,
            )
    _draw_bounds(ax, result)
    if start is not None:
        _draw_start(ax, result, pd.Timestamp(start))
    unit = f" ({result.unit})" if result.unit else ""
    ax.set_ylabel(f"value{unit}")
    mark = "" if result.classification == Label.PASS else " ✗"
    ax.set_title(
        f"{result.name}: {result.classification}{mark}",
        color=LABEL_COLOURS.get(Label(result.classification), "#24292f"),
        loc="left",
        fontsize=11,
    )
    if _finite(result.estimate, result.ci_low, result.ci_high):
        pct = round(result.confidence * 100)
        ax.text(
            0.99,
            0.98,
            f"shift {result.estimate:+.3g} "
            f"({pct}% CI {result.ci_low:+.3g} to {result.ci_high:+.3g})",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8,
            color="#57606a",
        )
    if len(rows):
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    return ax


def _draw_start(ax: Axes, result: MetricResult, start: pd.Timestamp) -> None:
    """The canary start as a vertical line, the warm-up after it shaded: what the tests left
    out, and where each host's past ends."""
    from matplotlib.dates import date2num

    t0 = (start.tz_convert("UTC") if start.tzinfo else start).tz_localize(None)
    ax.axvline(float(date2num(t0)), color="#57606a", linewidth=1, label="canary start")
    warmup = int(result.diagnostics.get("warmup_s", 0) or 0)
    if warmup:
        ax.axvspan(
            float(date2num(t0)),
            float(date2num(t0 + pd.Timedelta(seconds=warmup))),
            color="#57606a",
            alpha=0.1,
            label="warm-up (not judged)",
        )


def _draw_bounds(ax: Axes, result: MetricResult) -> None:
    """The shift interval as a band above the baseline's median, and the threshold lines."""
    base = result.baseline.median
    if _finite(base, result.ci_low, result.ci_high):
        ax.axhspan(
            base + result.ci_low,
            base + result.ci_high,
            color=COHORT_COLORS["canary"],
            alpha=0.12,
            label="shift interval",
        )
    if result.threshold is not None:
        for bound in ("max", "min"):
            value = result.threshold.get(bound)
            if value is not None:
                ax.axhline(
                    value, color="#57606a", linestyle="--", linewidth=1, label=f"threshold {bound}"
                )


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def plot_judgment(judgment: Judgment, frame: pd.DataFrame, *, ncols: int = 2) -> Figure:
    """Draw every metric of a judgment in a grid, failing metrics first.

    Parameters
    ----------
    judgment : Judgment
        The run's judgment.
    frame : pandas.DataFrame
        The tidy frame it was judged on.
    ncols : int
        Plots per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per metric, titled with the verdict.

    Examples
    --------
    >>> fig = plot_judgment(judge(cfg, frame), frame)  # doctest: +SKIP
    >>> fig.savefig("run.png")  # doctest: +SKIP
    """
    require_matplotlib()
    from matplotlib.figure import Figure

    metrics = failing_first(judgment.metrics)
    ncols = max(1, min(ncols, len(metrics) or 1))
    nrows = max(1, math.ceil(len(metrics) / ncols))
    fig = Figure(figsize=(6.0 * ncols, 3.0 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, result in zip(axes, metrics, strict=False):
        plot_metric(frame, result, ax=ax, start=judgment.canary_start)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{judgment.config_name}: {judgment.verdict.upper()} (score {judgment.score:.0f})",
        fontsize=13,
    )
    return fig


#: columns of the backtest summary :func:`plot_backtest` reads (besides the parameter column)
BACKTEST_RATES = ("false_alarm_rate", "catch_rate")


def plot_backtest(df: pd.DataFrame, *, param: str | None = None, ax: Axes | None = None) -> Axes:
    """Draw false alarms against caught incidents as a judging parameter moves.

    Each row of ``df`` is one setting of the parameter, with the share of healthy deploys the
    judge failed (``false_alarm_rate``) and the share of bad deploys it failed
    (``catch_rate``), both in [0, 1].  The curve shows the trade-off: the best settings sit
    top-left (catch everything, stop nothing healthy).

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``false_alarm_rate``, ``catch_rate`` and the parameter's column.
    param : str, optional
        The parameter's column (default: the first column that is not a rate).
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        One line labelled with ``param``, one text annotation per setting.

    Raises
    ------
    canarystats.errors.DataError
        When a column is missing or a rate is outside [0, 1].

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"confidence": [0.9, 0.95, 0.99],
    ...                    "false_alarm_rate": [0.10, 0.04, 0.01],
    ...                    "catch_rate": [1.0, 0.9, 0.6]})
    >>> ax = plot_backtest(df)  # doctest: +SKIP
    """
    from canarystats.errors import DataError

    missing = [c for c in BACKTEST_RATES if c not in df.columns]
    if missing:
        raise DataError(
            f"backtest frame has no column {missing[0]!r}; it needs "
            f"{', '.join(BACKTEST_RATES)} and a parameter column"
        )
    if param is None:
        others = [c for c in df.columns if c not in BACKTEST_RATES]
        if not others:
            raise DataError("backtest frame has no parameter column besides the rates")
        param = str(others[0])
    elif param not in df.columns:
        raise DataError(f"backtest frame has no parameter column {param!r}")
    rates = df[list(BACKTEST_RATES)].to_numpy(dtype=np.float64)
    if np.any((rates < 0) | (rates > 1)):
        raise DataError("backtest rates must lie in [0, 1]; give fractions, not percentages")
    require_matplotlib()
    if ax is None:
        ax = _new_axes((5.5, 4.5))
    ordered = df.sort_values(param)
    x = ordered["false_alarm_rate"].to_numpy(dtype=np.float64)
    y = ordered["catch_rate"].to_numpy(dtype=np.float64)
    ax.plot(x, y, marker="o", color="#0969da", label=param)
    for xi, yi, value in zip(x, y, ordered[param], strict=True):
        ax.annotate(
            f"{value:g}" if isinstance(value, (int, float)) else str(value),
            (xi, yi),
            textcoords="offset points",
            xytext=(5, -10),
            fontsize=8,
        )
    ax.set_xlabel("false alarm rate (healthy deploys stopped)")
    ax.set_ylabel("catch rate (bad deploys stopped)")
    ax.set_xlim(-0.02, max(1.0, float(np.nanmax(x, initial=0.0))) + 0.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"false alarms vs caught incidents as {param} moves", fontsize=11)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return ax


def figure_to_svg(figure: Figure) -> str:
    """Serialise a figure as an ``<svg>`` element to inline in HTML (no XML prologue).

    Text stays text (``svg.fonttype: none``) so the file is small and searchable, and ids are
    salted with a fixed string so the same figure gives the same bytes.

    Examples
    --------
    >>> svg = figure_to_svg(plot_metric(frame, result).figure)  # doctest: +SKIP
    >>> svg.startswith("<svg")  # doctest: +SKIP
    True
    """
    import io

    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "canarystats", "svg.image_inline": True}
    ):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :].strip()
