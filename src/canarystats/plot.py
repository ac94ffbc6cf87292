"""Pictures of a judgment: canary against baseline per metric, and backtest trade-offs.

matplotlib is an optional extra (``plots``: ``pip install '.[plots]'`` in a checkout); it is
imported inside the functions, so ``import canarystats.plot`` always works and only drawing
needs it.  Figures are built with :class:`matplotlib.figure.Figure`, never pyplot, so plotting
touches no global state and works without a display (in CI, in threads, in the HTML report).
In Jupyter, run ``%matplotlib inline`` once (the shipped notebooks do): it registers the
picture formatter for every figure, so a figure shows as a PNG rather than ``<Figure size ...>``.

What :func:`plot_metric` draws, and why:

- every host of each cohort as a thin line, so one misbehaving host is visible;
- each cohort's median across hosts per bucket as a thick line, the level the test compares;
- a band at *baseline median + shift interval* (the Hodges-Lehmann confidence interval of
  canary minus baseline, ``kayenta`` method): where the canary's level is, as far as the test
  can tell; when the band clears the baseline line, the shift is real.  The default ``hosts``
  method's band is the t interval of its host test; a count has no interval, so no band; the
  shift is stated above the plot either way;
- the absolute threshold bounds, when the metric has them, labelled with their value;
- the canary start and the warm-up after it, where the judgment has a start;
- the classification in the title, coloured by outcome;
- times in UTC (the date once, in the axis label), the metric's unit on the y axis, numbers as
  the reports write them (:func:`canarystats.methods.wording.fmt_number`: ``1,240``, never
  ``1.24e+03``), and the legend below the axes, where it hides no line;
- a y range that a single spike cannot stretch (:func:`robust_limits`): points far beyond
  the bulk are clipped, marked at the edge and counted above the plot.
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

__all__ = ["figure_to_svg", "plot_backtest", "plot_judgment", "plot_metric", "robust_limits"]

#: colours of the two cohorts (colour-blind safe pair)
COHORT_COLORS = {"canary": "#d95f02", "baseline": "#1b9e77"}


def require_matplotlib() -> None:
    """Raise a one-line ConfigError naming the extra to install when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError(
            "plots need matplotlib, which is not installed: install the plots extra "
            "(pip install '.[plots]' in a canarystats checkout, or pip install matplotlib)"
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
        The x axis is in UTC, the y axis in the metric's unit; the legend sits below the axes,
        and a single spike far beyond the rest is clipped (:func:`robust_limits`) and counted
        in the title on the right.

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
        ax = _new_axes((7.0, 3.6))
    rows = frame[frame["metric"] == result.name]
    levels = []
    for cohort in ("baseline", "canary"):
        side = rows[rows["cohort"] == cohort]
        color = COHORT_COLORS[cohort]
        for host, series in side.groupby("host", sort=True):
            series = series.sort_values("timestamp")
            ax.plot(
                _utc_naive(series["timestamp"]),
                series["value"],
                color=color,
                alpha=0.3,
                linewidth=0.8,
                label=f"_host {cohort} {host}",
            )
        if len(side):
            level = side.groupby("timestamp")["value"].median().sort_index()
            levels.append(level.to_numpy(dtype=np.float64))
            ax.plot(
                _utc_naive(pd.Series(level.index)),
                level.to_numpy(),
                color=color,
                linewidth=2.2,
                label=cohort,
            )
    _draw_bounds(ax, result)
    if start is not None:
        _draw_start(ax, result, pd.Timestamp(start))
    clipped = _scale_y(ax, rows, levels, result)
    _label_axes(ax, rows, result)
    notes = [n for n in (_shift_note(result), clipped) if n]
    if notes:
        ax.set_title("\n".join(notes), loc="right", fontsize=8, color="#57606a")
    if len(rows):
        _legend_below(ax)
    return ax


def _utc_naive(stamps: pd.Series) -> pd.DatetimeIndex:
    """Timestamps as naive UTC, what matplotlib's date axis draws (its own zone is UTC)."""
    index = pd.DatetimeIndex(stamps)
    return index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index


def _label_axes(ax: Axes, rows: pd.DataFrame, result: MetricResult) -> None:
    """UTC times on x (the date once, in the label), the unit on y, numbers without exponents,
    and the verdict as the title."""
    from matplotlib.dates import AutoDateLocator, DateFormatter
    from matplotlib.ticker import FuncFormatter

    from canarystats.methods.wording import fmt_number

    days = pd.DatetimeIndex(rows["timestamp"]).tz_convert("UTC").normalize().unique()
    if len(days) == 1:
        ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))
        ax.set_xlabel(f"time (UTC), {days[0]:%Y-%m-%d}", fontsize=8)
    else:
        ax.xaxis.set_major_formatter(DateFormatter("%m-%d %H:%M"))
        ax.set_xlabel("time (UTC)", fontsize=8)
    ax.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=7))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: fmt_number(value)))
    unit = f" ({result.unit})" if result.unit else ""
    ax.set_ylabel(f"value{unit}", fontsize=9)
    ax.tick_params(labelsize=8)
    mark = "" if result.classification == Label.PASS else " ✗"
    ax.set_title(
        f"{result.name}: {result.classification}{mark}",
        color=LABEL_COLOURS.get(Label(result.classification), "#24292f"),
        loc="left",
        fontsize=11,
    )


def _shift_note(result: MetricResult) -> str:
    """The shift, with its interval where the method gives one (the kayenta method)."""
    from canarystats.report.context import shift_text

    return f"shift {shift_text(result)}" if _finite(result.estimate) else ""


def _legend_below(ax: Axes) -> None:
    """The legend under the axes, where it hides no line: what thick and thin lines are, then
    the interval, thresholds, canary start and warm-up as drawn."""
    from matplotlib.lines import Line2D

    handles, labels = [], []
    for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
        if label in COHORT_COLORS:
            label = f"{label}: median host (thick)"
        handles.append(handle)
        labels.append(label)
    handles.append(Line2D([], [], color="#57606a", alpha=0.5, linewidth=0.8))
    labels.append("single hosts (thin)")
    ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.22),
        ncols=3,
        fontsize=7.5,
        frameon=False,
    )


def robust_limits(
    values: np.ndarray, keep: np.ndarray, *, quantile: float = 0.98
) -> tuple[float, float, bool, bool]:
    """The y range a person reads: the bulk of the points, everything in ``keep``.

    The range spans the ``quantile`` and ``1 - quantile`` quantiles of ``values`` (the single
    hosts' points and the median lines: with two canary hosts one host's spike moves the
    median too) and every value of ``keep`` (thresholds and the interval, which must stay
    visible).  A side is clipped only where the points reach further beyond
    it than the whole span: one spike of 1,706 then no longer flattens a threshold of 2 and a
    level of 60 against the axis, while a tail of a few points is simply shown.

    Returns
    -------
    (low, high, clipped_low, clipped_high)

    Examples
    --------
    >>> values = np.r_[np.linspace(0, 10, 200), 1706.0]
    >>> low, high, _, clipped = robust_limits(values, np.array([2.0]))
    >>> round(high, 1), clipped
    (10.3, True)
    >>> low, high, *clipped = robust_limits(np.linspace(0, 10, 200), np.array([12.0]))
    >>> round(high, 2), clipped
    (12.59, [False, False])
    """
    finite = values[np.isfinite(values)]
    kept = keep[np.isfinite(keep)]
    if not finite.size and not kept.size:
        return 0.0, 1.0, False, False
    bulk = np.quantile(finite, [1 - quantile, quantile]) if finite.size else kept[:1].repeat(2)
    low = float(min(bulk[0], kept.min(initial=np.inf)))
    high = float(max(bulk[1], kept.max(initial=-np.inf)))
    span = high - low or abs(high) or 1.0
    pad = 0.05 * span
    top = float(finite.max(initial=high))
    bottom = float(finite.min(initial=low))
    clip_high = top > high + span
    clip_low = bottom < low - span
    return (
        low - pad if clip_low else min(low, bottom) - pad,
        high + pad if clip_high else max(high, top) + pad,
        clip_low,
        clip_high,
    )


def _scale_y(ax: Axes, rows: pd.DataFrame, levels: list[np.ndarray], result: MetricResult) -> str:
    """Set robust y limits (:func:`robust_limits`); mark clipped points at the edge they
    left by, and say how many and how far."""
    values = rows["value"].to_numpy(dtype=np.float64)
    keep = np.asarray(_bound_values(result), dtype=np.float64)
    low, high, clip_low, clip_high = robust_limits(np.concatenate([values, *levels]), keep)
    ax.set_ylim(low, high)
    from canarystats.methods.wording import fmt_number

    notes = []
    for clipped, beyond, edge, marker, word in (
        (clip_high, values > high, high, "^", "above"),
        (clip_low, values < low, low, "v", "below"),
    ):
        if not clipped:
            continue
        out = rows[beyond]
        for cohort, side in out.groupby("cohort", sort=True):
            ax.plot(
                _utc_naive(side["timestamp"]),
                np.full(len(side), edge),
                linestyle="none",
                marker=marker,
                markersize=5,
                clip_on=False,
                color=COHORT_COLORS.get(str(cohort), "#57606a"),
                label="_clipped",
            )
        extreme = out["value"].max() if word == "above" else out["value"].min()
        points = "point" if len(out) == 1 else "points"
        notes.append(
            f"{marker.replace('v', '▼').replace('^', '▲')} {len(out)} {points} "
            f"{word} the axis, to {fmt_number(float(extreme))}"
        )
    return "; ".join(notes)


def _band(result: MetricResult) -> tuple[float, float] | None:
    """The shift interval placed on the baseline's median, where the method gives one."""
    base = result.baseline.median
    if _finite(base, result.ci_low, result.ci_high):
        return base + result.ci_low, base + result.ci_high
    return None


def _thresholds(result: MetricResult) -> list[tuple[str, float]]:
    """The metric's absolute threshold bounds, ``("max", value)`` and ``("min", value)``."""
    if result.threshold is None:
        return []
    return [(b, float(v)) for b in ("max", "min") if (v := result.threshold.get(b)) is not None]


def _bound_values(result: MetricResult) -> list[float]:
    """What :func:`_draw_bounds` draws, as y values: the interval band and the thresholds."""
    return [*(_band(result) or ()), *(value for _, value in _thresholds(result))]


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
    """The shift interval as a band above the baseline's median, and the threshold lines,
    each labelled with its value at the right end so a line near zero still reads."""
    from canarystats.methods.wording import fmt_number

    band = _band(result)
    if band is not None:
        ax.axhspan(*band, color=COHORT_COLORS["canary"], alpha=0.12, label="shift interval")
    for bound, value in _thresholds(result):
        ax.axhline(value, color="#57606a", linestyle="--", linewidth=1, label=f"threshold {bound}")
        ax.annotate(
            f"{bound} {fmt_number(value)}",
            (1.0, value),
            xycoords=("axes fraction", "data"),
            xytext=(2, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
            color="#57606a",
            annotation_clip=False,
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
