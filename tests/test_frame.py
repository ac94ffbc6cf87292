"""The tidy frame's one validator, its window, and the one atomic writer of every output."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import T0, points_frame
from hypothesis import example, given
from hypothesis import strategies as st

from canarystats.errors import DataError
from canarystats.frame import (
    TIDY_COLUMNS,
    cut_window,
    encode,
    frame_window,
    validate_frame,
    write_atomic,
)


def test_a_frame_in_canonical_dtypes_comes_back_unchanged_and_in_column_order() -> None:
    f = points_frame([("m", "canary", "h", 0, 1.0)]).assign(deploy="d1")
    out = validate_frame(f[["deploy", "value", "timestamp", "host", "cohort", "metric"]])
    assert list(out.columns) == [*TIDY_COLUMNS, "deploy"]
    expected = f[list(TIDY_COLUMNS)].astype({"timestamp": "datetime64[ns, UTC]"})
    pd.testing.assert_frame_equal(out[list(TIDY_COLUMNS)], expected)


def test_text_times_integers_and_empty_hosts_are_made_canonical() -> None:
    f = pd.DataFrame(
        {
            "metric": [500, 500],
            "cohort": ["canary", "baseline"],
            "host": [None, "b"],
            "timestamp": ["2026-01-01T01:00:00+01:00", "2026-01-01T00:01:00Z"],
            "value": [1, 2],
        }
    )
    out = validate_frame(f)
    assert out["metric"].tolist() == ["500", "500"] and out["host"].tolist() == ["", "b"]
    assert out["timestamp"].tolist() == [T0, T0 + pd.Timedelta(minutes=1)]
    assert out["value"].dtype == np.float64
    assert f["host"].isna().sum() == 1  # the caller's frame is not modified


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"cohort": ["control"]}, "column 'cohort' has value(s) 'control'"),
        ({"cohort": [None]}, "column 'cohort' has empty cells"),
        ({"metric": [None]}, "column 'metric' has empty cells"),
        ({"timestamp": [1.5e9]}, "column 'timestamp' holds numbers"),
        ({"timestamp": ["yesterday"]}, "not an ISO 8601 time"),
        ({"timestamp": [None]}, "column 'timestamp' has empty cells"),
        ({"value": ["fast"]}, "column 'value' has non-numeric cells"),
    ],
)
def test_bad_cells_are_one_line_naming_the_origin_and_the_column(
    change: dict[str, list[object]], words: str
) -> None:
    f = points_frame([("m", "canary", "h", 0, 1.0)]).assign(**change)
    with pytest.raises(DataError) as info:
        validate_frame(f, "run.csv")
    message = str(info.value)
    assert message.startswith("run.csv: ") and words in message and "\n" not in message


def test_not_a_frame_says_what_it_got() -> None:
    with pytest.raises(DataError, match=r"expected a pandas DataFrame .* got list"):
        validate_frame([1, 2])  # type: ignore[arg-type]


@given(st.lists(st.sampled_from(["a", "b", None, "c"]), max_size=30), st.integers(1, 5))
def test_encode_in_chunks_gives_the_values_back(values: list[str | None], chunk: int) -> None:
    import canarystats.frame as fr

    saved = fr.CHUNK_ROWS
    fr.CHUNK_ROWS = chunk
    try:
        codes, uniques = encode(pd.Series(values, dtype=object))
    finally:
        fr.CHUNK_ROWS = saved
    back = [None if k < 0 else uniques[k] for k in codes.tolist()]
    assert back == values


def test_window_of_a_frame_and_cutting_to_a_window() -> None:
    f = points_frame([("m", "canary", "h", t, float(t)) for t in range(10)])
    assert frame_window(f, 60) == (T0.to_pydatetime(), (T0 + pd.Timedelta(minutes=10)))
    assert frame_window(f.iloc[:0], 60) is None
    cut = cut_window(f, T0 + pd.Timedelta(minutes=2), T0 + pd.Timedelta(minutes=5))
    assert cut["value"].tolist() == [2.0, 3.0, 4.0] and cut.index.tolist() == [0, 1, 2]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_umasks_permissions(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        path = write_atomic(tmp_path / "report.txt", "ok\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_text() == "ok\n"


def test_bytes_and_writers_that_want_a_path(tmp_path: Path) -> None:
    assert write_atomic(tmp_path / "a.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    write_atomic(tmp_path / "b.txt", lambda p: p.write_text("from a writer"))
    assert (tmp_path / "b.txt").read_text() == "from a writer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def broken(path: Path) -> None:
        path.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(DataError, match=r"--history .*out.csv: cannot write it \(No space"):
        write_atomic(target, broken, flag="--history")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


@pytest.mark.parametrize("where", ["missing/out.txt", "."])
def test_a_path_that_cannot_be_a_file_is_a_data_error(tmp_path: Path, where: str) -> None:
    with pytest.raises(DataError, match="--output"):
        write_atomic(tmp_path / where, "x")


@given(
    st.sampled_from([10, 15, 60, 300]),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 0.4),
)
# Half the gauge points missing by chance: two-bucket gaps as common as one-bucket ones.
@example(step=10, seed=171978, dropped=0.390625)
def test_frame_spacing_is_the_bucket_of_the_gauges_whatever_a_sparse_count_skips(
    step: int, seed: int, dropped: float
) -> None:
    from canarystats.frame import frame_spacing

    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2026-01-01", periods=40, freq=f"{step}s", tz="UTC")
    rows = []
    for cohort, host in [("canary", "c1"), ("baseline", "b1"), ("baseline", "b2")]:
        keep = rng.random(len(stamps)) >= dropped  # an agent's hiccups
        rows += [("cpu", cohort, host, t, 1.0) for t in stamps[keep]]
        # A sparse count reports a bucket now and then, several buckets apart.
        rows += [("errors", cohort, host, t, 1.0) for t in stamps[rng.random(len(stamps)) < 0.1]]
    frame = pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])
    assert frame_spacing(frame.sample(frac=1.0, random_state=seed)) == step
    assert frame_spacing(frame.iloc[:1]) is None
