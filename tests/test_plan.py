"""canarystats.plan: the analytic power of the host-level test, checked against simulation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from canarystats.config import load_config
from canarystats.errors import DataError
from canarystats.plan import plan
from canarystats.stats.host_summaries import window_changes, window_means
from canarystats.stats.hosts import host_test

T0 = pd.Timestamp("2026-03-01", tz="UTC")


def healthy(rng: np.random.Generator, hosts: int, minutes: int, host_sd: float, noise_sd: float):
    level = 100 + rng.normal(0, host_sd, (hosts, 1)) + rng.normal(0, noise_sd, (hosts, minutes))
    return pd.DataFrame(
        {
            "metric": "latency",
            "cohort": "baseline",
            "host": np.repeat([f"h{i:02d}" for i in range(hosts)], minutes),
            "timestamp": np.tile(T0 + pd.to_timedelta(np.arange(minutes), unit="min"), hosts),
            "value": level.ravel(),
        }
    )


def config(**metric):  # type: ignore[no-untyped-def]
    m = {"name": "latency", "query": "q", "direction": "increase", **metric}
    return load_config({"name": "web", "metrics": [m]})


def test_window_means_by_hand() -> None:
    v = np.array([[1.0, 3.0, np.nan, 7.0, 9.0], [0.0, 0.0, 2.0, 2.0, 5.0]])
    assert window_means(v, 2).tolist() == [[2.0, 7.0], [0.0, 2.0]]
    # counts: (events + 0.5) / exposure over the window
    w = np.array([[10.0, 10.0, 10.0, 10.0, 10.0]] * 2)
    assert window_means(v, 2, w)[1].tolist() == [0.5 / 20, 4.5 / 20]


def test_predicted_power_matches_the_judges_host_test_in_simulation() -> None:
    # Hosts: level sd 1, independent noise sd 2, so a 20-minute host mean varies across hosts
    # with sd sqrt(1 + 4/20).  A 3% regression (3 units) with 2 canary against 6 baseline hosts.
    # Many hosts of recent data, so the plan's estimate of that spread is close to the truth.
    rng = np.random.default_rng(0)
    data = healthy(rng, hosts=300, minutes=40, host_sd=1.0, noise_sd=2.0)
    cfg = config(min_effect={"relative": 0.0})
    p = plan(cfg, data, relative_change=0.03, canary_hosts=(2,), baseline_hosts=6, minutes=(20,))
    predicted = float(p.metrics[0].power[0, 0])
    assert p.metrics[0].host_spread[0] == pytest.approx(np.sqrt(1 + 4 / 20), rel=0.1)
    # Simulate the judge's test: 2000 canaries at +3 units, one batched host_test call.
    reps, k, m, minutes = 2000, 2, 6, 20
    levels = rng.normal(0, 1.0, (reps, k + m, 1))
    cube = 100 + levels + rng.normal(0, 2.0, (reps, k + m, minutes))
    cube[:, :k] += 3.0
    res = host_test(cube[:, :k], cube[:, k:], direction="increase", min_rel_effect=0.0)
    simulated = float(np.mean(res.p_value < 0.05))
    assert 0.15 < predicted < 0.95  # a case where the answer is not trivially 0 or 1
    # The plan counts only the location component; trend and jitter can only add power.
    assert predicted - 0.07 <= simulated <= predicted + 0.1


def test_more_hosts_and_a_bigger_change_never_need_a_longer_canary() -> None:
    rng = np.random.default_rng(12)
    data = healthy(rng, hosts=12, minutes=180, host_sd=1.0, noise_sd=6.0)
    cfg = config(min_effect={"relative": 0.0})
    small = plan(cfg, data, relative_change=0.03, canary_hosts=(1, 2, 4))
    big = plan(cfg, data, relative_change=0.06, canary_hosts=(1, 2, 4))
    power = small.metrics[0].power
    assert np.all(np.diff(power, axis=0) >= -1e-12)  # more canary hosts: more power
    assert np.all(big.metrics[0].power >= power - 1e-12)
    more_baseline = plan(cfg, data, relative_change=0.03, canary_hosts=(1, 2, 4), baseline_hosts=12)
    fewer_baseline = plan(cfg, data, relative_change=0.03, canary_hosts=(1, 2, 4), baseline_hosts=4)
    assert np.all(more_baseline.metrics[0].power >= fewer_baseline.metrics[0].power - 1e-12)


def test_a_change_below_the_minimum_effect_is_never_detected() -> None:
    rng = np.random.default_rng(13)
    data = healthy(rng, hosts=8, minutes=60, host_sd=1.0, noise_sd=1.0)
    p = plan(config(), data, relative_change=0.05)  # default minimum effect 8%
    m = p.metrics[0]
    assert np.all(m.power == 0) and "minimum effect" in m.note
    assert all(v is None for v in p.recommendation.values())
    assert "no metric is reachable with up to 4 canary hosts" in p.to_text()


def test_too_few_hosts_is_a_data_error() -> None:
    rng = np.random.default_rng(14)
    with pytest.raises(DataError, match="at least 3"):
        plan(config(), healthy(rng, hosts=2, minutes=60, host_sd=1.0, noise_sd=1.0))


def test_plan_serialises_and_reports() -> None:
    rng = np.random.default_rng(15)
    p = plan(config(), healthy(rng, hosts=6, minutes=60, host_sd=2.0, noise_sd=1.0))
    d = p.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["baseline_hosts"] == 6 and d["data_minutes"] == 60
    assert max(d["minutes"]) <= 60
    text = p.to_text()
    assert text.startswith("Plan for web: detect a 10% regression with 80% power")
    assert "latency" in text


def test_window_changes_by_hand() -> None:
    v = np.array([[1.0, 1.0, 2.0, 2.0, 4.0, 4.0], [5.0, 5.0, 5.0, 5.0, 5.0, 5.0]])
    np.testing.assert_allclose(window_changes(v, 2, 2, True), [[np.log(2)] * 2, [0.0, 0.0]])
    np.testing.assert_allclose(window_changes(v, 2, 2, False), [[1.0, 2.0], [0.0, 0.0]])


def test_with_a_past_persistent_host_offsets_no_longer_cost_hosts_or_minutes() -> None:
    # Hosts differ by sd 10 around 100 (persistent), noise sd 1: window levels cannot see a 5%
    # regression on 6 baseline hosts, a host's change from its own past can.
    rng = np.random.default_rng(3)
    data = healthy(rng, hosts=40, minutes=240, host_sd=10.0, noise_sd=1.0)
    p = plan(config(min_effect={"relative": 0.0}), data, relative_change=0.05, baseline_hosts=6)
    assert all(v is None for v in p.recommendation.values())
    assert p.recommendation_with_past[1] is not None and p.recommendation_with_past[1] <= 30
    assert p.metrics_with_past[0].host_spread[0] < p.metrics[0].host_spread[0] / 5
    text = p.to_text()
    assert "With each host's own 30 minutes before the deploy" in text
    # Each design names what it cannot reach, and each metric's needs are shown under both.
    levels, past = text.split("With each host's own")
    assert "no metric is reachable with up to 4 canary hosts" in levels
    assert "reachable with up to" not in past.split("Per metric")[0]
    per_metric = [line for line in text.splitlines() if line.startswith("Per metric")]
    assert [line.split(", ")[-1] for line in per_metric] == [
        "window levels):",
        "each host against its own past):",
    ]
    assert "healthy hosts differ too much" in text  # the note of window levels
    assert p.to_dict()["with_pre_window"]["pre_window_s"] == 1800


def test_an_undeclared_sparse_count_is_planned_as_the_judge_judges_it_by_its_events() -> None:
    # Errors at 3 an hour per host; Datadog sends nothing for a quiet minute.
    rng = np.random.default_rng(5)
    hosts, minutes = 8, 240
    events = rng.poisson(0.05, (hosts, minutes)).astype(float)
    frame = pd.DataFrame(
        {
            "metric": "errors",
            "cohort": "baseline",
            "host": np.repeat([f"h{i}" for i in range(hosts)], minutes),
            "timestamp": np.tile(T0 + pd.to_timedelta(np.arange(minutes), unit="min"), hosts),
            "value": events.ravel(),
        }
    )
    frame = frame[frame["value"] > 0]
    # Another metric tells which hosts report (so a quiet minute is zero events, not missing).
    cpu = healthy(rng, hosts, minutes, 2.0, 1.0).assign(
        metric="cpu", host=lambda f: f["host"].str.replace("h0", "h")
    )
    both = pd.concat([frame, cpu], ignore_index=True)
    metrics = [{"name": "errors", "query": "q"}, {"name": "cpu", "query": "q"}]
    p = plan(load_config({"name": "web", "metrics": metrics}), both)
    errors = {m.name: m for m in p.metrics}["errors"]
    assert errors.kind == "count" and {m.name: m for m in p.metrics}["cpu"].kind == "auto"
    # Planned on its rate: 3 events an hour a host (the data's mean), too few for a 10% rise.
    assert errors.level == pytest.approx(events.mean(), rel=1e-9)
    assert "too few events (3" in errors.note and "per host per hour" in errors.note
    assert "  errors (a count): 1: -" in p.to_text()
    # Declared a gauge, it is planned as one.
    gauge = [{"name": "errors", "query": "q", "kind": "gauge"}, metrics[1]]
    as_gauge = plan(load_config({"name": "web", "metrics": gauge}), both)
    assert {m.name: m for m in as_gauge.metrics}["errors"].kind == "gauge"


def _counts(rate: float, hosts: int = 8, minutes: int = 120) -> pd.DataFrame:
    events = np.random.default_rng(11).poisson(rate, (hosts, minutes)).astype(float)
    return pd.DataFrame(
        {
            "metric": "errors",
            "cohort": "baseline",
            "host": np.repeat([f"h{i}" for i in range(hosts)], minutes),
            "timestamp": np.tile(T0 + pd.to_timedelta(np.arange(minutes), unit="min"), hosts),
            "value": events.ravel(),
        }
    )


@pytest.mark.parametrize(
    ("rate", "metric", "rare"),
    [
        (0.05, {}, True),  # 3 errors an hour a host: 30 minutes cannot rule out a 25% rise
        (20.0, {}, False),  # 1,200 an hour: ruled out within minutes
        (0.05, {"min_effect": {"absolute": 0.05}}, False),  # the remedy the plan names
        (0.05, {"min_effect": {"relative": 200.0}}, False),  # a tolerance of 201x: any rate
    ],
)
def test_a_sequential_plan_names_the_counts_too_rare_to_ever_pass_early(
    rate: float, metric: dict[str, object], rare: bool
) -> None:
    m = {"name": "errors", "query": "q", "kind": "count", **metric}
    seq = {"name": "web", "sequential": {"horizon": "30m"}, "metrics": [m]}
    p = plan(load_config(seq), _counts(rate))
    assert p.sequential_horizon == 1800
    seq = p.to_dict()["sequential"]
    assert seq["horizon_s"] == 1800
    assert seq["too_rare_to_pass_early"] == (["errors"] if rare else [])
    line = "Sequential plan (horizon 30 min): errors is too rare in the data"
    assert (line in p.to_text()) is rare
    # Without a sequential plan there is nothing to say.
    plain = plan(load_config({"name": "web", "metrics": [m]}), _counts(rate))
    assert plain.to_dict()["sequential"] is None and "Sequential plan" not in plain.to_text()


def test_a_decrease_of_100_percent_or_more_is_not_planned() -> None:
    rng = np.random.default_rng(8)
    data = healthy(rng, hosts=6, minutes=60, host_sd=1.0, noise_sd=1.0)
    both = pd.concat([data, data.assign(metric="requests")], ignore_index=True)
    metrics = [
        {"name": "latency", "query": "q", "direction": "increase"},
        {"name": "requests", "query": "q", "direction": "decrease"},
    ]
    p = plan(load_config({"name": "web", "metrics": metrics}), both, relative_change=1.5)
    latency, requests = p.metrics
    assert requests.note == "a 150% decrease is below zero: plan a change under 1"
    assert set(requests.minutes_needed.values()) == {None}
    # An increase of 150% is a change like any other, and quickly seen.
    assert latency.note == "" and latency.minutes_needed[4] is not None


def test_a_count_with_an_exposure_is_planned_on_its_events_not_its_rate_per_exposure() -> None:
    # 6 errors a minute per host in 1,200 steady requests: the same events with or without
    # the exposure, so the same power (the level per request, 0.005, is not an event count).
    errors = _counts(6.0, hosts=10)
    requests = errors.assign(metric="requests", value=1200.0)
    both = pd.concat([errors, requests], ignore_index=True)
    count = {"name": "errors", "query": "q", "kind": "count", "direction": "increase"}
    traffic = {"name": "requests", "query": "q", "kind": "count", "muted": True}
    plain = plan(
        load_config({"name": "web", "metrics": [count, traffic]}), both, relative_change=0.3
    )
    exposed = plan(
        load_config({"name": "web", "metrics": [{**count, "exposure": "requests"}, traffic]}),
        both,
        relative_change=0.3,
    )
    a, b = plain.metrics[0], exposed.metrics[0]
    assert b.level == pytest.approx(6.0 / 1200, rel=0.05)
    np.testing.assert_allclose(b.power, a.power, atol=0.02)
    assert float(np.nanmax(b.power)) > 0.5 and b.minutes_needed[4] is not None
