"""Fuzzing the command line: hostile configs, frames and flags, a different seed every run.

Whatever the input, ``canarystats`` ends with a documented exit code and, for bad input, ONE
line that says what to fix: never an internal error, never a traceback, never a pass on data
with infinite or overflowing values, and never a pass with nothing judged.  Hypothesis draws a
fresh seed each run (bounded examples keep the suite fast); a failure prints the example that
reproduces it.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canarystats.cli import main
from canarystats.labels import COUNTED

HEALTHY = ROOT / "fixtures" / "healthy-deploy.csv"
METRICS = ("cpu-user", "request-errors", "requests")
FUZZ = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_N", "40")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

#: strings that broke parsers before, or could
NASTY_TEXT = (
    "last_0m",
    "0m",
    "-5m",
    "1e999",
    "-1e999",
    "NaN",
    "inf",
    "9999-12-31T23:00:00Z",
    "0001-01-01T00:00:00Z",
    "2262-04-12T00:00:00Z",
    "1677-09-21T00:00:00Z",
    "99999999999999999999s",
    "10**30",
    "a\nb",
    "web\u202eevil",
    "",
    " ",
    "{$scope}",
    "%s%s%s",
    "now",
    "-15m",
)
nasty_values = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.integers(-(10**40), 10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.lists(st.one_of(st.integers(-3, 3), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.sampled_from(["a", "relative", "absolute", "measure"]), st.integers()),
)

METRIC_KEYS = (
    "name",
    "query",
    "direction",
    "groups",
    "critical",
    "must_have_data",
    "muted",
    "kind",
    "exposure",
    "warmup",
    "threshold",
    "min_effect",
    "effect_size",
    "nan_strategy",
    "outlier_strategy",
    "unit",
    "step",
)
JUDGE_KEYS = (
    "method",
    "confidence",
    "tolerance",
    "pass_score",
    "marginal_score",
    "multiplicity",
    "alpha",
    "pre_window",
    "warmup",
    "robust",
    "weights",
)
TOP_KEYS = ("name", "step", "groups", "scopes", "judge", "metrics", "extra")


def _base_config() -> dict[str, Any]:
    return {
        "name": "web",
        "metrics": [
            {"name": "cpu-user", "query": "avg:system.cpu.user{$scope} by {host}"},
            {
                "name": "request-errors",
                "query": "sum:errors{$scope} by {host}.as_count()",
                "kind": "count",
                "direction": "increase",
            },
            {"name": "requests", "query": "sum:hits{$scope} by {host}.as_count()", "kind": "count"},
        ],
    }


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--quiet", *argv])
    return code, out.getvalue(), err.getvalue()


def _check_outcome(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2, 3), (code, err)
    assert "internal error" not in err, err
    assert "Traceback" not in err + out
    assert "Warning:" not in err, err  # no numpy or pandas warning on the terminal
    if code == 2:
        # One line says what is wrong; warnings about the same input may come before it.
        lines = [line for line in err.splitlines() if not line.startswith("canarystats: warning:")]
        assert len(lines) == 1 and err.splitlines()[-1] == lines[0], err
        assert lines[0].startswith("canarystats"), err


def _judged_something(report: str) -> bool:
    data = json.loads(report)
    return any(not m["muted"] and m["classification"] in COUNTED for m in data["metrics"])


@FUZZ
@given(
    where=st.sampled_from(
        [("top", k) for k in TOP_KEYS]
        + [("judge", k) for k in JUDGE_KEYS]
        + [("metric", k) for k in METRIC_KEYS]
    ),
    value=nasty_values,
    metric=st.integers(0, 2),
    as_json=st.booleans(),
    mute=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_hostile_configs_end_in_a_verdict_or_one_line(
    where: tuple[str, str], value: Any, metric: int, as_json: bool, mute: list[bool]
) -> None:
    config = _base_config()
    for m, muted in zip(config["metrics"], mute, strict=True):
        m["muted"] = muted
    kind, key = where
    if kind == "top":
        config[key] = value
    elif kind == "judge":
        config["judge"] = {key: value}
    else:
        config["metrics"][metric][key] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("c.json" if as_json else "c.yaml")
        try:
            text = json.dumps(config) if as_json else yaml.safe_dump(config, allow_unicode=True)
        except (ValueError, yaml.YAMLError):
            return  # not representable in that format: nothing to feed the command
        path.write_text(text, encoding="utf-8")
        code, out, err = _run(["validate", str(path)])
        _check_outcome(code, out, err)
        code, out, err = _run(["judge", str(path), "--data", str(HEALTHY), "--format", "json"])
        _check_outcome(code, out, err)
        if code == 0:
            assert _judged_something(out)


NASTY_CELLS = (
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    1e101,
    float("nan"),
    "abc",
    "",
    "1e400",
    "-1",
)
NASTY_TIMES = (
    "9999-12-31T23:00:00Z",
    "0001-01-01T00:00:00Z",
    "2262-04-12T00:00:00Z",
    "1677-09-21T00:00:00Z",
    "",
    "not a time",
    "1e20",
    "2026-13-45T00:00:00Z",
    "2026-03-11T16:20:00+14:00",
)


def _is_refused_value(v: Any) -> bool:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return False
    return math.isinf(x) or abs(x) > 1e100


@FUZZ
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.sampled_from(["value", "timestamp", "host", "cohort", "metric"]),
            st.one_of(st.sampled_from(NASTY_CELLS), st.sampled_from(NASTY_TIMES), nasty_values),
        ),
        min_size=1,
        max_size=4,
    ),
    subset=st.integers(1, 3),
)
def test_hostile_frames_never_pass_blind(edits: list[tuple[int, str, Any]], subset: int) -> None:
    frame = pd.read_csv(HEALTHY, dtype=str, keep_default_na=False)
    frame = frame[frame["metric"].isin(METRICS[:subset])].reset_index(drop=True)
    for row, column, value in edits:
        frame.loc[row % len(frame), column] = str(value)
    refused = any(_is_refused_value(v) for v in frame["value"])
    config = _base_config()
    config["metrics"] = config["metrics"][:subset]
    with tempfile.TemporaryDirectory() as tmp:
        data, cfg = Path(tmp) / "run.csv", Path(tmp) / "c.json"
        frame.to_csv(data, index=False)
        cfg.write_text(json.dumps(config))
        code, out, err = _run(["judge", str(cfg), "--data", str(data), "--format", "json"])
    _check_outcome(code, out, err)
    if refused:
        assert code == 2, (code, err)
    if code == 0:
        assert _judged_something(out)


FLAG_VALUES = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["2026-03-11T16:15:00Z", "2026-03-11T16:45:00Z", "30m", "0", "60"]),
)


@FUZZ
@given(
    flags=st.dictionaries(
        st.sampled_from(
            [
                "--start",
                "--end",
                "--pre",
                "--lookback",
                "--step",
                "--deadline",
                "--pass-score",
                "--marginal-score",
                "--method",
                "--format",
                "--canary",
                "--baseline",
            ]
        ),
        FLAG_VALUES,
        min_size=1,
        max_size=4,
    )
)
def test_hostile_flags_end_in_a_verdict_or_one_line(flags: dict[str, str]) -> None:
    argv = ["judge", str(ROOT / "examples" / "web.yaml"), "--data", str(HEALTHY)]
    for flag, value in flags.items():
        argv.append(f"{flag}={value}")
    code, out, err = _run(argv)
    _check_outcome(code, out, err)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON document (keys and list indices), the root included."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):  # a few items of a long list are enough
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    if not path:
        return value if how == "set" else doc
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "digits":  # every number inside a string: last_5m -> last_0m, p99 -> p0
        if isinstance(parent[last], str):
            n = str(abs(value)) if isinstance(value, int) else "0"
            parent[last] = re.sub(r"\d+", n, parent[last])
    elif how == "wrap":
        parent[last] = [parent[last]]
    else:
        parent[last] = value
    return doc


mutations = st.lists(
    st.tuples(
        st.integers(0, 10**6), st.sampled_from(["set", "delete", "wrap", "digits"]), nasty_values
    ),
    min_size=1,
    max_size=3,
)


def _mutated_document(source: Path, edits: list[tuple[int, str, Any]]) -> str:
    doc = json.loads(source.read_text(encoding="utf-8"))
    for pick, how, value in edits:
        paths = _paths(doc)
        doc = _mutate(doc, paths[pick % len(paths)], how, value)
    return json.dumps(doc)


@FUZZ
@given(edits=mutations)
def test_mangled_kayenta_configs_end_in_one_line(edits: list[tuple[int, str, Any]]) -> None:
    text = _mutated_document(ROOT / "tests" / "data" / "kayenta_canary_config.json", edits)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kayenta.json"
        path.write_text(text, encoding="utf-8")
        _check_outcome(*_run(["validate", str(path)]))


@FUZZ
@given(edits=mutations)
def test_mangled_monitor_exports_end_in_one_line(edits: list[tuple[int, str, Any]]) -> None:
    text = _mutated_document(ROOT / "tests" / "data" / "monitors_export.json", edits)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "monitors.json"
        path.write_text(text, encoding="utf-8")
        code, _, err = _run(["init", "--from-monitors", str(path)])
        assert code in (0, 2), err
        assert "internal error" not in err and "Traceback" not in err


@FUZZ
@given(edits=mutations)
def test_mangled_json_frames_end_in_a_verdict_or_one_line(
    edits: list[tuple[int, str, Any]],
) -> None:
    frame = pd.read_csv(HEALTHY)
    frame = frame[frame["metric"].isin(METRICS)].head(60)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.json"
        source.write_text(json.dumps({"points": frame.to_dict(orient="records")}))
        data = Path(tmp) / "run.json"
        data.write_text(_mutated_document(source, edits), encoding="utf-8")
        cfg = Path(tmp) / "c.json"
        cfg.write_text(json.dumps(_base_config()))
        code, out, err = _run(["judge", str(cfg), "--data", str(data), "--format", "json"])
    _check_outcome(code, out, err)
    if code == 0:
        assert _judged_something(out)


@FUZZ
@given(edits=mutations)
def test_mangled_state_files_end_in_a_look_or_one_line(edits: list[tuple[int, str, Any]]) -> None:
    # A state file is the user's too: edited by hand, cut short by a full disk, copied between
    # canaries.  The next call takes its look or says in one line what is wrong with the file.
    incident = str(ROOT / "fixtures" / "seed-incident.csv")
    config = str(ROOT / "examples" / "web.yaml")
    start = "2026-03-10T15:00:00Z"
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state.json"
        call = ["judge", config, "--data", incident, "--start", start, "--state", str(state)]
        assert _run([*call, "--end", "2026-03-10T15:06:00Z"])[0] == 4
        state.write_text(_mutated_document(state, edits), encoding="utf-8")
        code, out, err = _run([*call, "--end", "2026-03-10T15:11:00Z"])
    assert code in (1, 2, 4), (code, err)
    _check_outcome(2 if code == 2 else 0, out, err)


@FUZZ
@given(edits=mutations)
def test_mangled_monitor_states_end_in_a_verdict_or_one_line(
    edits: list[tuple[int, str, Any]],
) -> None:
    # The monitor states saved beside a run (fetch --monitor-states) are judged again offline;
    # a damaged file gives the verdict of what can be read or one line, never a crash.
    from canarystats.monitors import monitor_frame, write_monitor_states

    window = ("2026-03-10T15:05:00Z", "2026-03-10T15:15:00Z")
    states = monitor_frame(
        [
            {
                "monitor_id": 4711,
                "monitor": "Sidekiq job failures are high on {{host.name}}",
                "group": f"host:{host}",
                "status": status,
                "triggered": triggered,
                "resolved": resolved,
                "url": "https://app.datadoghq.com/monitors/4711",
            }
            for host, status, triggered, resolved in (
                ("web-04", "OK", "2026-03-10T15:08:00Z", "2026-03-10T15:21:00Z"),
                ("web-01", "OK", None, None),
            )
        ],
        window=(pd.Timestamp(window[0]).to_pydatetime(), pd.Timestamp(window[1]).to_pydatetime()),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "states.json"
        write_monitor_states(states, path)
        path.write_text(_mutated_document(path, edits), encoding="utf-8")
        code, out, err = _run(
            [
                "judge",
                str(ROOT / "examples" / "web-monitors.yaml"),
                "--data",
                str(ROOT / "fixtures" / "seed-incident.csv"),
                "--start",
                window[0],
                "--end",
                window[1],
                "--monitor-states",
                str(path),
            ]
        )
    _check_outcome(code, out, err)


@FUZZ
@given(
    cells=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 7), nasty_values), min_size=1, max_size=3
    )
)
def test_mangled_deploy_tables_end_in_results_or_one_line(
    cells: list[tuple[int, int, Any]],
) -> None:
    # A team's deploy table is exported from its CD tool by hand: any cell may be anything.
    history = ROOT / "fixtures" / "history"
    deploys = pd.read_csv(history / "deploys.csv", dtype=str, keep_default_na=False).head(6)
    for row, column, value in cells:
        deploys.iloc[row, column] = "" if value is None else str(value)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deploys.csv"
        deploys.to_csv(path, index=False)
        code, out, err = _run(
            [
                "backtest",
                str(ROOT / "examples" / "web-backtest.yaml"),
                str(path),
                "--data",
                str(history / "history.csv"),
                "--output",
                str(Path(tmp) / "results.csv"),
            ]
        )
    _check_outcome(code, out, err)
