"""The tidy frame on disk: round trips, shape errors naming file and column, atomic writes."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canarystats.errors import DataError
from canarystats.frame import MAX_MAGNITUDE, validate_frame
from canarystats.sources import read_datadog_response, read_frame, write_frame

T0 = pd.Timestamp("2026-03-02T10:00:00Z")


def _frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "metric": ["latency", "latency", "errors", "errors"],
            "cohort": ["canary", "baseline", "canary", "baseline"],
            "host": ["web-1", "web-2", "", ""],
            "timestamp": [T0, T0, T0 + pd.Timedelta(minutes=1), T0 + pd.Timedelta(minutes=1)],
            "value": [0.125, 0.1, np.nan, 3.0],
        }
    )
    frame.attrs["units"] = {"latency": "second", "errors": None}
    return frame


def _pyarrow_or_skip(suffix: str) -> None:
    if suffix == ".parquet":
        pytest.importorskip("pyarrow", reason="Parquet needs the 'parquet' extra (pyarrow)")


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet", ".csv.gz", ".json.gz"])
def test_round_trip_keeps_every_row(tmp_path: Path, suffix: str) -> None:
    _pyarrow_or_skip(suffix)
    path = write_frame(_frame(), tmp_path / f"run{suffix}")
    back = read_frame(path)
    expected = validate_frame(_frame())
    pd.testing.assert_frame_equal(back, expected, check_dtype=True)
    assert str(back["timestamp"].dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
def test_units_survive_json_and_parquet(tmp_path: Path, suffix: str) -> None:
    _pyarrow_or_skip(suffix)
    back = read_frame(write_frame(_frame(), tmp_path / f"run{suffix}"))
    assert back.attrs["units"] == {"latency": "second", "errors": None}


def test_csv_is_the_documented_text(tmp_path: Path) -> None:
    path = write_frame(_frame(), tmp_path / "run.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == "metric,cohort,host,timestamp,value"
    assert lines[1] == "latency,canary,web-1,2026-03-02T10:00:00.000000Z,0.125"
    assert lines[3] == "errors,canary,,2026-03-02T10:01:00.000000Z,"  # NaN is an empty field


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_compressed_files_hold_the_same_text_gzipped(tmp_path: Path, suffix: str) -> None:
    plain = write_frame(_frame(), tmp_path / f"run{suffix}")
    packed = write_frame(_frame(), tmp_path / f"run{suffix}.GZ")  # suffixes in any case
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
    # the same frame gives the same bytes: no time stamp inside the gzip header
    again = write_frame(_frame(), tmp_path / f"again{suffix}.gz")
    assert again.read_bytes() == packed.read_bytes()


def test_reads_a_hand_compressed_csv(tmp_path: Path) -> None:
    path = tmp_path / "hand.csv.gz"
    path.write_bytes(
        gzip.compress(b"metric,cohort,timestamp,value\ncpu,canary,2026-03-02T10:00Z,1\n")
    )
    frame = read_frame(path)
    assert frame["value"].tolist() == [1.0] and frame["timestamp"].tolist() == [T0]


def test_reads_a_hand_written_csv(tmp_path: Path) -> None:
    path = tmp_path / "hand.csv"
    path.write_text(
        "metric,cohort,timestamp,value\n"
        "cpu,canary,2026-03-02T10:00:00Z,1\n"
        "cpu,baseline,2026-03-02T11:00:00+01:00,\n"
    )
    frame = read_frame(path)
    assert frame["host"].tolist() == ["", ""]
    assert frame["timestamp"].tolist() == [T0, T0]  # 11:00+01:00 is 10:00 UTC
    assert frame["value"].iloc[0] == 1.0 and np.isnan(frame["value"].iloc[1])


def test_reads_the_shipped_fixture() -> None:
    path = Path(__file__).resolve().parents[2] / "fixtures" / "healthy-deploy.csv"
    if not path.is_file():
        pytest.skip("fixtures/healthy-deploy.csv absent")
    frame = read_frame(path)
    assert set(frame["cohort"]) == {"canary", "baseline"}
    assert len(frame) == sum(1 for _ in path.open()) - 1


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("metric,cohort,host,value\nm,canary,h,1\n", "'timestamp' is missing"),
        ("metric,cohort,host,timestamp,value\nm,control,h,2026-03-02T10:00:00Z,1\n", "'cohort'"),
        ("metric,cohort,host,timestamp,value\nm,canary,h,yesterday,1\n", "'timestamp'"),
        ("metric,cohort,host,timestamp,value\nm,canary,h,2026-03-02T10:00:00Z,fast\n", "'value'"),
        ("metric,cohort,host,timestamp,value\nm,canary,h,1772445600,1\n", "'timestamp'"),
    ],
)
def test_shape_errors_name_the_file_and_the_column(tmp_path: Path, text: str, column: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        read_frame(path)
    message = str(info.value)
    assert str(path) in message and column in message and "\n" not in message


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("run.xlsx", "x", "unknown file type '.xlsx'"),
        ("run.parquet.gz", "x", r"unknown file type '\.parquet\.gz'.*\.csv\.gz"),
        ("run.gz", "x", "unknown file type '.gz'"),
        ("run.csv.gz", "metric,cohort", "cannot be read as gzip-compressed csv: Not a gzipped"),
        ("run.json", "{not json", "cannot be read as json"),
        ("run.json", '{"rows": []}', "'points'"),
        ("run.json", '"text"', "list of points"),
    ],
)
def test_unreadable_files_are_data_errors(
    tmp_path: Path, name: str, content: str, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=fragment):
        read_frame(path)


@pytest.mark.parametrize("suffix", [".csv.gz", ".json.gz"])
def test_a_truncated_compressed_file_is_a_data_error(tmp_path: Path, suffix: str) -> None:
    whole = write_frame(_frame(), tmp_path / f"run{suffix}").read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole[: len(whole) // 2])  # a download that stopped half-way
    with pytest.raises(DataError) as info:
        read_frame(cut)
    message = str(info.value)
    assert message.startswith(f"{cut}: cannot be read as gzip-compressed")
    assert "\n" not in message


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_frame(tmp_path / "nothing.csv")


def test_parquet_without_pyarrow_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: object, **kwargs: object) -> object:
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(DataError, match=r"pip install pyarrow"):
        write_frame(_frame(), tmp_path / "run.parquet")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.csv"
    path.write_text("old contents\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(DataError, match="disk full"):
        write_frame(_frame(), path)
    assert path.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run.csv"]


def test_an_invalid_frame_is_not_written(tmp_path: Path) -> None:
    frame = _frame().assign(cohort="control")
    with pytest.raises(DataError, match="'cohort'"):
        write_frame(frame, tmp_path / "run.csv")
    assert list(tmp_path.iterdir()) == []


_cells = st.lists(
    st.tuples(
        st.sampled_from(["latency", "errors", "cpu user", "a,b"]),
        st.sampled_from(["canary", "baseline"]),
        st.sampled_from(["", "web-1", "host:a,env:prod"]),
        st.integers(min_value=0, max_value=10**6),
        st.one_of(st.none(), st.floats(-MAX_MAGNITUDE, MAX_MAGNITUDE, width=64)),
    ),
    max_size=20,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=_cells, suffix=st.sampled_from([".csv", ".json"]))
def test_any_tidy_frame_survives_a_round_trip(
    tmp_path: Path, cells: list[tuple[str, str, str, int, float | None]], suffix: str
) -> None:
    frame = pd.DataFrame(
        {
            "metric": [c[0] for c in cells],
            "cohort": [c[1] for c in cells],
            "host": [c[2] for c in cells],
            "timestamp": [T0 + pd.Timedelta(seconds=c[3]) for c in cells],
            "value": [np.nan if c[4] is None else c[4] for c in cells],
        }
    )
    back = read_frame(write_frame(frame, tmp_path / f"prop{suffix}"))
    expected = validate_frame(frame)
    assert back["metric"].tolist() == expected["metric"].tolist()
    assert back["host"].tolist() == expected["host"].tolist()
    assert back["timestamp"].tolist() == expected["timestamp"].tolist()
    np.testing.assert_array_equal(back["value"].to_numpy(), expected["value"].to_numpy())


# --------------------------------------------------------------------------- saved answers


V1_BODY = {
    "status": "ok",
    "group_by": ["host"],
    "series": [
        {
            "tag_set": ["host:web-1"],
            "query_index": 0,
            "interval": 60,
            "unit": [{"name": "byte"}, {"name": "second"}],
            "pointlist": [[1772445600000.0, 5], [1772445660000, None]],
        }
    ],
}


def test_saved_v1_answer_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(V1_BODY))
    frame = read_datadog_response(path, metric="bytes", cohort="baseline")
    assert frame["host"].tolist() == ["web-1", "web-1"]
    assert frame["cohort"].tolist() == ["baseline", "baseline"]
    assert frame["timestamp"].tolist() == [T0, T0 + pd.Timedelta(minutes=1)]
    assert frame["value"].iloc[0] == 5.0 and np.isnan(frame["value"].iloc[1])
    assert frame.attrs["units"] == {"bytes": "byte/second"}


def test_saved_v2_answer_from_text_and_dict() -> None:
    body = {
        "data": {
            "attributes": {
                "series": [
                    {"group_tags": ["host:a", "zone:z"], "query_index": 0, "unit": None},
                    {"group_tags": [], "query_index": 1, "unit": None},
                ],
                "times": [1772445600000, 1772445720000],
                "values": [[1, None], [None, 2.5]],
            }
        }
    }
    for source in (body, json.dumps(body), json.dumps(body).encode()):
        frame = read_datadog_response(source, metric="m")
        assert frame["host"].tolist() == ["host:a,zone:z", "host:a,zone:z", "", ""]
        assert frame["value"].dropna().tolist() == [1.0, 2.5]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('{"errors": ["Forbidden"]}', "Forbidden"),
        ('{"hello": 1}', "neither"),
        ("{", "not valid JSON"),
        ('{"data": {"attributes": {"series": [{}], "times": [], "values": []}}}', "series"),
    ],
)
def test_bad_saved_answers_are_data_errors(body: str, fragment: str) -> None:
    with pytest.raises(DataError, match=fragment):
        read_datadog_response(body, metric="m")
