"""The sequential judge on simulated worlds: decisions, early passes, and a state that extra
calls cannot change."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canarystats.config import load_config
from canarystats.errors import ConfigError
from canarystats.exit_codes import ExitCode
from canarystats.sequential import UNDECIDED, judge_sequential
from canarystats.sequential.decide import decide, information_rates
from canarystats.sequential.early_pass import too_few_events
from canarystats.sequential.looks import Look, LookMetric, gather_looks
from canarystats.sequential.state import SequentialState, config_digest
from canarystats.testing.worlds import make_world, world_config

STRONG = {"latency_factor": 1.5}


def _judge(frame: pd.DataFrame, start: pd.Timestamp, **plan: Any) -> Any:
    config = load_config(world_config(**plan))
    return judge_sequential(config, frame, start=start)


def test_a_healthy_canary_passes_early_with_every_metric_ruled_out() -> None:
    frame, start = make_world("iid", seed=3)
    result, state = _judge(frame, start)
    assert result.verdict == "pass"
    assert result.decision.early
    assert result.decision.at < 1800
    assert result.exit_code() == ExitCode.PASS
    assert all(p.status[-1] == "ruled out" for p in result.decision.paths.values())
    assert state.decision is not None and state.decision["verdict"] == "pass"
    assert len(state.looks) == result.decision.look


def test_a_slow_canary_fails_on_latency_and_says_when() -> None:
    frame, start = make_world("both", seed=5, **STRONG)
    result, _ = _judge(frame, start)
    assert result.verdict in ("fail", "marginal")
    assert result.exit_code() == ExitCode.FAIL
    assert result.decision.failed == ("latency",)
    minute = result.decision.at / 60
    assert f"Failed at minute {minute:g} of 30 on latency." == result.decision.reason
    # A gauge past its boundary fails at the next look that still shows the regression.
    path = result.decision.paths["latency"]
    assert path.status[-2:] == ["crossed", "failed"] and path.p_adjusted[-2] <= 0.05
    assert "open" not in path.status[path.status.index("crossed") :]
    assert result.judgment is not None
    assert str(result.judgment.metric("latency").classification) == "High"
    assert str(result.judgment.metric("cpu").classification) == "Pass"


def test_doubled_errors_fail_on_the_count() -> None:
    frame, start = make_world("both", seed=8, error_factor=2.0)
    result, _ = _judge(frame, start)
    assert "errors" in result.decision.failed
    assert result.decision.paths["errors"].kind[0] == "count"


def test_no_early_pass_before_min_duration() -> None:
    frame, start = make_world("iid", seed=3)
    result, _ = _judge(frame, start, min_duration="30m")
    assert result.verdict == "pass"
    assert not result.decision.early
    assert result.decision.at == 1800


def test_no_early_pass_while_a_metric_has_no_data() -> None:
    frame, start = make_world("iid", seed=3)
    frame = frame[frame["metric"] != "cpu"]
    result, _ = _judge(frame, start)
    assert not result.decision.early
    assert result.decision.look == 6
    assert result.decision.paths["cpu"].status == ["no data"] * 6


def test_data_not_yet_at_a_look_is_undecided_and_takes_no_look() -> None:
    frame, start = make_world("iid", seed=3)
    early = frame[frame["timestamp"] < start + pd.Timedelta(minutes=4)]
    result, state = _judge(early, start)
    assert result.verdict == UNDECIDED
    assert result.exit_code() == ExitCode.UNDECIDED
    assert state.looks == ()
    assert result.new_looks == 0


def _calls(frame: pd.DataFrame, start: pd.Timestamp, ends: list[float], **plan: Any) -> Any:
    """Call the judge as a pipeline polls: the data up to each end, the state carried."""
    config = load_config(world_config(**plan))
    state = None
    result = None
    for minutes in ends:
        end = start + pd.Timedelta(minutes=minutes)
        seen = frame[frame["timestamp"] < end]
        result, state = judge_sequential(config, seen, start=start, end=end, state=state)
    return result, state


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    extra=st.lists(st.floats(0.0, 31.0), max_size=12),
    factor=st.sampled_from([1.0, 1.1, 1.5]),
)
def test_extra_calls_between_looks_never_change_the_verdict(
    seed: int, extra: list[float], factor: float
) -> None:
    frame, start = make_world("both", seed=seed, latency_factor=factor)
    once, _ = _calls(frame, start, [30.0])
    polled, state = _calls(frame, start, sorted([*extra, *range(1, 31, 1), 30.0]))
    assert polled.verdict == once.verdict
    assert polled.decision.look == once.decision.look
    assert polled.decision.failed == once.decision.failed
    assert state.calls == len(extra) + 31


def test_a_look_once_taken_is_never_judged_again() -> None:
    frame, start = make_world("iid", seed=4)
    config = load_config(world_config(min_duration="30m"))
    at5 = start + pd.Timedelta(minutes=5)
    first, state = judge_sequential(config, frame[frame["timestamp"] < at5], start=start, end=at5)
    assert len(state.looks) == 1
    # Points that arrive late for look 1 (a canary host far off) do not rewrite it.
    late = frame.copy()
    early_canary = (late["cohort"] == "canary") & (late["timestamp"] < at5)
    late.loc[early_canary & (late["metric"] == "latency"), "value"] *= 3
    at10 = start + pd.Timedelta(minutes=10)
    second, state2 = judge_sequential(
        config, late[late["timestamp"] < at10], start=start, end=at10, state=state
    )
    assert state2.looks[0] == state.looks[0]
    assert second.decision.paths["latency"].p_fail[0] == first.decision.paths["latency"].p_fail[0]


def test_a_decision_is_final_and_repeated_by_every_later_call() -> None:
    frame, start = make_world("both", seed=5, **STRONG)
    config = load_config(world_config())
    whole, _ = judge_sequential(config, frame, start=start)
    end = start + pd.Timedelta(seconds=whole.decision.at)
    first, state = judge_sequential(config, frame[frame["timestamp"] < end], start=start, end=end)
    assert first.verdict == whole.verdict != UNDECIDED
    assert first.decision.at < 1800
    # Later data that looks healthy changes nothing: the decision stays, no look is added.
    healthy, _ = make_world("both", seed=5)
    again, state2 = judge_sequential(config, healthy, start=start, state=state)
    assert again.verdict == first.verdict
    assert again.decision.look == first.decision.look
    assert again.decision.reason == first.decision.reason
    assert again.new_looks == 0
    assert state2.looks == state.looks
    assert state2.calls == state.calls + 1


def test_false_alarms_over_all_looks_stay_at_alpha_in_every_world() -> None:
    # A small version of the benchmark: 40 healthy canaries per world (the benchmark runs 500).
    config = load_config(world_config())
    for world in ("iid", "offsets", "autocorrelated", "both"):
        stops = 0
        for seed in range(40):
            frame, start = make_world(world, seed=100 + seed, pre_minutes=0)
            result, _ = judge_sequential(config, frame, start=start)
            stops += result.verdict in ("fail", "marginal")
        # alpha 0.05 over every look; 6 of 40 would be 15 %, far past it
        assert stops <= 5, world


def test_information_rates_start_after_the_warm_up_for_gauges_only() -> None:
    config = load_config(
        {
            "name": "w",
            "judge": {"warmup": "10m"},
            "sequential": {"horizon": "30m", "look_every": "5m"},
            "metrics": [
                {"name": "lat", "query": "q"},
                {"name": "err", "query": "e", "kind": "count", "direction": "increase"},
            ],
        }
    )
    assert config.sequential is not None
    rates = information_rates(config, config.sequential)
    assert math.isnan(rates["lat"][0]) and math.isnan(rates["lat"][1])
    np.testing.assert_allclose(rates["lat"][2:], [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(rates["err"], np.arange(1, 7) / 6)


def test_the_plan_needs_hosts_as_units() -> None:
    data = world_config()
    data["judge"] = {"method": "kayenta"}
    config = load_config(data)
    frame, start = make_world("iid", seed=1)
    with pytest.raises(ConfigError, match=re.escape("judge.method hosts")):
        judge_sequential(config, frame, start=start)


def test_a_config_without_a_plan_is_refused_with_what_to_add() -> None:
    data = world_config()
    del data["sequential"]
    frame, start = make_world("iid", seed=1)
    with pytest.raises(ConfigError, match=re.escape("add sequential: {horizon: 30m")):
        judge_sequential(load_config(data), frame, start=start)


def test_the_state_names_its_config_and_start() -> None:
    config = load_config(world_config())
    state = SequentialState(config_digest(config), "2026-03-02T10:30:00Z")
    other = load_config(world_config(horizon="20m"))
    assert config_digest(other) != state.digest
    assert dataclasses.replace(state, calls=3).calls == 3


def test_errors_in_bursts_weigh_less_towards_an_early_pass() -> None:
    # The canary's errors come as retry storms: the same totals in a few buckets.
    frame, start = make_world("iid", seed=4)
    rng = np.random.default_rng(4)
    errors = (frame["metric"] == "errors") & (frame["cohort"] == "canary")
    after = errors & (frame["timestamp"] >= start)
    values = frame.loc[after, "value"].to_numpy()
    storms = np.zeros_like(values)
    storms[rng.choice(values.size, size=6, replace=False)] = values.sum() / 6
    frame.loc[after, "value"] = storms
    config = load_config(world_config())
    plan, looks = _every_look(config, frame, start)
    assert all(look.metrics["errors"].canary_burstiness > 5 for look in looks)
    steady = [
        dataclasses.replace(
            look,
            metrics={
                **look.metrics,
                "errors": dataclasses.replace(
                    look.metrics["errors"], canary_burstiness=1.0, baseline_burstiness=1.0
                ),
            },
        )
        for look in looks
    ]
    bursty, calm = decide(config, plan, looks, 0.05), decide(config, plan, steady, 0.05)
    bursty_p, steady_p = bursty.paths["errors"].p_pass, calm.paths["errors"].p_pass
    shared = min(len(bursty_p), len(steady_p))
    assert all(b >= s for b, s in zip(bursty_p[:shared], steady_p[:shared], strict=True))
    assert bursty_p[shared - 1] > steady_p[shared - 1]
    assert bursty.at >= calm.at


def _every_look(config: Any, frame: pd.DataFrame, start: pd.Timestamp) -> Any:
    """The config's plan and every look of it on ``frame``."""
    plan = config.sequential
    assert plan is not None
    return plan, gather_looks(config, frame, start, list(enumerate(plan.look_times(), start=1)))


def _errors_with(**min_effect: float) -> Any:
    """The world's config with the errors metric's ``min_effect`` set."""
    config = world_config()
    config["metrics"] = [
        dict(m, min_effect=min_effect) if m["name"] == "errors" else m for m in config["metrics"]
    ]
    return load_config(config)


def test_an_absolute_minimum_effect_lets_rare_errors_pass_sooner() -> None:
    # 0.2 % errors of 5 requests a second: too few events to rule out a rate ratio of 1.25 in
    # 30 minutes; a rise of less than 1 % of requests, the metric's absolute minimum effect, is
    # ruled out at once.
    frame, start = make_world("iid", seed=6, error_rate=0.002, requests_per_minute=300.0)
    config, relaxed = load_config(world_config()), _errors_with(absolute=0.01)
    plan, looks = _every_look(config, frame, start)
    strict, loose = decide(config, plan, looks, 0.05), decide(relaxed, plan, looks, 0.05)
    strict_p, loose_p = strict.paths["errors"].p_pass, loose.paths["errors"].p_pass
    shared = min(len(strict_p), len(loose_p))
    assert all(lo <= st for lo, st in zip(loose_p[:shared], strict_p[:shared], strict=True))
    assert loose_p[0] < 0.01 < strict_p[-1]
    assert (loose.verdict, strict.verdict) == ("pass", "pass")
    assert loose.early and loose.at < strict.at


def test_a_count_is_held_to_its_own_minimum_effect_where_that_is_wider() -> None:
    # Errors 30 % above the baseline's: a regression against the plan's rate ratio of 1.25, not
    # against the metric's own minimum effect of 50 %, which the one-shot judge keeps to as
    # well; so it fails (or waits) under the first and passes early under the second.
    frame, start = make_world("iid", seed=7, error_factor=1.3, error_rate=0.02)
    config, relaxed = load_config(world_config()), _errors_with(relative=0.5)
    plan, looks = _every_look(config, frame, start)
    held, let_go = decide(config, plan, looks, 0.05), decide(relaxed, plan, looks, 0.05)
    assert "errors" not in (let_go.failed or ())
    assert let_go.verdict == "pass" and let_go.early
    assert not held.early
    assert held.paths["errors"].p_pass[-1] > plan.pass_alpha


def test_the_reason_names_what_held_an_early_pass_back() -> None:
    # Rare errors (0.2 % of 5 requests a second) cannot rule out a rate ratio of 1.25 in 30
    # minutes even at the baseline's rate: the reason names the metric and the remedy, while
    # undecided and at the horizon.
    frame, start = make_world("iid", seed=6, error_rate=0.002, requests_per_minute=300.0)
    config = load_config(world_config())
    plan, looks = _every_look(config, frame, start)
    end = decide(config, plan, looks, 0.05)
    assert end.verdict == "pass" and not end.early
    assert end.reason.startswith("Judged at the horizon")
    assert end.held_back.startswith("It did not pass early: by the last look errors (p ")
    assert "errors has too few events (" in end.held_back
    assert "absolute min_effect" in end.said()
    middle = decide(config, plan, looks[:3], 0.05)
    assert middle.verdict == UNDECIDED
    assert middle.held_back.startswith("To pass early, errors (p ")
    assert "errors has too few events (" in middle.held_back
    assert "baseline so far)" in middle.said()
    # With the remedy the count is ruled out and nothing is held back.
    loose = decide(_errors_with(absolute=0.01), plan, looks, 0.05)
    assert loose.early and loose.held_back == ""


def test_a_canary_that_ruled_everything_out_waits_for_min_duration_and_says_so() -> None:
    frame, start = make_world("iid", seed=4)
    config = load_config(world_config(min_duration="25m"))
    plan, looks = _every_look(config, frame, start)
    early = decide(config, plan, looks, 0.05)
    assert early.early and early.at == 1500
    before = decide(config, plan, looks[:4], 0.05)
    assert before.verdict == UNDECIDED
    assert before.held_back.startswith("Every metric has ruled out its minimum practical effect")
    assert "min_duration (minute 25)" in before.held_back


def _monitor_states(
    start: pd.Timestamp, *hosts: str, fired: float = 7.0, read: float | None = None
) -> pd.DataFrame:
    """The states Datadog reports at minute ``read`` of a monitor that fired on ``hosts`` at
    minute ``fired`` for two minutes (nothing yet if it is read before it fired)."""
    from canarystats.monitors import monitor_frame

    at = start + pd.Timedelta(minutes=fired)
    seen = read is None or fired <= read
    return monitor_frame(
        [
            {
                "monitor_id": 4711,
                "monitor": "Sidekiq failures",
                "group": f"host:{host}",
                "status": "OK",
                "triggered": at.isoformat() if seen else None,
                "resolved": (at + pd.Timedelta(minutes=2)).isoformat() if seen else None,
                "url": "https://app.datadoghq.com/monitors/4711",
            }
            for host in hosts
        ]
    )


@pytest.mark.parametrize(
    ("hosts", "verdict"),
    [
        (("canary-1",), "fail"),
        (tuple(f"{c}-{i}" for c in ("canary", "baseline") for i in range(3)), "nodata"),
    ],
)
def test_a_monitor_that_fired_decides_at_the_look_whose_window_holds_it(
    hosts: tuple[str, ...], verdict: str
) -> None:
    # Healthy metrics, and a monitor that fired at minute 7 for two minutes: look 1 (minute 5)
    # has not seen it; look 2 (minute 10) fails the canary on a canary host's alert, and ends
    # it without a verdict when every host alerted (a shared cause, not the canary).
    config = load_config({**world_config(), "monitors": {"ids": [4711]}})
    frame, start = make_world("both", seed=5)
    states = _monitor_states(start, *hosts)
    minute = pd.Timedelta(minutes=1)
    early, _ = judge_sequential(config, frame, start=start, end=start + 6 * minute, monitors=states)
    assert early.verdict == UNDECIDED and early.decision.look == 1
    at_ten, state = judge_sequential(
        config, frame, start=start, end=start + 11 * minute, monitors=states
    )
    assert (at_ten.verdict, at_ten.decision.look, at_ten.decision.early) == (verdict, 2, False)
    assert at_ten.judgment is not None and "Sidekiq failures" in at_ten.decision.reason
    if verdict == "fail":
        assert at_ten.decision.failed == ("Sidekiq failures",)
    assert state.decision is not None and state.decision["verdict"] == verdict
    # Without the states, the same looks are undecided: the monitor decided.
    plain, _ = judge_sequential(config, frame, start=start, end=start + 11 * minute)
    assert plain.verdict == UNDECIDED


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    extra=st.lists(st.floats(0.0, 31.0), max_size=6),
    fired=st.floats(0.5, 29.0),
    factor=st.sampled_from([1.0, 1.5]),
)
def test_extra_calls_never_change_the_look_a_monitor_decides_at(
    seed: int, extra: list[float], fired: float, factor: float
) -> None:
    # Each call gets the monitor states as Datadog reports them at its time; one call over the
    # whole run and a pipeline's many calls decide at the same look on the same evidence.
    config = load_config({**world_config(), "monitors": {"ids": [4711]}})
    frame, start = make_world("both", seed=seed, latency_factor=factor)
    verdicts = []
    for ends in ([30.0], sorted([*extra, *range(1, 31, 2), 30.0])):
        state = None
        for minutes in ends:
            end = start + pd.Timedelta(minutes=minutes)
            states = _monitor_states(start, "canary-1", fired=fired, read=minutes)
            result, state = judge_sequential(
                config,
                frame[frame["timestamp"] < end],
                start=start,
                end=end,
                state=state,
                monitors=states,
            )
            if result.verdict != UNDECIDED:
                break  # a pipeline stops calling; later calls repeat the record
        verdicts.append((result.verdict, result.decision.look, result.decision.failed))
    assert verdicts[0] == verdicts[1]
    # Unless it was decided before the monitor fired, the canary is stopped by the first look
    # after the firing, whatever its metrics say.
    verdict, look, _ = verdicts[0]
    if look * 5 >= fired:
        assert verdict in ("fail", "marginal") and look <= int(fired // 5) + 1


@settings(max_examples=200, deadline=None)
@given(
    canary=st.floats(0, 1e4),
    baseline=st.floats(0, 1e4),
    exposure=st.floats(1, 1e4),
    share=st.floats(0.05, 0.95),
    burst=st.floats(1, 50),
    grow=st.floats(1, 100),
    at=st.sampled_from([300, 600, 900, 1200, 1500, 1800]),
    direction=st.sampled_from(["increase", "decrease", "either"]),
)
def test_more_events_never_make_a_count_too_few_to_pass_early(
    canary: float,
    baseline: float,
    exposure: float,
    share: float,
    burst: float,
    grow: float,
    at: int,
    direction: str,
) -> None:
    config = load_config(
        {
            "name": "c",
            "sequential": {},
            "metrics": [{"name": "e", "query": "q", "kind": "count", "direction": direction}],
        }
    )
    plan, metric = config.sequential, config.metrics[0]
    assert plan is not None

    def look(factor: float) -> Look:
        return Look(
            1,
            at,
            {
                "e": LookMetric(
                    "count",
                    canary_events=factor * canary,
                    canary_exposure=factor * share * exposure,
                    baseline_events=factor * baseline,
                    baseline_exposure=factor * (1 - share) * exposure,
                    canary_burstiness=burst,
                    baseline_burstiness=burst,
                )
            },
        )

    few, more = too_few_events(metric, look(1.0), plan), too_few_events(metric, look(grow), plan)
    assert isinstance(few, bool)
    assert few or not more
    # An absolute minimum effect is the remedy the reason names: with one it is never "too few".
    remedied = load_config(
        {
            "name": "c",
            "sequential": {},
            "metrics": [
                {"name": "e", "query": "q", "kind": "count", "min_effect": {"absolute": 0.01}}
            ],
        }
    )
    assert not too_few_events(remedied.metrics[0], look(1.0), plan)
