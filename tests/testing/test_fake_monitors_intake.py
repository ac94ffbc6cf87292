"""The fake Datadog's monitor endpoints and intake, spoken to over HTTP as Datadog is.

What each answer must look like comes from Datadog's API reference (monitor search results,
``group_states``, the intake's 202 and its API-key-only authentication).
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from canarystats.testing import FakeDatadog, Fault
from canarystats.testing.monitors import fake_monitor

KEYS = {"DD-API-KEY": "api", "DD-APPLICATION-KEY": "app"}


def _monitors() -> list[dict[str, Any]]:
    groups = {
        "host:web-1": {"status": "Alert", "triggered": 1773155280},
        "host:web-2": {"status": "OK", "triggered": 1773155000, "resolved": 1773155100},
    }
    return [
        fake_monitor(
            1,
            "Web 5xx high",
            "avg(last_5m):avg:e{service:web} by {host} > 5",
            groups=groups,
            tags=["service:web", "team:core"],
        ),
        fake_monitor(2, "DB disk", "avg(last_5m):avg:disk{service:db} > 90", tags=["service:db"]),
        fake_monitor(
            3, "Web logs", 'logs("x").last("5m") > 1', type="log alert", tags=["service:web"]
        ),
    ]


@pytest.fixture
def dd() -> Iterator[FakeDatadog]:
    with FakeDatadog(monitors=_monitors(), api_key="api", app_key="app") as fake:
        yield fake


def _call(
    dd: FakeDatadog, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(
        dd.url + path,
        data=body,
        headers=KEYS if headers is None else headers,
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("tag:service:web", [1, 3]),
        ('tag:"service:web" type:metric', [1]),
        ("service:web status:alert", [1]),
        ("disk", [2]),
        ("id:2", [2]),
        ("tag:team:none", []),
    ],
)
def test_the_monitor_search_matches_every_term(dd: FakeDatadog, query: str, ids: list[int]) -> None:
    status, body = _call(dd, "/api/v1/monitor/search?" + urllib.parse.urlencode({"query": query}))
    assert status == 200
    assert [m["id"] for m in body["monitors"]] == ids
    assert body["metadata"]["total_count"] == len(ids)


def test_a_search_is_paged(dd: FakeDatadog) -> None:
    _, first = _call(dd, "/api/v1/monitor/search?query=&page=0&per_page=2")
    _, second = _call(dd, "/api/v1/monitor/search?query=&page=1&per_page=2")
    assert [m["id"] for m in first["monitors"] + second["monitors"]] == [1, 2, 3]
    assert first["metadata"]["page_count"] == 2


def test_group_states_come_only_when_asked(dd: FakeDatadog) -> None:
    _, plain = _call(dd, "/api/v1/monitor/1")
    _, every = _call(dd, "/api/v1/monitor/1?group_states=all")
    _, alerting = _call(dd, "/api/v1/monitor/1?group_states=alert")
    assert plain["state"]["groups"] == {}
    assert sorted(every["state"]["groups"]) == ["host:web-1", "host:web-2"]
    assert every["state"]["groups"]["host:web-2"]["last_resolved_ts"] == 1773155100
    assert list(alerting["state"]["groups"]) == ["host:web-1"]
    assert every["overall_state"] == "Alert"


def test_an_unknown_monitor_is_datadogs_json_404(dd: FakeDatadog) -> None:
    assert _call(dd, "/api/v1/monitor/99") == (404, {"errors": ["Monitor not found"]})


def test_monitors_need_both_keys_and_intake_the_api_key_alone(dd: FakeDatadog) -> None:
    event = json.dumps({"title": "t", "text": "x"}).encode()
    assert _call(dd, "/api/v1/monitor/1", headers={"DD-API-KEY": "api"})[0] == 403
    status, body = _call(dd, "/api/v1/events", event, {"DD-API-KEY": "api"})
    assert status == 202 and body["event"]["id"] == 1
    assert _call(dd, "/api/v1/events", event, {"DD-API-KEY": "wrong"})[0] == 403
    assert len(dd.events) == 1


def test_the_intake_reads_compressed_series_and_keeps_what_it_accepted(dd: FakeDatadog) -> None:
    payload = {
        "series": [{"metric": "m", "type": 3, "points": [{"timestamp": 1773155280, "value": 1.5}]}]
    }
    headers = {"DD-API-KEY": "api", "Content-Encoding": "gzip"}
    status, _ = _call(dd, "/api/v2/series", gzip.compress(json.dumps(payload).encode()), headers)
    assert status == 202 and dd.series == payload["series"]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"title": "x" * 101, "text": ""}, "longer than 100"),
        ({"title": "t", "text": "x" * 4001}, "longer than 4000"),
        ({"text": "x"}, "title is required"),
        ({"title": "t", "text": "x", "alert_type": "panic"}, "Invalid alert_type"),
    ],
)
def test_an_event_datadog_would_refuse_is_400_and_not_kept(
    dd: FakeDatadog, event: dict[str, Any], message: str
) -> None:
    status, body = _call(dd, "/api/v1/events", json.dumps(event).encode(), {"DD-API-KEY": "api"})
    assert status == 400 and message in body["errors"][0]
    assert dd.events == []


def test_faults_reach_the_new_endpoints_by_match(dd: FakeDatadog) -> None:
    dd.inject(Fault(status=503, match="/api/v1/monitor/1"))
    assert _call(dd, "/api/v1/monitor/2")[0] == 200
    assert _call(dd, "/api/v1/monitor/1")[0] == 503
    dd.inject(Fault(status=500, match="/api/v1/events"))
    event = json.dumps({"title": "t", "text": "x"}).encode()
    assert _call(dd, "/api/v1/events", event, {"DD-API-KEY": "api"})[0] == 500
    assert dd.events == []
