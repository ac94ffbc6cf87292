"""Builders of tidy frames and configs that many tests share (``from conftest import ...``).

Every builder returns plain data from plain arguments, so a test shows its input in full:

* ``series_frame({metric: {(cohort, host): values}})`` -- one point a minute from ``T0``;
* ``points_frame([(metric, cohort, host, minute, value), ...])`` -- points one by one;
* ``levels_frame({host: (cohort, level)})`` -- hosts holding a level (a small wobble on top);
* ``make_config(*metric_dicts, **top)`` -- a validated config named ``web``.

Paths to the repository and to the data beside it (``../shared``) are fixtures too; tests that
read ``../shared`` skip with a reason where it is absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from canarystats.config import CanaryConfig, load_config

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
T0 = pd.Timestamp("2026-01-01", tz="UTC")


def series_frame(
    series: Mapping[str, Mapping[tuple[str, str], Sequence[float]]],
    *,
    start: pd.Timestamp = T0,
    step_s: int = 60,
) -> pd.DataFrame:
    """``{metric: {(cohort, host): values}}`` as a tidy frame, one point every ``step_s``."""
    metric: list[str] = []
    cohort: list[str] = []
    host: list[str] = []
    offsets: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for name, hosts in series.items():
        for (side, host_name), points in hosts.items():
            n = len(points)
            metric += [name] * n
            cohort += [side] * n
            host += [host_name] * n
            offsets.append(np.arange(n) * step_s)
            values.append(np.asarray(points, dtype=np.float64))
    seconds = np.concatenate(offsets) if offsets else np.zeros(0, dtype=np.int64)
    return pd.DataFrame(
        {
            "metric": metric,
            "cohort": cohort,
            "host": host,
            "timestamp": start + pd.to_timedelta(seconds, unit="s"),
            "value": np.concatenate(values) if values else np.zeros(0),
        }
    )


def points_frame(rows: Iterable[tuple[str, str, str, int, float]]) -> pd.DataFrame:
    """``(metric, cohort, host, minute, value)`` rows as a tidy frame (minutes from ``T0``)."""
    rows = list(rows)
    return pd.DataFrame(
        {
            "metric": [r[0] for r in rows],
            "cohort": [r[1] for r in rows],
            "host": [r[2] for r in rows],
            "timestamp": [T0 + pd.Timedelta(minutes=r[3]) for r in rows],
            "value": [float(r[4]) for r in rows],
        }
    )


def levels_frame(
    levels: Mapping[str, tuple[str, float]],
    *,
    metric: str = "latency",
    minutes: int = 10,
    wobble: float = 0.0,
) -> pd.DataFrame:
    """Hosts holding a level: ``{host: (cohort, level)}``; ``wobble`` is added every other minute.

    A host's mean is its level plus ``wobble * (minutes // 2) / minutes``.
    """
    return series_frame(
        {
            metric: {
                (cohort, host): [level + wobble * (t % 2) for t in range(minutes)]
                for host, (cohort, level) in levels.items()
            }
        }
    )


def make_config(*metrics: Mapping[str, Any], **top: Any) -> CanaryConfig:
    """A config named ``web`` with these metrics (each needs ``name``; ``query`` defaults)."""
    listed = [{"query": f"avg:{m['name']}{{$scope}} by {{host}}", **m} for m in metrics]
    return load_config({"name": "web", "metrics": listed, **top})


class FakeClock:
    """Monotonic time that only moves when the caller sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder."""
    return ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the repository; tests using it skip where it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared (data beside the repository) is absent")
    return SHARED
