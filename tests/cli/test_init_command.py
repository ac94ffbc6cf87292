"""``canarystats init``: a starting config from exported Datadog monitors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from canarystats.cli import main
from canarystats.testing import FakeDatadog, Fault

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "tests" / "data" / "monitors_export.json"


def test_init_from_monitors_writes_a_valid_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from canarystats import load_config

    out = tmp_path / "canary.yaml"
    assert (
        main(["init", "--from-monitors", str(EXPORT), "--name", "web", "--output", str(out)]) == 0
    )
    config = load_config(out)
    assert config.name == "web"
    monitors = json.loads(EXPORT.read_text())
    skipped = capsys.readouterr().err.count("skipped monitor")
    assert len(config.metrics) + skipped == len(monitors)


def test_without_output_the_yaml_goes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--from-monitors", str(EXPORT)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("name: canary\nmetrics:\n")
    assert all(line.startswith("canarystats: skipped monitor ") for line in err.splitlines())


def test_an_export_wrapped_in_an_object_is_read_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"monitors": json.loads(EXPORT.read_text())}))
    assert main(["init", "--from-monitors", str(wrapped)]) == 0
    direct = capsys.readouterr().out
    assert main(["init", "--from-monitors", str(EXPORT)]) == 0
    assert capsys.readouterr().out == direct


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file; check the path"),
        ("{not json", "not JSON (line 1, column 2)"),
        ('"a string"', "expected a JSON list of monitors"),
    ],
)
def test_a_bad_export_is_one_line_exit_2(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitors.json"
    if content is not None:
        path.write_text(content)
    assert main(["init", "--from-monitors", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"canarystats: error: --from-monitors {path}: ")
    assert message in err and err.count("\n") == 1


# --------------------------------------------------------------------------- from Datadog

SEARCH_API_KEY = "dd-api-KEY-SECRET-init-1"
SEARCH_APP_KEY = "dd-app-KEY-SECRET-init-2"


@pytest.fixture
def datadog(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDatadog]:
    """A fake Datadog holding the export's monitors, as DATADOG_HOST, with the keys set."""
    with FakeDatadog(
        monitors=json.loads(EXPORT.read_text()), api_key=SEARCH_API_KEY, app_key=SEARCH_APP_KEY
    ) as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        monkeypatch.setenv("DD_API_KEY", SEARCH_API_KEY)
        monkeypatch.setenv("DD_APP_KEY", SEARCH_APP_KEY)
        yield fake


def test_monitor_search_reads_the_monitors_from_datadog_like_an_export(
    datadog: FakeDatadog, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--monitor-search", "tag:service:web", "--name", "web"]) == 0
    from_api = capsys.readouterr().out
    assert [r.path for r in datadog.received] == ["/api/v1/monitor/search"]
    # The search finds the monitors tagged service:web; the export converts the same way.
    tagged = [m for m in json.loads(EXPORT.read_text()) if "service:web" in m["tags"]]
    from canarystats.config.monitors import conversion_yaml, convert_monitors

    expected = conversion_yaml(convert_monitors(tagged, name="web"))
    assert from_api == expected
    assert "# a ratio of two queries is a share" in from_api
    assert "# no threshold: the monitor alerts on the sum of" in from_api


def test_monitor_search_pages_through_many_monitors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from canarystats.testing.monitors import fake_monitor

    many = [
        fake_monitor(i, f"cpu {i}", "avg(last_5m):avg:system.cpu.user{service:web} > 90")
        for i in range(1, 251)
    ]
    with FakeDatadog(monitors=many) as fake:
        monkeypatch.setenv("DATADOG_HOST", fake.url)
        monkeypatch.setenv("DD_API_KEY", "k")
        monkeypatch.setenv("DD_APP_KEY", "a")
        assert main(["init", "--monitor-search", "cpu"]) == 0
        assert len(fake.received) == 3  # pages of 100
    assert capsys.readouterr().out.count("- name: cpu-") == 250


@pytest.mark.parametrize(
    ("fault", "code", "message"),
    [
        (Fault(status=403, errors=[f"key {SEARCH_API_KEY} refused"]), 2, "monitors_read"),
        (Fault(status=400, errors=["Invalid monitor search query"]), 2, "rejected"),
        (Fault(status=503, times=None), 3, "HTTP 503"),
    ],
    ids=["refused", "bad-query", "down"],
)
def test_a_failed_search_is_one_line_without_the_keys(
    datadog: FakeDatadog, capsys: pytest.CaptureFixture[str], fault: Fault, code: int, message: str
) -> None:
    datadog.inject(fault)
    assert main(["init", "--monitor-search", "tag:service:web", "--deadline", "2"]) == code
    out, err = capsys.readouterr()
    assert out == ""
    for text in (out, err):
        assert SEARCH_API_KEY not in text and SEARCH_APP_KEY not in text
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and message in errors[0], err
    assert "Traceback" not in err


def test_an_export_and_a_search_together_are_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["init", "--from-monitors", str(EXPORT), "--monitor-search", "x"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not allowed with argument" in err and "\n" not in err
