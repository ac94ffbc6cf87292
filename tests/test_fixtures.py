"""The shipped fixtures: reproducible from their generator, shaped like the tidy frame, and
carrying the effects their README promises (the incident's canary really is broken)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
EXAMPLES = ROOT / "examples"
RUNS = ("seed-incident", "healthy-deploy", "latency-regression")
TIDY_COLUMNS = ["metric", "cohort", "host", "timestamp", "value"]
QUIET = ("background-jobs-failed", "request-errors")  # DogStatsD error counters
# Canary start times, as documented in fixtures/README.md.
T0 = {
    "seed-incident": "2026-03-10T15:05:00Z",
    "healthy-deploy": "2026-03-11T16:20:00Z",
    "latency-regression": "2026-03-12T18:40:00Z",
}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fixtures_generate", FIXTURES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve their module through sys.modules while the file executes
    sys.modules["fixtures_generate"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _load_generator()


@pytest.fixture(scope="module")
def regenerated(gen: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fixtures")
    gen.write_all(out)
    return out


def read_tidy(path: Path) -> pd.DataFrame:
    # keep_default_na=False + na_values=[""] so only an empty field is a null (never "NaN" text)
    return pd.read_csv(
        path, keep_default_na=False, na_values=[""], dtype={"value": float, "host": str}
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, pd.DataFrame]:
    return {name: read_tidy(FIXTURES / f"{name}.csv") for name in RUNS}


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return read_tidy(FIXTURES / "history" / "history.csv")


@pytest.fixture(scope="module")
def deploys() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "history" / "deploys.csv", keep_default_na=False)


def shipped_files() -> list[Path]:
    return sorted(p.relative_to(FIXTURES) for p in FIXTURES.rglob("*.csv"))


def config_metrics(name: str) -> list[dict]:
    return yaml.safe_load((EXAMPLES / name).read_text())["metrics"]


def window(frame: pd.DataFrame, start: str, minutes: tuple[int, int]) -> pd.DataFrame:
    """Rows with ``start + minutes[0] <= timestamp < start + minutes[1]``."""
    t = pd.to_datetime(frame["timestamp"], utc=True)
    t0 = pd.Timestamp(start)
    return frame[
        (t >= t0 + pd.Timedelta(minutes=minutes[0])) & (t < t0 + pd.Timedelta(minutes=minutes[1]))
    ]


def cohort_values(
    frame: pd.DataFrame, metric: str, cohort: str, fill_zero: bool = False
) -> np.ndarray:
    values = frame[(frame.metric == metric) & (frame.cohort == cohort)]["value"].to_numpy(float)
    return np.nan_to_num(values) if fill_zero else values[~np.isnan(values)]


def mean_ratio(frame: pd.DataFrame, metric: str) -> float:
    fill = metric in QUIET
    canary = cohort_values(frame, metric, "canary", fill)
    baseline = cohort_values(frame, metric, "baseline", fill)
    return float(canary.mean() / baseline.mean())


# --- reproducibility -------------------------------------------------------------------------


def test_regenerating_writes_exactly_the_shipped_files(regenerated: Path) -> None:
    written = sorted(p.relative_to(regenerated) for p in regenerated.rglob("*.csv"))
    assert written == shipped_files()
    assert len(written) == 5


@pytest.mark.parametrize("rel", [str(p) for p in shipped_files()])
def test_regenerated_file_is_byte_identical_to_the_shipped_one(regenerated: Path, rel: str) -> None:
    assert (regenerated / rel).read_bytes() == (FIXTURES / rel).read_bytes(), (
        f"fixtures/{rel} is stale: run `python fixtures/generate.py` and commit the result"
    )


def test_the_script_regenerates_a_data_set_from_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(FIXTURES / "generate.py"), "--out", str(tmp_path), "--only",
         "healthy-deploy"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["healthy-deploy.csv"]
    assert (tmp_path / "healthy-deploy.csv").read_bytes() == (
        FIXTURES / "healthy-deploy.csv"
    ).read_bytes()


def test_fixtures_stay_small() -> None:
    sizes = {p: (FIXTURES / p).stat().st_size for p in shipped_files()}
    assert all(size < 3_000_000 for size in sizes.values()), sizes
    assert sum(sizes.values()) < 8_000_000


# --- the generator's model -------------------------------------------------------------------


def test_a_quiet_counter_goes_silent_five_minutes_after_its_last_event(gen: ModuleType) -> None:
    counts = np.array([0.0, 3, 0, 0, 0, 0, 0, 0, 1, 0])
    # by hand: nothing before the first event; the event at 1 keeps zeros flowing at 2..6
    # (300 s); silent at 7; live again from the event at 8
    n = np.nan
    expected = [n, 3, 0, 0, 0, 0, 0, n, 1, 0]
    np.testing.assert_array_equal(gen._silence_expired_counters(counts), expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=40))
def test_quiet_counter_matches_a_plain_reading_of_the_agent_rule(
    gen: ModuleType, counts: list[int]
) -> None:
    got = gen._silence_expired_counters(np.array(counts, dtype=float))
    for i, c in enumerate(counts):
        recent = any(counts[j] > 0 for j in range(max(0, i - 5), i + 1))
        if recent:
            assert got[i] == c
        else:
            assert np.isnan(got[i])


def test_ar1_noise_has_the_requested_spread_and_autocorrelation(gen: ModuleType) -> None:
    rng = np.random.default_rng(0)
    x = gen.ar1(rng, (400, 200), phi=0.7, sd=0.3)
    assert x.std() == pytest.approx(0.3, rel=0.05)
    lag1 = np.mean([np.corrcoef(row[:-1], row[1:])[0, 1] for row in x])
    assert lag1 == pytest.approx(0.7, abs=0.03)


# --- the tidy-frame schema -------------------------------------------------------------------


@pytest.mark.parametrize("name", RUNS)
def test_run_has_the_tidy_frame_schema(runs: dict[str, pd.DataFrame], name: str) -> None:
    frame = runs[name]
    assert list(frame.columns) == TIDY_COLUMNS
    assert set(frame.cohort) == {"canary", "baseline"}
    assert frame["value"].dtype == np.float64
    stamps = frame["timestamp"]
    assert stamps.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z").all()
    assert not frame.duplicated(["metric", "cohort", "host", "timestamp"]).any()
    assert (frame.dropna(subset=["value"])["value"] >= 0).all()


@pytest.mark.parametrize("name", RUNS)
def test_run_window_and_hosts_match_the_readme(runs: dict[str, pd.DataFrame], name: str) -> None:
    frame = runs[name]
    t = pd.to_datetime(frame["timestamp"], utc=True)
    t0 = pd.Timestamp(T0[name])
    # 5 minutes before the canary start and 25 from it, on a 60-s grid
    expected = pd.date_range(t0 - pd.Timedelta(minutes=5), periods=30, freq="60s")
    assert sorted(t.unique()) == list(expected)
    for _, series in frame.groupby(["metric", "cohort", "host"]):
        assert len(series) == 30
    hosts = frame[frame.metric == "requests"].groupby("cohort")["host"].unique()
    canary, baseline = set(hosts["canary"]), set(hosts["baseline"])
    assert len(canary) == len(baseline) == 4
    assert not canary & baseline


@pytest.mark.parametrize("name", RUNS)
def test_metric_names_are_the_example_configs(runs: dict[str, pd.DataFrame], name: str) -> None:
    names = [m["name"] for m in config_metrics("web.yaml")]
    assert sorted(runs[name].metric.unique()) == sorted(names)


def test_quiet_error_counters_behave_like_dogstatsd(runs: dict[str, pd.DataFrame]) -> None:
    absent = 0
    for frame in runs.values():
        for metric in QUIET:
            rows = frame[frame.metric == metric]
            for host, series in rows.groupby("host"):
                values = series.sort_values("timestamp")["value"].to_numpy()
                assert not np.isnan(values).all(), "a host without events sends no series"
                # after the first 5 buckets (whose past is unknown), a 0 is sent only within
                # 300 s of an event and a null only outside it
                for i in range(5, len(values)):
                    recent = np.nan_to_num(values[i - 5 : i + 1]) > 0
                    assert np.isnan(values[i]) != recent.any(), (metric, host, i)
            absent += 8 - rows["host"].nunique()
    assert absent > 0, "some quiet hosts should send no error series at all"


def test_only_quiet_counters_and_gauges_have_nulls(runs: dict[str, pd.DataFrame]) -> None:
    frame = pd.concat(runs.values())
    nulls = frame["value"].isna().groupby(frame["metric"]).mean()
    assert nulls["requests"] == 0 and nulls["background-jobs-processed"] == 0
    for gauge in ("request-latency", "background-queue-latency", "cpu-user"):
        assert nulls[gauge] < 0.02
    assert nulls["background-jobs-failed"] > 0.2


# --- what happens in each run ----------------------------------------------------------------


def test_before_the_start_the_canary_looks_like_the_baseline(runs: dict[str, pd.DataFrame]) -> None:
    for name, frame in runs.items():
        before = window(frame, T0[name], (-5, 0))
        for metric in ("background-jobs-processed", "requests", "request-latency"):
            # hosts differ by a few percent (host_sd 0.06-0.08), nothing more
            assert mean_ratio(before, metric) == pytest.approx(1.0, abs=0.15), (name, metric)


def test_seed_incident_breaks_background_jobs_on_the_canary(runs: dict[str, pd.DataFrame]) -> None:
    after = window(runs["seed-incident"], T0["seed-incident"], (3, 25))
    # injected: processed x0.4, failed +71/min, queue latency +45% per minute since the start
    assert mean_ratio(after, "background-jobs-processed") < 0.55
    assert cohort_values(after, "background-jobs-failed", "canary", True).mean() > 30
    assert cohort_values(after, "background-jobs-failed", "baseline", True).mean() < 1
    assert mean_ratio(after, "background-queue-latency") > 3
    p = stats.mannwhitneyu(
        cohort_values(after, "background-jobs-processed", "canary"),
        cohort_values(after, "background-jobs-processed", "baseline"),
        alternative="less",
    ).pvalue
    assert p < 1e-10
    # requests are served as before
    for metric in ("request-latency", "requests", "cpu-user"):
        assert mean_ratio(after, metric) == pytest.approx(1.0, abs=0.15), metric


def test_seed_incident_shows_from_the_first_minutes(runs: dict[str, pd.DataFrame]) -> None:
    early = window(runs["seed-incident"], T0["seed-incident"], (0, 3))
    assert cohort_values(early, "background-jobs-failed", "canary", True).mean() > 10


def test_latency_regression_is_twenty_percent_on_latency_only(
    runs: dict[str, pd.DataFrame],
) -> None:
    after = window(runs["latency-regression"], T0["latency-regression"], (2, 25))
    assert mean_ratio(after, "request-latency") == pytest.approx(1.2, abs=0.08)
    for metric in ("background-jobs-processed", "requests", "background-queue-latency", "cpu-user"):
        assert mean_ratio(after, metric) == pytest.approx(1.0, abs=0.15), metric


def test_healthy_deploy_differs_only_by_host_noise(runs: dict[str, pd.DataFrame]) -> None:
    after = window(runs["healthy-deploy"], T0["healthy-deploy"], (2, 25))
    for metric in ("background-jobs-processed", "requests", "request-latency", "cpu-user",
                   "background-queue-latency"):  # fmt: skip
        assert mean_ratio(after, metric) == pytest.approx(1.0, abs=0.15), metric
    assert cohort_values(after, "background-jobs-failed", "canary", True).mean() < 1


def test_every_canary_restart_warms_up(runs: dict[str, pd.DataFrame]) -> None:
    for name, frame in runs.items():
        first = window(frame, T0[name], (0, 1))
        # the first bucket after the restart holds ~60% of a minute of requests
        assert mean_ratio(first, "requests") == pytest.approx(0.6, abs=0.15), name


# --- the history -----------------------------------------------------------------------------


def test_history_has_200_deploys_and_a_few_bad_ones(deploys: pd.DataFrame) -> None:
    assert list(deploys.columns) == [
        "deploy", "canary_scope", "baseline_scope", "start", "end", "outcome", "problem", "note"
    ]  # fmt: skip
    assert len(deploys) >= 200
    assert deploys["deploy"].is_unique
    assert set(deploys.outcome) == {"good", "bad"}
    bad = deploys.outcome == "bad"
    assert 0.03 <= bad.mean() <= 0.10
    assert (deploys.problem[bad] != "").all() and (deploys.problem[~bad] == "").all()
    assert (deploys.note[bad] == "").all()


def test_history_windows_are_ordered_and_never_overlap(deploys: pd.DataFrame) -> None:
    start = pd.to_datetime(deploys.start, utc=True)
    end = pd.to_datetime(deploys.end, utc=True)
    assert (end - start == pd.Timedelta(minutes=10)).all()
    assert (start.iloc[1:].to_numpy() >= end.iloc[:-1].to_numpy()).all()


def test_history_scopes_follow_rollbacks(deploys: pd.DataFrame) -> None:
    assert deploys.canary_scope.str.fullmatch(r"role:canary,version:[0-9a-f]{7}").all()
    assert deploys.baseline_scope.str.fullmatch(r"role:baseline,version:[0-9a-f]{7}").all()
    canary = deploys.canary_scope.str.split(":").str[-1]
    baseline = deploys.baseline_scope.str.split(":").str[-1]
    for i in range(1, len(deploys)):
        if deploys.outcome[i - 1] == "good":
            assert baseline[i] == canary[i - 1]
        else:  # rolled back: the baseline did not move
            assert baseline[i] == baseline[i - 1]


def test_history_rows_lie_in_their_deploy_window(
    history: pd.DataFrame, deploys: pd.DataFrame
) -> None:
    assert list(history.columns) == ["deploy", *TIDY_COLUMNS]
    assert set(history.deploy) == set(deploys.deploy)
    merged = history.merge(deploys[["deploy", "start", "end"]], on="deploy")
    assert ((merged.timestamp >= merged.start) & (merged.timestamp < merged.end)).all()
    assert not history.duplicated(["deploy", "metric", "cohort", "host", "timestamp"]).any()


def test_history_has_three_hosts_per_cohort(history: pd.DataFrame) -> None:
    hosts = history[history.metric == "requests"].groupby(["deploy", "cohort"])["host"].nunique()
    assert (hosts == 3).all()
    per_deploy = history[history.metric == "requests"].groupby("deploy")["host"].nunique()
    assert (per_deploy == 6).all()


def test_history_has_cohorts_whose_error_counter_sent_nothing(history: pd.DataFrame) -> None:
    failed = history[history.metric == "background-jobs-failed"]
    hosts = failed.groupby(["deploy", "cohort"])["host"].nunique()
    # 200 deploys x 2 cohorts; a (deploy, cohort) pair without any series is missing here
    assert len(hosts) < 2 * history.deploy.nunique()


def test_history_metrics_are_the_backtest_config(history: pd.DataFrame) -> None:
    names = [m["name"] for m in config_metrics("web-backtest.yaml")]
    assert sorted(history.metric.unique()) == sorted(names)


def test_bad_deploys_carry_their_problem(history: pd.DataFrame, deploys: pd.DataFrame) -> None:
    # (metric, lowest canary/baseline mean ratio, highest): the injected change, less host noise
    blatant = {
        "request latency +50%": ("request-latency", 1.3, np.inf),
        "canary failing health checks: traffic -40%": ("requests", 0, 0.75),
        "request errors x30": ("request-errors", 5, np.inf),
    }
    seen = 0
    for _, row in deploys[deploys.problem.isin(list(blatant))].iterrows():
        metric, low, high = blatant[row.problem]
        ratio = mean_ratio(history[history.deploy == row.deploy], metric)
        assert low < ratio < high, (row.deploy, row.problem, ratio)
        seen += 1
    assert seen >= 3
    # 60% of ~95 jobs a minute fail: far above the healthy ~0.04 a minute
    for deploy in deploys.deploy[deploys.problem == "background jobs failing (60% of jobs)"]:
        rows = history[history.deploy == deploy]
        assert cohort_values(rows, "background-jobs-failed", "canary", True).mean() > 20
        seen += 1
    assert seen >= 4


def test_good_deploys_have_latency_near_their_baseline(
    history: pd.DataFrame, deploys: pd.DataFrame
) -> None:
    good = deploys.deploy[(deploys.outcome == "good") & (deploys.note == "")]
    latency = history[history.deploy.isin(good) & (history.metric == "request-latency")]
    means = latency.groupby(["deploy", "cohort"])["value"].mean().unstack()
    ratios = means["canary"] / means["baseline"]
    # host offsets (sd 6% per host, 3 hosts a side) and the warm-up: close to 1, rarely far
    assert ratios.median() == pytest.approx(1.0, abs=0.04)
    assert (ratios.between(0.85, 1.2)).mean() > 0.95


# --- the example configs ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["web.yaml", "web-backtest.yaml"])
def test_example_queries_are_templated_per_host(name: str) -> None:
    for metric in config_metrics(name):
        assert "$scope" in metric["query"] and "by {host}" in metric["query"], metric["name"]
        is_count = metric.get("kind") == "count"
        assert is_count == metric["query"].endswith(".as_count()"), metric["name"]


@pytest.mark.parametrize("name", ["web.yaml", "web-backtest.yaml"])
def test_example_configs_load(name: str) -> None:
    from canarystats.config import load_config

    config = load_config(EXAMPLES / name)
    assert config.name == "web"
    assert config.scopes.canary == "role:canary"


@pytest.mark.parametrize(
    ("name", "verdict"), [("seed-incident", "fail"), ("healthy-deploy", "pass")]
)
def test_the_demo_runs_get_the_documented_verdict(name: str, verdict: str) -> None:
    from canarystats.config import load_config
    from canarystats.judgment import judge
    from canarystats.sources.files import read_frame

    judgment = judge(load_config(EXAMPLES / "web.yaml"), read_frame(FIXTURES / f"{name}.csv"))
    assert judgment.verdict == verdict
    if verdict == "fail":
        failing = {m.name for m in judgment.metrics if m.classification != "Pass"}
        assert "background-jobs-failed" in failing
