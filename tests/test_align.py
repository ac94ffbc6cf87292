"""align_hosts: the tidy frame as ``(row, host, time)`` cubes per cohort, and their pooled rows."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from conftest import points_frame as frame
from hypothesis import given
from hypothesis import strategies as st

import canarystats.align as al
import canarystats.frame as fr
from canarystats.align import HostCubes, align_hosts
from canarystats.config import MetricConfig
from canarystats.errors import DataError

NAN = float("nan")


def metric(name: str, **kw: object) -> MetricConfig:
    return MetricConfig(name=name, query="q", **kw)  # type: ignore[arg-type]


def values(row: np.ndarray) -> list[float]:
    return [v for v in row.tolist() if not math.isnan(v)]


def pooled(f: pd.DataFrame, metrics: list[MetricConfig]) -> HostCubes:
    """The cubes as the kayenta method pools them: only the points the source returned."""
    return align_hosts(f, metrics, fill_counts=False)


def test_hosts_are_pooled_and_rows_follow_config_order() -> None:
    f = frame(
        [
            ("cpu", "canary", "b", 1, 4.0),
            ("cpu", "canary", "a", 0, 1.0),
            ("cpu", "canary", "a", 1, 2.0),
            ("cpu", "baseline", "c", 0, 9.0),
            ("mem", "baseline", "c", 0, 7.0),
            ("mem", "canary", "a", 0, 5.0),
            ("other", "canary", "a", 0, 100.0),  # not configured: ignored
        ]
    )
    c = pooled(f, [metric("mem"), metric("cpu")])
    assert c.names == ("mem", "cpu")
    assert values(c.pooled("canary")[0]) == [5.0]
    assert sorted(values(c.pooled("canary")[1])) == [1.0, 2.0, 4.0]
    assert values(c.pooled("baseline")[1]) == [9.0]


def test_absent_metric_gives_empty_rows() -> None:
    c = pooled(frame([("cpu", "canary", "", 0, 1.0)]), [metric("cpu"), metric("gone")])
    assert values(c.pooled("canary")[1]) == [] and values(c.pooled("baseline")[1]) == []
    assert values(c.pooled("baseline")[0]) == []
    assert c.canary_points.tolist() == [1, 0]


def test_nan_strategy_remove_and_replace() -> None:
    rows = [
        ("a", "canary", "", 0, float("nan")),
        ("a", "canary", "", 1, 3.0),
        ("b", "canary", "", 0, float("nan")),
        ("b", "canary", "", 1, 3.0),
    ]
    c = pooled(frame(rows), [metric("a"), metric("b", nan_strategy="replace")])
    assert values(c.pooled("canary")[0]) == [3.0]
    assert values(c.pooled("canary")[1]) == [0.0, 3.0]
    # points counted as received, nulls included
    assert c.canary_points.tolist() == [2, 2]


def test_empty_frame_with_columns() -> None:
    empty = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    c = align_hosts(empty, [metric("a")])
    assert np.isnan(c.pooled("canary")).all() and c.canary_points.tolist() == [0]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f.drop(columns=["value"]), "column 'value' is missing"),
        (lambda f: f.drop(columns=["cohort", "metric"]), "columns 'metric', 'cohort' are missing"),
        (lambda f: f.assign(cohort=["experiment"]), "column 'cohort' has value(s) 'experiment'"),
        (lambda f: f.assign(value=["high"]), "column 'value' has non-numeric cells"),
    ],
)
def test_frame_validation_names_the_column(
    mutate: Callable[[pd.DataFrame], pd.DataFrame], expected: str
) -> None:
    f = frame([("a", "canary", "", 0, 1.0)])
    with pytest.raises(DataError) as info:
        align_hosts(mutate(f), [metric("a")])
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["canary", "baseline"]),
            st.sampled_from(["h1", "h2"]),
            st.integers(0, 100),
            st.floats(-1e6, 1e6),
        ),
        max_size=40,
        # a tidy frame has one point per metric, cohort, host and timestamp
        unique_by=lambda r: r[:4],
    )
)
def test_pooling_keeps_each_cohorts_multiset(rows: list[tuple[str, str, str, int, float]]) -> None:
    c = pooled(frame(rows), [metric("a"), metric("b"), metric("c")])
    for i, name in enumerate("abc"):
        for cohort in ("canary", "baseline"):
            expected = sorted(r[4] for r in rows if r[0] == name and r[1] == cohort)
            assert sorted(values(c.pooled(cohort)[i])) == expected


def test_align_hosts_lays_points_on_the_union_grid_with_sorted_hosts() -> None:
    f = frame(
        [
            ("cpu", "canary", "z", 2, 3.0),
            ("cpu", "canary", "a", 0, 1.0),
            ("cpu", "baseline", "m", 1, 5.0),
            ("cpu", "baseline", "b", 0, 4.0),
            ("cpu", "canary", "a", 2, NAN),  # a null bucket the source returned
        ]
    )
    c = align_hosts(f, [MetricConfig("cpu", "q")])
    # grid: minutes 0, 1, 2 (union over both cohorts); hosts in name order whatever the input order
    assert c.canary_hosts == ("a", "z") and c.baseline_hosts == ("b", "m")
    np.testing.assert_array_equal(c.canary[0], [[1.0, NAN, NAN], [NAN, NAN, 3.0]])
    np.testing.assert_array_equal(c.baseline[0], [[4.0, NAN, NAN], [NAN, 5.0, NAN]])
    assert c.canary_points.tolist() == [3] and c.baseline_points.tolist() == [2]


def test_quiet_count_buckets_of_known_hosts_are_zero_and_unknown_hosts_stay_missing() -> None:
    f = frame(
        [
            ("requests", "baseline", "b1", 0, 10.0),
            ("requests", "baseline", "b1", 1, 12.0),
            ("requests", "baseline", "b2", 0, 9.0),
            ("errors", "baseline", "b2", 1, 2.0),
        ]
    )
    metrics = [
        MetricConfig("requests", "q", kind="count"),
        MetricConfig("errors", "q", kind="count"),
    ]
    c = align_hosts(f, metrics, known_hosts={"baseline": ["b3"]})
    assert c.baseline_hosts == ("b1", "b2", "b3")
    # b1 sent no error series at all: zero errors, as it is known from its requests; b3 is
    # listed by the caller, so its silence is zero events too.
    np.testing.assert_array_equal(c.baseline[1], [[0.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    # exposure of errors defaults to the buckets of each host
    assert c.exposure_totals(metrics, "baseline")[1].tolist() == [2.0, 2.0, 2.0]


def test_a_host_whose_every_point_is_null_is_not_known_and_its_counts_stay_missing() -> None:
    f = frame(
        [
            ("requests", "canary", "c1", 0, 10.0),
            ("errors", "canary", "c1", 1, 1.0),
            # c2's agent returned rows, but nothing in them: no evidence it served anything
            ("requests", "canary", "c2", 0, NAN),
            ("requests", "canary", "c2", 1, NAN),
            ("errors", "canary", "c2", 0, NAN),
        ]
    )
    metrics = [
        MetricConfig("requests", "q", kind="count"),
        MetricConfig("errors", "q", kind="count"),
    ]
    c = align_hosts(f, metrics)
    assert c.canary_hosts == ("c1", "c2")
    assert c.known("canary").tolist() == [[True, False], [True, False]]
    np.testing.assert_array_equal(c.canary[1], [[0.0, 1.0], [NAN, NAN]])
    # Listed by the caller, the same silent host is known: its silence is zero events.
    listed = align_hosts(f, metrics, known_hosts={"canary": ["c2"]})
    np.testing.assert_array_equal(listed.canary[1], [[0.0, 1.0], [0.0, 0.0]])


def test_gauges_keep_gaps_and_replace_only_returned_nulls() -> None:
    f = frame(
        [("g", "canary", "a", 0, NAN), ("g", "canary", "a", 2, 1.0), ("h", "canary", "a", 1, 5.0)]
    )
    c = align_hosts(f, [MetricConfig("g", "q", nan_strategy="replace"), MetricConfig("h", "q")])
    # minute 1 is a gap of g's series (not a returned null): it stays missing
    np.testing.assert_array_equal(c.canary[0, 0], [0.0, NAN, 1.0])


def test_metrics_with_another_step_get_their_own_grid_and_padding_is_never_filled() -> None:
    f = frame(
        [("fast", "canary", "a", t, 1.0) for t in range(4)]
        + [("slow", "canary", "a", 0, 3.0), ("slow", "canary", "a", 5, 0.0)]
    )
    metrics = [
        MetricConfig("fast", "q", step=60),
        MetricConfig("slow", "q", step=300, kind="count"),
    ]
    c = align_hosts(f, metrics)
    assert c.columns.tolist() == [4, 2]
    np.testing.assert_array_equal(c.canary[1, 0], [3.0, 0.0, NAN, NAN])


@given(st.permutations(list(range(6))))
def test_align_hosts_does_not_depend_on_row_order(order: list[int]) -> None:
    rows = [
        ("m", "canary", "h1", 0, 1.0),
        ("m", "canary", "h2", 1, 2.0),
        ("m", "baseline", "h3", 0, 3.0),
        ("m", "baseline", "h3", 2, 4.0),
        ("m", "baseline", "h4", 1, 5.0),
        ("m", "canary", "h1", 2, 6.0),
    ]
    ref = align_hosts(frame(rows), [MetricConfig("m", "q")])
    got = align_hosts(frame([rows[i] for i in order]), [MetricConfig("m", "q")])
    np.testing.assert_array_equal(got.canary, ref.canary)
    np.testing.assert_array_equal(got.baseline, ref.baseline)


def test_two_points_for_one_host_and_timestamp_are_a_data_error_naming_them() -> None:
    f = frame([("cpu", "canary", "a", 0, 1.0), ("cpu", "baseline", "a", 0, 2.0)] * 2)
    with pytest.raises(DataError, match=r"metric 'cpu' has two points for one canary host .*'a'"):
        align_hosts(f, [metric("cpu")])


@pytest.mark.parametrize("dtype", ["category", object])
def test_align_hosts_reads_categorical_and_object_text_columns_alike(dtype: object) -> None:
    rows = [
        ("m", "canary", "h1", 0, 1.0),
        ("m", "canary", "h2", 1, 2.0),
        ("m", "baseline", "h3", 0, 3.0),
        ("n", "baseline", "h4", 2, 5.0),
        ("other", "canary", "h1", 0, 9.0),
    ]
    metrics = [MetricConfig("m", "q"), MetricConfig("n", "q", kind="count")]
    ref = align_hosts(frame(rows), metrics)
    text = {"metric": dtype, "cohort": dtype, "host": dtype}
    got = align_hosts(frame(rows).astype(text), metrics)  # type: ignore[arg-type]
    np.testing.assert_array_equal(got.canary, ref.canary)
    np.testing.assert_array_equal(got.baseline, ref.baseline)
    assert got.canary_hosts == ref.canary_hosts == ("h1", "h2")
    assert got.baseline_hosts == ref.baseline_hosts == ("h3", "h4")


def test_a_missing_host_is_ungrouped_data() -> None:
    f = frame([("m", "canary", "", 0, 1.0), ("m", "canary", "", 1, 2.0)])
    f.loc[1, "host"] = None
    c = align_hosts(f, [MetricConfig("m", "q")])
    assert c.canary_hosts == ("",)
    np.testing.assert_array_equal(c.canary[0], [[1.0, 2.0]])


def test_align_hosts_in_chunks_equals_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    rows = [
        (f"m{i % 4}", ("canary", "baseline")[i % 2], f"h{i % 5}", i // 20, float(rng.normal()))
        for i in range(400)
    ]
    metrics = [MetricConfig(f"m{k}", "q", kind="count" if k == 3 else "gauge") for k in range(4)]
    whole = al.align_hosts(frame(rows), metrics)
    # many chunks, and the 32-bit encoding path
    monkeypatch.setattr(al, "CHUNK_ROWS", 7)
    monkeypatch.setattr(fr, "CHUNK_ROWS", 7)
    parts = al.align_hosts(frame(rows), metrics)
    np.testing.assert_array_equal(parts.canary, whole.canary)
    np.testing.assert_array_equal(parts.baseline, whole.baseline)
    assert parts.canary_points.tolist() == whole.canary_points.tolist()
