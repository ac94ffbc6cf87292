"""Scoring: group scores, weights, HALF_UP rounding, critical and no-data rules, verdicts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canarystats.labels import COUNTED, Label
from canarystats.score import (
    ScoredMetric,
    group_scores,
    round_half_up,
    score,
    weighted_sum,
)


def m(label: str, *groups: str, critical: bool = False, muted: bool = False) -> ScoredMetric:
    return ScoredMetric(f"{label}-{groups}", label, groups or ("g",), critical, muted)


def test_group_score_counts_pass_high_low_and_nodata_fail_only() -> None:
    results = [m("Pass"), m("High"), m("NodataFailMetric"), m("Nodata"), m("Error")]
    # 1 Pass of 3 counted (Nodata and Error do not count)
    assert group_scores(results) == {"g": pytest.approx(100 / 3)}


def test_metric_counts_in_each_of_its_groups() -> None:
    assert group_scores([m("Pass", "a", "b"), m("High", "b")]) == {"a": 100.0, "b": 50.0}


def test_unweighted_groups_share_the_rest() -> None:
    # a has 40; b and c share (100 - 40) / 2 = 30 each: 0.4*100 + 0.3*50 + 0.3*0 = 55
    results = [m("Pass", "a"), m("Pass", "b"), m("High", "b"), m("Low", "c")]
    assert weighted_sum(group_scores(results), {"a": 40}) == 55.0


def test_group_without_counted_metrics_counts_as_100() -> None:
    # Kayenta's noData group: reported as such, worth its full weight in the total
    results = [m("High", "a"), m("Error", "b")]
    assert group_scores(results) == {"a": 0.0, "b": None}
    assert weighted_sum(group_scores(results), {"a": 50, "b": 50}) == 50.0


@pytest.mark.parametrize(
    ("x", "rounded"),
    [(33.333333, 33.33), (2.675, 2.68), (1.005, 1.01), (66.665, 66.67), (99.994999, 99.99)],
)
def test_round_half_up_on_the_decimal_string(x: float, rounded: float) -> None:
    # Python's round(2.675, 2) is 2.67 (binary value below the half); Kayenta's BigDecimal
    # rounding of the string "2.675" gives 2.68.
    assert round_half_up(x) == rounded


def test_kayenta_score_rules() -> None:
    def total(results: list[ScoredMetric]) -> float:
        return score(results, {}, pass_score=95, marginal_score=75).score

    assert total([m("Pass"), m("High", critical=True)]) == 0.0
    assert total([m("Pass"), m("Nodata")]) == 0.0  # 50% Nodata
    assert total([m("Pass"), m("Pass"), m("Nodata", "n")]) == 100.0
    assert total([]) == 0.0


def test_verdict_thresholds_are_inclusive() -> None:
    results = [m("Pass")] * 3 + [m("High")]
    assert score(results, {}, pass_score=75, marginal_score=50).verdict == "pass"
    assert score(results, {}, pass_score=75.01, marginal_score=75).verdict == "marginal"
    assert score(results, {}, pass_score=90, marginal_score=80).verdict == "fail"
    s = score(results, {}, pass_score=90, marginal_score=80)
    assert s.score == 75.0
    assert s.reason == (
        "Score 75 is below the marginal score 80 (3 of 4 judged metrics passed; failed: High-())."
    )


def test_the_reason_names_the_failed_metrics_and_counts_the_rest() -> None:
    def run(n_failed: int) -> str:
        results = [ScoredMetric(f"f{i}", "High", ("g",)) for i in range(n_failed)]
        results += [ScoredMetric(f"ok{i}", "Pass", ("g",)) for i in range(3)]
        results.append(ScoredMetric("gone", "Nodata", ("g",)))  # not judged: never named
        return score(results, {}, 95, 75).reason

    assert run(0) == "Score 100 is at least the pass score 95 (3 of 3 judged metrics passed)."
    assert run(2).endswith("(3 of 5 judged metrics passed; failed: f0, f1).")
    assert run(3).endswith("(3 of 6 judged metrics passed; failed: f0, f1, f2).")
    assert run(5).endswith("(3 of 8 judged metrics passed; failed: f0, f1, f2 and 2 more).")


def test_critical_failure_fails_with_score_zero() -> None:
    s = score([m("Pass"), m("Low", critical=True)], {}, 95, 75)
    assert (s.score, s.verdict, s.nodata) == (0.0, "fail", False)
    assert "Critical metric" in s.reason


def test_nodata_verdicts() -> None:
    s = score([m("Pass"), m("Nodata")], {}, 95, 75)
    assert (s.score, s.verdict, s.nodata) == (0.0, "nodata", True)
    assert "1 of 2 metrics had no data" in s.reason
    assert score([m("Pass"), m("Pass"), m("Nodata")], {}, 95, 75).verdict == "pass"
    # a critical metric that could not be judged blocks the verdict
    assert score([m("Pass"), m("Pass"), m("Nodata", critical=True)], {}, 95, 75).verdict == "nodata"
    assert score([m("Pass"), m("Pass"), m("Error", critical=True)], {}, 95, 75).verdict == "nodata"
    assert score([], {}, 95, 75).verdict == "nodata"


def test_muted_metrics_are_left_out_of_the_score() -> None:
    s = score([m("Pass"), m("High", muted=True)], {}, 95, 75)
    assert (s.score, s.verdict) == (100.0, "pass")
    # a muted metric never counts as a pass: the group's score is over what was judged
    s = score([m("High"), m("Pass", muted=True)], {}, 95, 75)
    assert (s.score, s.verdict) == (0.0, "fail")
    # muting a critical failure removes it (validation warns about critical + muted)
    assert score([m("Pass"), m("High", critical=True, muted=True)], {}, 95, 75).verdict == "pass"
    # muting a Nodata metric takes it out of the no-data count
    assert score([m("Pass"), m("Nodata", muted=True)], {}, 95, 75).verdict == "pass"


def test_nothing_judged_is_never_a_pass() -> None:
    # the only unmuted metric has no data
    s = score([m("Nodata"), m("Pass", muted=True), m("Pass", muted=True)], {}, 95, 75)
    assert (s.verdict, s.nodata) == ("nodata", True)
    # every metric muted
    s = score([m("Pass", muted=True), m("High", muted=True)], {}, 95, 75)
    assert s.verdict == "nodata" and "muted" in s.reason
    # no metric judged at all (errors are unjudged, below the half-no-data rule)
    s = score([m("Error"), m("Error"), m("Nodata")], {}, 95, 75)
    assert s.verdict == "nodata" and "could be judged" in s.reason


labels = st.sampled_from(list(Label))
metric_results = st.lists(
    st.builds(
        ScoredMetric,
        # names as a config admits them (printable: they appear in one-line reasons)
        name=st.text(max_size=3).filter(str.isprintable),
        classification=labels,
        groups=st.lists(st.sampled_from("abc"), min_size=1, max_size=2, unique=True).map(tuple),
        critical=st.booleans(),
        muted=st.booleans(),
    ),
    min_size=1,
    max_size=8,
)
weights = st.dictionaries(st.sampled_from("abc"), st.floats(0, 33), max_size=3)


@given(metric_results, weights)
def test_muted_metrics_weigh_nothing(results: list[ScoredMetric], w: dict[str, float]) -> None:
    unmuted = [r for r in results if not r.muted]
    full, alone = score(results, w, 95, 75), score(unmuted, w, 95, 75)
    if unmuted:
        assert (full.score, full.verdict) == (alone.score, alone.verdict)
    else:
        assert full.verdict == "nodata"


@given(metric_results, weights)
def test_a_pass_rests_on_a_judged_unmuted_metric(
    results: list[ScoredMetric], w: dict[str, float]
) -> None:
    if score(results, w, 95, 75).verdict in ("pass", "marginal"):
        assert any(not r.muted and r.classification in COUNTED for r in results)


@given(metric_results, weights)
def test_score_is_between_0_and_100(results: list[ScoredMetric], w: dict[str, float]) -> None:
    s = score(results, w, 95, 75)
    assert 0.0 <= s.score <= 100.0
    assert s.verdict in ("pass", "marginal", "fail", "nodata")
    assert "\n" not in s.reason
