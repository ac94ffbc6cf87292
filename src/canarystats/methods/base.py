"""The protocol every judging method follows, and the evidence all methods share.

A judgment runs a method in three steps, each batched over every metric of every run:

1. :meth:`JudgingMethod.samples` -- what the method needs from the tidy frame: the
   ``(row, host, time)`` cubes of :func:`canarystats.align.align_hosts` and each row's pooled
   values after the method's own preprocessing (Kayenta removes outliers, for example); with a
   canary start, the canary window after the warm-up and the pre-deploy window
   (:mod:`canarystats.windows`);
2. :meth:`JudgingMethod.evidence` -- every statistic the method decides on, in a few batched
   kernel calls (never a Python loop over metrics), on top of the pooled descriptions every
   report shows (:func:`pooled_evidence`);
3. :meth:`JudgingMethod.classify` -- a :class:`MetricClassification` per row: the label, one
   sentence saying why, and the numbers behind it.

Scoring, reports and the command line see only classifications, never a method's evidence, so a
new method is one new module implementing this protocol plus one line in
:data:`canarystats.methods.registry.BUILTIN`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from canarystats.labels import Label
from canarystats.stats import Description, cles, describe, mean_ratio
from canarystats.stats.rows import row_values

if TYPE_CHECKING:
    import pandas as pd

    from canarystats.align import HostCubes
    from canarystats.config import JudgeSettings, MetricConfig
    from canarystats.windows import CanaryWindows, StartLike

__all__ = [
    "PERCENTILES",
    "Evidence",
    "JudgingMethod",
    "MetricClassification",
    "Samples",
    "pooled_evidence",
]

#: canary/baseline percentiles every judgment reports
PERCENTILES = (50.0, 95.0, 99.0)


@dataclass(frozen=True)
class Samples:
    """What a method takes from the tidy frame, rows ``run * len(metrics) + metric``.

    ``cubes`` holds every host's points per cohort in the canary window; ``canary`` and
    ``baseline`` are each row's pooled values (NaN-padded 2-D arrays, NaN = no value) after the
    method's preprocessing.  Where the canary start is known, ``windows`` says what was judged
    of each run's time and ``pre`` holds each cohort's pre-deploy points (host slots as in
    ``cubes``), or None without a pre-deploy window.  ``counts`` marks the rows judged as counts
    and ``inferred`` those of them the data, not the config, made counts.
    """

    cubes: HostCubes
    canary: NDArray[np.float64]
    baseline: NDArray[np.float64]
    windows: CanaryWindows | None = None
    pre: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
    counts: NDArray[np.bool_] | None = None
    inferred: NDArray[np.bool_] | None = None


@dataclass(frozen=True)
class Evidence:
    """The pooled descriptions every method reports, arrays over rows.

    A method's own evidence extends this class with what it decides on.  ``canary_points`` and
    ``baseline_points`` count the points the source returned, nulls included.
    """

    canary: NDArray[np.float64]
    baseline: NDArray[np.float64]
    mean_ratio: NDArray[np.float64]
    cles: NDArray[np.float64]
    canary_stats: Description
    baseline_stats: Description
    canary_points: NDArray[np.int64]
    baseline_points: NDArray[np.int64]


def pooled_evidence(samples: Samples) -> dict[str, Any]:
    """The fields of :class:`Evidence` for ``samples``: effect sizes and descriptions, batched.

    Returns a dict so a method's evidence class can be built as
    ``MyEvidence(**pooled_evidence(samples), ...)``.

    Examples
    --------
    >>> from canarystats.align import align_hosts
    >>> from canarystats.config import MetricConfig
    >>> import pandas as pd
    >>> f = pd.DataFrame({"metric": ["m", "m"], "cohort": ["canary", "baseline"],
    ...                   "host": ["a", "b"], "timestamp": pd.to_datetime([0, 0], utc=True),
    ...                   "value": [3.0, 2.0]})
    >>> cubes = align_hosts(f, [MetricConfig("m", "q")])
    >>> ev = Evidence(**pooled_evidence(Samples(cubes, cubes.pooled("canary"),
    ...                                         cubes.pooled("baseline"))))
    >>> ev.mean_ratio.tolist(), ev.canary_points.tolist()
    ([1.5], [1])
    """
    canary, baseline = samples.canary, samples.baseline
    n = canary.shape[0]
    return {
        "canary": canary,
        "baseline": baseline,
        "mean_ratio": row_values(mean_ratio(canary, baseline), n),
        "cles": row_values(cles(canary, baseline), n),
        "canary_stats": describe(canary, PERCENTILES),
        "baseline_stats": describe(baseline, PERCENTILES),
        "canary_points": samples.cubes.canary_points,
        "baseline_points": samples.cubes.baseline_points,
    }


@dataclass(frozen=True)
class MetricClassification:
    """One metric's label, the sentence saying why, and the numbers the decision used.

    ``critical`` is Kayenta's flag: this result fails the whole canary on its own.
    ``estimate``/``ci_low``/``ci_high`` are the shift (canary minus baseline) the method
    reports; ``bound`` is what the shift had to clear (Kayenta's tolerance bound, or the hosts
    method's minimum practical effect in the metric's unit); ``effect`` is the effect size the
    gates compared; ``threshold_value`` is the canary statistic compared with the absolute
    threshold.  ``p_value`` is the p-value the decision used (after any multiplicity
    adjustment), ``p_raw`` the one before it.  ``diagnostics`` is a read-only mapping of what
    the test stood on (units, hosts, autocorrelation), built when first read.  ``units``
    overrides the method's units for this metric (None: the method's).
    """

    label: Label
    critical: bool
    reason: str
    estimate: float
    ci_low: float
    ci_high: float
    bound: float
    effect: float
    threshold_value: float | None
    p_value: float = float("nan")
    p_raw: float = float("nan")
    diagnostics: Mapping[str, Any] | None = None
    units: str | None = None


@runtime_checkable
class JudgingMethod(Protocol):
    """A way of judging every metric of a run, found by its ``name`` in the registry.

    ``units`` says what the method counts as one observation (``"hosts"``, ``"points"``); it is
    reported with every metric.
    """

    name: str
    units: str

    def samples(
        self,
        frame: pd.DataFrame,
        metrics: Sequence[MetricConfig],
        settings: JudgeSettings,
        *,
        run: str | None,
        start: StartLike | Mapping[Any, StartLike] | None,
    ) -> Samples:
        """Lay ``frame`` out for this method (one row per metric of each run).

        ``start`` is the canary start (one for every run, or per run), or None when every point
        is the canary window.
        """
        ...

    def evidence(
        self, metrics: Sequence[MetricConfig], samples: Samples, settings: JudgeSettings
    ) -> Evidence:
        """Every statistic the method decides on, batched over all rows.

        ``metrics`` are the config's metrics (one run's worth); row ``r * len(metrics) + i``
        of ``samples`` is metric ``i`` of run ``r``.
        """
        ...

    def classify(
        self, rows: Sequence[MetricConfig], evidence: Evidence, settings: JudgeSettings
    ) -> list[MetricClassification]:
        """A classification per row; ``rows`` is the config of each row (metrics x runs)."""
        ...
