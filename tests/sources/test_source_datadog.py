"""DatadogSource against FakeDatadog: the tidy frame, the requests it takes, the window it uses.

The real ``datadog-api-client`` talks HTTP to :class:`FakeDatadog` on 127.0.0.1.  Expected
frames are built in each test from the data handed to the fake.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from canarystats.errors import ConfigError, SourceError
from canarystats.sources import DatadogSource, MetricQuery, Source, read_frame
from canarystats.testing import FakeDatadog

API_KEY = "dd-api-KEY-SECRET-123"
APP_KEY = "dd-app-KEY-SECRET-456"
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SCOPES = {"canary": "role:canary", "baseline": "role:baseline"}
TAGS = {"role:canary": "canary", "role:baseline": "baseline"}
HOSTS = {"canary": ["c-1", "c-2", "c-3"], "baseline": ["b-1", "b-2", "b-3"]}
REPO = Path(__file__).resolve().parents[2]


def _generated(minutes: int = 30, seed: int = 7) -> pd.DataFrame:
    """Two cohorts x three hosts, one point a minute, some null buckets."""
    rng = np.random.default_rng(seed)
    rows = []
    for cohort, hosts in HOSTS.items():
        for host in hosts:
            for minute in range(minutes):
                stamp = START + timedelta(minutes=minute)
                latency = rng.normal(120.0 if cohort == "canary" else 100.0, 5.0)
                rows.append(("app.latency", cohort, host, stamp, latency))
                rows.append(("app.errors", cohort, host, stamp, float(rng.poisson(2.0))))
                rows.append(("system.cpu.user", cohort, host, stamp, rng.uniform(20, 40)))
    frame = pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])
    frame.loc[frame.index % 37 == 5, "value"] = np.nan
    return frame


QUERIES = [
    MetricQuery("latency", "avg:app.latency{$scope} by {host}"),
    MetricQuery("errors", "sum:app.errors{$scope}.as_count()", kind="count"),
    MetricQuery("cpu", "avg:system.cpu.user{$scope} by {host}"),
]
NAMES = {"latency": "app.latency", "errors": "app.errors", "cpu": "system.cpu.user"}


def _source(url: str, **options: object) -> DatadogSource:
    return DatadogSource(host=url, api_key=API_KEY, app_key=APP_KEY, **options)  # type: ignore[arg-type]


def _key(frame: pd.DataFrame) -> pd.DataFrame:
    return (
        frame[["metric", "cohort", "host", "timestamp", "value"]]
        .sort_values(["metric", "cohort", "host", "timestamp"])
        .reset_index(drop=True)
    )


def _expected(data: pd.DataFrame, end: datetime) -> pd.DataFrame:
    """What the three QUERIES must return: grouped metrics as they are, errors summed per minute."""
    data = data[data["timestamp"] < end]
    parts = []
    for name in ("latency", "cpu"):
        part = data[data["metric"] == NAMES[name]].assign(metric=name)
        parts.append(part)
    errors = data[data["metric"] == "app.errors"]
    # sum over the cohort's hosts per minute; a minute where every host is null stays null
    summed = errors.groupby(["cohort", "timestamp"])["value"].agg(
        lambda v: v.sum() if v.notna().any() else np.nan
    )
    parts.append(summed.reset_index().assign(metric="errors", host=""))
    out = pd.concat(parts, ignore_index=True)
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    return _key(out)


@pytest.mark.parametrize(("api", "requests"), [("v2", 1), ("v1", 3)])
def test_fetch_of_a_generated_two_cohort_data_set(api: str, requests: int) -> None:
    data = _generated()
    end = START + timedelta(minutes=30)
    with FakeDatadog(data, scopes=TAGS, units={"app.latency": "millisecond"}) as dd:
        frame = _source(dd.url, api=api).fetch(QUERIES, SCOPES, START, end)
        assert dd.requests == requests
    assert frame.attrs["requests"] == requests  # at most one per metric; v2 batches them all
    assert frame.attrs["units"] == {"latency": "millisecond", "errors": None, "cpu": None}
    assert frame.attrs["window"] == (START, end)
    pd.testing.assert_frame_equal(_key(frame), _expected(data, end), check_dtype=True)


def test_v2_batches_at_most_max_queries_per_request() -> None:
    data = _generated(minutes=5)
    with FakeDatadog(data, scopes=TAGS) as dd:
        frame = _source(dd.url, max_queries=4).fetch(
            QUERIES, SCOPES, START, START + timedelta(minutes=5)
        )
        sizes = [len(r.queries) for r in dd.received]
    assert sizes == [4, 2]  # two metrics x two cohorts, then the third metric
    assert frame.attrs["requests"] == 2


def test_both_cohorts_of_a_metric_share_one_request() -> None:
    data = _generated(minutes=5)
    with FakeDatadog(data, scopes=TAGS) as dd:
        _source(dd.url, max_queries=2).fetch(QUERIES, SCOPES, START, START + timedelta(minutes=5))
        sent = [r.queries for r in dd.received]
    assert sent == [
        (render, render.replace("role:canary", "role:baseline"))
        for render in (
            "avg:app.latency{role:canary} by {host}",
            "sum:app.errors{role:canary}.as_count()",
            "avg:system.cpu.user{role:canary} by {host}",
        )
    ]


def test_metrics_with_different_steps_go_in_separate_requests() -> None:
    data = _generated(minutes=10)
    queries = [QUERIES[0], MetricQuery("cpu5", "avg:system.cpu.user{$scope} by {host}", step=300)]
    with FakeDatadog(data, scopes=TAGS) as dd:
        frame = _source(dd.url).fetch(queries, SCOPES, START, START + timedelta(minutes=10))
        intervals = sorted(r.interval_ms or 0 for r in dd.received)
    assert intervals == [60_000, 300_000]
    cpu = frame[(frame["metric"] == "cpu5") & (frame["host"] == "c-1")]
    assert cpu["timestamp"].tolist() == [START, START + timedelta(minutes=5)]
    raw = data[(data["metric"] == "system.cpu.user") & (data["host"] == "c-1")]
    first = raw[raw["timestamp"] < START + timedelta(minutes=5)]["value"]
    assert cpu["value"].iloc[0] == pytest.approx(first.mean())  # NaN skipped, like Datadog's avg


def test_window_end_is_clamped_to_what_datadog_has_finished() -> None:
    data = _generated(minutes=20)
    now = START + timedelta(minutes=12, seconds=30)
    with FakeDatadog(data, scopes=TAGS) as dd:
        source = _source(dd.url, settle=150.0, now=lambda: now)
        frame = source.fetch([QUERIES[0]], SCOPES, START, START + timedelta(minutes=20))
        sent = dd.received[0]
    finished = START + timedelta(minutes=10)  # now - 150 s
    assert frame.attrs["window"] == (START, finished)
    assert sent.end_ms == int(finished.timestamp() * 1000)
    assert frame["timestamp"].max() == finished - timedelta(minutes=1)


def test_partial_first_and_last_buckets_are_dropped() -> None:
    data = _generated(minutes=15)
    start = START + timedelta(seconds=30)
    end = START + timedelta(minutes=10, seconds=30)
    with FakeDatadog(data, scopes=TAGS) as dd:
        frame = _source(dd.url).fetch([QUERIES[0]], SCOPES, start, end)
    stamps = sorted(set(frame["timestamp"]))
    # 10:00 began before the window, 10:10 ends after it: only 10:01 .. 10:09 are whole
    assert stamps == [START + timedelta(minutes=m) for m in range(1, 10)]


def test_a_window_with_no_finished_bucket_is_an_error() -> None:
    with FakeDatadog(_generated(minutes=5), scopes=TAGS) as dd:
        source = _source(dd.url, settle=120.0, now=lambda: START + timedelta(minutes=2, seconds=30))
        with pytest.raises(SourceError, match="rerun later"):
            source.fetch([QUERIES[0]], SCOPES, START, START + timedelta(minutes=5))
        assert dd.requests == 0


def test_null_points_become_nan_rows() -> None:
    data = _generated(minutes=5)
    data["value"] = np.nan
    data.loc[0, "value"] = 1.5
    with FakeDatadog(data, scopes=TAGS) as dd:
        frame = _source(dd.url).fetch([QUERIES[0]], SCOPES, START, START + timedelta(minutes=5))
    assert frame["value"].notna().sum() == 1
    assert frame["value"].dropna().tolist() == [1.5]
    assert frame["value"].isna().any()


def test_requests_are_logged_without_keys(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="canarystats.sources")  # requests are debug
    with FakeDatadog(_generated(minutes=5), scopes=TAGS) as dd:
        _source(dd.url).fetch(QUERIES, SCOPES, START, START + timedelta(minutes=5))
    messages = [r.getMessage() for r in caplog.records if r.name == "canarystats.sources"]
    assert any("POST /api/v2/query/timeseries (6 queries, step 60 s)" in m for m in messages)
    assert any("in 1 requests" in m for m in messages)
    assert API_KEY not in caplog.text and APP_KEY not in caplog.text


def test_datadog_source_is_a_source() -> None:
    assert isinstance(_source("http://127.0.0.1:9"), Source)


@pytest.mark.parametrize(
    ("queries", "scopes", "start", "message"),
    [
        (QUERIES, SCOPES, START.replace(tzinfo=None), "timezone"),
        (QUERIES, {"canary": "role:canary", "control": "x"}, START, "control"),
        (QUERIES, {"canary": " "}, START, "canary scope is empty"),
        ([QUERIES[0], QUERIES[0]], SCOPES, START, "used twice"),
        ([], SCOPES, START, "at least one metric"),
    ],
)
def test_bad_arguments_are_config_errors(
    queries: list[MetricQuery], scopes: dict[str, str], start: datetime, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _source("http://127.0.0.1:9").fetch(queries, scopes, start, START + timedelta(hours=1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"name": ""}, "empty name"), ({"query": " "}, "empty query"), ({"step": 0}, "step")],
)
def test_metric_query_validation(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"name": "m", "query": "avg:m{*}", **kwargs}
    with pytest.raises(ConfigError, match=message):
        MetricQuery(**fields)  # type: ignore[arg-type]


def test_trimmed_recording_keeps_only_buckets_inside_the_window() -> None:
    # Recording 22 spills 504 s before `from` and 501 s after `to`.
    path = REPO / ".." / "shared" / "datadog-recorded"
    path = path / "22_v2_timeseries_200_avg_system_cpu_user_2022-12-21.json"
    if not path.is_file():
        pytest.skip("../shared/datadog-recorded absent")
    recording = json.loads(path.read_text(encoding="utf-8"))
    attributes = recording["request"]["body"]["data"]["attributes"]
    body = recording["response"]["body"]["data"]["attributes"]
    start = datetime.fromtimestamp(attributes["from"] / 1000, UTC)
    end = datetime.fromtimestamp(attributes["to"] / 1000, UTC)
    inside = [t for t in body["times"] if attributes["from"] <= t and t + 5000 <= attributes["to"]]
    with FakeDatadog(recordings=[recording]) as dd:
        source = _source(dd.url, max_queries=2)
        frame = source.fetch(
            [MetricQuery("cpu", "avg:system.cpu.user{*}", step=5)], {"canary": "*"}, start, end
        )
    got = (frame["timestamp"].astype("int64") // 1_000_000).tolist()
    assert got == inside
    assert len(inside) < len(body["times"])


# --------------------------------------------------------------------------- end to end


def _web_metric_names() -> dict[str, str]:
    """Datadog metric -> config metric name, read from examples/web.yaml's queries."""
    from canarystats.config import load_config

    config = load_config(REPO / "examples" / "web.yaml")
    names = {}
    for metric in config.metrics:
        match = re.search(r":([\w.]+)\{", metric.query)
        assert match is not None
        names[match.group(1)] = metric.name
    return names


@pytest.mark.parametrize(
    ("fixture", "verdict"), [("healthy-deploy.csv", "pass"), ("seed-incident.csv", "fail")]
)
def test_end_to_end_judge_of_what_the_source_fetched(fixture: str, verdict: str) -> None:
    judgment_module = pytest.importorskip("canarystats.judgment")
    from canarystats.config import load_config

    config = load_config(REPO / "examples" / "web.yaml")
    data = read_frame(REPO / "fixtures" / fixture)
    names = _web_metric_names()
    served = data.assign(
        metric=data["metric"].map({v: k for k, v in names.items()}), tags="service:web"
    )
    start = data["timestamp"].min().to_pydatetime()
    end = data["timestamp"].max().to_pydatetime() + timedelta(minutes=1)
    queries = [MetricQuery(m.name, m.query, step=m.step, kind=m.kind) for m in config.metrics]
    scopes = {"canary": config.scopes.canary, "baseline": config.scopes.baseline}
    with FakeDatadog(served, scopes=TAGS) as dd:
        fetched = _source(dd.url).fetch(queries, scopes, start, end)
        assert dd.requests == 2  # 7 metrics x 2 cohorts in batches of 10 queries
    assert fetched.attrs["requests"] == 2 <= len(queries)
    # every point of the data set came back, nulls included
    pd.testing.assert_frame_equal(_key(fetched), _key(data))
    judgment = judgment_module.judge(config, fetched)
    assert judgment.verdict == verdict


def test_a_coarser_grid_than_asked_for_is_detected_when_trimming() -> None:
    # Datadog may coarsen the interval (here a 300 s rollup answers a 60 s request): the bucket
    # at 10:10 ends at 10:15, after the window's 10:12, so it is partial and dropped.
    data = _generated(minutes=15)
    query = MetricQuery("cpu", "avg:system.cpu.user{$scope} by {host}.rollup(avg,300)")
    with FakeDatadog(data, scopes=TAGS) as dd:
        frame = _source(dd.url).fetch([query], SCOPES, START, START + timedelta(minutes=12))
    assert sorted(set(frame["timestamp"])) == [START, START + timedelta(minutes=5)]
