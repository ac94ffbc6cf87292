"""FakeDatadog speaks Datadog's metric-query API: checked with plain HTTP, values by hand."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import pytest

from canarystats.testing import FakeDatadog, Fault

KEYS = {"DD-API-KEY": "k", "DD-APPLICATION-KEY": "a"}
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
T0_S = int(T0.timestamp())
T0_MS = T0_S * 1000
RECORDED = Path(__file__).resolve().parents[2].parent / "shared" / "datadog-recorded"


def _frame() -> pd.DataFrame:
    # canary: web-1 has 1, 2 at minutes 0, 1; web-2 has 3 at minute 0 only.
    # baseline: web-3 has 10 at minute 0, null at minute 1.
    rows = [
        ("m.lat", "canary", "web-1", T0, 1.0),
        ("m.lat", "canary", "web-1", T0 + timedelta(minutes=1), 2.0),
        ("m.lat", "canary", "web-2", T0, 3.0),
        ("m.lat", "baseline", "web-3", T0, 10.0),
        ("m.lat", "baseline", "web-3", T0 + timedelta(minutes=1), float("nan")),
    ]
    return pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])


def _request(
    fake: FakeDatadog,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, list[str]], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    payload = json.dumps(body).encode() if body is not None else None
    sent = dict(KEYS if headers is None else headers)
    if payload is not None:
        sent["Content-Type"] = "application/json"
    connection.request(method, path, body=payload, headers=sent)
    response = connection.getresponse()
    data = response.read()
    grouped: dict[str, list[str]] = {}
    for name, value in response.getheaders():
        grouped.setdefault(name.lower(), []).append(value)
    connection.close()
    return response.status, grouped, data


def _v1(fake: FakeDatadog, query: str, start: int = T0_S, end: int = T0_S + 600, **kw: Any) -> Any:
    path = "/api/v1/query?" + urlencode({"from": start, "to": end, "query": query})
    return _request(fake, "GET", path, **kw)


def _v2_body(*queries: str, start: int = T0_MS, end: int = T0_MS + 600_000) -> dict[str, Any]:
    return {
        "data": {
            "type": "timeseries_request",
            "attributes": {
                "from": start,
                "to": end,
                "interval": 60_000,
                "queries": [
                    {"data_source": "metrics", "query": q, "name": f"q{i}"}
                    for i, q in enumerate(queries)
                ],
            },
        }
    }


@pytest.fixture
def dd() -> Any:
    with FakeDatadog(_frame(), scopes={"role:canary": "canary", "role:baseline": "baseline"}) as f:
        yield f


def test_listens_on_loopback_only(dd: FakeDatadog) -> None:
    assert dd.url == f"http://127.0.0.1:{dd.port}"
    assert dd._server is not None and dd._server.server_address[0] == "127.0.0.1"


@pytest.mark.parametrize(
    "headers", [{}, {"DD-API-KEY": "k"}, {"DD-APPLICATION-KEY": "a"}, {"DD-API-KEY": ""}]
)
def test_both_key_headers_are_required(dd: FakeDatadog, headers: dict[str, str]) -> None:
    status, _headers, body = _v1(dd, "avg:m.lat{*}", headers=headers)
    assert status == 403
    assert json.loads(body) == {"errors": ["Forbidden"]}


def test_v1_takes_seconds_and_answers_milliseconds_grouped_by_host(dd: FakeDatadog) -> None:
    query = "avg:m.lat{role:canary} by {host}.rollup(avg,60)"
    status, headers, body = _v1(dd, query)
    assert status == 200 and headers["content-type"] == ["application/json"]
    answer = json.loads(body)
    assert answer["status"] == "ok" and answer["res_type"] == "time_series"
    assert (answer["from_date"], answer["to_date"]) == (T0_MS, T0_MS + 600_000)
    assert answer["group_by"] == ["host"] and answer["query"] == query
    by_host = {s["tag_set"][0]: s for s in answer["series"]}
    assert set(by_host) == {"host:web-1", "host:web-2"}
    web1 = by_host["host:web-1"]
    assert web1["pointlist"] == [[T0_MS, 1.0], [T0_MS + 60_000, 2.0]]
    assert web1["interval"] == 60  # seconds on v1
    assert web1["start"] == T0_MS and web1["end"] == T0_MS + 60_000 + 60_000 - 1000
    assert web1["length"] == 2 and web1["scope"] == "role:canary,host:web-1"
    assert web1["aggr"] == "avg" and web1["unit"] is None


def test_v1_space_aggregation_and_comma_joined_sub_queries(dd: FakeDatadog) -> None:
    query = "sum:m.lat{role:canary}.rollup(sum,60),avg:m.lat{role:canary}.rollup(avg,60)"
    answer = json.loads(_v1(dd, query)[2])
    summed, averaged = sorted(answer["series"], key=lambda s: s["query_index"])
    assert summed["pointlist"] == [[T0_MS, 4.0], [T0_MS + 60_000, 2.0]]  # 1 + 3, then 2
    assert averaged["pointlist"] == [[T0_MS, 2.0], [T0_MS + 60_000, 2.0]]  # mean(1, 3), then 2
    assert summed["tag_set"] == [] and summed["scope"] == "role:canary"


def test_v1_rollup_buckets_points_on_multiples_of_the_interval(dd: FakeDatadog) -> None:
    answer = json.loads(_v1(dd, "avg:m.lat{host:web-1}.rollup(sum,300)")[2])
    (series,) = answer["series"]
    assert series["pointlist"] == [[T0_MS, 3.0]]  # 1 + 2 in the 10:00 five-minute bucket
    assert series["interval"] == 300


def test_v1_missing_parameter_is_400(dd: FakeDatadog) -> None:
    status, _h, body = _request(dd, "GET", "/api/v1/query?from=1&query=x")
    assert status == 400 and "to" in json.loads(body)["errors"][0]


def test_v2_takes_milliseconds_and_answers_shared_times(dd: FakeDatadog) -> None:
    body = _v2_body("avg:m.lat{role:canary} by {host}", "avg:m.lat{role:baseline} by {host}")
    status, headers, raw = _request(dd, "POST", "/api/v2/query/timeseries", body)
    assert status == 200 and headers["content-type"] == ["application/vnd.api+json"]
    answer = json.loads(raw)
    assert answer["data"]["type"] == "timeseries_response" and answer["data"]["id"] == "0"
    attributes = answer["data"]["attributes"]
    assert attributes["times"] == [T0_MS, T0_MS + 60_000]
    assert all(isinstance(t, int) for t in attributes["times"])
    rows = {
        (s["query_index"], tuple(s["group_tags"])): v
        for s, v in zip(attributes["series"], attributes["values"], strict=True)
    }
    assert rows == {
        (0, ("host:web-1",)): [1.0, 2.0],
        (0, ("host:web-2",)): [3.0, None],  # web-2 has no point at 10:01
        (1, ("host:web-3",)): [10.0, None],  # web-3 sent null at 10:01
    }


def test_v2_omits_buckets_without_data(dd: FakeDatadog) -> None:
    answer = json.loads(
        _request(dd, "POST", "/api/v2/query/timeseries", _v2_body("avg:m.lat{host:web-2}"))[2]
    )
    assert answer["data"]["attributes"]["times"] == [T0_MS]


def test_v2_empty_result_has_datadogs_shape(dd: FakeDatadog) -> None:
    raw = _request(dd, "POST", "/api/v2/query/timeseries", _v2_body("avg:m.lat{role:nobody}"))[2]
    assert json.loads(raw)["data"]["attributes"] == {"series": [], "times": [], "values": []}


def test_v2_wrong_type_gets_datadogs_recorded_400(dd: FakeDatadog) -> None:
    body = _v2_body("avg:m.lat{*}")
    body["data"]["type"] = "timeseries_requestx"
    status, _h, raw = _request(dd, "POST", "/api/v2/query/timeseries", body)
    assert status == 400
    assert raw == (
        b'{"errors": ["API input validation failed: Invalid type. Expected '
        b'\\"timeseries_request\\"."]}'
    )


def test_v2_window_end_is_exclusive(dd: FakeDatadog) -> None:
    body = _v2_body("avg:m.lat{host:web-1}", end=T0_MS + 60_000)
    answer = json.loads(_request(dd, "POST", "/api/v2/query/timeseries", body)[2])
    assert answer["data"]["attributes"]["times"] == [T0_MS]


@pytest.mark.parametrize(
    ("filter_", "hosts"),
    [
        ("*", {"web-1", "web-2", "web-3"}),
        ("host:web-*", {"web-1", "web-2", "web-3"}),
        ("role:canary,!host:web-1", {"web-2"}),
        ("cohort:baseline", {"web-3"}),
        ("role:canary,host:web-3", set()),
    ],
)
def test_filters_select_rows_by_tags(dd: FakeDatadog, filter_: str, hosts: set[str]) -> None:
    answer = json.loads(_v1(dd, f"avg:m.lat{{{filter_}}} by {{host}}")[2])
    assert {s["tag_set"][0].split(":")[1] for s in answer["series"]} == hosts


def test_rate_limit_headers_count_down_and_throttle() -> None:
    with FakeDatadog(_frame(), rate_limit=2, rate_period=60) as fake:
        answers = [_v1(fake, "avg:m.lat{*}") for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 429]
    assert [a[1]["x-ratelimit-remaining"] for a in answers] == [["1"], ["0"], ["0"]]
    for _status, headers, _body in answers:
        assert headers["x-ratelimit-limit"] == ["2"] and headers["x-ratelimit-period"] == ["60"]
        assert 0 < int(headers["x-ratelimit-reset"][0]) <= 60
        assert headers["x-ratelimit-name"]


def test_faults_429_with_duplicated_reset_and_html(dd: FakeDatadog) -> None:
    dd.inject(Fault(status=429, reset=7, duplicate_reset=True))
    dd.inject(Fault(status=429, html=True))
    first = _v1(dd, "avg:m.lat{*}")
    second = _v1(dd, "avg:m.lat{*}")
    third = _v1(dd, "avg:m.lat{*}")
    assert first[0] == 429 and first[1]["x-ratelimit-reset"] == ["7", "7"]
    assert second[0] == 429 and second[1]["content-type"][0].startswith("text/html")
    assert second[2].startswith(b"<!DOCTYPE html>")
    assert third[0] == 200
    assert dd.requests == 3


def test_fault_matching_a_query_leaves_others_alone(dd: FakeDatadog) -> None:
    dd.inject(Fault(status=400, match="m.bad", times=None, errors=["nope"]))
    assert _v1(dd, "avg:m.lat{*}")[0] == 200
    status, _h, body = _v1(dd, "avg:m.bad{*}")
    assert status == 400 and json.loads(body) == {"errors": ["nope"]}


def test_truncated_answer_is_cut_json(dd: FakeDatadog) -> None:
    dd.inject(Fault(truncate=True))
    status, headers, body = _v1(dd, "avg:m.lat{*}")
    assert status == 200 and int(headers["content-length"][0]) == len(body)
    with pytest.raises(ValueError):
        json.loads(body)


def test_received_records_each_request(dd: FakeDatadog) -> None:
    _v1(dd, "avg:m.lat{*}", start=T0_S, end=T0_S + 60)
    _request(dd, "POST", "/api/v2/query/timeseries", _v2_body("avg:m.lat{*}", "sum:m.lat{*}"))
    first, second = dd.received
    assert (first.method, first.queries, first.start_ms, first.end_ms) == (
        "GET",
        ("avg:m.lat{*}",),
        T0_MS,
        T0_MS + 60_000,
    )
    assert second.queries == ("avg:m.lat{*}", "sum:m.lat{*}")
    assert second.interval_ms == 60_000


def test_metric_names_map_to_the_frames_metric_column() -> None:
    frame = _frame().assign(metric="request-latency")
    with FakeDatadog(
        frame, metrics={"trace.duration": "request-latency"}, units={"trace.duration": "second"}
    ) as fake:
        answer = json.loads(_v1(fake, "avg:trace.duration{host:web-1}")[2])
    (series,) = answer["series"]
    assert series["unit"][0]["name"] == "second" and series["unit"][1] is None


def test_replays_a_recorded_body_byte_for_byte() -> None:
    path = (
        RECORDED / "26_v2_timeseries_200_avg_datadog_estimated_usage_metrics_custom_2024-04-01.json"
    )
    if not path.is_file():
        pytest.skip("../shared/datadog-recorded absent")
    recording = json.loads(path.read_text(encoding="utf-8"))
    with FakeDatadog(recordings=[path]) as fake:
        status, headers, body = _request(
            fake, "POST", "/api/v2/query/timeseries", recording["request"]["body"]
        )
    assert status == 200
    assert body == recording["response"]["body_raw"].encode()
    assert headers["content-type"] == ["application/vnd.api+json"]


def test_unknown_path_is_404(dd: FakeDatadog) -> None:
    assert _request(dd, "GET", "/api/v1/nothing")[0] == 404


def test_the_library_does_not_import_the_fake_at_run_time() -> None:
    code = (
        "import sys, canarystats, canarystats.sources, canarystats.sources.datadog; "
        "sys.exit('canarystats.testing' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
