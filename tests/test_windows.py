"""Cutting a frame at the canary start: the pre-deploy window, the warm-up, each run's start."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import T0, points_frame

from canarystats.config import JudgeSettings, MetricConfig
from canarystats.errors import DataError
from canarystats.frame import validate_frame
from canarystats.windows import CanaryWindows, lay_out, run_starts, split, warmups

START = T0 + pd.Timedelta(minutes=10)


def _frame() -> pd.DataFrame:
    rows = [(m, "canary", "a", t, float(t)) for m in ("cpu", "errors") for t in range(20)]
    return validate_frame(points_frame(rows))


def test_the_pre_window_ends_at_the_start_and_the_warm_up_follows_it() -> None:
    metrics = [MetricConfig("cpu", "q", warmup=120), MetricConfig("errors", "q", kind="count")]
    windows = CanaryWindows(
        starts=(START,), pre_window=300, warmup=(120, 300), kept_warmup=np.array([False, True])
    )
    pre, canary = split(_frame(), metrics, windows, run=None, runs=())
    minutes = {
        (m, w): sorted(int(v) for v in f[f["metric"] == m]["value"])
        for m in ("cpu", "errors")
        for w, f in (("pre", pre), ("canary", canary))
    }
    # pre: the 5 minutes before the start; cpu from start + 2 min, errors through the warm-up
    assert minutes[("cpu", "pre")] == [5, 6, 7, 8, 9] == minutes[("errors", "pre")]
    assert minutes[("cpu", "canary")] == list(range(12, 20))
    assert minutes[("errors", "canary")] == list(range(10, 20))


def test_without_a_pre_window_limit_every_point_before_the_start_is_the_past() -> None:
    metrics = [MetricConfig("cpu", "q")]
    windows = CanaryWindows((START,), 0, (0,), np.array([False]))
    pre, canary = split(_frame(), metrics, windows, run=None, runs=())
    assert len(pre[pre["metric"] == "cpu"]) == 10 and len(canary) == 10


def test_warmups_come_from_the_metric_else_the_judge() -> None:
    ms = [MetricConfig("a", "q", warmup=0), MetricConfig("b", "q")]
    assert warmups(ms, JudgeSettings(warmup=60)) == (0, 60)


def test_starts_are_utc_per_run_and_every_run_needs_one() -> None:
    naive = run_starts("2026-01-01T10:00", ["r1"])
    assert str(naive[0]) == "2026-01-01 10:00:00+00:00"
    assert run_starts({"a": "2026-01-01T10:00+02:00", "b": START}, ["a", "b"])[0].hour == 8
    with pytest.raises(DataError, match="no canary start for run 'b'"):
        run_starts({"a": START}, ["a", "b"])
    with pytest.raises(DataError, match="not a time"):
        run_starts("yesterday at noon", ["a"])


def test_a_run_without_points_before_its_start_has_no_past() -> None:
    frame = points_frame([("cpu", "canary", "a", t, 1.0) for t in range(10, 20)])
    layout = lay_out(frame, [MetricConfig("cpu", "q")], JudgeSettings(), run=None, start=START)
    assert layout.pre is None and layout.windows is not None
    assert layout.windows.starts == (START,)
