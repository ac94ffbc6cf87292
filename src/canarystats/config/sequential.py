"""The sequential plan of a config: when to look at a canary and with what error control.

``sequential: {horizon: 30m, look_every: 5m, min_duration: 5m}`` makes a canary judged at
looks ``look_every`` apart in data time since its start, up to ``horizon``: it fails at the
first look whose evidence crosses the alpha-spending boundary, passes early once every gating
metric has ruled out its minimum practical effect (never before ``min_duration``), and passes at
the horizon otherwise.  A metric may set its own ``sequential: {min_duration: ...}`` (memory
re-grows for longer after a restart than latency settles).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canarystats.config.checks import (
    Context,
    as_choice,
    as_duration,
    as_mapping,
    as_number,
    check_keys,
    join_key,
)

__all__ = [
    "MAX_LOOKS",
    "METRIC_SEQUENTIAL_KEYS",
    "SEQUENTIAL_KEYS",
    "SPENDINGS",
    "SequentialPlan",
    "metric_min_duration",
    "plan_as_dict",
    "validate_sequential",
]

#: the keys of the ``sequential`` section, and of a metric's own ``sequential``
SEQUENTIAL_KEYS = (
    "horizon",
    "look_every",
    "min_duration",
    "spending",
    "pass_alpha",
    "count_tolerance",
)
METRIC_SEQUENTIAL_KEYS = ("min_duration",)
#: the alpha-spending functions a plan may use (Lan-DeMets); the same as
#: ``canarystats.stats.sequential.SPENDINGS``, kept here so that loading a config (and
#: ``canarystats schema config``) needs neither numpy nor scipy
SPENDINGS = ("pocock", "obrien-fleming")
#: the most looks a plan may have: beyond it the boundaries buy nothing and cost time
MAX_LOOKS = 48


@dataclass(frozen=True)
class SequentialPlan:
    """When to look and how to decide; durations in seconds.

    Attributes
    ----------
    horizon : int
        The longest a canary is watched; its last look is there.
    look_every : int
        Data time between looks; looks are at ``k * look_every`` after the canary start.
    min_duration : int
        No early pass before this much data time (a metric may ask for longer).
    spending : {"obrien-fleming", "pocock"}
        How the judge's ``alpha`` is spent over the looks to fail a canary on a gauge.
        O'Brien-Fleming-type (the default) keeps most of alpha for the last looks, so the false
        alarms over all looks stay near the one-shot judge's even where its p-values are a
        little optimistic on short windows (restarts, spiky percentiles); Pocock-type spends
        evenly and decides sooner on large regressions, at the price of more false alarms on
        such data.  Counts fail through their e-process, which spends nothing.
    pass_alpha : float
        The chance, at most, of an early pass of a canary whose effect is at its minimum
        practical effect or worse (spent over the looks like ``alpha``).  0.1, the usual
        futility error of a group-sequential design: a canary exactly at its minimum effect is
        a regression the judge would fail only about half the time anyway, and a lower value
        keeps healthy canaries waiting for the horizon.
    count_tolerance : float
        The rate ratio (canary over baseline, per unit of exposure) a count metric may reach
        before it counts as a regression; its early pass rules out this ratio.  A count whose
        own ``min_effect.relative`` asks for a larger rise is held to that
        (:meth:`tolerance_of`).
    """

    horizon: int = 1800
    look_every: int = 300
    min_duration: int = 300
    spending: str = "obrien-fleming"
    pass_alpha: float = 0.10
    count_tolerance: float = 1.25

    def tolerance_of(self, relative_min_effect: float) -> float:
        """A count's tolerance: ``count_tolerance``, or the ratio ``1 + relative_min_effect``
        of its own minimum practical effect where that is wider.  The one-shot count test never
        fails a rise below the metric's minimum, so a sequential plan that had to rule out a
        smaller one before passing early would hold a healthy canary for no regression the
        judge would act on.

        Examples
        --------
        >>> plan = SequentialPlan()
        >>> plan.tolerance_of(0.08), plan.tolerance_of(0.5)
        (1.25, 1.5)
        """
        return max(self.count_tolerance, 1.0 + relative_min_effect)

    @property
    def n_looks(self) -> int:
        """Looks in the plan (the last at the horizon)."""
        return len(self.look_times())

    def look_times(self) -> tuple[int, ...]:
        """Seconds after the canary start of each look; the last is the horizon.

        Examples
        --------
        >>> SequentialPlan(horizon=1200, look_every=300).look_times()
        (300, 600, 900, 1200)
        >>> SequentialPlan(horizon=1000, look_every=300).look_times()
        (300, 600, 900, 1000)
        >>> SequentialPlan(horizon=1810, look_every=300).look_times()
        (300, 600, 900, 1200, 1500, 1810)
        """
        times = [k * self.look_every for k in range(1, -(-self.horizon // self.look_every))]
        # A look a few seconds before the horizon adds nothing but a boundary squeezed
        # against the last one: the horizon's look takes its place.
        if times and self.horizon - times[-1] < self.look_every / 4:
            times.pop()
        return (*times, self.horizon)


def validate_sequential(ctx: Context, data: Any, path: str) -> SequentialPlan:
    """The ``sequential`` section as a :class:`SequentialPlan`, or one error line naming a key.

    Examples
    --------
    >>> validate_sequential(Context("c"), {"horizon": "20m", "look_every": "5m"}, "sequential")
    SequentialPlan(horizon=1200, look_every=300, min_duration=300, spending='obrien-fleming', \
pass_alpha=0.1, count_tolerance=1.25)
    """
    data = as_mapping(ctx, data, path)
    check_keys(ctx, data, path, SEQUENTIAL_KEYS)
    d = SequentialPlan()
    horizon = _positive(ctx, data.get("horizon", d.horizon), join_key(path, "horizon"))
    look_every = _positive(ctx, data.get("look_every", d.look_every), join_key(path, "look_every"))
    if look_every > horizon:
        raise ctx.error(
            join_key(path, "look_every"), "is longer than the horizon; look at least once in it"
        )
    if -(-horizon // look_every) > MAX_LOOKS:
        raise ctx.error(
            join_key(path, "look_every"),
            f"gives more than {MAX_LOOKS} looks over the horizon; look less often",
        )
    min_duration = as_duration(
        ctx, data.get("min_duration", d.min_duration), join_key(path, "min_duration")
    )
    if min_duration > horizon:
        raise ctx.error(join_key(path, "min_duration"), "is longer than the horizon")
    spending = as_choice(
        ctx, data.get("spending", d.spending), join_key(path, "spending"), SPENDINGS
    )
    pass_alpha = as_number(
        ctx,
        data.get("pass_alpha", d.pass_alpha),
        join_key(path, "pass_alpha"),
        lo=0.0,
        hi=0.5,
        lo_open=True,
        hi_open=True,
    )
    tolerance = as_number(
        ctx,
        data.get("count_tolerance", d.count_tolerance),
        join_key(path, "count_tolerance"),
        lo=1.0,
        hi=100.0,
        lo_open=True,
    )
    return SequentialPlan(
        horizon=horizon,
        look_every=look_every,
        min_duration=min_duration,
        spending=spending,
        pass_alpha=float(pass_alpha),
        count_tolerance=float(tolerance),
    )


def metric_min_duration(ctx: Context, data: Any, path: str) -> int | None:
    """A metric's own ``sequential: {min_duration: ...}`` in seconds (None: the plan's).

    Examples
    --------
    >>> metric_min_duration(Context("c"), {"min_duration": "10m"}, "metrics[0].sequential")
    600
    """
    if data is None:
        return None
    data = as_mapping(ctx, data, path)
    check_keys(ctx, data, path, METRIC_SEQUENTIAL_KEYS)
    if "min_duration" not in data:
        return None
    return as_duration(ctx, data["min_duration"], join_key(path, "min_duration"))


def _positive(ctx: Context, value: Any, path: str) -> int:
    seconds = as_duration(ctx, value, path)
    if seconds <= 0:
        raise ctx.error(path, "must be longer than 0; give e.g. 5m")
    return seconds


def plan_as_dict(plan: SequentialPlan) -> Mapping[str, Any]:
    """The plan as the JSON report shows it (seconds).

    Examples
    --------
    >>> plan_as_dict(SequentialPlan())["looks"]
    6
    """
    return {
        "horizon_s": plan.horizon,
        "look_every_s": plan.look_every,
        "min_duration_s": plan.min_duration,
        "spending": plan.spending,
        "pass_alpha": plan.pass_alpha,
        "count_tolerance": plan.count_tolerance,
        "looks": plan.n_looks,
    }
