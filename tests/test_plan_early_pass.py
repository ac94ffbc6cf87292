"""canarystats.plan_early_pass: the chance a healthy canary passes early, against the judge."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canarystats.config import load_config
from canarystats.plan import plan
from canarystats.sequential.decide import decide
from canarystats.sequential.looks import gather_looks
from canarystats.testing.worlds import make_world, world_config

T0 = pd.Timestamp("2026-03-01", tz="UTC")


def _tidy(metric: str, values: np.ndarray) -> pd.DataFrame:
    """A healthy fleet's ``(host, minute)`` values as a tidy frame."""
    hosts, minutes = values.shape
    return pd.DataFrame(
        {
            "metric": metric,
            "cohort": "baseline",
            "host": np.repeat([f"h{i:02d}" for i in range(hosts)], minutes),
            "timestamp": np.tile(T0 + pd.to_timedelta(np.arange(minutes), unit="min"), hosts),
            "value": values.ravel(),
        }
    )


def _healthy_gauge(seed: int, hosts: int, minutes: int, host_sd: float, noise_sd: float):
    rng = np.random.default_rng(seed)
    level = 100 + rng.normal(0, host_sd, (hosts, 1)) + rng.normal(0, noise_sd, (hosts, minutes))
    return _tidy("latency", level)


def _config(direction: str = "increase", relative: float = 0.08, **sequential: object):
    plan_ = {"horizon": "30m", "look_every": "5m", **sequential}
    metric = {"name": "latency", "query": "q", "direction": direction}
    metric["min_effect"] = {"relative": relative}
    return load_config({"name": "web", "sequential": plan_, "metrics": [metric]})


def _passed_early_by(world: str, pre: int, n: int) -> dict[float, float]:
    """The share of ``n`` simulated healthy canaries the judge passed early by each minute."""
    config = load_config(world_config())
    plan_ = config.sequential
    assert plan_ is not None
    times = plan_.look_times()
    at = []
    for seed in range(n):
        frame, start = make_world(world, seed=50_000 + seed, pre_minutes=pre)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            looks = gather_looks(config, frame, start, list(enumerate(times, start=1)))
            d = decide(config, plan_, looks, config.judge.alpha)
        at.append(d.at / 60 if d.early else np.inf)
    return {t / 60: float(np.mean(np.asarray(at) <= t / 60)) for t in times[:-1]}


@pytest.mark.parametrize(
    ("world", "pre"),
    [
        ("offsets", 0),  # new instances whose hosts differ persistently: a third pass early
        ("both", 30),  # with a past the offsets cancel: nine in ten, most by minute 15
        ("iid", 0),
    ],
)
def test_the_outlook_matches_how_often_the_judge_passes_healthy_canaries_early(
    world: str, pre: int
) -> None:
    # The plan reads a separate, larger fleet of the same world (its hosts as healthy peers);
    # the judge runs on independently drawn canaries of 3 + 6 hosts.
    config = load_config(world_config())
    fleet, _ = make_world(world, canary_hosts=3, baseline_hosts=40, pre_minutes=60, seed=7)
    p = plan(config, fleet, canary_hosts=(1, 3), baseline_hosts=6)
    outlook = p.early_pass_with_past if pre else p.early_pass
    assert outlook is not None
    predicted = dict(zip(outlook.minutes, outlook.chance[1], strict=True))
    measured = _passed_early_by(world, pre, n=100)
    assert set(predicted) == set(measured)
    for minute, share in measured.items():
        # 100 canaries: a share's sampling error is up to 5 points
        assert abs(predicted[minute] - share) <= 0.13, (minute, predicted, measured)
    # One canary host is never more likely to pass early than three.
    assert np.all(outlook.chance[0] <= outlook.chance[1] + 1e-9)


def test_persistent_host_offsets_without_a_past_cap_the_early_pass_however_long_one_waits() -> None:
    data = _healthy_gauge(3, hosts=60, minutes=120, host_sd=6.0, noise_sd=1.0)
    o = plan(_config(), data, canary_hosts=(3,), baseline_hosts=6).early_pass
    assert o is not None
    # The hosts' 6 % spread barely shrinks with time, against a margin of 8 %.
    assert o.chance[0, -1] < 0.5 and o.half_by() == {3: None}
    assert o.chance[0, -1] - o.chance[0, 1] < 0.15
    # A wider practical effect lets them pass at the first look with data (the judge leaves
    # out the first 5 minutes after the start as the restart's warm-up).
    wide = plan(_config(relative=0.3), data, canary_hosts=(3,), baseline_hosts=6).early_pass
    assert wide is not None and wide.half_by() == {3: 10.0}
    assert o.by_metric["latency"][0, 0] == 0.0


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    host_sd=st.floats(0.1, 8.0),
    noise_sd=st.floats(0.1, 20.0),
    relative=st.floats(0.01, 0.3),
    direction=st.sampled_from(["increase", "decrease", "either"]),
    min_duration=st.sampled_from(["5m", "10m", "20m"]),
)
def test_the_outlook_is_a_probability_that_grows_with_time_hosts_and_margin(
    seed: int, host_sd: float, noise_sd: float, relative: float, direction: str, min_duration: str
) -> None:
    data = _healthy_gauge(seed, hosts=10, minutes=90, host_sd=host_sd, noise_sd=noise_sd)
    cfg = _config(direction, relative, min_duration=min_duration)
    o = plan(cfg, data, canary_hosts=(1, 2, 4)).early_pass
    assert o is not None
    c = o.chance
    assert np.all((c >= 0) & (c <= 1))
    assert np.all(np.diff(c, axis=1) >= -1e-12)  # passing by a look includes every earlier one
    assert np.all(np.diff(c, axis=0) >= -1e-3)  # more canary hosts, never less likely
    wait = cfg.sequential.min_duration / 60  # type: ignore[union-attr]
    assert np.all(c[:, np.asarray(o.minutes) < wait] == 0)
    wider = plan(
        _config(direction, relative * 2, min_duration=min_duration), data, canary_hosts=(1, 2, 4)
    ).early_pass
    assert wider is not None and np.all(wider.chance >= c - 1e-3)


def test_a_rare_count_holds_the_early_pass_back_and_an_absolute_min_effect_releases_it() -> None:
    events = np.random.default_rng(4).poisson(0.05, (10, 120)).astype(float)  # 3 an hour
    data = _tidy("errors", events)

    def outlook(**min_effect: float):  # type: ignore[no-untyped-def]
        m = {"name": "errors", "query": "q", "kind": "count", "direction": "increase"}
        cfg = {"name": "web", "sequential": {"horizon": "30m"}, "metrics": [m]}
        if min_effect:
            m["min_effect"] = min_effect
        o = plan(load_config(cfg), data, canary_hosts=(3,), baseline_hosts=6).early_pass
        assert o is not None
        return o

    rare = outlook()
    assert rare.chance[0, -1] < 0.3 and rare.least_likely(1)[0][0] == "errors"
    # A rise of one error per host and 10 minutes does not matter: ruled out within minutes.
    assert outlook(absolute=0.1).half_by()[3] is not None


def test_the_outlook_is_reported_in_text_and_json_and_absent_without_a_plan() -> None:
    data = _healthy_gauge(5, hosts=8, minutes=120, host_sd=1.0, noise_sd=2.0)
    p = plan(_config(), data)
    text = p.to_text()
    assert "Early pass (sequential plan: horizon 30 min, pass_alpha 0.1)" in text
    assert "4 canary hosts: " in text and "half of them pass early by minute" in text
    d = json.loads(json.dumps(p.to_dict(), allow_nan=False))
    early = d["sequential"]["early_pass"]
    assert early["minutes"] == [5.0, 10.0, 15.0, 20.0, 25.0]
    assert len(early["chance"]) == 4 and set(early["by_metric"]) == {"latency"}
    plain = plan(load_config({"name": "web", "metrics": [{"name": "latency", "query": "q"}]}), data)
    assert plain.early_pass is None and "Early pass" not in plain.to_text()


def test_the_outlook_shown_in_the_docs_is_what_the_plan_prints() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "sequential.md").read_text()
    shown = doc.split("```text\nEarly pass", 1)[1].split("```", 1)[0]
    fleet, _ = make_world("both", canary_hosts=3, baseline_hosts=40, pre_minutes=60, seed=7)
    p = plan(load_config(world_config()), fleet, canary_hosts=(1, 3), baseline_hosts=6)
    assert "Early pass" + shown in p.to_text()


def test_a_look_inside_a_metrics_warm_up_rules_nothing_out() -> None:
    # Requests whose harm is a drop leave out their warm-up (10 minutes here), like gauges; a
    # count whose harm is a rise is judged from the start.
    events = np.random.default_rng(6).poisson(50.0, (10, 120)).astype(float)
    frame = _tidy("requests", events)
    both = pd.concat([frame, frame.assign(metric="errors")], ignore_index=True)
    metrics = [
        {"name": "requests", "query": "q", "kind": "count", "direction": "decrease"},
        {"name": "errors", "query": "q", "kind": "count", "direction": "increase"},
    ]
    seq = {"horizon": "30m", "look_every": "5m", "min_duration": "5m"}
    cfg = load_config(
        {"name": "web", "judge": {"warmup": "10m"}, "sequential": seq, "metrics": metrics}
    )
    o = plan(cfg, both, canary_hosts=(3,), baseline_hosts=6).early_pass
    assert o is not None and o.minutes[:2] == (5.0, 10.0)
    assert o.by_metric["requests"][0, :2].tolist() == [0.0, 0.0]
    assert o.by_metric["requests"][0, -1] > 0.9
    assert o.by_metric["errors"][0, 0] > 0.5  # 500 events a minute: ruled out at once
    assert o.chance[0, 0] == 0.0


def test_hosts_without_any_spread_pass_at_the_first_look_with_data() -> None:
    flat = _healthy_gauge(1, hosts=8, minutes=90, host_sd=0.0, noise_sd=0.0)
    o = plan(_config(), flat, canary_hosts=(1, 3)).early_pass
    assert o is not None
    assert o.chance[:, 0].tolist() == [0.0, 0.0]  # the warm-up: no data yet
    assert np.all(o.chance[:, 1:] == 1.0)
