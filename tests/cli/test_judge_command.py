"""``canarystats judge``, run as a pipeline runs it: a subprocess with an exit code.

Starting the command costs a few seconds of imports, so the subprocess runs are declared up
front and started together by one module fixture; each test then checks one run's outcome.
Runs whose exit code and output are checked without a process boundary mattering run
in-process through :func:`canarystats.cli.main`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from canarystats.cli import main

ROOT = Path(__file__).resolve().parents[2]
WEB = str(ROOT / "examples" / "web.yaml")
INCIDENT = str(ROOT / "fixtures" / "seed-incident.csv")
HEALTHY = str(ROOT / "fixtures" / "healthy-deploy.csv")
API_KEY = "dd-api-KEY-SECRET-123"
APP_KEY = "dd-app-KEY-SECRET-456"
# Datadog metric names of examples/web.yaml's queries -> the fixtures' metric column.
DATADOG_NAMES = {
    "sidekiq.jobs.failure": "background-jobs-failed",
    "sidekiq.jobs.success": "background-jobs-processed",
    "sidekiq.queue.latency": "background-queue-latency",
    "trace.rack.request.duration": "request-latency",
    "trace.rack.request.errors": "request-errors",
    "trace.rack.request.hits": "requests",
    "system.cpu.user": "cpu-user",
}

# Two metrics in two groups of weight 50: one failing metric makes the score exactly 50, so with
# pass_score 95 and marginal_score 40 the verdict is marginal (score between the two).
SMALL_CONFIG = """\
name: small
judge: {method: kayenta, pass_score: 95, marginal_score: 40}
groups: {a: 50, b: 50}
metrics:
  - {name: slow, query: "avg:slow{$scope}", groups: [a], direction: increase}
  - {name: steady, query: "avg:steady{$scope}", groups: [b]}
"""


def _small_frame() -> pd.DataFrame:
    stamps = pd.date_range("2026-03-10T15:00:00Z", periods=12, freq="60s")
    rows = []
    for i, ts in enumerate(stamps):
        # "slow" is ten times higher on the canary; "steady" interleaves exactly.
        rows += [
            ("slow", "canary", "c1", ts, 100.0 + i),
            ("slow", "baseline", "b1", ts, 10.0 + i),
            ("steady", "canary", "c1", ts, 50.0 + (i % 4)),
            ("steady", "baseline", "b1", ts, 50.0 + ((i + 2) % 4)),
        ]
    return pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])


@dataclass
class Run:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    files: dict[str, str]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _console_script() -> str | None:
    here = Path(sys.executable).parent / "canarystats"
    return str(here) if here.exists() else shutil.which("canarystats")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "small.yaml").write_text(SMALL_CONFIG)
    _small_frame().to_csv(folder / "small.csv", index=False)
    (folder / "malformed.yaml").write_text("name: web\nmetrics: [\n")
    (folder / "wrong-shape.csv").write_text("a,b\n1,2\n")
    (folder / "binary.csv").write_bytes(b"\xff\xfe\x00\x01" * 64)
    incident = pd.read_csv(INCIDENT, dtype=str, keep_default_na=False)
    pd.concat([incident, incident.iloc[:3]]).to_csv(folder / "twice.csv", index=False)
    incident.drop(columns=["host"]).to_csv(folder / "no-host.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def fake_datadog() -> Iterator[Live]:
    from canarystats.sources import read_frame
    from canarystats.testing import FakeDatadog

    frame = read_frame(INCIDENT).assign(tags="service:web")
    # The source only asks Datadog for buckets it has finished (end <= now - settle), so the
    # incident is moved to end an hour ago, whatever today's date is.
    end = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(hours=1)
    shift = end - (frame["timestamp"].max() + pd.Timedelta(minutes=1))
    frame["timestamp"] = frame["timestamp"] + shift
    start = frame["timestamp"].min()
    window = ["--start", start.isoformat(), "--end", end.isoformat()]
    with FakeDatadog(
        frame,
        scopes={"role:canary": "canary", "role:baseline": "baseline"},
        metrics=DATADOG_NAMES,
    ) as dd:
        yield Live(dd.url, window)


@dataclass
class Live:
    """A running fake Datadog and the window that holds its data."""

    url: str
    window: list[str]


def _cases(work: Path, live: Live) -> dict[str, tuple[list[str], dict[str, str | None]]]:
    py = [sys.executable, "-m", "canarystats"]
    script = _console_script()
    judge = [*py, "judge"]
    data = ["--data", INCIDENT]
    window = live.window
    cases: dict[str, tuple[list[str], dict[str, str | None]]] = {
        "incident": ([*judge, WEB, *data], {}),
        "incident_quiet": ([*py, "--quiet", "judge", WEB, *data], {}),
        "incident_soft": (
            [*judge, WEB, *data, "--soft-fail", "--history", str(work / "h.sqlite")],
            {},
        ),
        "json": ([*judge, WEB, *data, "--format", "json", "--output", str(work / "r.json")], {}),
        "junit": ([*judge, WEB, *data, "--format", "junit"], {}),
        "markdown": ([*judge, WEB, *data, "--format", "markdown"], {}),
        "html": ([*judge, WEB, *data, "--format", "html", "--output", str(work / "r.html")], {}),
        "nodata": ([*judge, WEB, *data, "--start", "2020-01-01", "--end", "2020-01-02"], {}),
        "unknown_flag": ([*judge, WEB, *data, "--bogus"], {}),
        "unreachable": (
            [*judge, WEB, *window, "--deadline", "2", "--quiet"],
            {"DATADOG_HOST": f"http://127.0.0.1:{_closed_port()}"},
        ),
        "fake_datadog": ([*judge, WEB, *window, "--format", "json"], {"DATADOG_HOST": live.url}),
    }
    if script is not None:
        cases["console_healthy"] = ([script, "judge", WEB, "--data", HEALTHY], {})
    return cases


@pytest.fixture(scope="module")
def runs(work: Path, fake_datadog: Live) -> dict[str, Run]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "DATADOG_"))}
    base.update(DD_API_KEY=API_KEY, DD_APP_KEY=APP_KEY, NO_COLOR="1")
    base.pop("CANARYSTATS_DEBUG", None)
    cases = _cases(work, fake_datadog)

    def run(item: tuple[str, tuple[list[str], dict[str, str | None]]]) -> tuple[str, Run]:
        name, (argv, extra) = item
        env = dict(base)
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=work)
        return name, Run(argv, done.returncode, done.stdout, done.stderr, {})

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(pool.map(run, cases.items()))
    written = {
        p.name: p.read_text(errors="replace")
        for p in work.iterdir()
        if p.is_file() and p.suffix in (".json", ".html", ".sqlite", ".xml")
    }
    for r in results.values():
        r.files = written
    return results


def _one_line_error(run: Run) -> str:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    return lines[0]


# --------------------------------------------------------------------------- verdicts


def test_seed_incident_replay_fails_with_exit_1_and_explains_background_jobs(runs) -> None:
    r = runs["incident"]
    assert r.returncode == 1, r.stderr
    first = r.stdout.splitlines()[0]
    assert first.startswith("FAIL")
    failing = [line for line in r.stdout.splitlines() if line.startswith("[x]")]
    assert any("background-jobs" in line for line in failing)
    assert "jobs/min" in r.stdout
    # stdout carries only the report; stderr, not a terminal, one plain line per step.
    assert r.stderr.splitlines() == [
        f"canarystats: reading {INCIDENT}",
        "canarystats: judging 7 metrics",
    ]


def test_quiet_leaves_stderr_empty_and_the_report_unchanged(runs) -> None:
    quiet, plain = runs["incident_quiet"], runs["incident"]
    assert quiet.returncode == 1
    assert quiet.stderr == ""
    assert quiet.stdout == plain.stdout


def test_healthy_deploy_passes_with_exit_0_via_the_console_script(runs) -> None:
    if "console_healthy" not in runs:
        pytest.skip("the canarystats console script is not installed next to this Python")
    r = runs["console_healthy"]
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("PASS")


def test_nodata_exits_3(runs) -> None:
    assert runs["nodata"].returncode == 3, runs["nodata"].stderr
    assert runs["nodata"].stdout.startswith("NODATA")


def test_soft_fail_exits_0_prints_and_records_the_code_it_would_have_returned(runs) -> None:
    r = runs["incident_soft"]
    assert r.returncode == 0
    assert "would have exited 1" in r.stderr
    assert r.stdout.startswith("FAIL")
    from canarystats.history import runs as history_runs

    row = history_runs(Path(r.argv[r.argv.index("--history") + 1])).iloc[-1]
    assert (row["verdict"], row["exit_code"], row["would_exit"], row["soft_fail"]) == (
        "fail",
        0,
        1,
        1,
    )


def test_a_config_metric_absent_from_the_data_is_named_with_the_nearest_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A misspelt count has no rows, so it judges as zero events and would pass in silence.
    text = (ROOT / "examples" / "web.yaml").read_text()
    config = tmp_path / "typo.yaml"
    config.write_text(text.replace("name: background-jobs-failed", "name: background-job-failed"))
    assert main(["judge", str(config), "--data", INCIDENT]) == 1
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        f"canarystats: warning: {INCIDENT} holds no row of metric 'background-job-failed' "
        "(did you mean 'background-jobs-failed'?); it is judged as if Datadog had returned no "
        "series for it"
    ]
    # Nothing close: the file's metrics are listed instead.
    config.write_text(text.replace("name: cpu-user", "name: zzz"))
    main(["judge", str(config), "--data", INCIDENT])
    err = capsys.readouterr().err
    assert "no row of metric 'zzz' (it holds background-jobs-failed, " in err
    # The config as shipped names only metrics the file holds.
    main(["judge", str(ROOT / "examples" / "web.yaml"), "--data", INCIDENT])
    assert "warning" not in capsys.readouterr().err


# --------------------------------------------------------------------------- formats


def test_json_output_file_validates_against_the_schema(runs, work: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    r = runs["json"]
    assert r.returncode == 1
    assert r.stdout == ""
    document = json.loads((work / "r.json").read_text())
    schema = json.loads(
        resources.files("canarystats").joinpath("schemas/judgment.schema.json").read_text()
    )
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["verdict"] == "fail"
    # No temporary file is left beside the report.
    assert not [p for p in work.iterdir() if p.name.startswith(".r.json")]


def test_junit_on_stdout_parses_with_a_failure_per_failing_metric(runs) -> None:
    r = runs["junit"]
    assert r.returncode == 1
    root = ET.fromstring(r.stdout.encode())
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 7  # examples/web.yaml has seven metrics
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert "background-jobs-failed" in failed


def test_markdown_is_a_job_summary(runs) -> None:
    r = runs["markdown"]
    assert r.returncode == 1
    assert r.stdout.startswith("### ")
    assert "**FAIL**" in r.stdout
    assert "| background-jobs-failed" in r.stdout or "| **background-jobs-failed**" in r.stdout


class _Svgs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.top_level = 0
        self.sections = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self.sections += 1
        if tag == "svg":
            self.top_level += self.depth == 0
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.depth -= 1


def test_html_report_has_one_plot_per_metric(runs, work: Path) -> None:
    r = runs["html"]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert r.returncode == 2
        assert "plots extra" in _one_line_error(r)
        return
    assert r.returncode == 1, r.stderr
    parser = _Svgs()
    parser.feed((work / "r.html").read_text())
    assert parser.sections == 7
    assert parser.top_level == 7


# --------------------------------------------------------------------------- a real fetch


def test_full_run_against_fake_datadog_fails_the_incident(runs) -> None:
    r = runs["fake_datadog"]
    assert r.returncode == 1, r.stderr
    document = json.loads(r.stdout)
    assert document["verdict"] == "fail"
    classes = {m["name"]: m["classification"] for m in document["metrics"]}
    assert classes["background-jobs-failed"] in ("High", "NodataFailMetric")
    counts = {m["name"]: m["data_points"]["canary"] for m in document["metrics"]}
    assert counts["background-jobs-processed"] > 0


def test_a_metric_or_cohort_without_series_is_named(
    fake_datadog: Live,
    keys: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATADOG_HOST", fake_datadog.url)
    config = tmp_path / "typo.yaml"
    text = Path(WEB).read_text()
    config.write_text(text.replace("sidekiq.jobs.failure{", "sidekiq.job.failure{"))
    for command in (["judge"], ["fetch", "--output", str(tmp_path / "run.csv")]):
        main([*command, str(config), *fake_datadog.window])
        warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
        assert warnings == [
            "canarystats: warning: Datadog returned no series of metric 'background-jobs-failed' "
            "for either cohort; a misspelt metric or tag returns none too: check its query "
            "(canarystats validate CONFIG --render)"
        ]
    # The config as shipped has a series for every metric: nothing to warn about.
    main(["judge", WEB, *fake_datadog.window])
    assert "warning" not in capsys.readouterr().err
    # A canary scope that matches no host is one line, not a warning per metric.
    assert main(["judge", WEB, *fake_datadog.window, "--canary", "role:canry"]) == 3
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        "canarystats: warning: Datadog returned no series of any metric for the canary scope "
        "'role:canry': check --canary (or scopes.canary in the config)"
    ]
    # A saved frame without a cohort says so too.
    frame = pd.read_csv(INCIDENT, dtype=str, keep_default_na=False)
    baseline_only = tmp_path / "baseline-only.csv"
    frame[frame["cohort"] == "baseline"].to_csv(baseline_only, index=False)
    main(["judge", WEB, "--data", str(baseline_only)])
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [f"canarystats: warning: {baseline_only} holds no canary row"]


def test_a_file_whose_points_are_not_one_step_apart_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.read_csv(HEALTHY, parse_dates=["timestamp"], keep_default_na=False)
    t0 = frame["timestamp"].min()
    # The same points a sixth apart: rolled up to 10 s, judged with the config's 60-s step.
    frame["timestamp"] = t0 + (frame["timestamp"] - t0) / 6
    fine = tmp_path / "ten-seconds.csv"
    frame.to_csv(fine, index=False)
    main(["judge", WEB, "--data", str(fine)])
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        f"canarystats: warning: {fine} has a point every 10 s, but the config's step is 60 s, "
        "so rates and the window's end are read per 60 s: give --step 10 (or step: 10 in the "
        "config)"
    ]
    main(["judge", WEB, "--data", str(fine), "--step", "10"])
    assert "warning" not in capsys.readouterr().err
    # Metrics with a step of their own that the spacing matches are read as meant.
    own = tmp_path / "own-step.yaml"
    text = Path(WEB).read_text()
    own.write_text(text.replace("\n  - name: ", "\n  - step: 10\n    name: "))
    assert own.read_text().count("step: 10") == text.count("\n  - name: ") > 0
    main(["judge", str(own), "--data", str(fine)])
    assert "warning" not in capsys.readouterr().err
    main(["judge", WEB, "--data", HEALTHY])
    assert "warning" not in capsys.readouterr().err


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("case", "code", "mentions"),
    [("unknown_flag", 2, "--bogus"), ("unreachable", 3, "127.0.0.1")],
)
def test_bad_input_in_a_process_gives_one_line_and_the_documented_code(
    runs, case: str, code: int, mentions: str
) -> None:
    r = runs[case]
    assert r.returncode == code, r.stderr
    assert mentions in _one_line_error(r)
    assert r.stdout == ""


def test_no_key_value_anywhere(runs) -> None:
    for name, r in runs.items():
        for text in (r.stdout, r.stderr, *r.files.values()):
            assert API_KEY not in text, name
            assert APP_KEY not in text, name


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DATADOG_HOST", "DD_SITE", "CANARYSTATS_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)


def _bad_inputs(work: Path) -> dict[str, tuple[list[str], int, str]]:
    data = ["--data", INCIDENT]
    window = ["--start", "2026-03-10T15:00:00Z", "--end", "2026-03-10T15:30:00Z"]
    return {
        "missing config (soft-fail never hides 2)": (
            ["judge", str(work / "absent.yaml"), *data, "--soft-fail"],
            2,
            "absent.yaml",
        ),
        "malformed config": (["judge", str(work / "malformed.yaml"), *data], 2, "malformed.yaml"),
        "bad time": (["judge", WEB, *data, "--start", "yesterday"], 2, "--start"),
        "bad format": (["judge", WEB, *data, "--format", "pdf"], 2, "--format"),
        "unreadable data": (["judge", WEB, "--data", str(work / "binary.csv")], 2, "binary.csv"),
        "wrongly shaped data": (
            ["judge", WEB, "--data", str(work / "wrong-shape.csv")],
            2,
            "wrong-shape.csv",
        ),
        "missing data file": (["judge", WEB, "--data", str(work / "none.csv")], 2, "none.csv"),
        # Found as the judge aligns the data, far from where it was read: the file is named.
        "a point given twice": (
            ["judge", WEB, "--data", str(work / "twice.csv")],
            2,
            f"{work / 'twice.csv'}: metric 'background-jobs-failed' has two points for one "
            "canary host and timestamp (host 'web-04' at 2026-03-10 15:00:00+00:00)",
        ),
        "no host column": (
            ["judge", WEB, "--data", str(work / "no-host.csv")],
            2,
            "(points without a host at 2026-03-10 15:00:00+00:00)",
        ),
        "a point given twice, one look at a time": (
            [
                "judge",
                WEB,
                "--data",
                str(work / "twice.csv"),
                "--state",
                str(work / "twice.state.json"),
                "--start",
                "2026-03-10T15:00:00Z",
            ],
            2,
            f"{work / 'twice.csv'}: metric 'background-jobs-failed' has two points",
        ),
        # The end is the file's own: the message names the file and where its data lies.
        "start after the data": (
            ["judge", WEB, *data, "--start", "2027-01-01T00:00:00Z"],
            2,
            f"is not before the end of the data in {INCIDENT} (2026-03-10T",
        ),
        "end before the data": (
            ["judge", WEB, *data, "--end", "2026-03-10T14:00:00Z"],
            2,
            f"--end 2026-03-10T14:00:00+00:00 is not after the start of the data in {INCIDENT} "
            "(2026-03-10T15:00:00+00:00 to 2026-03-10T15:30:00+00:00); give an end inside it",
        ),
        # A pipeline without credentials can never judge: a setup error, not hidden.
        "missing keys (soft-fail never hides it)": (
            ["judge", WEB, *window, "--no-keys", "--soft-fail"],
            2,
            "DD_API_KEY",
        ),
        # A report that cannot be written keeps the verdict: tests/adversarial/test_writes.py
    }


@pytest.mark.parametrize("case", list(_bad_inputs(Path("."))))
def test_bad_input_gives_one_line_and_the_documented_code(
    case: str, work: Path, keys: None, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    argv, code, mentions = _bad_inputs(work)[case]
    if "--no-keys" in argv:
        argv = [a for a in argv if a != "--no-keys"]
        monkeypatch.delenv("DD_API_KEY")
        monkeypatch.delenv("DD_APP_KEY")
    assert main(["--quiet", *argv]) == code
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert mentions in lines[0]
    assert out == ""
    assert API_KEY not in err and APP_KEY not in err


def test_marginal_is_a_failure_unless_marginal_ok(work: Path, capsys) -> None:
    argv = ["judge", str(work / "small.yaml"), "--data", str(work / "small.csv")]
    assert main(argv) == 1
    assert capsys.readouterr().out.startswith("MARGINAL")
    assert main([*argv, "--marginal-ok"]) == 0


def test_soft_fail_turns_nodata_into_0_saying_so(capsys) -> None:
    argv = ["judge", WEB, "--data", INCIDENT, "--start", "2020-01-01", "--end", "2020-01-02"]
    assert main([*argv, "--soft-fail"]) == 0
    err = capsys.readouterr().err
    assert "would have exited 3" in err
    # Why there is no verdict: the window misses the file's data.
    assert (
        f"warning: {INCIDENT} holds no point from 2020-01-01T00:00:00+00:00 to "
        "2020-01-02T00:00:00+00:00 (its data runs 2026-03-10T15:00:00+00:00 to "
        "2026-03-10T15:30:00+00:00)"
    ) in err


def test_soft_fail_turns_a_source_failure_into_0_saying_so(keys: None, monkeypatch, capsys) -> None:
    # Datadog down (nothing listens there) is no verdict; a wrong DATADOG_HOST would be exit 2.
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("DATADOG_HOST", url)
    argv = ["judge", WEB, "--lookback", "10m", "--deadline", "2", "--soft-fail"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert url in err and "would have exited 3" in err


# --------------------------------------------------------------------------- the window of --data


def test_end_and_lookback_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["judge", WEB, "--data", INCIDENT, "--end", "now", "--lookback", "5m"]
    assert main(argv) == 2
    assert "--lookback" in capsys.readouterr().err


def test_data_window_flags_filter_the_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first 10 minutes of the incident from the canary start: the first 5 are the warm-up
    # (left out of the requests, kept for the errors, whose harm is an increase).
    argv = ["judge", WEB, "--data", INCIDENT, "--start", "2026-03-10T15:00:00Z"]
    assert main([*argv, "--lookback", "10m", "--format", "json"]) in (0, 1, 3)
    document = json.loads(capsys.readouterr().out)
    frame = pd.read_csv(INCIDENT, parse_dates=["timestamp"])
    canary = frame[frame["cohort"] == "canary"]
    stamps = canary["timestamp"]
    for name, since in (("requests", "15:05"), ("request-errors", "15:00")):
        expected = canary[
            (canary["metric"] == name)
            & (stamps >= pd.Timestamp(f"2026-03-10T{since}:00Z"))
            & (stamps < pd.Timestamp("2026-03-10T15:10:00Z"))
        ]
        result = next(m for m in document["metrics"] if m["name"] == name)
        assert result["data_points"]["canary"] == len(expected), name
    assert document["canary_start"] == "2026-03-10T15:00:00Z"
    assert document["settings"]["warmup_s"] == 300


def test_report_written_to_output_is_announced_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.md"
    argv = ["judge", WEB, "--data", HEALTHY, "--format", "markdown", "--output", str(report)]
    assert main(["--quiet", *argv]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"canarystats: pass (score 100); report written to {report}\n"
    assert report.read_text(encoding="utf-8").startswith("### ")
