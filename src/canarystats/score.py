"""Group scores, the weighted total and the verdict; no samples, only labels.

The score is Kayenta's WeightedSumScorer: each group scores
``100 * Pass / (Pass + High + Low + NodataFailMetric)`` (Nodata and Error do not count; a group
with nothing counted counts as 100 in the total), the total is the sum of group scores weighted by
the configured percentages (groups without a weight share what is left of 100), rounded half up
to two decimals, and forced to 0 when a critical metric is not Pass or when half or more of the
metrics had no data.

Muted metrics are reported but left out of the score, as in Kayenta: they never count as
passes, and a critical metric that is muted neither gates nor counts.  canarystats differs in
one deliberate way (``docs/judging.md``): a run that could not be judged -- nothing unmuted to
judge, a critical metric without a decision, half or more of the metrics without data, or no
metric judged at all -- gets the verdict ``nodata`` rather than ``fail`` or ``pass``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from canarystats.labels import COUNTED, FAILING, UNJUDGED, Label, Verdict

#: failed metrics the score's reason names before it says how many more there are
NAMED_FAILURES = 3


@dataclass(frozen=True)
class ScoredMetric:
    """What scoring needs of one metric's result."""

    name: str
    classification: str
    groups: tuple[str, ...]
    critical: bool = False
    muted: bool = False


@dataclass(frozen=True)
class Score:
    """The scored run.

    ``group_scores`` maps each group to its score, or None when none of its metrics counted
    (it then counts as 100 in the total, as in Kayenta).  ``nodata`` says the run could not be
    judged; ``reason`` is one sentence explaining the score.
    """

    score: float
    group_scores: dict[str, float | None]
    verdict: Verdict
    reason: str
    nodata: bool


def round_half_up(x: float, places: int = 2) -> float:
    """Round like Kayenta's ``Precision.round`` (BigDecimal of the decimal string, HALF_UP).

    Python's ``round`` rounds half to even on the binary value, which differs.

    Examples
    --------
    >>> round_half_up(2.675), round(2.675, 2)
    (2.68, 2.67)
    """
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(x))).quantize(quantum, rounding=ROUND_HALF_UP))


def group_scores(results: Sequence[ScoredMetric]) -> dict[str, float | None]:
    """Score each group: ``100 * Pass / (Pass + High + Low + NodataFailMetric)``.

    Groups appear in order of first mention; a group with nothing counted scores None.

    Examples
    --------
    >>> group_scores([ScoredMetric("a", "Pass", ("g",)), ScoredMetric("b", "High", ("g",)),
    ...               ScoredMetric("c", "Nodata", ("h",))])
    {'g': 50.0, 'h': None}
    """
    passed: dict[str, int] = {}
    counted: dict[str, int] = {}
    for r in results:
        for g in r.groups:
            passed.setdefault(g, 0)
            counted.setdefault(g, 0)
            if r.classification in COUNTED:
                counted[g] += 1
                passed[g] += r.classification == Label.PASS
    return {g: (100.0 * passed[g] / counted[g] if counted[g] else None) for g in counted}


def weighted_sum(group_score: Mapping[str, float | None], weights: Mapping[str, float]) -> float:
    """Kayenta's weighted sum of group scores, rounded half up to two decimals.

    Groups without a configured weight share ``100 - sum(all configured weights)`` equally; a
    group with nothing counted counts as 100.

    Examples
    --------
    >>> weighted_sum({"g1": 100.0, "g2": 0.0}, {"g1": 75, "g2": 25})
    75.0
    >>> weighted_sum({"g1": 50.0, "g2": None}, {})
    75.0
    """
    configured = sum(float(w) for w in weights.values())
    unweighted = [g for g in group_score if g not in weights]
    share = (100.0 - configured) / len(unweighted) if unweighted else 0.0
    total = 0.0
    for g, s in group_score.items():
        weight = float(weights[g]) if g in weights else share
        total += (100.0 if s is None else s) * weight / 100.0
    return round_half_up(total)


def score(
    results: Sequence[ScoredMetric],
    weights: Mapping[str, float],
    pass_score: float,
    marginal_score: float,
) -> Score:
    """Score a run and give its verdict.

    Parameters
    ----------
    results : sequence of ScoredMetric
        Every metric's result; muted ones are left out of the score.
    weights : mapping
        Group weights in percent.
    pass_score, marginal_score : float
        ``pass`` when the score is at least ``pass_score``, ``marginal`` when at least
        ``marginal_score``, else ``fail``.

    Returns
    -------
    Score
        The verdict is ``fail`` when a critical metric is High/Low (or NodataFailMetric), and
        ``nodata`` when a critical metric has no data or could not be judged, when half or more
        of the (unmuted) metrics have no data, when every metric is muted, or when no metric
        was judged at all: a pass always rests on at least one judged metric.

    Examples
    --------
    >>> s = score([ScoredMetric("a", "Pass", ("g",)), ScoredMetric("b", "High", ("g",))],
    ...           {}, pass_score=95, marginal_score=50)
    >>> s.score, s.verdict
    (50.0, 'marginal')
    """
    scored = [r for r in results if not r.muted]
    groups = group_scores(scored)
    total = len(scored)
    n_nodata = sum(r.classification == Label.NODATA for r in scored)
    critical_fail = [r for r in scored if r.critical and r.classification in FAILING]
    critical_unjudged = [r for r in scored if r.critical and r.classification in UNJUDGED]
    if critical_fail:
        names = ", ".join(r.name for r in critical_fail)
        return Score(
            0.0, groups, Verdict.FAIL, f"Critical metric {names} failed, so the score is 0.", False
        )
    if total == 0:
        why = (
            f"Every metric ({len(results)}) is muted, so nothing was judged and the run has no "
            "verdict."
            if results
            else "There were no metrics to judge."
        )
        return Score(0.0, groups, Verdict.NODATA, why, True)
    if critical_unjudged:
        names = ", ".join(r.name for r in critical_unjudged)
        return Score(
            0.0,
            groups,
            Verdict.NODATA,
            f"Critical metric {names} could not be judged, so the run has no verdict.",
            True,
        )
    if 100.0 * n_nodata / total >= 50:
        return Score(
            0.0,
            groups,
            Verdict.NODATA,
            f"{n_nodata} of {total} metrics had no data (50% or more), so the run has no verdict.",
            True,
        )
    counted = sum(r.classification in COUNTED for r in scored)
    if counted == 0:
        return Score(
            0.0,
            groups,
            Verdict.NODATA,
            f"None of the {total} unmuted metrics could be judged, so the run has no verdict.",
            True,
        )
    value = weighted_sum(groups, weights)
    if value >= pass_score:
        verdict, cmp = Verdict.PASS, f"at least the pass score {pass_score:g}"
    elif value >= marginal_score:
        verdict, cmp = (
            Verdict.MARGINAL,
            (
                f"below the pass score {pass_score:g} but at least the marginal score "
                f"{marginal_score:g}"
            ),
        )
    else:
        verdict, cmp = Verdict.FAIL, f"below the marginal score {marginal_score:g}"
    passed = sum(r.classification == Label.PASS for r in scored)
    failed = [r.name for r in scored if r.classification in FAILING]
    # The metrics that cost the score, named where a reader of a long report sees them first.
    named = ", ".join(failed[:NAMED_FAILURES])
    if len(failed) > NAMED_FAILURES:
        named += f" and {len(failed) - NAMED_FAILURES} more"
    failures = f"; failed: {named}" if failed else ""
    reason = f"Score {value:g} is {cmp} ({passed} of {counted} judged metrics passed{failures})."
    return Score(value, groups, verdict, reason, False)
