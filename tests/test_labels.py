"""Labels and verdicts: one definition of failing, the same strings in reports as before enums."""

from __future__ import annotations

import json

from canarystats.labels import (
    COUNTED,
    FAILING,
    LABEL_COLOURS,
    UNJUDGED,
    VERDICT_COLOURS,
    Label,
    Verdict,
    outcome,
    report_rank,
)


def test_labels_are_kayentas_strings_and_serialise_as_them() -> None:
    assert [str(x) for x in Label] == ["Pass", "High", "Low", "Nodata", "NodataFailMetric", "Error"]
    assert json.dumps({"c": Label.NODATA_FAIL, "v": Verdict.MARGINAL}) == (
        '{"c": "NodataFailMetric", "v": "marginal"}'
    )
    assert Label("High") is Label.HIGH and Verdict("nodata") is Verdict.NODATA


def test_every_label_is_failing_unjudged_or_passing_and_nothing_is_two() -> None:
    assert FAILING | UNJUDGED | {Label.PASS} == set(Label)
    assert not FAILING & UNJUDGED and Label.PASS not in FAILING | UNJUDGED
    # Kayenta's scorer counts passes and failures, never the unjudged
    assert {Label.PASS, Label.HIGH, Label.LOW, Label.NODATA_FAIL} == COUNTED
    assert {outcome(x) for x in FAILING} == {"fail"} and outcome(Label.ERROR) == "unjudged"


def test_reports_put_failing_first_and_passing_last() -> None:
    order = sorted(Label, key=report_rank)
    assert set(order[:3]) == FAILING and order[-1] == Label.PASS


def test_every_label_and_verdict_has_a_colour_and_failing_ones_share_it() -> None:
    assert set(LABEL_COLOURS) == set(Label) and set(VERDICT_COLOURS) == set(Verdict)
    assert len({LABEL_COLOURS[x] for x in FAILING}) == 1
    assert LABEL_COLOURS[Label.HIGH] == VERDICT_COLOURS[Verdict.FAIL]
    assert LABEL_COLOURS[Label.PASS] == VERDICT_COLOURS[Verdict.PASS] != LABEL_COLOURS[Label.HIGH]
