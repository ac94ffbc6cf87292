"""The methods a config may name come from the methods registry, read when a config is loaded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from canarystats.config import load_config
from canarystats.errors import ConfigError
from canarystats.methods import registry


@dataclass(frozen=True)
class StandIn:
    """Just enough of a judging method for config validation, which reads only its name."""

    name: str


def config(method: str) -> dict[str, Any]:
    return {
        "name": "web",
        "judge": {"method": method},
        "metrics": [{"name": "cpu", "query": "avg:cpu{$scope}"}],
    }


@pytest.fixture
def bayes() -> Iterator[str]:
    registry.register(StandIn("bayes"))  # type: ignore[arg-type]
    yield "bayes"
    registry.unregister("bayes")


def test_a_method_registered_at_run_time_is_accepted(bayes: str) -> None:
    assert load_config(config(bayes)).judge.method == "bayes"


def test_a_registered_method_is_accepted_as_a_judge_override(bayes: str) -> None:
    cfg = load_config(config("hosts"))
    assert cfg.with_judge(method=bayes).judge.method == "bayes"


def test_an_unknown_method_names_the_built_in_methods() -> None:
    with pytest.raises(ConfigError) as error:
        load_config(config("bayes"))
    assert str(error.value) == (
        "<config>: judge.method: a string ('bayes') is not allowed; use one of hosts, kayenta"
    )


def test_an_unknown_method_names_the_registered_ones_too(bayes: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(config("frequentist"))
    assert str(error.value).endswith("use one of hosts, kayenta, bayes")


def test_an_unregistered_method_is_refused_again() -> None:
    registry.register(StandIn("bayes"))  # type: ignore[arg-type]
    registry.unregister("bayes")
    with pytest.raises(ConfigError, match=r"use one of hosts, kayenta$"):
        load_config(config("bayes"))
