"""The ``sequential`` section of a config: the plan, and one line naming the key for bad input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canarystats.config import load_config
from canarystats.config.sequential import MAX_LOOKS, SequentialPlan
from canarystats.errors import ConfigError

METRIC = {"name": "m", "query": "avg:m{$scope} by {host}"}


def _load(plan: Any, **metric: Any) -> Any:
    return load_config({"name": "c", "sequential": plan, "metrics": [dict(METRIC, **metric)]})


def test_a_plan_with_every_key() -> None:
    cfg = _load(
        {
            "horizon": "1h",
            "look_every": "10m",
            "min_duration": "15m",
            "spending": "pocock",
            "pass_alpha": 0.05,
            "count_tolerance": 1.5,
        },
        sequential={"min_duration": "20m"},
    )
    assert cfg.sequential == SequentialPlan(3600, 600, 900, "pocock", 0.05, 1.5)
    assert cfg.sequential.look_times() == (600, 1200, 1800, 2400, 3000, 3600)
    assert cfg.metrics[0].min_duration == 1200


def test_defaults_and_no_plan() -> None:
    assert _load({}).sequential == SequentialPlan()
    assert load_config({"name": "c", "metrics": [METRIC]}).sequential is None


@pytest.mark.parametrize(
    ("plan", "key", "hint"),
    [
        ({"horizon": "0m"}, "sequential.horizon", "longer than 0"),
        ({"look_every": "40m"}, "sequential.look_every", "longer than the horizon"),
        ({"horizon": "10h", "look_every": "1m"}, "sequential.look_every", f"{MAX_LOOKS} looks"),
        ({"min_duration": "2h"}, "sequential.min_duration", "longer than the horizon"),
        ({"spending": "haybittle"}, "sequential.spending", "obrien-fleming"),
        ({"pass_alpha": 0.7}, "sequential.pass_alpha", ""),
        ({"count_tolerance": 1.0}, "sequential.count_tolerance", ""),
        ({"horizon": "soon"}, "sequential.horizon", ""),
        ({"lookevery": "5m"}, "sequential", "lookevery"),
        ("30m", "sequential", "mapping"),
    ],
)
def test_a_bad_plan_is_one_line_naming_its_key(plan: Any, key: str, hint: str) -> None:
    with pytest.raises(ConfigError) as err:
        _load(plan)
    text = str(err.value)
    assert "\n" not in text and key in text and hint in text


def test_a_metric_may_only_set_its_min_duration() -> None:
    with pytest.raises(ConfigError, match=r"metrics\[0\]\.sequential"):
        _load({}, sequential={"horizon": "5m"})


durations = st.one_of(
    st.integers(-5, 100_000),
    st.from_regex(r"\A[0-9]{1,4}(s|m|h)\Z"),
    st.text(max_size=8),
    st.none(),
    st.floats(allow_nan=True),
)


@settings(max_examples=150, deadline=None)
@given(
    plan=st.dictionaries(
        st.sampled_from(
            ["horizon", "look_every", "min_duration", "spending", "pass_alpha", "count_tolerance"]
        ),
        st.one_of(durations, st.sampled_from(["pocock", "obrien-fleming"])),
    )
)
def test_any_plan_is_a_valid_plan_or_one_config_error(plan: dict[str, Any]) -> None:
    try:
        cfg = _load(plan)
    except ConfigError as exc:
        assert "\n" not in str(exc) and "sequential" in str(exc)
        return
    p = cfg.sequential
    times = p.look_times()
    assert 1 <= len(times) <= MAX_LOOKS and times[-1] == p.horizon
    assert all(b - a >= p.look_every / 4 for a, b in zip((0, *times), times, strict=False))
    assert 0 <= p.min_duration <= p.horizon


def test_the_plan_offers_exactly_the_spendings_the_kernel_has() -> None:
    from canarystats.config.sequential import SPENDINGS
    from canarystats.stats.sequential import SPENDINGS as KERNEL

    assert SPENDINGS == KERNEL
