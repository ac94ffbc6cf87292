"""Seeded simulations that pin the host-aware judge end to end, through ``judge()``.

Each scenario builds a tidy frame of hosts with their own levels and autocorrelated noise, as
real fleets have, and checks the verdict the ``hosts`` method must give.  Expected outcomes come
from the scenario's construction (a healthy A/A draw must pass at the nominal rate, a host shifted
by six baseline spreads must fail), never from running the code.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
from conftest import series_frame

from canarystats.config import load_config
from canarystats.judgment import judge

SCHEMA = json.loads(
    resources.files("canarystats").joinpath("schemas/judgment.schema.json").read_text()
)


def ar1(rng: np.random.Generator, shape: tuple[int, ...], phi: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise along the last axis (consecutive minutes are not independent)."""
    eps = rng.standard_normal(shape)
    out = np.empty(shape)
    out[..., 0] = sd * eps[..., 0]
    for t in range(1, shape[-1]):
        out[..., t] = phi * out[..., t - 1] + sd * np.sqrt(1 - phi * phi) * eps[..., t]
    return out


def fleet(
    rng: np.random.Generator,
    *,
    canary: int = 1,
    baseline: int = 5,
    minutes: int = 30,
    level: float = 100.0,
    host_sd: float = 2.0,
    noise_sd: float = 1.0,
) -> dict[tuple[str, str], np.ndarray]:
    """Healthy hosts: a persistent per-host level plus AR(1) noise."""
    out = {}
    names = [("canary", f"c{i}") for i in range(canary)] + [
        ("baseline", f"b{i}") for i in range(baseline)
    ]
    for key in names:
        offset = rng.normal(0.0, host_sd)
        out[key] = level + offset + ar1(rng, (minutes,), 0.7, noise_sd)
    return out


def cfg(*metrics: dict[str, Any], **judge_settings: Any) -> Any:
    return load_config({"name": "sim", "judge": judge_settings, "metrics": list(metrics)})


def test_a_a_draws_with_host_offsets_fail_at_most_at_the_nominal_rate() -> None:
    # 400 independent healthy A/A draws, each a metric of one run, judged without multiplicity
    # adjustment and without a minimum effect, so each metric is a test at alpha = 0.05.
    # Host offsets (sd 2) are twice the within-host noise: pooling points would fail most draws.
    rng = np.random.default_rng(20261127)
    draws = 400
    series = {f"m{i}": fleet(rng) for i in range(draws)}
    metrics = [
        {"name": f"m{i}", "query": "q", "min_effect": {"relative": 0.0}} for i in range(draws)
    ]
    frame = series_frame(series)
    hosts = judge(cfg(*metrics, multiplicity="none"), frame)
    failed = np.mean([m.classification in ("High", "Low") for m in hosts.metrics])
    # alpha plus three binomial standard errors of 400 draws
    assert failed <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / draws)
    assert all(m.units == "hosts" for m in hosts.metrics)
    # The same draws under Kayenta's pooled rule: host offsets look like regressions.
    pooled = judge(cfg(*metrics, method="kayenta"), frame)
    pooled_failed = np.mean([m.classification in ("High", "Low") for m in pooled.metrics])
    assert pooled_failed > 3 * failed and pooled_failed > 0.2


def test_a_canary_host_shifted_by_several_baseline_spreads_fails() -> None:
    # Eight baseline hosts with a spread of 2 around 100; the canary host sits 8 spreads above.
    # With 7 degrees of freedom the host-level t statistic is about 8 / sqrt(1 + 1/8) = 7.5,
    # far beyond what three components and alpha 0.05 require (about 3).
    rng = np.random.default_rng(1)
    hosts = fleet(rng, baseline=8, host_sd=2.0)
    hosts[("canary", "c0")] = 100.0 + 8 * 2.0 + ar1(rng, (30,), 0.7, 1.0)
    j = judge(
        cfg({"name": "latency", "query": "q", "unit": "ms"}), series_frame({"latency": hosts})
    )
    m = j.metric("latency")
    assert (j.verdict, m.classification) == ("fail", "High")
    assert m.units == "hosts" and m.diagnostics["n_baseline_hosts"] == 8
    assert "c0" in m.reason and "minimum effect 8%" in m.reason


def _error_run(rng: np.random.Generator, canary_errors: float) -> pd.DataFrame:
    requests = {
        key: rng.poisson(400, 30).astype(float)
        for key in [("canary", "c0"), ("canary", "c1")] + [("baseline", f"b{i}") for i in range(4)]
    }
    # Quiet counters: the baseline hosts never fail, so they send no error series at all
    # (DogStatsD stops flushing a counter without events); the canary throws errors.
    errors = {
        key: rng.poisson(canary_errors, 30).astype(float) for key in requests if key[0] == "canary"
    }
    return series_frame({"requests": requests, "errors": errors})


COUNT_METRICS = (
    {"name": "requests", "query": "q", "kind": "count", "direction": "decrease"},
    {
        "name": "errors",
        "query": "q",
        "kind": "count",
        "direction": "increase",
        "exposure": "requests",
    },
)


def test_errors_against_a_zero_baseline_fail_even_when_quiet_hosts_send_no_points() -> None:
    rng = np.random.default_rng(2)
    frame = _error_run(rng, canary_errors=0.5)
    assert not ((frame.metric == "errors") & (frame.cohort == "baseline")).any()
    j = judge(cfg(*COUNT_METRICS), frame)
    errors = j.metric("errors")
    assert errors.classification == "High"
    counts = errors.diagnostics["counts"]
    # The baseline's exposure is its requests: the quiet hosts are known, and had zero errors.
    assert counts["baseline_events"] == 0 and counts["baseline_exposure"] > 0
    assert counts["exposure"] == "requests"
    assert j.metric("requests").classification == "Pass"


def test_a_canary_without_errors_against_a_quiet_baseline_passes() -> None:
    rng = np.random.default_rng(3)
    frame = _error_run(rng, canary_errors=0.0)
    frame = frame[~((frame.metric == "errors") & (frame.value == 0))]  # nothing sent at all
    j = judge(cfg(*COUNT_METRICS), frame)
    assert j.metric("errors").classification == "Pass", j.metric("errors").reason
    assert j.verdict == "pass"


def test_a_canary_gauge_rising_through_the_window_fails_on_its_trend() -> None:
    rng = np.random.default_rng(4)
    hosts = fleet(rng, canary=1, baseline=5, host_sd=2.0, noise_sd=0.5)
    # A leak: the canary climbs by 16 (8 baseline spreads) from 8 below its start level, so its
    # window mean is unremarkable and only its movement gives it away.
    hosts[("canary", "c0")] = 100.0 + np.linspace(-8.0, 8.0, 30) + ar1(rng, (30,), 0.7, 0.5)
    j = judge(
        cfg({"name": "memory", "query": "q", "direction": "increase"}),
        series_frame({"memory": hosts}),
    )
    m = j.metric("memory")
    assert m.classification == "High", m.reason
    assert m.diagnostics["component"] == "trend"


def test_a_daily_ramp_shared_by_all_hosts_passes() -> None:
    rng = np.random.default_rng(5)
    hosts = fleet(rng, canary=2, baseline=5)
    ramp = np.linspace(0.0, 40.0, 30)  # traffic rising 40% through the window, on every host
    hosts = {k: v + ramp for k, v in hosts.items()}
    j = judge(cfg({"name": "cpu", "query": "q"}), series_frame({"cpu": hosts}))
    assert j.metric("cpu").classification == "Pass", j.metric("cpu").reason
    assert j.verdict == "pass"


def test_a_baseline_with_one_noisy_host_passes() -> None:
    rng = np.random.default_rng(6)
    hosts = fleet(rng, canary=1, baseline=5)
    hosts[("baseline", "b4")] = 100.0 + ar1(rng, (30,), 0.3, 8.0)  # a host with a noisy neighbour
    j = judge(cfg({"name": "latency", "query": "q"}), series_frame({"latency": hosts}))
    assert j.metric("latency").classification == "Pass", j.metric("latency").reason


def test_two_baseline_hosts_are_inconclusive_with_the_reason() -> None:
    rng = np.random.default_rng(7)
    hosts = fleet(rng, canary=1, baseline=2)
    hosts[("canary", "c0")] = hosts[("canary", "c0")] + 50.0  # even a blatant change
    j = judge(cfg({"name": "latency", "query": "q"}), series_frame({"latency": hosts}))
    m = j.metric("latency")
    assert m.classification == "Nodata"
    assert "only 2 baseline host" in m.reason and "3" in m.reason
    assert j.verdict == "nodata"  # half or more of the metrics without a decision


def test_a_tiny_offset_against_constant_baselines_passes_unless_min_effect_is_zero() -> None:
    hosts = {("baseline", f"b{i}"): np.full(20, 100.0) for i in range(4)}
    hosts[("canary", "c0")] = np.full(20, 100.01)
    frame = series_frame({"m": hosts})
    assert judge(cfg({"name": "m", "query": "q"}), frame).metric("m").classification == "Pass"
    strict = {"name": "m", "query": "q", "min_effect": {"relative": 0.0}}
    assert judge(cfg(strict), frame).metric("m").classification == "High"


def test_holm_keeps_ten_healthy_metrics_from_failing_the_run() -> None:
    # Ten metrics whose raw p-values are all near 0.02: each alone is "significant" at 0.05, but
    # Holm over ten needs the smallest below 0.005, so none fails; without adjustment several do.
    rng = np.random.default_rng(8)
    series = {}
    for i in range(10):
        hosts = fleet(rng, canary=1, baseline=4, host_sd=1.0, noise_sd=0.2)
        series[f"m{i}"] = hosts
    metrics = [{"name": f"m{i}", "query": "q", "min_effect": {"relative": 0.0}} for i in range(10)]
    frame = series_frame(series)
    holm = judge(cfg(*metrics, multiplicity="holm"), frame)
    raw = [m.p_raw for m in holm.metrics]
    adjusted = [m.p_value for m in holm.metrics]
    # Holm: the smallest p-value is multiplied by the family size.
    i = int(np.argmin(raw))
    assert adjusted[i] == pytest.approx(min(1.0, 10 * raw[i]))
    assert all(a >= r for a, r in zip(adjusted, raw, strict=True))
    assert all(m.diagnostics["family_size"] == 10 for m in holm.metrics)


def test_muted_metrics_leave_the_multiplicity_family() -> None:
    rng = np.random.default_rng(9)
    series = {f"m{i}": fleet(rng) for i in range(3)}
    metrics = [{"name": "m0", "query": "q"}, {"name": "m1", "query": "q"},
               {"name": "m2", "query": "q", "muted": True}]  # fmt: skip
    j = judge(cfg(*metrics), series_frame(series))
    assert [m.diagnostics["family_size"] for m in j.metrics] == [2, 2, 2]


def test_hosts_judgment_matches_the_schema_and_is_json_safe() -> None:
    rng = np.random.default_rng(10)
    frame = pd.concat(
        [
            series_frame({"latency": fleet(rng)}),
            _error_run(rng, canary_errors=0.3),
        ]
    )
    j = judge(cfg({"name": "latency", "query": "q"}, *COUNT_METRICS), frame)
    d = j.to_dict()
    jsonschema.validate(d, SCHEMA)
    json.dumps(d, allow_nan=False)
    lat = d["metrics"][0]
    assert lat["units"] == "hosts"
    assert {h["host"] for h in lat["diagnostics"]["hosts"]} == {"c0", "b0", "b1", "b2", "b3", "b4"}
    assert d["settings"]["method"] == "hosts" and d["settings"]["multiplicity"] == "hommel"
    kay = judge(cfg({"name": "latency", "query": "q"}, method="kayenta"), frame).to_dict()
    jsonschema.validate(kay, SCHEMA)
    assert kay["metrics"][0]["units"] == "points"
    assert kay["metrics"][0]["diagnostics"]["units"] == "points"
