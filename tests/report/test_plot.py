"""Plots of a judgment and of a backtest (canarystats.plot): they render the expected artists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from canarystats import judge, load_config
from canarystats.errors import DataError

pytest.importorskip("matplotlib")

from canarystats.plot import figure_to_svg, plot_backtest, plot_judgment, plot_metric

CONFIG = load_config(
    {
        "name": "svc",
        "judge": {"method": "kayenta"},
        "metrics": [
            {"name": "latency", "query": "avg:lat{$scope}", "unit": "s", "direction": "increase"},
            {
                "name": "cpu",
                "query": "avg:cpu{$scope}",
                "threshold": {"statistic": "mean", "max": 90},
            },
        ],
    }
)
HOSTS = {"canary": ["c1", "c2"], "baseline": ["b1", "b2", "b3"]}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    stamps = pd.date_range("2026-03-10T15:00:00Z", periods=15, freq="60s")
    rows = []
    for cohort, hosts in HOSTS.items():
        for host in hosts:
            lat = (0.3 if cohort == "canary" else 0.1) + rng.normal(0, 0.01, len(stamps))
            cpu = 40 + rng.normal(0, 2, len(stamps))
            for ts, a, b in zip(stamps, lat, cpu, strict=True):
                rows += [("latency", cohort, host, ts, a), ("cpu", cohort, host, ts, b)]
    return pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])


@pytest.fixture(scope="module")
def judgment(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    j = judge(CONFIG, frame)
    assert j.metric("latency").classification == "High"
    return j


def test_plot_metric_draws_hosts_medians_interval_and_verdict(frame, judgment) -> None:
    result = judgment.metric("latency")
    ax = plot_metric(frame, result)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "canary" in labels and "baseline" in labels
    host_lines = [label for label in labels if label.startswith("_host")]
    assert len(host_lines) == len(HOSTS["canary"]) + len(HOSTS["baseline"])
    # The canary median line is the median across hosts of each bucket.
    canary = next(line for line in ax.get_lines() if line.get_label() == "canary")
    rows = frame[(frame["metric"] == "latency") & (frame["cohort"] == "canary")]
    expected = rows.groupby("timestamp")["value"].median().to_numpy()
    np.testing.assert_allclose(np.asarray(canary.get_ydata(), dtype=float), expected)
    band = next(p for p in ax.patches if p.get_label() == "shift interval")
    # axhspan spans the axes' width in axes units and the band's height in data units.
    transform = band.get_transform() - ax.transData
    data_y = transform.transform(band.get_path().vertices)[:, 1]
    base = result.baseline.median
    assert min(data_y) == pytest.approx(base + result.ci_low)
    assert max(data_y) == pytest.approx(base + result.ci_high)
    assert "High" in ax.get_title(loc="left")
    assert ax.get_ylabel() == "value (s)"


def test_plot_metric_draws_the_threshold(frame, judgment) -> None:
    ax = plot_metric(frame, judgment.metric("cpu"))
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["threshold max"].get_ydata()) == [90, 90]
    assert "Pass" in ax.get_title(loc="left")


def test_plot_judgment_has_one_axes_per_metric_failing_first(frame, judgment) -> None:
    fig = plot_judgment(judgment, frame, ncols=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(judgment.metrics)
    assert visible[0].get_title(loc="left").startswith("latency")
    assert "FAIL" in fig.get_suptitle()


def test_figure_to_svg_is_inline_and_deterministic(frame, judgment) -> None:
    first = figure_to_svg(plot_metric(frame, judgment.metric("cpu")).figure)
    second = figure_to_svg(plot_metric(frame, judgment.metric("cpu")).figure)
    assert first.startswith("<svg") and first.rstrip().endswith("</svg>")
    assert first == second


def test_plot_backtest_draws_the_trade_off_in_parameter_order() -> None:
    df = pd.DataFrame(
        {
            "confidence": [0.99, 0.9, 0.95],
            "false_alarm_rate": [0.01, 0.10, 0.04],
            "catch_rate": [0.6, 1.0, 0.9],
        }
    )
    ax = plot_backtest(df)
    (line,) = [line for line in ax.get_lines() if line.get_label() == "confidence"]
    assert list(line.get_xdata()) == [0.10, 0.04, 0.01]
    assert list(line.get_ydata()) == [1.0, 0.9, 0.6]
    assert sorted(t.get_text() for t in ax.texts) == ["0.9", "0.95", "0.99"]


@pytest.mark.parametrize(
    ("df", "match"),
    [
        (pd.DataFrame({"x": [1], "catch_rate": [0.5]}), "false_alarm_rate"),
        (pd.DataFrame({"x": [1], "false_alarm_rate": [5.0], "catch_rate": [0.5]}), r"\[0, 1\]"),
        (pd.DataFrame({"false_alarm_rate": [0.1], "catch_rate": [0.5]}), "parameter"),
    ],
)
def test_plot_backtest_rejects_frames_it_cannot_read(df: pd.DataFrame, match: str) -> None:
    with pytest.raises(DataError, match=match):
        plot_backtest(df)


def test_the_canary_start_is_marked_and_the_warm_up_shaded() -> None:
    from conftest import T0, make_config, series_frame

    rng = np.random.default_rng(3)
    hosts = {("canary", "c1"): 100 + rng.normal(0, 1, 40)}
    hosts.update({("baseline", f"b{i}"): 100 + rng.normal(0, 1, 40) for i in range(4)})
    frame = series_frame({"latency": hosts})
    start = T0 + pd.Timedelta(minutes=20)
    j = judge(make_config({"name": "latency"}), frame, start=start)
    ax = plot_metric(frame, j.metric("latency"), start=j.canary_start)
    labels = ax.get_legend_handles_labels()[1]
    assert "canary start" in labels and "warm-up (not judged)" in labels
    # no start: neither is drawn
    ax = plot_metric(frame, judge(make_config({"name": "latency"}), frame).metric("latency"))
    assert "canary start" not in ax.get_legend_handles_labels()[1]


def _spiky_frame() -> pd.DataFrame:
    """Four baseline hosts and two canary hosts near 1 to 3, one canary point at 1,706."""
    from conftest import series_frame

    rng = np.random.default_rng(11)
    hosts = {("baseline", f"b{i}"): 1 + rng.uniform(0, 1, 30) for i in range(4)}
    hosts[("canary", "c1")] = 2 + rng.uniform(0, 1, 30)
    spiky = 2 + rng.uniform(0, 1, 30)
    spiky[17] = 1706.0
    hosts[("canary", "c2")] = spiky
    return series_frame({"jobs": hosts})


def test_a_single_spike_is_clipped_so_a_threshold_of_2_stays_readable() -> None:
    from conftest import make_config

    frame = _spiky_frame()
    cfg = make_config({"name": "jobs", "threshold": {"statistic": "median", "max": 2}})
    ax = plot_metric(frame, judge(cfg, frame).metric("jobs"))
    low, high = ax.get_ylim()
    assert high < 10  # not stretched to the spike
    assert (2 - low) / (high - low) > 0.2  # the threshold is well clear of the axis' foot
    assert "1 point above the axis, to 1,706" in ax.get_title(loc="right")
    markers = [line for line in ax.get_lines() if line.get_label() == "_clipped"]
    assert len(markers) == 1 and list(markers[0].get_ydata()) == [high]


def test_robust_limits_keep_thresholds_and_show_a_plain_tail_whole() -> None:
    from canarystats.plot import robust_limits

    values = np.linspace(0.0, 10.0, 101)
    _, high, clip_low, clip_high = robust_limits(values, np.array([50.0]))
    assert high >= 50 and not clip_high and not clip_low  # a threshold far above is kept
    tail = np.r_[values, 14.0]  # a tail within the span is shown, not clipped
    assert robust_limits(tail, np.array([]))[1] >= 14


def test_axes_say_utc_and_the_unit_numbers_have_no_exponent_and_the_legend_is_below(
    frame, judgment
) -> None:
    ax = plot_metric(frame, judgment.metric("latency"))
    assert ax.get_xlabel() == "time (UTC), 2026-03-10"
    assert ax.get_ylabel() == "value (s)"
    formatter = ax.yaxis.get_major_formatter()
    assert formatter(1240.0, 0) == "1,240" and formatter(2.5e6, 0) == "2.5M"
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert "canary: median host (thick)" in texts and "single hosts (thin)" in texts
    # Below the axes: the legend's top is under the axes' bottom, so it hides no line.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(ax.figure).get_renderer()
    ax.figure.draw(renderer)
    assert legend.get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0


def test_the_shift_interval_is_stated_beside_the_plot(frame, judgment) -> None:
    result = judgment.metric("latency")
    ax = plot_metric(frame, result)
    pct = round(result.confidence * 100)
    assert f"({pct}% CI +" in ax.get_title(loc="right")
