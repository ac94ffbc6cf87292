"""Every way Datadog fails ends as one SourceError line, with retries where they help.

The real ``datadog-api-client`` talks HTTP to :class:`FakeDatadog` on 127.0.0.1; faults are
injected into the server, nothing in the client is mocked.  Sleeps go through a fake clock, so
waits are asserted without being waited.  Every test also checks that no key value reached the
message, the logs, stdout or stderr.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from conftest import FakeClock

from canarystats.errors import SourceError
from canarystats.sources import DatadogSource, MetricQuery
from canarystats.testing import FakeDatadog, Fault

API_KEY = "dd-api-KEY-SECRET-123"
APP_KEY = "dd-app-KEY-SECRET-456"
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
END = START + timedelta(minutes=10)
SCOPES = {"canary": "role:canary", "baseline": "role:baseline"}
LATENCY = MetricQuery("latency", "avg:app.latency{$scope} by {host}")
ERRORS = MetricQuery("errors", "sum:app.errors{$scope}.as_count()", kind="count")


def _frame() -> pd.DataFrame:
    rows = []
    for cohort, host in (("canary", "c-1"), ("baseline", "b-1")):
        for minute in range(10):
            stamp = START + timedelta(minutes=minute)
            rows.append(("app.latency", cohort, host, stamp, 100.0 + minute))
            rows.append(("app.errors", cohort, host, stamp, 1.0))
    return pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])


@pytest.fixture(autouse=True)
def no_key_anywhere(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    out, err = capsys.readouterr()
    for text in (caplog.text, out, err):
        assert API_KEY not in text
        assert APP_KEY not in text


@pytest.fixture
def dd() -> Iterator[FakeDatadog]:
    with FakeDatadog(
        _frame(), scopes={"role:canary": "canary", "role:baseline": "baseline"}
    ) as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _source(url: str, clock: FakeClock, **options: Any) -> DatadogSource:
    settings: dict[str, Any] = {
        "api_key": API_KEY,
        "app_key": APP_KEY,
        "backoff": 0.5,
        "max_backoff": 2.0,
        "max_retries": 3,
        "timeout": 5.0,
        "clock": clock.monotonic,
        "sleep": clock.sleep,
        # The top of every jitter range: the backoff waits are 0.5, 1, 2 (the bounds), and a
        # rate-limit reset is waited for plus one backoff (0.5).  Jitter itself is tested in
        # tests/sources/test_datadog_retry.py.
        "jitter": lambda: 1.0,
    }
    settings.update(options)
    return DatadogSource(host=url, **settings)


def _error_of(source: DatadogSource, *queries: MetricQuery) -> str:
    with pytest.raises(SourceError) as info:
        source.fetch(list(queries) or [LATENCY], SCOPES, START, END)
    message = str(info.value)
    assert "\n" not in message
    assert "Traceback" not in message
    assert API_KEY not in message and APP_KEY not in message
    return message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- rate limits


def test_429_waits_for_the_rate_limit_reset_then_succeeds(
    dd: FakeDatadog, clock: FakeClock
) -> None:
    dd.inject(Fault(status=429, reset=7))
    frame = _source(dd.url, clock).fetch([LATENCY], SCOPES, START, END)
    assert clock.waits == [7.5]
    assert dd.requests == 2
    assert frame.attrs["requests"] == 2
    assert len(frame) == 20


def test_429_wait_is_capped(dd: FakeDatadog, clock: FakeClock) -> None:
    dd.inject(Fault(status=429, reset=1650))
    _source(dd.url, clock, max_wait=20.0, deadline=5000.0).fetch([LATENCY], SCOPES, START, END)
    assert clock.waits == [20.0]


def test_429_resetting_after_the_deadline_fails_at_once(dd: FakeDatadog, clock: FakeClock) -> None:
    dd.inject(Fault(status=429, reset=1650))
    message = _error_of(_source(dd.url, clock, deadline=60.0))
    assert "rate limit" in message and "1650" in message and "deadline" in message
    assert clock.waits == []
    assert dd.requests == 1


def test_429_that_persists_fails_after_the_retries(dd: FakeDatadog, clock: FakeClock) -> None:
    dd.inject(Fault(status=429, reset=2, times=None))
    message = _error_of(_source(dd.url, clock, max_retries=2))
    assert "rate limited (HTTP 429" in message and "after 3 attempts" in message
    assert clock.waits == [2.5, 2.5]
    assert dd.requests == 3


def test_html_429_page_is_a_clean_error(dd: FakeDatadog, clock: FakeClock) -> None:
    dd.inject(Fault(status=429, html=True, times=None))
    message = _error_of(_source(dd.url, clock, max_retries=1))
    assert "HTTP 429" in message and "HTML error page" in message
    assert "<" not in message
    # without a reset header the wait is the backoff
    assert clock.waits == [0.5]


def test_duplicated_rate_limit_reset_header_is_read_once(dd: FakeDatadog, clock: FakeClock) -> None:
    # The client's own retry crashes on "3, 3" (urllib3 InvalidHeader); ours waits 3 s.
    dd.inject(Fault(status=429, reset=3, duplicate_reset=True))
    frame = _source(dd.url, clock).fetch([LATENCY], SCOPES, START, END)
    assert clock.waits == [3.5]
    assert len(frame) == 20


def test_duplicated_reset_header_on_a_persistent_429_ends_as_source_error(
    dd: FakeDatadog, clock: FakeClock
) -> None:
    dd.inject(Fault(status=429, reset=1, duplicate_reset=True, times=None))
    message = _error_of(_source(dd.url, clock, max_retries=1))
    assert "HTTP 429" in message


# --------------------------------------------------------------------------- server errors


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_transient_errors_are_retried_with_backoff(
    dd: FakeDatadog, clock: FakeClock, status: int
) -> None:
    dd.inject(Fault(status=status, times=2))
    frame = _source(dd.url, clock).fetch([LATENCY], SCOPES, START, END)
    assert clock.waits == [0.5, 1.0]  # backoff doubles
    assert dd.requests == 3
    assert frame.attrs["requests"] == 3


def test_server_errors_that_persist_fail_after_the_retries(
    dd: FakeDatadog, clock: FakeClock
) -> None:
    dd.inject(Fault(status=500, times=None))
    message = _error_of(_source(dd.url, clock, max_retries=3, max_backoff=1.0))
    assert "HTTP 500" in message and "after 4 attempts" in message
    assert clock.waits == [0.5, 1.0, 1.0]  # capped at max_backoff
    assert dd.requests == 4


def test_retries_stop_at_the_deadline(dd: FakeDatadog, clock: FakeClock) -> None:
    dd.inject(Fault(status=503, times=None))
    message = _error_of(_source(dd.url, clock, max_retries=10, backoff=4.0, deadline=10.0))
    assert "HTTP 503" in message and "10 s deadline" in message
    assert sum(clock.waits) <= 10.0


def test_connection_refused_is_retried_then_reported(clock: FakeClock) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    source = _source(url, clock, max_retries=2)
    message = _error_of(source)
    assert f"could not connect to {url}" in message and "after 3 attempts" in message
    assert source.requests == 3


def test_a_request_that_hangs_times_out(dd: FakeDatadog, clock: FakeClock) -> None:
    dd.inject(Fault(delay=1.5, times=None))
    source = _source(dd.url, clock, timeout=0.2, max_retries=1)
    began = time.monotonic()
    message = _error_of(source)
    assert "no answer within 0.2 s (timeout)" in message
    assert time.monotonic() - began < 1.4  # it did not wait for the slow answers
    assert source.requests == 2


def test_the_client_always_gets_a_timeout() -> None:
    source = DatadogSource(host="http://127.0.0.1:9", api_key=API_KEY, app_key=APP_KEY)
    assert source.configuration().request_timeout == (10.0, 30.0)


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_stop_at_once(dd: FakeDatadog, clock: FakeClock, status: int) -> None:
    dd.inject(Fault(status=status, times=None))
    message = _error_of(_source(dd.url, clock))
    assert f"HTTP {status}" in message
    assert "DD_API_KEY" in message and "DD_APP_KEY" in message
    assert dd.requests == 1 and clock.waits == []


def test_wrong_keys_get_403_from_the_server(clock: FakeClock) -> None:
    with FakeDatadog(_frame(), api_key="another-key") as fake:
        message = _error_of(_source(fake.url, clock))
        assert "HTTP 403" in message and "DD_API_KEY" in message
        assert fake.requests == 1


def test_400_names_the_query_datadog_rejected(dd: FakeDatadog, clock: FakeClock) -> None:
    bad = MetricQuery("bad", "avg:app.nonsense{$scope} by {host}")
    dd.inject(Fault(status=400, match="app.nonsense", errors=["Error parsing query"], times=None))
    message = _error_of(_source(dd.url, clock), LATENCY, bad)
    assert "avg:app.nonsense{role:canary} by {host}" in message
    assert "Error parsing query" in message
    assert "app.latency" not in message
    assert clock.waits == []


def test_400_on_v1_names_the_query(dd: FakeDatadog, clock: FakeClock) -> None:
    dd.inject(Fault(status=400, errors=["Rule 'scope_expr' didn't match"], times=None))
    message = _error_of(_source(dd.url, clock, api="v1"))
    assert "avg:app.latency{role:canary} by {host}" in message
    assert "scope_expr" in message
    assert dd.requests == 2  # the joined request, then the canary query alone


def test_an_unparseable_query_is_rejected_by_the_fake_and_reported(
    dd: FakeDatadog, clock: FakeClock
) -> None:
    broken = MetricQuery("broken", "avg:app.latency{$scope} by {host}.frobnicate()")
    message = _error_of(_source(dd.url, clock), broken)
    assert "frobnicate" in message and "rejected the query" in message


# --------------------------------------------------------------------------- unreadable answers


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=200, body='{"data": {"attributes": ', times=None),
        Fault(status=200, body="<html>oops</html>", times=None),
        Fault(
            status=200,
            body='{"data": {"type": "timeseries_response", "attributes": '
            '{"series": [], "times": [1.5e12], "values": []}}}',
            times=None,
        ),
        Fault(truncate=True, times=None),
    ],
    ids=["malformed", "not-json", "float-times", "truncated"],
)
def test_unreadable_answers_end_as_source_error(
    dd: FakeDatadog, clock: FakeClock, fault: Fault
) -> None:
    dd.inject(fault)
    message = _error_of(_source(dd.url, clock, max_retries=1))
    assert "malformed or truncated JSON" in message
    assert dd.requests == 2


def test_a_truncated_answer_once_is_retried(dd: FakeDatadog, clock: FakeClock) -> None:
    dd.inject(Fault(truncate=True))
    frame = _source(dd.url, clock).fetch([LATENCY], SCOPES, START, END)
    assert len(frame) == 20 and dd.requests == 2


def test_v1_error_status_in_a_200_answer(dd: FakeDatadog, clock: FakeClock) -> None:
    dd.inject(Fault(status=200, body='{"status": "error", "error": "query timed out"}'))
    message = _error_of(_source(dd.url, clock, api="v1"))
    assert "query timed out" in message


# --------------------------------------------------------------------------- empty answers


def test_no_data_for_any_metric_is_an_error(dd: FakeDatadog, clock: FakeClock) -> None:
    message = _error_of(_source(dd.url, clock), MetricQuery("x", "avg:no.such.metric{$scope}"))
    assert "no data for any of the 1 metrics" in message
    assert "role:canary" in message and "scope" in message


def test_no_data_at_all_is_an_empty_frame_when_allowed(dd: FakeDatadog, clock: FakeClock) -> None:
    source = _source(dd.url, clock, allow_empty=True)
    frame = source.fetch([MetricQuery("x", "avg:no.such.metric{$scope}")], SCOPES, START, END)
    assert frame.empty
    assert list(frame.columns) == ["metric", "cohort", "host", "timestamp", "value"]
    assert frame.attrs["units"] == {"x": None}


def test_a_metric_without_data_just_has_no_rows(dd: FakeDatadog, clock: FakeClock) -> None:
    missing = MetricQuery("missing", "avg:no.such.metric{$scope}")
    frame = _source(dd.url, clock).fetch([LATENCY, missing], SCOPES, START, END)
    assert set(frame["metric"]) == {"latency"}
    assert set(frame.attrs["units"]) == {"latency", "missing"}
    assert dd.requests == 1


# --------------------------------------------------------------------------- credentials


def test_missing_api_key_is_reported_before_any_request(
    dd: FakeDatadog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DD_API_KEY", raising=False)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    with pytest.raises(SourceError, match="DD_API_KEY is not set"):
        DatadogSource(host=dd.url)
    assert dd.requests == 0


def test_missing_app_key_is_reported_before_any_request(
    dd: FakeDatadog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.delenv("DD_APP_KEY", raising=False)
    with pytest.raises(SourceError, match="DD_APP_KEY is not set") as info:
        DatadogSource(host=dd.url)
    assert API_KEY not in str(info.value)
    assert dd.requests == 0


def test_keys_and_host_come_from_the_environment(
    dd: FakeDatadog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.setenv("DATADOG_HOST", dd.url)
    source = DatadogSource()
    assert source.host == dd.url
    assert API_KEY not in repr(source) and APP_KEY not in repr(source)
    frame = source.fetch([LATENCY], SCOPES, START, END)
    assert len(frame) == 20


@pytest.mark.parametrize(
    ("site", "expected"),
    [(None, "https://api.datadoghq.com"), ("datadoghq.eu", "https://api.datadoghq.eu")],
)
def test_site_from_dd_site(
    monkeypatch: pytest.MonkeyPatch, site: str | None, expected: str
) -> None:
    monkeypatch.delenv("DATADOG_HOST", raising=False)
    if site is None:
        monkeypatch.delenv("DD_SITE", raising=False)
    else:
        monkeypatch.setenv("DD_SITE", site)
    assert DatadogSource(api_key=API_KEY, app_key=APP_KEY).host == expected


@pytest.mark.parametrize(
    ("variable", "value"), [("DD_SITE", "https://datadoghq.eu/"), ("DATADOG_HOST", "localhost:80")]
)
def test_bad_site_or_host_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.delenv("DATADOG_HOST", raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SourceError, match=variable):
        DatadogSource(api_key=API_KEY, app_key=APP_KEY)


# --------------------------------------------------------------------------- monitors and intake
# The monitor endpoints and the intake go through the same retries, deadline and key
# scrubbing as the metric queries; the autouse fixture above checks logs and output for keys.


def _monitors_fake() -> FakeDatadog:
    from canarystats.testing.monitors import fake_monitor

    monitor = fake_monitor(
        7, "5xx", "avg(last_5m):avg:e{*} by {host} > 1", groups={"host:c-1": {"status": "Alert"}}
    )
    return FakeDatadog(monitors=[monitor])


def _read_states(source: DatadogSource) -> pd.DataFrame:
    from canarystats.config.monitor_settings import MonitorSettings
    from canarystats.sources.datadog_monitors import DatadogMonitors

    return DatadogMonitors(source).states(MonitorSettings(ids=(7,)), (START, END))


def _post(source: DatadogSource) -> list[str]:
    from types import SimpleNamespace

    from canarystats.sources.datadog_events import Deployment, VerdictPoster

    judgment = SimpleNamespace(verdict="fail", score=0.0, config_name="web")
    return VerdictPoster(source).post(judgment, "report", Deployment("web"), score=True)


ENDPOINTS = {"monitor states": _read_states, "verdict post": _post}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_the_new_endpoints_wait_for_a_rate_limit_reset_then_succeed(
    clock: FakeClock, endpoint: str
) -> None:
    with _monitors_fake() as fake:
        fake.inject(Fault(status=429, reset=3))
        ENDPOINTS[endpoint](_source(fake.url, clock))
        assert clock.waits == [3.5]


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (Fault(status=500, errors=[f"boom for key {API_KEY} / {APP_KEY}"], times=None), "HTTP 500"),
        (Fault(status=403, errors=[f"key {API_KEY} is not valid"]), "Datadog refused the keys"),
        (Fault(html=True, status=200), "HTML page"),
    ],
    ids=["server-error-echoing-keys", "refused-echoing-keys", "html"],
)
def test_the_new_endpoints_fail_in_one_line_without_the_keys(
    clock: FakeClock, endpoint: str, fault: Fault, says: str
) -> None:
    with _monitors_fake() as fake:
        fake.inject(fault)
        with pytest.raises(SourceError) as info:
            ENDPOINTS[endpoint](_source(fake.url, clock))
        assert fake.events == [] and fake.series == []
    message = str(info.value)
    assert says in message and "\n" not in message
    assert API_KEY not in message and APP_KEY not in message


def test_monitor_states_cut_short_are_retried_then_fail_in_one_line(clock: FakeClock) -> None:
    with _monitors_fake() as fake:
        fake.inject(Fault(truncate=True, times=None))
        with pytest.raises(SourceError, match="unreadable answer"):
            _read_states(_source(fake.url, clock))
        assert fake.requests == 4  # the first try and three retries


def test_an_intake_answer_cut_short_is_accepted_and_never_posted_twice(clock: FakeClock) -> None:
    # A 2xx from the intake means Datadog took the event; sending it again would duplicate it.
    with _monitors_fake() as fake:
        fake.inject(Fault(truncate=True, times=None))
        assert _post(_source(fake.url, clock)) == ["event", "score"]
        assert len(fake.events) == 1 and len(fake.series) == 1
