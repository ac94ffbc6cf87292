"""Datadog faults through the real command line: whose fault it is, and a wall-clock deadline.

A set-up that can never judge (a host name that does not resolve, an unknown ``DD_SITE``, a base
URL that is not Datadog's API, a redirect, refused keys, an answer past the size bound) exits 2,
which ``--soft-fail`` never hides.  A backend that is down or rate-limiting exits 3, which it
does.  ``--deadline`` bounds the fetch's wall time however slowly the server sends.

Each fault comes from :class:`FakeDatadog` over HTTP on 127.0.0.1 (or from a name under the
reserved ``.invalid`` domain); nothing in the client is mocked.  Every test also checks that the
error is one line, without a traceback, and that no key value reached stdout or stderr.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from canarystats.cli import main
from canarystats.testing import FakeDatadog, Fault

API_KEY = "dd-api-KEY-SECRET-789"
APP_KEY = "dd-app-KEY-SECRET-012"
CONFIG = """\
name: tiny
scopes: {canary: "role:canary", baseline: "role:baseline"}
metrics:
  - name: latency
    query: "avg:app.latency{$scope} by {host}"
"""


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATADOG_HOST", "DD_SITE", "CANARYSTATS_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return str(path)


@pytest.fixture
def dd(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDatadog]:
    """A fake Datadog with ten finished minutes of three hosts a cohort, as DATADOG_HOST."""
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=5)
    rows = [
        ("app.latency", cohort, f"{cohort}-{n}", end - pd.Timedelta(minutes=m), 100.0 + n + m)
        for cohort in ("canary", "baseline")
        for n in range(3)
        for m in range(1, 16)
    ]
    frame = pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])
    with FakeDatadog(frame, scopes={"role:canary": "canary", "role:baseline": "baseline"}) as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        yield fake


# --quiet: the error's one line is all stderr may hold (retries are progress, shown without it).
def _judge(config: str, *flags: str) -> list[str]:
    return ["--quiet", "judge", config, "--lookback", "10m", *flags]


def _fetch(config: str, tmp_path: Path, *flags: str) -> list[str]:
    return [
        "--quiet",
        "fetch",
        config,
        "--lookback",
        "10m",
        "--output",
        str(tmp_path / "run.csv"),
        *flags,
    ]


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line on stderr, after checking there is no traceback and no key anywhere."""
    out, err = capsys.readouterr()
    for text in (out, err):
        assert API_KEY not in text and APP_KEY not in text
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- set-up: exit 2


def test_a_host_name_that_does_not_resolve_is_set_up_even_with_soft_fail(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # .invalid is reserved (RFC 2606): no resolver answers for it.
    monkeypatch.setenv("DATADOG_HOST", "http://no-such-host.invalid")
    assert main(_judge(config, "--soft-fail", "--deadline", "5")) == 2
    line = _one_line(capsys)
    assert "cannot resolve the host name 'no-such-host.invalid'" in line
    assert "DATADOG_HOST is probably wrong" in line


def test_an_unknown_dd_site_names_the_variable_and_the_sites(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DD_SITE", "datadoghq.co")
    assert main(_judge(config, "--soft-fail")) == 2
    line = _one_line(capsys)
    assert "DD_SITE 'datadoghq.co' is not a Datadog site" in line
    assert "datadoghq.eu" in line and "DATADOG_HOST" in line


def test_a_datadog_host_that_is_not_a_url_is_set_up(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATADOG_HOST", "api.datadoghq.eu")
    assert main(_judge(config, "--soft-fail")) == 2
    assert "DATADOG_HOST 'api.datadoghq.eu' is not a URL" in _one_line(capsys)


def test_a_base_url_without_datadogs_api_is_set_up(
    dd: FakeDatadog,
    config: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The fake answers 404 on any other path, as a server that is not Datadog's API does.
    monkeypatch.setenv("DATADOG_HOST", f"{dd.url}/not-the-api")
    assert main(_judge(config, "--soft-fail")) == 2
    line = _one_line(capsys)
    assert "answered HTTP 404" in line and "DATADOG_HOST is probably wrong" in line
    assert dd.requests == 1  # not retried


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (Fault(status=404, html=True, times=None), "answered HTTP 404 (an HTML error page)"),
        (Fault(status=200, html=True, times=None), "with an HTML page, not Datadog's JSON"),
    ],
    ids=["html-404", "html-200"],
)
def test_an_html_answer_is_set_up(
    dd: FakeDatadog,
    config: str,
    capsys: pytest.CaptureFixture[str],
    fault: Fault,
    says: str,
) -> None:
    dd.inject(fault)
    assert main(_judge(config, "--soft-fail")) == 2
    line = _one_line(capsys)
    assert says in line and "DATADOG_HOST is probably wrong" in line
    assert "<" not in line


def test_a_redirect_names_where_it_leads_and_the_variable(
    dd: FakeDatadog, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dd.inject(Fault(status=302, location="https://app.datadoghq.eu/login", times=None))
    assert main(_judge(config, "--soft-fail")) == 2
    line = _one_line(capsys)
    assert "redirect (HTTP 302) to https://app.datadoghq.eu/login" in line
    assert "DATADOG_HOST is probably wrong" in line
    assert "connection error" not in line
    assert dd.requests == 1


@pytest.mark.parametrize("status", [401, 403])
def test_refused_keys_are_set_up_and_never_echoed(
    dd: FakeDatadog, config: str, capsys: pytest.CaptureFixture[str], status: int
) -> None:
    # A server that quotes the key back: the message must not.
    dd.inject(Fault(status=status, errors=[f"key {API_KEY} revoked"], times=None))
    assert main(_judge(config, "--soft-fail")) == 2
    line = _one_line(capsys)
    assert f"Datadog refused the keys (HTTP {status}" in line
    assert "DD_API_KEY" in line and "DD_APP_KEY" in line
    assert dd.requests == 1


def test_wrong_keys_get_403_from_the_server_and_exit_2(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeDatadog(api_key="the-right-key") as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        assert main(_judge(config, "--soft-fail")) == 2
    assert "HTTP 403" in _one_line(capsys)


def test_an_answer_past_the_size_bound_is_refused_unread(
    dd: FakeDatadog, config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dd.inject(Fault(pad=65 * 2**20))
    began = time.monotonic()
    assert main(_fetch(config, tmp_path)) == 2
    assert time.monotonic() - began < 8
    assert "is larger than 64 MiB" in _one_line(capsys)


# --------------------------------------------------------------------------- down: exit 3


def test_connection_refused_on_a_reachable_host_is_down_and_soft_fail_hides_it(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("DATADOG_HOST", url)
    assert main(_judge(config, "--deadline", "2")) == 3
    line = _one_line(capsys)
    assert f"could not connect to {url}" in line
    assert main(_judge(config, "--deadline", "2", "--soft-fail")) == 0
    assert "would have exited 3" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (Fault(status=503, times=None), "HTTP 503"),
        (Fault(status=429, times=None), "rate limited (HTTP 429"),
    ],
    ids=["503", "429"],
)
def test_a_failing_or_throttling_backend_is_down(
    dd: FakeDatadog,
    config: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fault: Fault,
    says: str,
) -> None:
    dd.inject(fault)
    assert main(_fetch(config, tmp_path, "--deadline", "2")) == 3
    line = _one_line(capsys)
    # The waits are jittered: the deadline or the 3 retries run out first, either way exit 3.
    assert says in line
    assert "2 s deadline" in line or "after 4 attempts" in line


def test_an_answer_carrying_errors_says_what_datadog_said(
    dd: FakeDatadog, config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dd.inject(Fault(status=200, errors=[f"query timed out (key {APP_KEY})"], times=None))
    assert main(_fetch(config, tmp_path)) == 3
    line = _one_line(capsys)
    assert "with an error: query timed out (key ***)" in line
    assert "malformed" not in line


def test_malformed_json_is_retried_then_down(
    dd: FakeDatadog, config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dd.inject(Fault(status=200, body='{"data": {"attributes": ', times=None))
    assert main(_fetch(config, tmp_path, "--deadline", "2")) == 3
    assert "malformed or truncated JSON" in _one_line(capsys)
    # Retried; how often within 2 s depends on the jittered waits (at most 3 retries).
    assert 2 <= dd.requests <= 4


def test_a_retry_cut_short_by_the_deadline_still_says_what_went_wrong_before(
    dd: FakeDatadog, config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dd.inject(Fault(status=200, body='{"data": {"attributes": ', times=1))
    dd.inject(Fault(delay=10.0, times=None))  # the retry outlasts the deadline
    assert main(_fetch(config, tmp_path, "--deadline", "2")) == 3
    line = _one_line(capsys)
    assert "malformed or truncated JSON" in line
    assert "2 s deadline" in line


# --------------------------------------------------------------------------- the deadline


@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers"])
def test_deadline_is_wall_clock_while_the_server_trickles(
    dd: FakeDatadog,
    config: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    headers: bool,
) -> None:
    # A byte every 0.2 s: the answer would take minutes, and each read still gets a byte.
    dd.inject(Fault(trickle=0.2, trickle_headers=headers, times=None))
    began = time.monotonic()
    assert main(_fetch(config, tmp_path, "--deadline", "3")) == 3
    took = time.monotonic() - began
    assert 2.5 < took < 6, took
    line = _one_line(capsys)
    assert "within the 3 s deadline" in line and "--deadline" in line


def test_a_large_unknown_field_is_read_quickly(
    dd: FakeDatadog, config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The client's typed models take minutes on this; the source reads the JSON itself.
    plain = tmp_path / "plain.csv"
    assert main(["--quiet", "fetch", config, "--lookback", "10m", "--output", str(plain)]) == 0
    dd.inject(Fault(pad=2 * 2**20))
    began = time.monotonic()
    assert main(_fetch(config, tmp_path, "--deadline", "10")) == 0
    assert time.monotonic() - began < 5
    assert (tmp_path / "run.csv").read_text() == plain.read_text()
    out, err = capsys.readouterr()
    assert err == "" and API_KEY not in out


# --------------------------------------------------------------------------- serve-fake-datadog


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--port", "99999999"], "--port 99999999: a port is 0 to 65535"),
        (["--port", "-1"], "--port -1: a port is 0 to 65535"),
        (["--replay", "no-such-recording.json"], "--replay no-such-recording.json: No such"),
    ],
    ids=["port-too-big", "port-negative", "replay-missing"],
)
def test_serve_fake_datadog_bad_values_are_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    assert main(["serve-fake-datadog", *argv]) == 2
    assert _one_line(capsys).startswith(says)


def test_serve_fake_datadog_refuses_a_file_that_is_not_a_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "list.json"
    recording.write_text("[1, 2]", encoding="utf-8")
    assert main(["serve-fake-datadog", "--port", "0", "--replay", str(recording)]) == 2
    assert "not a recorded answer" in _one_line(capsys)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), 1e308])
def test_an_answer_carrying_infinity_is_refused_not_judged(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: float
) -> None:
    # Python's json writes the token Infinity (as some proxies do); the client reads it back.
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=5)
    rows = [
        ("app.latency", cohort, f"{cohort}-{n}", end - pd.Timedelta(minutes=m),
         value if cohort == "canary" else 100.0 + n + m)
        for cohort in ("canary", "baseline") for n in range(3) for m in range(1, 16)
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])
    with FakeDatadog(frame, scopes={"role:canary": "canary", "role:baseline": "baseline"}) as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        assert main(_judge(config, "--soft-fail")) == 2
    line = _one_line(capsys)
    assert "metric 'latency', canary host" in line and "canarystats judges finite values" in line
