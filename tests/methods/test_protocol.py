"""A judging method is one class behind one protocol: a third one plugs in without touching the
judge, the score or the reports.

The method below is defined here, in the test: it fails a metric whose canary mean is more than
twice the baseline mean.  Registered, it is accepted by config validation, run by ``judge`` and
``judge_runs``, scored and rendered like the built-in methods.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import series_frame

from canarystats import judge, judge_runs, load_config
from canarystats.align import align_hosts
from canarystats.config import JudgeSettings, MetricConfig
from canarystats.errors import ConfigError
from canarystats.labels import Label, Verdict
from canarystats.methods import get_method, method_names, register, unregister
from canarystats.methods.base import (
    Evidence,
    JudgingMethod,
    MetricClassification,
    Samples,
    pooled_evidence,
)
from canarystats.report import render


class DoubledMean:
    """High when the canary mean is more than twice the baseline mean."""

    name = "doubled-mean"
    units = "points"

    def samples(
        self,
        frame: pd.DataFrame,
        metrics: Sequence[MetricConfig],
        settings: JudgeSettings,
        *,
        run: str | None,
        start: object,
    ) -> Samples:
        cubes = align_hosts(frame, metrics, run=run)
        return Samples(cubes, cubes.pooled("canary"), cubes.pooled("baseline"))

    def evidence(
        self, metrics: Sequence[MetricConfig], samples: Samples, settings: JudgeSettings
    ) -> Evidence:
        return Evidence(**pooled_evidence(samples))

    def classify(
        self, rows: Sequence[MetricConfig], evidence: Evidence, settings: JudgeSettings
    ) -> list[MetricClassification]:
        out = []
        for ratio in evidence.mean_ratio.tolist():
            high = ratio > 2.0
            out.append(
                MetricClassification(
                    Label.HIGH if high else Label.PASS,
                    False,
                    f"Canary mean is {ratio:.1f}x the baseline's.",
                    estimate=np.nan,
                    ci_low=np.nan,
                    ci_high=np.nan,
                    bound=2.0,
                    effect=ratio,
                    threshold_value=None,
                )
            )
        return out


@pytest.fixture
def doubled() -> Iterator[DoubledMean]:
    method = DoubledMean()
    register(method)
    yield method
    unregister(method.name)


def _frame(canary_level: float, run: str | None = None) -> pd.DataFrame:
    """Three hosts a cohort, host ``h`` at level + h, rising 0.1 a minute for 10 minutes."""
    frame = series_frame(
        {
            "latency": {
                (cohort, f"{cohort}-{h}"): [level + h + 0.1 * t for t in range(10)]
                for cohort, level in (("canary", canary_level), ("baseline", 10.0))
                for h in range(3)
            }
        }
    )
    if run is not None:
        frame["deploy"] = run
    return frame


def _config(method: str) -> Any:
    return load_config(
        {"name": "web", "judge": {"method": method}, "metrics": [{"name": "latency", "query": "q"}]}
    )


def test_a_method_defined_outside_the_package_is_judged_scored_and_reported(
    doubled: DoubledMean,
) -> None:
    assert isinstance(doubled, JudgingMethod)
    assert "doubled-mean" in method_names() and get_method("doubled-mean") is doubled
    config = _config("doubled-mean")
    bad, good = judge(config, _frame(30.0)), judge(config, _frame(11.0))
    assert bad.method == "doubled-mean" and bad.verdict == Verdict.FAIL
    assert bad.metric("latency").classification == Label.HIGH
    assert bad.metric("latency").units == "points"
    # means by hand: (30 + 1 + 0.45) / (10 + 1 + 0.45) = 2.747
    assert bad.metric("latency").reason == "Canary mean is 2.7x the baseline's."
    assert good.verdict == Verdict.PASS
    report = json.loads(render(bad, "json"))
    assert report["settings"]["method"] == "doubled-mean"
    assert report["metrics"][0]["classification"] == "High"
    runs = judge_runs(config, pd.concat([_frame(30.0, "a"), _frame(11.0, "b")]), run="deploy")
    assert {k: j.verdict for k, j in runs.items()} == {"a": "fail", "b": "pass"}


def test_an_unregistered_method_is_a_config_error_naming_the_choices() -> None:
    with pytest.raises(ConfigError, match="hosts") as info:
        _config("doubled-mean")
    assert "doubled-mean" in str(info.value)


def test_a_built_in_name_cannot_be_taken() -> None:
    class Impostor(DoubledMean):
        name = "hosts"

    with pytest.raises(ValueError, match="built-in"):
        register(Impostor())


@pytest.mark.parametrize("name", ["hosts", "kayenta"])
def test_the_built_in_methods_follow_the_protocol(name: str) -> None:
    method = get_method(name)
    assert isinstance(method, JudgingMethod) and method.name == name
