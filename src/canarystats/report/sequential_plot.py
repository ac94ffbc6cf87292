"""A picture of one metric's path over a sequential plan's looks.

Drawn with matplotlib (the ``plots`` extra, imported inside the function as in
:mod:`canarystats.plot`) on a log axis of p-values against the minutes of data since the canary
start.  Two comparisons are on it, each against what it is decided on:

- a gauge's one-look p-value (``p at the look``) against the spending boundary, the nominal
  p-value it had to reach at that look on its own (``boundary``); a count has no boundary, its
  anytime p-value is already valid at every look;
- the repeated p-value (``repeated p``), and where the run's multiplicity procedure changed it
  the adjusted one, against the judge's ``alpha``: a metric fails at the first look where the
  adjusted repeated p-value reaches ``alpha``.

A gauge can cross its own boundary and still not fail, when the adjustment over the run's other
metrics keeps it above ``alpha``; drawing both shows why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from canarystats.plot import require_matplotlib

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from canarystats.sequential.decide import MetricPath

__all__ = ["plot_path"]

#: where a p-value of exactly 0 (an underflow) is drawn, so the log axis keeps a sane range
P_FLOOR = 1e-16
#: how each line of a path is drawn, by its label
_STYLES: dict[str, dict[str, Any]] = {
    "p at the look": {"marker": "o", "color": "#d95f02"},
    "boundary": {"marker": "_", "linestyle": "--", "color": "#57606a"},
    "repeated p": {"marker": "s", "linestyle": ":", "color": "#7570b3"},
    "adjusted": {"marker": "^", "linestyle": ":", "color": "#7570b3", "alpha": 0.6},
}


def plot_path(
    path: MetricPath,
    times: Sequence[int],
    *,
    alpha: float,
    decided: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw a metric's p-values look by look against its boundary and ``alpha``.

    Parameters
    ----------
    path : MetricPath
        The metric's entry of ``SequentialJudgment.decision.paths``.
    times : sequence of int
        Every look of the plan in seconds after the canary start
        (``SequentialPlan.look_times()``): look ``k`` is drawn at minute ``times[k - 1] / 60``,
        and the x axis reaches the horizon, so the looks still ahead show.
    alpha : float
        The judge's ``alpha``, which the adjusted repeated p-value is compared with.
    decided : int, optional
        The 1-based look that decided (or the latest while undecided), marked by a vertical
        line labelled ``look k``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure's axes.

    Returns
    -------
    matplotlib.axes.Axes
        Lines labelled ``p at the look``, ``boundary`` (gauges), ``repeated p`` (where it
        differs from the p at the look), ``adjusted`` (where the adjustment changed it),
        ``alpha``, and ``look k`` for the deciding look.

    Raises
    ------
    canarystats.errors.ConfigError
        When matplotlib is not installed.

    Examples
    --------
    >>> from canarystats.sequential.decide import MetricPath
    >>> p = MetricPath("cpu", ["gauge", "gauge"], [0.2, 0.001], [0.3, 0.004], [0.3, 0.004],
    ...                [0.016, 0.016], [0.5, 0.6], ["open", "failed"])
    >>> ax = plot_path(p, (300, 600), alpha=0.05, decided=2)  # doctest: +SKIP
    >>> [line.get_label() for line in ax.get_lines()]  # doctest: +SKIP
    ['p at the look', 'boundary', 'repeated p', 'alpha', 'look 2']
    """
    require_matplotlib()
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(5.0, 2.6), layout="constrained").add_subplot()
    n = len(path.status)
    minute = np.asarray(times[:n], dtype=np.float64) / 60
    for label, values in _lines(path):
        ax.plot(minute, values, label=label, **_STYLES[label])
    ax.axhline(alpha, color="#cf222e", linewidth=0.8, label="alpha")
    if decided is not None and 1 <= decided <= n:
        ax.axvline(
            times[decided - 1] / 60,
            color="#24292f",
            linewidth=0.8,
            linestyle="-.",
            label=f"look {decided}",
        )
    ax.set_yscale("log")
    ax.set_xlim(0, times[-1] / 60 + times[0] / 120)
    ax.set_xlabel("minute")
    ax.set_ylabel("p-value")
    last = path.status[decided - 1] if decided is not None and 1 <= decided <= n else ""
    ax.set_title(f"{path.name}{': ' + last if last else ''}", loc="left", fontsize=10)
    # Outside the axes: p-values run from 1 down to tiny, so no corner is reliably empty.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    ax.tick_params(labelsize=8)
    return ax


def _lines(path: MetricPath) -> list[tuple[str, np.ndarray]]:
    """The lines worth drawing: a line equal to the one before it adds nothing (a count's
    repeated p is its p at the look; one metric's adjusted p is its repeated p)."""
    look, repeated = _drawn(path.p_look), _drawn(path.p_fail)
    adjusted, boundary = _drawn(path.p_adjusted), _drawn(path.boundary)
    out = [("p at the look", look)]
    if not np.isnan(boundary).all():
        out.append(("boundary", boundary))
    if not _same(repeated, look):
        out.append(("repeated p", repeated))
    if not _same(adjusted, repeated):
        out.append(("adjusted", adjusted))
    return out


def _drawn(values: list[float]) -> np.ndarray:
    """The p-values as drawn: NaN where there is none, zero lifted to :data:`P_FLOOR`."""
    out = np.array([v if v is not None and math.isfinite(v) else np.nan for v in values])
    return np.where(out <= 0, P_FLOOR, out)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True))
