"""Where the Datadog keys come from: ``DD_*`` first, then the ``DATADOG_*`` names of Datadog's
own tools; whichever name a key came under, it is never printed or logged.

The fake Datadog answers 403 unless the request carries exactly the keys it was given, so a
judgment that succeeds shows which keys were sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from canarystats.cli import console, main
from canarystats.errors import SourceError
from canarystats.sources.datadog import (
    API_KEY_VARIABLES,
    APP_KEY_VARIABLES,
    DatadogSource,
)
from canarystats.testing import FakeDatadog, Fault

DD_API = "dd-api-KEY-SECRET-111"
DD_APP = "dd-app-KEY-SECRET-222"
DATADOG_API = "datadog-api-KEY-SECRET-333"
DATADOG_APP = "datadog-app-KEY-SECRET-444"
ALL_KEYS = (DD_API, DD_APP, DATADOG_API, DATADOG_APP)
CONFIG = """\
name: tiny
scopes: {canary: "role:canary", baseline: "role:baseline"}
metrics:
  - name: latency
    query: "avg:app.latency{$scope} by {host}"
"""


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DATADOG_HOST",
        "DD_SITE",
        "CANARYSTATS_DEBUG",
        *API_KEY_VARIABLES,
        *APP_KEY_VARIABLES,
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def no_key_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    for key in ALL_KEYS:
        assert key not in caplog.text


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return str(path)


def _frame() -> pd.DataFrame:
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=5)
    rows = [
        ("app.latency", cohort, f"{cohort}-{n}", end - pd.Timedelta(minutes=m), 100.0 + n + m)
        for cohort in ("canary", "baseline")
        for n in range(3)
        for m in range(1, 16)
    ]
    return pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])


def _serve(api_key: str, app_key: str) -> FakeDatadog:
    return FakeDatadog(
        _frame(),
        scopes={"role:canary": "canary", "role:baseline": "baseline"},
        api_key=api_key,
        app_key=app_key,
    )


def _judge(config: str) -> list[str]:
    # Not --quiet: the progress lines, the fetch's URL among them, must hold no key either.
    return ["judge", config, "--lookback", "10m", "--format", "json"]


def _set_all_four(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DD_API_KEY", DD_API)
    monkeypatch.setenv("DATADOG_API_KEY", DATADOG_API)
    monkeypatch.setenv("DD_APP_KEY", DD_APP)
    monkeypatch.setenv("DATADOG_APP_KEY", DATADOG_APP)


def _no_key_in(*texts: str) -> None:
    for text in texts:
        for key in ALL_KEYS:
            assert key not in text


def test_datadog_names_alone_are_read_and_sent(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATADOG_API_KEY", DATADOG_API)
    monkeypatch.setenv("DATADOG_APP_KEY", DATADOG_APP)
    with _serve(DATADOG_API, DATADOG_APP) as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        code = main(_judge(config))
        assert fake.requests >= 1
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    _no_key_in(out, err)


def test_dd_names_win_when_both_are_set(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_all_four(monkeypatch)
    with _serve(DD_API, DD_APP) as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        code = main(_judge(config))
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    _no_key_in(out, err)


def test_a_server_that_only_knows_the_datadog_names_refuses_when_dd_names_are_set(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The converse of the test above: it would pass if DATADOG_* were sent instead.
    _set_all_four(monkeypatch)
    with _serve(DATADOG_API, DATADOG_APP) as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        assert main(_judge(config)) == 2
    out, err = capsys.readouterr()
    assert "HTTP 403" in err
    _no_key_in(out, err)


@pytest.mark.parametrize("which", ["api", "app"])
def test_an_empty_dd_name_falls_back_to_the_datadog_name(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    monkeypatch.setenv("DD_API_KEY", "" if which == "api" else DD_API)
    monkeypatch.setenv("DD_APP_KEY", "" if which == "app" else DD_APP)
    monkeypatch.setenv("DATADOG_API_KEY", DATADOG_API)
    monkeypatch.setenv("DATADOG_APP_KEY", DATADOG_APP)
    expected = (DATADOG_API, DD_APP) if which == "api" else (DD_API, DATADOG_APP)
    with _serve(*expected) as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        code = main(_judge(config))
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    _no_key_in(out, err)


def test_a_missing_key_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATADOG_APP_KEY", DATADOG_APP)
    with pytest.raises(SourceError, match="DD_API_KEY is not set") as info:
        DatadogSource(host="http://127.0.0.1:9")
    assert "DATADOG_API_KEY" in str(info.value)
    _no_key_in(str(info.value))


def test_a_server_quoting_a_datadog_named_key_back_is_scrubbed(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATADOG_API_KEY", DATADOG_API)
    monkeypatch.setenv("DATADOG_APP_KEY", DATADOG_APP)
    with FakeDatadog(_frame()) as fake:
        fake.inject(Fault(status=401, errors=[f"keys {DATADOG_API} {DATADOG_APP} revoked"]))
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        assert main(_judge(config)) == 2
    out, err = capsys.readouterr()
    (error,) = [line for line in err.splitlines() if "error" in line]
    assert "Datadog refused the keys (HTTP 401" in error
    _no_key_in(out, err)


def test_the_console_scrubs_every_variable_a_key_is_read_from() -> None:
    assert set(API_KEY_VARIABLES + APP_KEY_VARIABLES) <= set(console.KEY_VARIABLES)
