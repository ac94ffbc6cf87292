"""Kayenta's IQR outlier detector, checked against fences computed by hand."""

from __future__ import annotations

import math

import numpy as np

from canarystats.stats.outliers import iqr_outliers, remove_outliers


def test_iqr_widened_fences_by_hand() -> None:
    # [1]*12 + [90]: Q1 = Q3 = 1, IQR = 0, so the plain fence is 1.  The 99th percentile
    # h = 0.99 * 12 = 11.88, 1 + 0.88 * 89 = 79.32) widens the upper fence to 79.32,
    # and 90 is still outside it.
    x = np.array([[1.0] * 12 + [90.0]])
    assert iqr_outliers(x, 3.0).tolist()[0] == [False] * 12 + [True]
    # Sorted [21,21,23,23,24,25,29,50]: Q1 = 22.5, Q3 = 26, IQR = 3.5, plain fences
    # [17.25, 31.25] flag 50; the 99th percentile 29 + 0.93 * 21 = 48.53 still flags it.
    y = np.array([[21.0, 23, 24, 25, 50, 29, 23, 21]])
    assert iqr_outliers(y, 1.5).tolist()[0][4] is True
    # Two 50s among eight values: the 99th percentile is 50 itself (h = 6.93, between 50s),
    # so the widened fence keeps a value the plain fence would cut.
    z = np.array([[1.0, 1, 1, 1, 1, 1, 50, 50]])
    assert iqr_outliers(z, 1.5, reduce_sensitivity=False).tolist()[0][-1] is True
    assert iqr_outliers(z, 1.5).tolist()[0][-1] is False


def test_remove_outliers_only_on_selected_rows() -> None:
    x = np.array([[1.0] * 12 + [90.0], [1.0] * 12 + [90.0]])
    out = remove_outliers(x, np.array([3.0, 3.0]), np.array([True, False]))
    assert math.isnan(out[0, -1]) and out[1, -1] == 90.0
    assert not np.isnan(x).any()  # the input is not modified
