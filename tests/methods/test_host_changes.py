"""The hosts method with a canary start: which unit decides each metric, what the warm-up leaves
out, which metrics are judged as counts, and that a host's persistent offset never matters once
the host has a past.

Every frame is made here, minute by minute, so each expectation follows from its construction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from conftest import T0, make_config, series_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from canarystats import judge
from canarystats.labels import Label
from canarystats.report import render
from canarystats.results import MetricResult

START = T0 + pd.Timedelta(minutes=30)  # 30 minutes before the deploy, 30 after
LEVELS = {"c1": 100.0, "b1": 130.0, "b2": 80.0, "b3": 110.0, "b4": 95.0, "b5": 120.0}


def _latency(
    rng: np.random.Generator,
    *,
    slower: float = 1.0,
    spike_minutes: int = 0,
    levels: dict[str, float] = LEVELS,
    minutes: int = 60,
) -> dict[tuple[str, str], np.ndarray]:
    """Hosts at their own level (x2% noise); the canary ``slower`` from the start on, and ``x3``
    in the first ``spike_minutes`` after it (a restart's cold caches)."""
    out = {}
    for host, level in levels.items():
        cohort = "canary" if host.startswith("c") else "baseline"
        values = level * np.exp(rng.normal(0, 0.02, minutes))
        if cohort == "canary":
            values[30:] *= slower
            values[30 : 30 + spike_minutes] *= 3.0
        out[(cohort, host)] = values
    return out


LATENCY = {"name": "latency", "direction": "increase", "unit": "ms"}


def test_a_canary_slower_than_its_own_past_fails_though_it_is_within_the_hosts_spread() -> None:
    frame = series_frame({"latency": _latency(np.random.default_rng(1), slower=1.25)})
    config = make_config(LATENCY)
    with_past = judge(config, frame, start=START).metric("latency")
    assert (with_past.classification, with_past.units) == (Label.HIGH, "host changes")
    assert with_past.reason.startswith("Canary host c1 changed +2")
    assert "from its own 30 min before the deploy" in with_past.reason
    # Without the start every point is a window level: the 25% is within the hosts' spread.
    levels = judge(config, frame[frame["timestamp"] >= START]).metric("latency")
    assert (levels.classification, levels.units) == (Label.PASS, "hosts")


def test_a_canary_without_a_past_falls_back_to_window_levels() -> None:
    series = _latency(np.random.default_rng(2), slower=1.25)
    frame = series_frame({"latency": series})
    # c1 is a new instance: no points before the start
    frame = frame[~((frame["host"] == "c1") & (frame["timestamp"] < START))]
    result = judge(make_config(LATENCY), frame, start=START).metric("latency")
    assert result.units == "hosts"
    assert result.diagnostics["warmup_s"] == 300 and "changes" not in result.diagnostics


def test_the_report_says_when_no_canary_host_had_a_past() -> None:
    from canarystats.report.context import canary_window_line

    frame = series_frame({"latency": _latency(np.random.default_rng(2))})
    config = make_config(LATENCY)
    with_past = canary_window_line(judge(config, frame, start=START))
    assert "1 of 1 metrics judged as each host's change" in with_past
    assert "window levels" not in with_past
    # A start before the data's first point (or data fetched from the start on): no past.
    for start in (T0 - pd.Timedelta(minutes=10), START):
        text = canary_window_line(judge(config, frame[frame["timestamp"] >= start], start=start))
        assert text.endswith(
            "too few hosts had their own 30 min before it in the data (every canary host and 3 "
            "baseline hosts need it), so the gauges were judged on window levels, as new instances"
        )
    # Without a pre-window asked for (new instances), the unit is named all the same.
    settings = {"judge": {"pre_window": 0}}
    alone = canary_window_line(judge(make_config(LATENCY, **settings), frame, start=START))
    assert alone.endswith(
        "; no pre-deploy window (pre_window 0): the gauges were judged on window levels"
    )
    assert "host's change" not in alone and "too few hosts" not in alone


def test_the_warm_up_is_left_out_of_gauges() -> None:
    # Cold caches for 18 of the 30 minutes: longer than a median can shrug off.
    frame = series_frame({"latency": _latency(np.random.default_rng(3), spike_minutes=18)})
    config = make_config({**LATENCY, "warmup": "20m"})
    result = judge(config, frame, start=START).metric("latency")
    assert result.classification == Label.PASS and result.diagnostics["warmup_s"] == 1200
    # Judged from the start without a warm-up, the cold caches read as a regression.
    no_warmup = make_config({**LATENCY, "warmup": 0})
    assert judge(no_warmup, frame, start=START).metric("latency").classification == Label.HIGH


def _errors(
    first_minute: int | None, minutes: int = 10, per_minute: float = 4.0
) -> dict[tuple[str, str], np.ndarray]:
    """Zero errors everywhere but, on the canary, ``per_minute`` a minute for ``minutes`` from a
    minute after the start (steady enough to weigh as many errors, not as one burst)."""
    out = {}
    for host in LEVELS:
        cohort = "canary" if host.startswith("c") else "baseline"
        values = np.zeros(60)
        if cohort == "canary" and first_minute is not None:
            values[30 + first_minute : 30 + first_minute + minutes] = per_minute
        out[(cohort, host)] = values
    return out


def test_errors_are_judged_through_the_warm_up_a_restart_does_not_explain_them() -> None:
    rng = np.random.default_rng(4)
    # Errors only within the warm-up's 5 minutes: left out like a gauge's, they would pass.
    frame = series_frame(
        {"errors": _errors(0, minutes=5, per_minute=8.0), "latency": _latency(rng)}
    )
    config = make_config({"name": "errors", "kind": "count", "direction": "increase"}, LATENCY)
    result = judge(config, frame, start=START).metric("errors")
    assert result.classification == Label.HIGH
    assert result.diagnostics["warmup_s"] == 0
    assert judge(config, frame, start=START).metric("latency").diagnostics["warmup_s"] == 300


def test_one_burst_of_errors_on_the_canary_weighs_as_few_errors_and_the_report_says_so() -> None:
    rng = np.random.default_rng(4)
    config = make_config({"name": "errors", "kind": "count", "direction": "increase"}, LATENCY)
    # 40 errors in a single minute (a retry storm) against quiet baseline hosts.
    burst = series_frame(
        {"errors": _errors(8, minutes=1, per_minute=40.0), "latency": _latency(rng)}
    )
    result = judge(config, burst, start=START).metric("errors")
    assert result.classification == Label.PASS
    assert "uneven over time, weighed as" in result.reason
    assert result.diagnostics["counts"]["burstiness"] > 10
    weight = result.diagnostics["counts"]["burstiness"]
    # The same 40 errors spread over ten minutes weigh as many more: a regression.
    spread = series_frame({"errors": _errors(8), "latency": _latency(rng)})
    result = judge(config, spread, start=START).metric("errors")
    assert result.classification == Label.HIGH
    assert result.diagnostics["counts"]["burstiness"] < weight / 4


def test_an_undeclared_sparse_integer_metric_is_judged_as_a_count_and_says_so() -> None:
    rng = np.random.default_rng(5)
    frame = series_frame({"errors": _errors(12), "latency": _latency(rng)})
    config = make_config({"name": "errors", "direction": "increase"}, LATENCY)
    assert config.metric("errors").kind == "auto"
    j = judge(config, frame, start=START)
    errors, latency = j.metric("errors"), j.metric("latency")
    assert errors.diagnostics["kind"] == "count" and errors.diagnostics["kind_inferred"]
    assert errors.classification == Label.HIGH and "events over" in errors.reason
    assert latency.diagnostics["kind"] == "gauge" and not latency.diagnostics["kind_inferred"]


def test_a_canary_that_reports_only_nulls_since_the_start_gets_no_verdict() -> None:
    rng = np.random.default_rng(7)
    latency = _latency(rng)
    errors = _errors(None)
    # The canary's agent returned rows, but every point since the start is null.
    latency[("canary", "c1")][30:] = np.nan
    errors[("canary", "c1")][30:] = np.nan
    frame = series_frame({"errors": errors, "latency": latency})
    config = make_config({"name": "errors", "kind": "count", "direction": "increase"}, LATENCY)
    for data in (frame, frame[frame["timestamp"] >= START]):  # with a past, and without
        j = judge(config, data, start=START)
        assert str(j.verdict) == "nodata"
        # Its quiet error buckets are not read as zero errors of a healthy host.
        assert j.metric("errors").classification == Label.NODATA


def test_judge_runs_takes_each_runs_start() -> None:
    from canarystats import judge_runs

    rng = np.random.default_rng(6)
    late = series_frame({"latency": _latency(rng, slower=1.3)}, start=T0 + pd.Timedelta(hours=2))
    runs = pd.concat(
        [
            series_frame({"latency": _latency(rng)}).assign(deploy="good"),
            late.assign(deploy="bad"),
        ]
    )
    starts = {"good": START, "bad": START + pd.Timedelta(hours=2)}
    out = judge_runs(make_config(LATENCY), runs, run="deploy", start=starts)
    assert {k: str(j.verdict) for k, j in out.items()} == {"bad": "fail", "good": "pass"}
    alone = judge(make_config(LATENCY), late, start=starts["bad"])
    assert out["bad"].metric("latency").reason == alone.metric("latency").reason
    with pytest.raises(Exception, match="no canary start for run 'good'"):
        judge_runs(make_config(LATENCY), runs, run="deploy", start={"bad": START})


@settings(max_examples=25, deadline=None)
@given(
    factors=st.lists(st.floats(0.3, 3.0), min_size=6, max_size=6),
    slower=st.sampled_from([1.0, 1.1, 1.3]),
    seed=st.integers(0, 10_000),
)
def test_a_persistent_host_offset_never_changes_a_verdict_when_hosts_have_a_past(
    factors: list[float], slower: float, seed: int
) -> None:
    _assert_offsets_do_not_matter(
        LATENCY, _latency(np.random.default_rng(seed), slower=slower), factors
    )


def _assert_offsets_do_not_matter(
    metric: dict[str, str],
    series: dict[tuple[str, str], np.ndarray],
    factors: Sequence[float],
) -> None:
    """Judged with a past, the series and the series with each host times its factor agree."""
    name = metric["name"]
    scaled = {key: values * f for (key, values), f in zip(series.items(), factors, strict=True)}
    config = make_config(metric)
    a = judge(config, series_frame({name: series}), start=START)
    b = judge(config, series_frame({name: scaled}), start=START)
    assert a.metric(name).units == b.metric(name).units == "host changes"
    assert a.verdict == b.verdict
    assert a.metric(name).classification == b.metric(name).classification
    assert a.metric(name).p_value == pytest.approx(b.metric(name).p_value, rel=1e-6)


def test_a_canary_drifting_before_the_deploy_and_a_baseline_host_moving_at_it_are_reported() -> (
    None
):
    from canarystats.report import render

    series = _latency(np.random.default_rng(8))
    drifting = series[("canary", "c1")]
    drifting[15:30] *= 1.4  # the second half of its pre-deploy window, before any deploy
    series[("baseline", "b3")][30:] *= 1.5  # a baseline host that changed at the start too
    frame = series_frame({"latency": series})
    result = judge(make_config(LATENCY), frame, start=START).metric("latency")
    d = result.diagnostics
    assert d["canary_drifted_before"] and d["pre_window_drift_p"] < 0.01
    assert d["changes_are_ratios"] and d["pre_window_drift"] == pytest.approx(0.4, abs=0.03)
    assert d["baseline_moved_at_start"] == ["b3"]
    text = render(judge(make_config(LATENCY), frame, start=START), "text")
    assert "already drifting before the deploy (+4" in text  # +40% or so
    assert "% within its own past)" in text and "b3 changed at the start too" in text
    # Surely but slightly (4 %, below the minimum effect of 8 %): no weak yardstick.
    slight = _latency(np.random.default_rng(8))
    slight[("canary", "c1")][15:30] *= 1.04
    small = judge(make_config(LATENCY), series_frame({"latency": slight}), start=START)
    d = small.metric("latency").diagnostics
    assert d["pre_window_drift_p"] < 0.01 and 0.03 < d["pre_window_drift"] < 0.05
    assert not d["canary_drifted_before"]
    # a quiet past: nothing to report
    quiet = (
        judge(
            make_config(LATENCY),
            series_frame({"latency": _latency(np.random.default_rng(8))}),
            start=START,
        )
        .metric("latency")
        .diagnostics
    )
    assert not quiet["canary_drifted_before"] and quiet["baseline_moved_at_start"] == []


#: a queue depth in whole numbers: every host's median is 6 (the canary's 7), while the means
#: (6.0-6.4) show the canary within the baseline hosts' spread
DEPTHS = {
    ("canary", "c1"): [4, 6, 7, 7, 8],
    ("baseline", "b1"): [4, 6, 6, 6, 8],
    ("baseline", "b2"): [5, 6, 6, 7, 8],
    ("baseline", "b3"): [3, 6, 6, 7, 9],
    ("baseline", "b4"): [5, 5, 6, 7, 9],
}
DEPTH = {"name": "queue.depth", "direction": "increase", "kind": "gauge"}


def test_coarse_medians_give_way_to_the_mean_in_window_levels() -> None:
    frame = series_frame({"queue.depth": {key: pattern * 6 for key, pattern in DEPTHS.items()}})
    result = judge(make_config(DEPTH), frame).metric("queue.depth")
    # Medians would put the canary 1 above a baseline spread of 0: p = 0, a +16.7% "regression".
    assert result.classification == Label.PASS, result.reason
    assert "averages 6.4 against baseline hosts 6.25" in result.reason


def test_coarse_medians_give_way_to_the_mean_in_host_changes() -> None:
    # Every host held the baseline's first pattern before the start.
    series = {key: [4, 6, 6, 6, 8] * 6 + pattern * 6 for key, pattern in DEPTHS.items()}
    result = judge(make_config(DEPTH), series_frame({"queue.depth": series}), start=START)
    depth = result.metric("queue.depth")
    assert depth.units == "host changes"
    assert depth.classification == Label.PASS, depth.reason


@settings(max_examples=25, deadline=None)
@given(
    factors=st.lists(st.integers(1, 5), min_size=5, max_size=5),
    busier=st.sampled_from([0, 1, 3]),
    seed=st.integers(0, 10_000),
)
def test_a_persistent_host_offset_never_changes_a_verdict_on_whole_numbers_either(
    factors: list[int], busier: int, seed: int
) -> None:
    # Positive queue depths whose medians tie, and hosts that hold a whole multiple of the
    # work (whole numbers stay whole): whether the mean stands in for the median is decided on
    # the hosts' changes, which a host's factor leaves alone.
    rng = np.random.default_rng(seed)
    series = {}
    for (cohort, host), _ in DEPTHS.items():
        values = 1.0 + rng.poisson(6.0, 60)
        if cohort == "canary":
            values[30:] += busier
        series[(cohort, host)] = values
    _assert_offsets_do_not_matter(DEPTH, series, factors)


def test_a_shift_far_below_its_interval_reads_zero_in_the_report() -> None:
    from canarystats.report.context import shift_text

    # Quantised percentiles: every host's level drops by the same quantum, one baseline host
    # stays put and one drops two (0.98 squared, so the baseline's mean move is the canary's).
    # The shift left is digits far below its interval.
    levels = {"c1": 101.3, "c2": 87.1, "b1": 130.7, "b2": 80.9, "b3": 110.3, "b4": 95.9}
    moves = {"c1": 0.98, "c2": 0.98, "b1": 0.98, "b2": 0.98, "b3": 1.0, "b4": 0.9604}

    def judged(moves: dict[str, float]) -> MetricResult:
        series = {}
        for host, level in levels.items():
            values = np.full(60, level)
            values[30:] *= moves[host]
            series[("canary" if host.startswith("c") else "baseline", host)] = values
        frame = series_frame({"latency": series})
        return judge(make_config(LATENCY), frame, start=START).metric("latency")

    m = judged(moves)
    assert m.estimate != 0 and abs(m.estimate) < 1e-3 * (m.ci_high - m.ci_low)
    assert shift_text(m).startswith("0 (98% CI -")
    assert "e-0" not in m.reason
    # A shift a hair below 0 reads 0 too, and is not explained as a decrease this metric does
    # not judge (only increases are): it is below the minimum effect.
    m = judged({**moves, "c2": 0.97995})
    assert m.estimate < 0 and "(0%, p=1)" in m.reason
    assert m.reason.endswith("the change is below the minimum effect 8%, so it passes."), m.reason


def test_a_past_shorter_than_the_pre_window_is_named_as_the_data_holds_it() -> None:
    from canarystats.report.context import canary_window_line

    frame = series_frame({"latency": _latency(np.random.default_rng(4), slower=1.25)})
    # Fetched with a 20-minute pre-window, judged with the default of 30.
    frame = frame[frame["timestamp"] >= START - pd.Timedelta(minutes=20)]
    j = judge(make_config(LATENCY), frame, start=START)
    m = j.metric("latency")
    assert m.units == "host changes" and m.diagnostics["pre_window_s"] == 1200
    assert "from its own 20 min before the deploy" in m.reason
    assert "change from its own 20 min before the deploy" in canary_window_line(j)
    window = json.loads(render(j, "json", frame=frame))["window"]
    assert window["pre_window"] == {"start": "2026-01-01T00:10:00Z", "end": "2026-01-01T00:30:00Z"}
    # The pre-window asked for bounds the past, however much the data holds.
    longer = judge(make_config(LATENCY, judge={"pre_window": "10m"}), frame, start=START)
    assert longer.metric("latency").diagnostics["pre_window_s"] == 600


def test_a_window_within_the_warm_up_says_its_data_was_all_warm_up() -> None:
    # Data to 4 minutes after the start: every canary-window point is in the 5-minute warm-up.
    frame = series_frame({"latency": _latency(np.random.default_rng(5), minutes=34)})
    m = judge(make_config(LATENCY), frame, start=START).metric("latency")
    assert m.classification == Label.NODATA
    assert m.reason.startswith(
        "Inconclusive: no data in the window after the warm-up (the first 5 min after the "
        "start) for either cohort"
    )
    # Without a warm-up the same minutes are judged.
    no_warmup = judge(make_config({**LATENCY, "warmup": 0}), frame, start=START)
    assert no_warmup.metric("latency").classification == Label.PASS
