"""Real Datadog answers, replayed by FakeDatadog, come out of the source point for point.

Every recorded 200 answer of ``GET /api/v1/query`` and ``POST /api/v2/query/timeseries`` in
``../shared/datadog-recorded`` is served by :class:`FakeDatadog` and fetched by
:class:`DatadogSource` through the real client.  The expected rows are read straight from the
recorded JSON here; the source must give exactly its non-null points (as UTC timestamps), its
groups as ``host``, and a NaN row for each null.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from canarystats.sources import DatadogSource, MetricQuery, read_datadog_response
from canarystats.testing import FakeDatadog

RECORDED = Path(__file__).resolve().parents[2] / ".." / "shared" / "datadog-recorded"
ENDPOINTS = {"/api/v1/query": "v1", "/api/v2/query/timeseries": "v2"}


def _recorded_files() -> list[Any]:
    index = RECORDED / "index.json"
    if not index.is_file():
        return [
            pytest.param(None, marks=pytest.mark.skip(reason="../shared/datadog-recorded absent"))
        ]
    entries = json.loads(index.read_text(encoding="utf-8"))["recordings"]
    return [e["file"] for e in entries if e["endpoint"] in ENDPOINTS and e["status"] == 200]


def _expected_host(tags: list[str]) -> str:
    # The documented rule: one group tag gives its value, several keep "key:value" joined by ",".
    if len(tags) == 1:
        return tags[0].split(":", 1)[1]
    return ",".join(tags)


def _expected_points(body: dict[str, Any]) -> tuple[set[tuple[str, int, float]], dict[str, int]]:
    """(host, epoch ms, value) of every non-null point, and nulls per host, read by hand."""
    points: set[tuple[str, int, float]] = set()
    nulls: dict[str, int] = {}
    if "data" in body:
        attributes = body["data"]["attributes"]
        for series, row in zip(attributes["series"], attributes["values"], strict=True):
            host = _expected_host(series["group_tags"])
            for stamp, value in zip(attributes["times"], row, strict=True):
                if value is None:
                    nulls[host] = nulls.get(host, 0) + 1
                else:
                    points.add((host, int(stamp), float(value)))
        return points, nulls
    for series in body["series"]:
        tags = series.get("tag_set")
        if tags is None:  # the 2020-02 recording has no tag_set: the group is in the scope
            tags = [t for t in series["scope"].split(",") if t.split(":")[0] in body["group_by"]]
        host = _expected_host(tags)
        for stamp, value in series["pointlist"]:
            if value is None:
                nulls[host] = nulls.get(host, 0) + 1
            else:
                points.add((host, int(stamp), float(value)))
    return points, nulls


def _window(recording: dict[str, Any]) -> tuple[datetime, datetime, str]:
    request = recording["request"]
    if recording["endpoint"] == "/api/v1/query":
        params = request["query_params"]
        start = datetime.fromtimestamp(int(params["from"]), UTC)
        end = datetime.fromtimestamp(int(params["to"]), UTC)
        return start, end, params["query"]
    attributes = request["body"]["data"]["attributes"]
    start = datetime.fromtimestamp(attributes["from"] / 1000, UTC)
    end = datetime.fromtimestamp(attributes["to"] / 1000, UTC)
    query = attributes["queries"][0].get("query")
    if attributes["queries"][0].get("data_source") != "metrics" or not isinstance(query, str):
        query = "avg:replayed.metric{*}"  # other data sources: the answer's shape is the same
    return start, end, query


@pytest.mark.parametrize("name", _recorded_files())
def test_recorded_answer_becomes_the_tidy_frame(name: str) -> None:
    recording = json.loads((RECORDED / name).read_text(encoding="utf-8"))
    api = ENDPOINTS[recording["endpoint"]]
    start, end, query = _window(recording)
    with FakeDatadog(recordings=[recording]) as dd:
        source = DatadogSource(
            host=dd.url,
            api_key="dd-api-KEY-SECRET-123",
            app_key="dd-app-KEY-SECRET-456",
            api=api,
            trim=False,
            allow_empty=True,
        )
        frame = source.fetch([MetricQuery("m", query)], {"canary": "*"}, start, end)
        sent = dd.received[0]
    # the request carried the recorded window, in seconds on v1 and milliseconds on v2
    if api == "v1":
        params = recording["request"]["query_params"]
        assert (sent.start_ms, sent.end_ms) == (
            int(params["from"]) * 1000,
            int(params["to"]) * 1000,
        )
    else:
        attributes = recording["request"]["body"]["data"]["attributes"]
        assert (sent.start_ms, sent.end_ms) == (attributes["from"], attributes["to"])
    assert frame.attrs["requests"] == 1

    points, nulls = _expected_points(recording["response"]["body"])
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame["value"].dtype == np.float64
    present = frame.dropna(subset=["value"])
    got = {
        (host, int(stamp.value // 1_000_000), value)
        for host, stamp, value in zip(
            present["host"], present["timestamp"], present["value"], strict=True
        )
    }
    assert got == points
    assert len(present) == len(points)  # no point twice
    assert (
        frame["value"].isna().groupby(frame["host"]).sum().loc[lambda s: s > 0].to_dict() == nulls
    )
    assert set(frame["metric"]) <= {"m"} and set(frame["cohort"]) <= {"canary"}


@pytest.mark.parametrize("name", _recorded_files())
def test_saved_answer_reads_the_same_as_the_fetched_one(name: str) -> None:
    recording = json.loads((RECORDED / name).read_text(encoding="utf-8"))
    frame = read_datadog_response(recording["response"]["body_raw"], metric="m", cohort="baseline")
    points, _nulls = _expected_points(recording["response"]["body"])
    present = frame.dropna(subset=["value"])
    assert {
        (h, int(t.value // 1_000_000), v)
        for h, t, v in zip(present["host"], present["timestamp"], present["value"], strict=True)
    } == points
    assert set(frame["cohort"]) <= {"baseline"}


def test_recorded_units_are_kept() -> None:
    path = RECORDED / "20_v1_query_200_system_cpu_idle_2022-01-06.json"
    if not path.is_file():
        pytest.skip("../shared/datadog-recorded absent")
    recording = json.loads(path.read_text(encoding="utf-8"))
    frame = read_datadog_response(recording["response"]["body_raw"], metric="idle")
    assert frame.attrs["units"] == {"idle": "percent"}
    # int timestamps in this recording; 288 five-minute points from 2022-01-05 00:55 UTC
    assert len(frame) == 288
    assert frame["timestamp"].iloc[0] == pd.Timestamp(1641344100000, unit="ms", tz="UTC")
