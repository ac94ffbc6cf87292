"""The sentences every method shares: numbers, signs, plurals, endings, thresholds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from canarystats.config import MetricConfig, Threshold
from canarystats.labels import Label
from canarystats.methods.wording import (
    fmt_number,
    fmt_signed,
    nodata_sentence,
    plural,
    threshold_sentence,
)


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (4.1, "4.1"),
        (3.25, "3.25"),
        (1234.5, "1,234"),
        (-12345.6, "-12,346"),
        (0.000123, "0.000123"),
        (2.5e7, "25M"),
        (999.6e6, "1G"),
        (3.2e-7, "3.2e-07"),
        (-2.0, "-2"),
        (math.nan, "n/a"),
    ],
)
def test_number_format(x: float, text: str) -> None:
    assert fmt_number(x) == text


_SUFFIX = {"M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


@given(st.floats(1e-4, 1e20) | st.floats(-1e20, -1e-4))
def test_numbers_read_back_within_rounding_and_never_in_exponent_notation(x: float) -> None:
    text = fmt_number(x)
    assert "e" not in text and "E" not in text[:-1]
    scale = _SUFFIX.get(text[-1], 1.0)
    value = float(text.rstrip("MGTPE").replace(",", "")) * scale
    # three significant digits, or the whole number below a million
    assert math.isclose(value, x, rel_tol=0.005, abs_tol=0.5 if abs(x) < 1e6 else 0.0)


def test_signs_and_plurals() -> None:
    assert [fmt_signed(x) for x in (2.8, -0.5, 0.0)] == ["+2.8", "-0.5", "0"]
    assert plural(1, "host") == "1 host" and plural(0, "host") == "0 hosts"


@pytest.mark.parametrize(
    ("label", "critical", "must", "ending"),
    [
        (
            Label.NODATA_FAIL,
            False,
            True,
            "must_have_data is set, so the metric counts as failed.",
        ),
        (
            Label.NODATA,
            True,
            False,
            "the metric is critical, so the canary cannot pass without it.",
        ),
        (Label.NODATA, False, False, ", so the metric was not judged."),
    ],
)
def test_a_metric_without_data_says_what_that_means(
    label: Label, critical: bool, must: bool, ending: str
) -> None:
    m = MetricConfig("m", "q", critical=critical, must_have_data=must)
    assert nodata_sentence("No canary data", label, m).endswith(ending)


def test_the_threshold_sentence_names_statistic_bound_and_unit() -> None:
    m = MetricConfig("q", "q", unit="s", threshold=Threshold("p95", min=1.0), critical=True)
    text = threshold_sentence(m, "min", 0.25)
    assert text == (
        "Canary p95 0.25 s is below the absolute minimum 1 s (threshold.min); "
        "the metric is critical, so the canary fails."
    )
    with pytest.raises(ValueError, match="no threshold"):
        threshold_sentence(MetricConfig("x", "q"), "max", 1.0)


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (None, "n/a"),
        (math.nan, "n/a"),
        (math.inf, "infinity"),
        (-math.inf, "-infinity"),
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-2.5, "-2.5"),
        (0.0001, "0.0001"),
        (0.00012345, "0.000123"),
        (0.00009999, "0.0001"),
        (0.5, "0.5"),
        (0.125, "0.125"),
        (9.995, "9.99"),
        (99.95, "100"),
        (100.0, "100"),
        (123.456, "123"),
        (999.4, "999"),
        (999.6, "1,000"),
        (999999.4, "999,999"),
        (1e6, "1M"),
        (123456789.0, "123M"),
        (2.5e21, "2.5e+21"),
        (np.float64(4.25), "4.25"),
        (7, "7"),
    ],
)
def test_fmt_number_by_hand(x: Any, text: str) -> None:
    assert fmt_number(x) == text
