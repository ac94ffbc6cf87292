"""Which undeclared metrics are judged as counts: whole numbers, and sparse."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import series_frame

from canarystats.align import align_hosts
from canarystats.config import MetricConfig
from canarystats.kinds import count_rows, undeclared_counts

NAN = float("nan")


def _kind(values: list[float], *, declared: str = "auto") -> bool:
    """Whether metric m (one canary and one baseline host, these values each) is a count; the
    hosts also report cpu over the same minutes, so m's missing buckets are known-host gaps."""
    series = {
        "m": {("canary", "c"): values, ("baseline", "b"): values},
        "cpu": {("canary", "c"): [50.0] * 10, ("baseline", "b"): [50.0] * 10},
    }
    metrics = [MetricConfig("m", "q", kind=declared), MetricConfig("cpu", "q")]
    counts, inferred = count_rows(
        align_hosts(series_frame(series), metrics, fill_counts=False), metrics
    )
    assert not counts[1]  # cpu is a gauge
    assert inferred[0] == (counts[0] and declared == "auto")
    return bool(counts[0])


@pytest.mark.parametrize(
    ("values", "count"),
    [
        ([0, 0, 1, 0, 3, 0, 0, 2, 0, 0], True),  # many zeros
        ([1, NAN, NAN, 4, NAN, NAN, 2, NAN, NAN, 1], True),  # sparse: events only
        ([5, 6, 5, 7, 6, 5, 6, 7, 5, 6], False),  # dense whole numbers: a gauge is fine
        ([0, 0.5, 1, 0, 3, 0, 0, 2, 0, 0], False),  # not whole numbers
        ([0, -1, 1, 0, 3, 0, 0, 2, 0, 0], False),  # negative
        ([0, 1, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN], False),  # too few values to tell
    ],
)
def test_whole_sparse_values_are_a_count(values: list[float], count: bool) -> None:
    assert _kind([float(v) for v in values]) is count


def test_a_declared_kind_is_never_overruled() -> None:
    sparse = [0.0, 0, 1, 0, 3, 0, 0, 2, 0, 0]
    assert _kind(sparse, declared="gauge") is False
    assert _kind([5.0] * 10, declared="count") is True


def test_names_that_count_events_are_flagged_when_undeclared() -> None:
    ms = [
        MetricConfig("http.5xx", "sum:http.5xx{*}"),
        MetricConfig("jobs.failed", "avg:jobs.failed{*}", kind="count"),
        MetricConfig("latency", "avg:latency{*}"),
    ]
    assert [m.name for m in undeclared_counts(ms)] == ["http.5xx"]
    assert np.array_equal([m.kind for m in ms], ["auto", "count", "auto"])
