"""``judge --state`` called again and again, and ``watch`` against the fake Datadog replaying a
canary as its data arrives."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from canarystats import load_config
from canarystats.cli import main
from canarystats.sequential import judge_sequential
from canarystats.testing import FakeDatadog
from canarystats.testing.replay import ReplayClock
from canarystats.testing.worlds import make_world, world_config

SCOPES = {"canary": "role:canary", "baseline": "role:baseline"}
TAGS = {"role:canary": "canary", "role:baseline": "baseline"}


def _setup(tmp_path: Path, **world: Any) -> tuple[Path, Path, pd.Timestamp, pd.DataFrame]:
    frame, start = make_world("both", seed=world.pop("seed", 5), **world)
    data = tmp_path / "canary.csv"
    frame.to_csv(data, index=False)
    config = tmp_path / "world.yaml"
    config.write_text(yaml.safe_dump(dict(world_config(), scopes=SCOPES)))
    return config, data, start, frame


def _iso(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _call(config: Path, data: Path, state: Path, start: pd.Timestamp, minutes: float) -> int:
    end = start + pd.Timedelta(minutes=minutes)
    return main(
        [
            "judge",
            str(config),
            "--data",
            str(data),
            "--start",
            _iso(start),
            "--end",
            _iso(end),
            "--state",
            str(state),
        ]
    )


def test_judge_state_exits_4_until_decided_then_repeats_the_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, data, start, frame = _setup(tmp_path, latency_factor=1.5)
    want, _ = judge_sequential(load_config(str(config)), frame, start=start)
    state = tmp_path / "state.json"
    codes = []
    for minutes in (2, 4, 5, 6, 7, 9, 10, 11, 12, 15, 16, 20, 25, 30):
        codes.append(_call(config, data, state, start, minutes))
        if codes[-1] != 4:
            break
    decided_at = want.decision.at / 60
    assert codes[-1] == 1 and set(codes[:-1]) == {4}
    out = capsys.readouterr().out
    assert f"Failed at minute {decided_at:g} of 30 on latency." in out
    # Every undecided call names the canary, the first one (before any look) too.
    name = load_config(str(config)).name
    undecided = [line for line in out.splitlines() if line.startswith("UNDECIDED")]
    assert undecided[0].startswith(f"UNDECIDED  canary {name}: look 0 of 6 ")
    assert all(line.startswith(f"UNDECIDED  canary {name}: look ") for line in undecided)
    saved = json.loads(state.read_text())
    assert saved["format"] == "canarystats-sequential-state"
    assert saved["decision"]["verdict"] == want.verdict
    assert len(saved["looks"]) == want.decision.look
    # Called again with more data, the decision and its look stay.
    assert _call(config, data, state, start, 30) == 1
    again = json.loads(state.read_text())
    assert again["decision"] == saved["decision"] and again["looks"] == saved["looks"]
    assert again["calls"] == saved["calls"] + 1


def test_a_pass_at_the_horizon_says_what_held_its_early_pass_back_on_every_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Errors too rare to rule out a rise of 25 % within 30 minutes: no early pass.
    config, data, start, _ = _setup(tmp_path, error_rate=0.002, requests_per_minute=300.0)
    state = tmp_path / "state.json"
    assert _call(config, data, state, start, 15) == 4
    assert "To pass early, errors (p " in capsys.readouterr().out
    assert _call(config, data, state, start, 30) == 0
    out = capsys.readouterr().out
    assert "Judged at the horizon (30 min)" in out
    assert "It did not pass early: by the last look errors (p " in out
    assert "errors has too few events (" in out
    saved = json.loads(state.read_text())
    assert saved["decision"]["held_back"].startswith("It did not pass early")
    # A later call repeats it from the state; a state file written before the sentence was
    # kept (no "held_back") still reads, without it.
    assert _call(config, data, state, start, 30) == 0
    assert "It did not pass early" in capsys.readouterr().out
    del saved["decision"]["held_back"]
    state.write_text(json.dumps(saved))
    assert _call(config, data, state, start, 30) == 0
    out = capsys.readouterr().out
    assert "Judged at the horizon (30 min)" in out and "It did not pass early" not in out


def test_judge_state_json_while_undecided_is_the_sequential_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, data, start, _ = _setup(tmp_path)
    end = _iso(start + pd.Timedelta(minutes=6))
    code = main(
        [
            "judge",
            str(config),
            "--data",
            str(data),
            "--start",
            _iso(start),
            "--end",
            end,
            "--state",
            str(tmp_path / "s.json"),
            "--format",
            "json",
        ]
    )
    assert code == 4
    body = json.loads(capsys.readouterr().out)
    assert body["verdict"] == "undecided"
    assert body["sequential"]["look"] == 1
    assert body["sequential"]["plan"]["horizon_s"] == 1800


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no-start", "give --start for its first look"),
        ("other-config", "was started with another config"),
        ("other-start", "belongs to the canary started at"),
        ("not-json", "not a canarystats state file"),
        ("damaged-decision", "its decision is damaged"),
        ("decision-at-a-look-not-taken", "its decision is damaged"),
        ("look-without-a-metric", "look 1 is damaged (it does not hold the config's metrics: cpu)"),
        ("look-with-text", "a look is damaged (p_fail is 'low', not a number)"),
        ("negative-events", "a look is damaged (canary_events is -3, not a finite number 0 or"),
        ("more-looks-than-the-plan", "holds 7 looks, but the plan has 6"),
        ("no-plan", "needs a sequential plan in the config; add sequential:"),
        ("lookback", "drop --lookback"),
    ],
)
def test_bad_state_calls_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str, message: str
) -> None:
    config, data, start, _ = _setup(tmp_path)
    state = tmp_path / "state.json"
    assert _call(config, data, state, start, 6) == 4
    capsys.readouterr()
    args = [
        "judge",
        str(config),
        "--data",
        str(data),
        "--state",
        str(state),
        "--start",
        _iso(start),
    ]
    if change == "no-start":
        state.unlink()
        args = args[:-2]
    elif change == "other-config":
        other = dict(world_config(horizon="20m"), scopes=SCOPES)
        config.write_text(yaml.safe_dump(other))
    elif change == "other-start":
        args[-1] = _iso(start + pd.Timedelta(minutes=1))
    elif change == "not-json":
        state.write_text("{half")
    elif change == "damaged-decision":
        saved = json.loads(state.read_text())
        saved["decision"] = {"verdict": "fail"}
        state.write_text(json.dumps(saved))
    elif change != "no-plan" and change != "lookback":
        saved = json.loads(state.read_text())
        look = saved["looks"][0]
        if change == "decision-at-a-look-not-taken":
            saved["decision"] = {"verdict": "fail", "look": 2, "at": 600, "early": False}
            saved["decision"] |= {"failed": ["cpu"], "reason": "Failed at minute 10 of 30."}
        elif change == "look-without-a-metric":
            del look["cpu"]
        elif change == "look-with-text":
            look["latency"]["p_fail"] = "low"
        elif change == "negative-events":
            look["errors"]["canary_events"] = -3
        else:
            saved["looks"] *= 7
        state.write_text(json.dumps(saved))
    elif change == "no-plan":
        plain = dict(world_config(), scopes=SCOPES)
        del plain["sequential"]
        config.write_text(yaml.safe_dump(plain))
    elif change == "lookback":
        args += ["--lookback", "10m"]
    before = state.read_text() if state.exists() else None
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert "Traceback" not in err[0]
    # Nothing half-written: the state file is as it was.
    assert (state.read_text() if state.exists() else None) == before


@pytest.mark.parametrize("fmt", ["junit", "markdown", "html"])
def test_an_undecided_call_reports_in_the_format_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    # A pipeline that keeps --output report.xml for its JUnit step, or posts the Markdown,
    # gets a document of that format while undecided too, not the plain status lines.
    import xml.etree.ElementTree as ET

    config, data, start, _ = _setup(tmp_path)
    end = _iso(start + pd.Timedelta(minutes=6))
    argv = ["judge", str(config), "--data", str(data), "--start", _iso(start), "--end", end]
    out = tmp_path / f"status.{fmt}"
    argv += ["--state", str(tmp_path / "s.json"), "--format", fmt, "--output", str(out)]
    assert main(argv) == 4
    body = out.read_text()
    metrics = [m["name"] for m in world_config()["metrics"]]
    if fmt == "junit":
        suite = ET.fromstring(body).find("testsuite")
        assert suite is not None and suite.get("skipped") == str(len(metrics))
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["verdict"] == "undecided" and props["sequential"].startswith("Undecided")
        cases = {c.get("name"): c.find("skipped") for c in suite.iter("testcase")}
        assert list(cases) == metrics
        assert all(
            c is not None and c.get("message", "").startswith("undecided: ") for c in cases.values()
        )
    elif fmt == "markdown":
        assert body.startswith("### UNDECIDED: canary world, look 1 of 6 (minute 5 of 30;")
        assert all(f"| `{m}` |" in body for m in metrics)
    else:
        assert body.startswith("<!DOCTYPE html>") and "<h1>UNDECIDED: canary world</h1>" in body
        assert all(f"<code>{m}</code>" in body for m in metrics)
    assert "UNDECIDED" not in capsys.readouterr().out  # written to --output, not printed


@pytest.fixture
def replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The fake Datadog serving a slow canary as it arrives, 10 data minutes a wall second."""
    config, _, start, frame = _setup(tmp_path, latency_factor=1.5)
    clock = ReplayClock(start, speed=600)
    with FakeDatadog(frame, scopes=TAGS, clock=clock) as dd:
        monkeypatch.setenv("DATADOG_HOST", dd.url)
        monkeypatch.setenv("DD_API_KEY", "key-abc-123")
        monkeypatch.setenv("DD_APP_KEY", "app-abc-456")
        yield {"config": config, "start": start, "frame": frame, "dd": dd, "url": dd.url}


def test_watch_follows_the_replay_and_exits_at_the_boundary(
    replay: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    want, _ = judge_sequential(
        load_config(str(replay["config"])), replay["frame"], start=replay["start"]
    )
    state = tmp_path / "watch.json"
    # Every look of this replay fell due long ago in data time; its data comes at ten data
    # minutes a wall second.  The wait for a look's data counts on this machine's clock from the
    # first poll that saw it due, so a 5-second --late-limit is never reached; a wait counted
    # from the look's data time would end the watch with no verdict at once.
    code = main(
        [
            "watch",
            str(replay["config"]),
            "--start",
            _iso(replay["start"]),
            "--poll",
            "0.2",
            "--late-limit",
            "5",
            "--state",
            str(state),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    lines = [x for x in captured.err.splitlines() if x.startswith("canarystats: look ")]
    assert len(lines) == want.decision.look
    assert (
        lines[-1].startswith(f"canarystats: look {want.decision.look} of 6")
        and "MARGINAL" in lines[-1]
    )
    assert f"Failed at minute {want.decision.at / 60:g} of 30 on latency." in captured.out
    assert json.loads(state.read_text())["decision"]["verdict"] == want.verdict
    # Each poll asks for both cohorts in the same request.
    for r in replay["dd"].received:
        if "query" in r.path:
            assert any("role:canary" in q for q in r.queries)
            assert any("role:baseline" in q for q in r.queries)


def test_watch_without_the_backend_is_no_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _, start, _ = _setup(tmp_path)
    monkeypatch.setenv("DATADOG_HOST", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("DD_API_KEY", "key-abc-123")
    monkeypatch.setenv("DD_APP_KEY", "app-abc-456")
    code = main(["watch", str(config), "--start", _iso(start), "--deadline", "2"])
    err = capsys.readouterr().err
    assert code in (2, 3)
    assert "Traceback" not in err and "key-abc-123" not in err


def test_watch_stopped_by_sigterm_resumes_from_its_state(tmp_path: Path) -> None:
    config, _, start, frame = _setup(tmp_path, latency_factor=1.5)
    state = tmp_path / "watch.json"
    clock = ReplayClock(start, speed=60)  # a look every 5 wall seconds
    with FakeDatadog(frame, scopes=TAGS, clock=clock) as dd:
        env = dict(os.environ, DATADOG_HOST=dd.url, DD_API_KEY="k-1", DD_APP_KEY="a-1")
        cmd = [
            sys.executable,
            "-m",
            "canarystats",
            "watch",
            str(config),
            "--start",
            _iso(start),
            "--poll",
            "0.5",
            "--state",
            str(state),
        ]
        proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        seen: list[str] = []
        reader = threading.Thread(target=lambda: seen.extend(proc.stderr or []), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while (
            not any(x.startswith("canarystats: look 1 ") for x in seen)
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 130
        reader.join(timeout=5)
    said = "".join(seen)
    assert "watch: interrupted after" in said and f"the looks are in {state}" in said
    saved = json.loads(state.read_text())
    assert saved["decision"] is None and len(saved["looks"]) >= 1
    # Resumed offline from the saved frame: the same decision as one uninterrupted replay.
    data = tmp_path / "canary.csv"
    want, _ = judge_sequential(load_config(str(config)), frame, start=start)
    assert _call(config, data, state, start, 30) == 1
    assert json.loads(state.read_text())["decision"]["look"] == want.decision.look


def test_watch_backs_off_while_a_due_look_has_no_data_yet(tmp_path: Path) -> None:
    # The source lags: the first look is long due by the wall clock (the canary started days
    # ago) but its data is not served yet (a replay clock in real time, at the start).  The
    # watch must not ask many times a second: 1 s, then 2, 4, ... up to --poll.
    config, _, start, frame = _setup(tmp_path)
    with FakeDatadog(frame, scopes=TAGS, clock=ReplayClock(start, speed=1)) as dd:
        env = dict(os.environ, DATADOG_HOST=dd.url, DD_API_KEY="k-1", DD_APP_KEY="a-1")
        cmd = [sys.executable, "-m", "canarystats", "watch", str(config), "--start", _iso(start)]
        proc = subprocess.Popen([*cmd, "--poll", "30"], env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while dd.requests == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the interpreter's start-up is not the watch's doing
        time.sleep(4.0)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        asked = dd.requests
    assert proc.returncode == 130, err
    # Polls at about 0, 1, 3 (and 7) seconds: a few requests, not the ~80 of a 0.05 s loop.
    assert 2 <= asked <= 6, asked
    assert "canarystats: look " not in err  # no look was taken on data that had not arrived


def test_a_decided_state_json_report_carries_the_path_and_fits_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib import resources

    jsonschema = pytest.importorskip("jsonschema")
    config, data, start, _ = _setup(tmp_path, latency_factor=1.5)
    args = ["judge", str(config), "--data", str(data), "--start", _iso(start)]
    args += ["--state", str(tmp_path / "s.json"), "--format", "json"]
    assert main(args) == 1
    document = json.loads(capsys.readouterr().out)
    schema = json.loads(
        resources.files("canarystats").joinpath("schemas/judgment.schema.json").read_text()
    )
    jsonschema.Draft202012Validator(schema).validate(document)
    seq = document["sequential"]
    assert seq["failed"] == ["latency"] and seq["verdict"] == document["verdict"]
    path = seq["metrics"]["latency"]
    assert len(path["p_fail"]) == seq["look"] and path["status"][-1] == "failed"


def test_a_replay_decided_before_its_end_reports_the_window_of_the_deciding_look(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One call over the whole saved run takes every look; the report, its links and the
    # history it records describe the data the deciding look saw, not the rest of the file.
    config, data, start, frame = _setup(tmp_path, latency_factor=1.5)
    want, _ = judge_sequential(load_config(str(config)), frame, start=start)
    decided = start + pd.Timedelta(seconds=want.decision.at)
    assert decided < frame["timestamp"].max()  # the run goes on after the decision
    args = ["judge", str(config), "--data", str(data), "--start", _iso(start)]
    args += ["--state", str(tmp_path / "s.json"), "--format", "json"]
    assert main(args) == 1
    window = json.loads(capsys.readouterr().out)["window"]
    assert pd.Timestamp(window["end"]) == decided
    assert pd.Timestamp(window["start"]) <= start
    args[-1] = "text"
    assert main(args) == 1
    assert f"to {_iso(decided)} |" in capsys.readouterr().out


def test_judge_overrides_apply_to_the_sequential_judge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, data, start, _ = _setup(tmp_path)
    state = tmp_path / "s.json"
    args = ["judge", str(config), "--data", str(data), "--start", _iso(start)]
    code = main([*args, "--state", str(state), "--method", "kayenta"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert "judge.method hosts" in err[-1] and not state.exists()


def test_a_state_call_minutes_after_the_deploy_is_undecided_without_asking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Live use: the pipeline calls right after the deploy, before Datadog's intake holds any of
    # the canary window.  No look can be due, so nothing is asked and the call is exit 4.
    config, _, _, frame = _setup(tmp_path)
    state = tmp_path / "live.json"
    with FakeDatadog(frame, scopes=TAGS) as dd:
        monkeypatch.setenv("DATADOG_HOST", dd.url)
        monkeypatch.setenv("DD_API_KEY", "key-abc-123")
        monkeypatch.setenv("DD_APP_KEY", "app-abc-456")
        argv = ["judge", str(config), "--start", "-1m", "--state", str(state)]
        assert main(argv) == 4
        assert dd.requests == 0
    captured = capsys.readouterr()
    assert "No look is due yet." in captured.out and "error" not in captured.err
    saved = json.loads(state.read_text())
    assert saved["looks"] == [] and saved["decision"] is None


@pytest.mark.parametrize("command", [["watch"], ["judge", "--state", "{state}"]])
def test_a_canary_start_in_the_future_is_refused_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    config, *_ = _setup(tmp_path)
    state = tmp_path / "future.json"
    argv = [c.replace("{state}", str(state)) for c in command]
    assert main([argv[0], str(config), *argv[1:], "--start", "+10m"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "is in the future (now is " in err[0], err
    assert not state.exists()
    # A minute ahead is clock skew between the deploy tool and this machine, not a mistake.
    monkeypatch.setenv("DATADOG_HOST", "http://127.0.0.1:9")  # never asked: no look is due
    monkeypatch.setenv("DD_API_KEY", "key-abc-123")
    monkeypatch.setenv("DD_APP_KEY", "app-abc-456")
    assert main(["judge", str(config), "--start", "+30s", "--state", str(state)]) == 4


def _live(tmp_path: Path, minutes_ago: int, **world: Any) -> tuple[Path, pd.DataFrame, str]:
    """A world's config, its data moved so that the canary started ``minutes_ago`` whole
    minutes before this minute and cut where Datadog would hold it now, and that start."""
    config, _, start, frame = _setup(tmp_path, **world)
    now = pd.Timestamp.now(tz="UTC").floor("min")
    shift = now - pd.Timedelta(minutes=minutes_ago) - start
    moved = frame.assign(timestamp=frame["timestamp"] + shift)
    return config, moved[moved["timestamp"] < now], _iso(start + shift)


@contextmanager
def _datadog(served: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDatadog]:
    """The fake Datadog serving ``served``, with the environment pointing at it."""
    monkeypatch.setenv("DD_API_KEY", "key-abc-123")
    monkeypatch.setenv("DD_APP_KEY", "app-abc-456")
    with FakeDatadog(served, scopes=TAGS) as dd:
        monkeypatch.setenv("DATADOG_HOST", dd.url)
        yield dd


def test_a_live_pipeline_costs_datadog_one_query_per_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Fourteen minutes after the deploy, with the 2-minute intake delay, looks 1 and 2 (minutes
    # 5 and 10) are due and look 3 is not.  A pipeline that calls again at once gets the same
    # status, and Datadog is not asked again.
    config, served, t0 = _live(tmp_path, 14)
    state = tmp_path / "live.json"
    argv = ["judge", str(config), "--start", t0, "--state", str(state)]
    with _datadog(served, monkeypatch) as dd:
        assert main(argv) == 4
        first = capsys.readouterr()
        assert dd.requests == 1
        saved = json.loads(state.read_text())
        assert main(argv) == 4
        again = capsys.readouterr()
        assert dd.requests == 1
    assert len(saved["looks"]) == 2 and saved["decision"] is None
    assert first.out.startswith("UNDECIDED  canary world: look 2 of 6 (minute 10 of 30;")
    assert again.out == first.out
    assert "no new look is due before" in again.err and "(minute 15," in again.err
    resumed = json.loads(state.read_text())
    assert resumed["looks"] == saved["looks"] and resumed["calls"] == saved["calls"] + 1


def test_a_live_watch_decides_on_its_first_poll_when_started_late(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Started 19 minutes after a slow canary's deploy, watch takes the three due looks in one
    # query and fails at the one that confirms the crossing, as a replay of the same data does.
    config, served, t0 = _live(tmp_path, 19, latency_factor=2.0)
    want, _ = judge_sequential(
        load_config(str(config)),
        served,
        start=t0,
        end=_iso(pd.Timestamp(t0) + pd.Timedelta(minutes=17)),
    )
    assert want.verdict in ("fail", "marginal") and want.decision.look == 3
    with _datadog(served, monkeypatch) as dd:
        assert main(["watch", str(config), "--start", t0]) == 1
        assert dd.requests == 1
    captured = capsys.readouterr()
    assert "Failed at minute 15 of 30 on latency." in captured.out
    assert "canarystats: look 3 of 6, minute 15 of 30: MARGINAL" in captured.err


def test_a_live_first_call_names_a_scope_that_matches_no_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A misspelt --canary shows on the first call, minutes before the first look could.
    config, served, t0 = _live(tmp_path, 4)
    state = tmp_path / "typo.json"
    argv = ["judge", str(config), "--start", t0, "--state", str(state), "--canary", "role:canry"]
    with _datadog(served, monkeypatch) as dd:
        assert main(argv) == 4
        err = capsys.readouterr().err
        assert dd.requests == 1
        assert (
            "warning: Datadog returned no series of any metric for the canary scope "
            "'role:canry': check --canary" in err
        )
        assert "baseline scope" not in err
        assert main(argv) == 4  # said once: the next calls ask nothing until look 1 is due
        assert dd.requests == 1 and "role:canry" not in capsys.readouterr().err


@pytest.mark.parametrize("command", [["watch"], ["judge", "--state", "{state}"]])
def test_data_later_than_the_late_limit_ends_with_no_verdict_and_keeps_the_looks(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    # The agents stopped sending eight minutes after the deploy; 25 minutes after it look 2
    # (minute 10) is due without its data.  The first call takes look 1 and starts the wait
    # (exit 4: an intake delay may end).  Once the wait, counted from that call, passes
    # --late-limit, the data is missing: exit 3, look 1 kept, and the wait is not restarted.
    config, served, t0 = _live(tmp_path, 25)
    served = served[served["timestamp"] < pd.Timestamp(t0) + pd.Timedelta(minutes=8)]
    state = tmp_path / "late.json"
    argv = [c.replace("{state}", str(state)) for c in command]
    argv = [argv[0], str(config), *argv[1:], "--start", t0, "--state", str(state)]
    argv += ["--late-limit", "10m"]
    with _datadog(served, monkeypatch):
        assert main(["judge", *argv[1:]] if command[0] == "watch" else argv) == 4
        first = json.loads(state.read_text())
        assert len(first["looks"]) == 1 and first["waiting_since"] is not None
        waited = pd.Timestamp.now(tz="UTC") - pd.Timestamp(first["waiting_since"])
        assert waited < pd.Timedelta(minutes=1)
        # as if that call had been 11 minutes ago
        moved = pd.Timestamp(first["waiting_since"]) - pd.Timedelta(minutes=11)
        state.write_text(json.dumps({**first, "waiting_since": _iso(moved)}))
        said = capsys.readouterr().err
        assert (
            f"look 2 is due but its data has not arrived yet (waiting since "
            f"{first['waiting_since']}; --late-limit 10 min)" in said
        )
        assert main(argv) == 3
    err = capsys.readouterr().err
    reach = (pd.Timestamp(t0) + pd.Timedelta(minutes=8)).strftime("%H:%M:%SZ")
    assert re.search(
        r"error: no data for look 2 has arrived in 11 min of waiting "
        rf"\(the data reaches {reach}; --late-limit 10 min\); no verdict",
        err,
    ), err
    assert "Traceback" not in err
    last = json.loads(state.read_text())
    assert len(last["looks"]) == 1 and last["waiting_since"] == _iso(moved)


def test_a_sequential_decision_is_posted_and_recorded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A pipeline keeps calling after the decision (a retry, a loop that checks once more): the
    # event and the history entry come from the call that decided, and from no other.
    from canarystats.history import summary

    config, data, start, frame = _setup(tmp_path, latency_factor=1.5)
    want, _ = judge_sequential(load_config(str(config)), frame, start=start)
    state, history = tmp_path / "s.json", tmp_path / "h.sqlite"
    codes = []
    with _datadog(frame.iloc[:0], monkeypatch) as dd:  # it takes the posts; the data is a file
        for minutes in (10, 15, 20, 25, 30, 30):
            end = _iso(start + pd.Timedelta(minutes=minutes))
            argv = ["judge", str(config), "--data", str(data), "--start", _iso(start)]
            argv += ["--end", end, "--state", str(state), "--history", str(history)]
            codes.append(main([*argv, "--post-event", "--post-score"]))
        events, series = list(dd.events), list(dd.series)
    decided = codes.index(1)
    assert set(codes[:decided]) == {4} and set(codes[decided:]) == {1}
    (event,) = events
    assert event["tags"][-1] == f"verdict:{want.verdict}"
    assert f"Failed at minute {want.decision.at / 60:g} of 30 on latency." in event["text"]
    assert len(series) == 1
    (row,) = summary(str(history)).to_dict(orient="records")
    assert row["runs"] == 1 and row["last_verdict"] == want.verdict
    assert "key-abc-123" not in capsys.readouterr().err


def test_a_state_call_with_datadog_down_is_no_verdict_and_keeps_the_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from canarystats.testing import Fault

    config, served, t0 = _live(tmp_path, 14)
    state = tmp_path / "down.json"
    argv = ["judge", str(config), "--start", t0, "--state", str(state), "--deadline", "3"]
    with _datadog(served, monkeypatch) as dd:
        dd.inject(Fault(status=503, times=None))
        assert main(argv) == 3
        err = capsys.readouterr().err.splitlines()
        assert not state.exists()
        assert err[-1].startswith("canarystats: error: ") and "503" in err[-1]
        assert main([*argv, "--soft-fail"]) == 0  # never a pass: it says what it would be
        assert "would have exited 3" in capsys.readouterr().err
