"""Retry waits with full jitter (canarystats.sources.datadog_retry): random below the backoff
bound, drawn from an injected random source, never past the deadline.

The expected waits are worked out by hand from the rule "attempt n waits u * min(max_backoff,
backoff * 2**(n-1))" (Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FakeClock
from datadog_api_client.exceptions import ApiException
from hypothesis import given, settings
from hypothesis import strategies as st

from canarystats.errors import SourceError
from canarystats.sources import DatadogSource
from canarystats.sources.datadog_retry import Budget, RetryPolicy, backoff_wait, call_with_retries


def _draws(values: list[float]) -> Any:
    """A random source that returns ``values`` in turn (then the last one again)."""
    it: Iterator[float] = iter(values)
    last = [values[-1]]

    def draw() -> float:
        last[0] = next(it, last[0])
        return last[0]

    return draw


def _policy(clock: FakeClock, jitter: Any, **changes: Any) -> RetryPolicy:
    settings_: dict[str, Any] = {
        "host": "http://dd",
        "timeout": 5.0,
        "deadline": 300.0,
        "max_retries": 3,
        "backoff": 0.5,
        "max_backoff": 2.0,
        "max_wait": 60.0,
        "sleep": clock.sleep,
        "jitter": jitter,
    }
    settings_.update(changes)
    return RetryPolicy(**settings_)


def _failing(status: int, reset: int | None = None) -> Any:
    """A request that Datadog always answers with ``status`` (and a rate-limit reset)."""

    def call(timeouts: tuple[float, float]) -> Any:
        exc = ApiException(status=status, reason="failing")
        if reset is not None:
            exc.headers = {"X-RateLimit-Reset": str(reset)}
        raise exc

    return call


def _run(call: Any, clock: FakeClock, policy: RetryPolicy) -> str:
    with pytest.raises(SourceError) as info:
        call_with_retries(call, "GET /", Budget(clock.monotonic, policy.deadline), policy, dict)
    return str(info.value)


def test_each_wait_is_the_draw_times_the_doubling_bound() -> None:
    clock = FakeClock()
    policy = _policy(clock, _draws([0.1, 0.9, 0.3, 0.5]), max_retries=4)
    message = _run(_failing(503), clock, policy)
    # bounds 0.5, 1, 2, 2 (capped at max_backoff)
    assert clock.waits == pytest.approx([0.05, 0.9, 0.6, 1.0])
    assert "after 5 attempts" in message


def test_backoff_wait_reaches_the_cap_and_never_overflows() -> None:
    policy = _policy(FakeClock(), lambda: 0.75, backoff=1.0, max_backoff=30.0)
    assert [backoff_wait(n, policy) for n in (1, 2, 5, 6, 2000)] == [0.75, 1.5, 12.0, 22.5, 22.5]


def test_two_pipelines_failing_together_do_not_retry_in_lockstep() -> None:
    waits = []
    for seed in (1, 2):
        clock = FakeClock()
        _run(_failing(503), clock, _policy(clock, random.Random(seed).random))
        waits.append(clock.waits)
    assert len(waits[0]) == len(waits[1]) == 3
    assert all(a != b for a, b in zip(*waits, strict=True))
    for run in waits:
        assert all(0.0 <= w < bound for w, bound in zip(run, (0.5, 1.0, 2.0), strict=True))


def test_a_rate_limit_reset_is_waited_for_in_full_plus_a_spread() -> None:
    clock = FakeClock()
    _run(_failing(429, reset=7), clock, _policy(clock, _draws([0.4]), max_retries=1))
    assert clock.waits == pytest.approx([7.2])  # 7 + 0.4 * backoff 0.5


def test_the_spread_after_a_reset_stays_inside_the_deadline() -> None:
    # 9.4 s left, reset in 9: the spread is at most half of the 0.4 s after the reset.
    clock = FakeClock()
    policy = _policy(clock, _draws([0.99]), max_retries=1, deadline=9.4)
    _run(_failing(429, reset=9), clock, policy)
    assert clock.waits == pytest.approx([9.198])


def test_the_wait_for_a_reset_stays_capped() -> None:
    clock = FakeClock()
    policy = _policy(clock, _draws([0.99]), max_retries=1, max_wait=20.0, deadline=5000.0)
    _run(_failing(429, reset=1650), clock, policy)
    assert clock.waits == [20.0]


@settings(max_examples=60, deadline=None)
@given(
    draws=st.lists(
        st.floats(min_value=0.0, max_value=1.0, exclude_max=True), min_size=1, max_size=12
    ),
    deadline=st.floats(min_value=0.5, max_value=40.0),
    reset=st.one_of(st.none(), st.integers(min_value=0, max_value=30)),
)
def test_no_wait_runs_past_the_deadline(
    draws: list[float], deadline: float, reset: int | None
) -> None:
    clock = FakeClock()
    policy = _policy(
        clock, _draws(draws), max_retries=10, backoff=1.0, max_backoff=8.0, deadline=deadline
    )
    status = 503 if reset is None else 429
    message = _run(_failing(status, reset), clock, policy)
    assert sum(clock.waits) < deadline
    assert all(w >= 0 for w in clock.waits)
    if reset is not None:
        assert all(w >= reset for w in clock.waits)
    assert "deadline" in message or "attempts" in message


def test_the_source_draws_from_random_by_default_and_takes_another() -> None:
    assert DatadogSource(host="http://dd", api_key="k", app_key="a").retry_policy().jitter is (
        random.random
    )

    def fixed() -> float:
        return 0.25

    source = DatadogSource(host="http://dd", api_key="k", app_key="a", jitter=fixed)
    assert source.retry_policy().jitter is fixed
