"""The sentences every report format shows about a sequential judgment.

Where the plan decided (or would have), and for each metric that crossed, its path: the
p-value at each look against the boundary it had to reach.  Nothing here computes a statistic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from canarystats.stats.sequential import P_FLOOR

if TYPE_CHECKING:
    from canarystats.sequential import SequentialJudgment
    from canarystats.sequential.decide import MetricPath

__all__ = ["p_text", "path_line", "sequential_lines", "would_have_line"]


def sequential_lines(seq: SequentialJudgment) -> list[str]:
    """The decision in one sentence, the plan, and one line per metric that crossed.

    Examples
    --------
    >>> sequential_lines(result)[0]  # doctest: +SKIP
    'Sequential: Failed at minute 7 of 30 on background-jobs-failed.'
    """
    plan, d = seq.plan, seq.decision
    lines = [
        f"Sequential: {d.said()}",
        f"plan: a look every {plan.look_every / 60:g} min to {plan.horizon / 60:g} min "
        f"({plan.n_looks} looks), {plan.spending} spending, early pass no sooner than "
        f"{plan.min_duration / 60:g} min at pass_alpha {plan.pass_alpha:g}, counts against a "
        f"rate ratio of {plan.count_tolerance:g}",
    ]
    times = plan.look_times()
    lines += [path_line(d.paths[name], times) for name in d.failed if name in d.paths]
    return lines


def path_line(path: MetricPath, times: Sequence[int]) -> str:
    """A metric's look-by-look path in one line; ``times`` are the plan's looks in seconds
    after the start (``SequentialPlan.look_times()``).

    A gauge that crossed its boundary a look before it failed (it fails at the next look that
    still shows the regression) says where it crossed.

    Examples
    --------
    >>> from canarystats.sequential.decide import MetricPath
    >>> p = MetricPath("cpu", ["gauge", "gauge"], [0.2, 0.001], [0.3, 0.004], [0.3, 0.004],
    ...                [0.016, 0.016], [0.5, 0.6], ["crossed", "failed"])
    >>> path_line(p, (300, 600, 900)).split("; ")
    ['cpu: p at each look 0.2, 0.001 against the boundary 0.016, 0.016', \
'repeated p after the multiplicity adjustment 0.004 at minute 10', \
'it crossed at minute 5 and failed at the next look that still showed it']
    """
    n = len(path.status)
    at = f"at minute {times[n - 1] / 60:g}"
    if path.kind and path.kind[-1] == "count":
        return (
            f"{path.name}: p-value of its rate ratio beyond the tolerance (anytime, and "
            f"confirmed by the hosts) {', '.join(p_text(x) for x in path.p_fail)} over the looks; "
            f"after the multiplicity adjustment {p_text(path.p_adjusted[-1])} {at}"
        )
    line = (
        f"{path.name}: p at each look {', '.join(p_text(x) for x in path.p_look)} against the "
        f"boundary {', '.join(p_text(x) for x in path.boundary)}; repeated p after the "
        f"multiplicity adjustment {p_text(path.p_adjusted[-1])} {at}"
    )
    if "crossed" in path.status and path.status[-1] == "failed":
        first = path.status.index("crossed")
        line += (
            f"; it crossed at minute {times[first] / 60:g} and failed at the next look that "
            "still showed it"
        )
    return line


def would_have_line(seq: SequentialJudgment) -> str:
    """What the config's sequential plan would have decided, as one sentence for a one-shot
    report.

    The one-shot judge keeps its own verdict; this line only says where the plan's looks
    would have stopped (or not yet) on the same data.

    Examples
    --------
    >>> from canarystats.config.sequential import SequentialPlan
    >>> from canarystats.sequential import SequentialJudgment
    >>> from canarystats.sequential.decide import Decision
    >>> d = Decision("fail", 2, 600, False, ("latency",), "", {}, None)
    >>> would_have_line(SequentialJudgment(SequentialPlan(), "2026-01-01T00:00:00Z", d, 2))
    'A sequential plan (look every 5 min to 30 min) would have failed at minute 10 of 30 on \
latency.'
    """
    plan, d = seq.plan, seq.decision
    head = (
        f"A sequential plan (look every {plan.look_every / 60:g} min to "
        f"{plan.horizon / 60:g} min) would "
    )
    minute = f"minute {d.at / 60:g}"
    on = f" on {', '.join(d.failed)}" if d.failed else ""
    if d.verdict in ("fail", "marginal"):
        # The decision stops at the first crossing either way (its reason says "Failed at");
        # the score only says whether that stop is a fail or a marginal.
        grade = " (a marginal score)" if d.verdict == "marginal" else ""
        return f"{head}have failed at {minute} of {plan.horizon / 60:g}{on}{grade}."
    if d.verdict == "pass":
        return f"{head}have passed {'early ' if d.early else ''}at {minute}."
    if d.verdict == "nodata":
        return f"{head}have given no verdict at {minute}."
    if d.look == 0:
        return f"{head}not have looked yet: its first look is at minute {plan.look_every / 60:g}."
    return f"{head}still be undecided at {minute}."


def p_text(x: float) -> str:
    """A p-value in three digits, ``n/a`` where there is none; below the floor of the
    sequential p-values, ``<1e-12`` (an anytime p-value of a count can underflow to 0, which
    no evidence makes true).

    Examples
    --------
    >>> p_text(0.012345), p_text(float("nan")), p_text(0.0)
    ('0.0123', 'n/a', '<1e-12')
    """
    if not math.isfinite(x):
        return "n/a"
    return f"<{P_FLOOR:g}" if x < P_FLOOR else f"{x:.3g}"
