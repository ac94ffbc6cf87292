"""Backtests: verdicts per deploy, scoring against outcomes, sweeps, Dask, the history source."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canarystats import judge, load_config
from canarystats.backtesting import (
    RESULT_COLUMNS,
    SUMMARY_COLUMNS,
    apply_settings,
    backtest,
    backtest_sweep,
    fetch_deploys,
    summarize,
)
from canarystats.cli import main
from canarystats.errors import ConfigError, DataError
from canarystats.exit_codes import for_verdict
from canarystats.sources.base import MetricQuery
from canarystats.sources.history import HistorySource, read_deploys

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "fixtures" / "history"
CONFIG = ROOT / "examples" / "web-backtest.yaml"

T0 = pd.Timestamp("2026-02-02T14:00:00Z")
SMALL = {"name": "small", "metrics": [{"name": "lat", "query": "avg:lat{$scope} by {host}"}]}


def _run(deploy: str, start: pd.Timestamp, canary_factor: float, seed: int) -> pd.DataFrame:
    """Three canary and three baseline hosts, ten minutes of a latency around 100."""
    rng = np.random.default_rng(seed)
    rows = []
    for cohort, factor in (("canary", canary_factor), ("baseline", 1.0)):
        for h in range(3):
            level = 100.0 * (1 + 0.01 * h)
            for t in range(10):
                rows.append(
                    {
                        "deploy": deploy,
                        "metric": "lat",
                        "cohort": cohort,
                        "host": f"{cohort}-{deploy}-{h}",
                        "timestamp": start + pd.Timedelta(minutes=t),
                        "value": factor * level + rng.normal(0.0, 1.0),
                    }
                )
    return pd.DataFrame(rows)


def _small_history() -> tuple[pd.DataFrame, pd.DataFrame]:
    # d1: healthy, said good (correct pass); d2: canary twice as slow, said bad (caught);
    # d3: twice as slow but said good (a false alarm, as far as the table knows);
    # d4: healthy but said bad (missed); d5: twice as slow, outcome unknown.
    spec = [
        ("d1", 1.0, "good"),
        ("d2", 2.0, "bad"),
        ("d3", 2.0, "good"),
        ("d4", 1.0, "bad"),
        ("d5", 2.0, ""),
    ]
    frames, deploys = [], []
    for i, (d, factor, outcome) in enumerate(spec):
        start = T0 + pd.Timedelta(minutes=20 * i)
        frames.append(_run(d, start, factor, seed=i))
        deploys.append(
            {
                "deploy": d,
                "canary_scope": f"role:canary,version:{d}",
                "baseline_scope": "role:baseline",
                "start": start.isoformat(),
                "end": (start + pd.Timedelta(minutes=10)).isoformat(),
                "outcome": outcome,
            }
        )
    return pd.concat(frames, ignore_index=True), pd.DataFrame(deploys)


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _small_history()


@pytest.fixture(scope="module")
def small_result(small: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    frame, deploys = small
    return backtest(load_config(SMALL), deploys, HistorySource(frame, deploys))


# --------------------------------------------------------------------------- backtest


def test_backtest_verdicts_and_judge_scoring(small_result: pd.DataFrame) -> None:
    r = small_result.set_index("deploy")
    assert list(small_result.columns[: len(RESULT_COLUMNS)]) == list(RESULT_COLUMNS)
    assert r.loc[["d1", "d4"], "verdict"].tolist() == ["pass", "pass"]
    assert r.loc[["d2", "d3", "d5"], "verdict"].tolist() == ["fail", "fail", "fail"]
    assert r.loc["d2", "failing_metrics"] == "lat"
    assert r.loc["d1", "failing_metrics"] == ""
    assert r["exit_code"].tolist() == [0, 1, 1, 0, 1]
    assert r["stopped"].tolist() == [False, True, True, False, True]
    # right where a good deploy passed or a bad one was stopped
    assert r.loc[["d1", "d2", "d3", "d4"], "correct"].tolist() == [True, True, False, False]
    assert r.loc[["d1", "d2", "d3", "d4"], "false_alarm"].tolist() == [False, False, True, False]
    assert r.loc[["d1", "d2", "d3", "d4"], "missed"].tolist() == [False, False, False, True]
    # unknown outcome: no judgement of the judge
    assert pd.isna(r.loc["d5", "correct"]) and pd.isna(r.loc["d5", "false_alarm"])
    assert pd.isna(r.loc["d5", "outcome"])


def test_backtest_keeps_the_deploy_order_and_windows(small_result: pd.DataFrame) -> None:
    assert small_result["deploy"].tolist() == ["d1", "d2", "d3", "d4", "d5"]
    assert small_result["start"].iloc[1] == T0 + pd.Timedelta(minutes=20)
    assert str(small_result["start"].dt.tz) == "UTC"


def test_summarize_counts_by_hand(small_result: pd.DataFrame) -> None:
    s = summarize(small_result)
    # good: d1 (pass), d3 (stopped) -> 1 false alarm of 2; bad: d2 caught, d4 missed
    assert s["good"] == 2 and s["bad"] == 2 and s["deploys"] == 5
    assert s["false_alarms"] == 1 and s["caught"] == 1 and s["missed"] == 1
    assert s["false_alarm_rate"] == 0.5 and s["catch_rate"] == 0.5
    assert s["nodata"] == 0


def test_summarize_without_bad_deploys_has_no_catch_rate() -> None:
    r = pd.DataFrame({"outcome": ["good"], "verdict": ["pass"], "stopped": [False]})
    s = summarize(r)
    assert s["false_alarm_rate"] == 0.0 and np.isnan(s["catch_rate"])


def test_exit_codes_follow_the_cli() -> None:
    assert [for_verdict(v) for v in ("pass", "marginal", "fail", "nodata")] == [0, 1, 1, 3]
    assert for_verdict("marginal", marginal_ok=True) == 0


def test_marginal_ok_lets_marginal_deploys_through() -> None:
    frame, deploys = _small_history()
    # Two metrics in two groups: one failing metric of two gives a score of 50; a marginal
    # score of 40 makes it marginal, not fail.
    second = frame.assign(metric="lat2", value=100.0 + frame.index % 3)
    cfg = load_config(
        {
            "name": "two",
            "judge": {"pass_score": 95, "marginal_score": 40},
            "metrics": [
                {"name": "lat", "query": "q", "groups": ["a"]},
                {"name": "lat2", "query": "q", "groups": ["b"]},
            ],
        }
    )
    both = pd.concat([frame, second], ignore_index=True)
    source = HistorySource(both, deploys)
    strict = backtest(cfg, deploys, source).set_index("deploy")
    lenient = backtest(cfg, deploys, source, marginal_ok=True).set_index("deploy")
    assert strict.loc["d2", "verdict"] == "marginal" and strict.loc["d2", "score"] == 50.0
    assert strict.loc["d2", "exit_code"] == 1 and bool(strict.loc["d2", "stopped"])
    assert lenient.loc["d2", "exit_code"] == 0 and not bool(lenient.loc["d2", "stopped"])


def test_a_deploy_without_data_is_nodata_and_stops() -> None:
    frame, deploys = _small_history()
    source = HistorySource(frame[frame["deploy"] != "d1"], deploys)
    r = backtest(load_config(SMALL), deploys, source).set_index("deploy")
    assert r.loc["d1", "verdict"] == "nodata" and r.loc["d1", "exit_code"] == 3
    # a good deploy the pipeline would have stopped for want of data is a false alarm
    assert bool(r.loc["d1", "false_alarm"])


def test_backtest_accepts_a_list_of_dicts_without_ids() -> None:
    frame, deploys = _small_history()
    rows = deploys.drop(columns=["deploy", "outcome"]).to_dict("records")
    r = backtest(load_config(SMALL), rows, HistorySource(frame.drop(columns="deploy")))
    assert r["deploy"].tolist() == ["0", "1", "2", "3", "4"]
    assert r["verdict"].tolist() == ["pass", "fail", "fail", "pass", "fail"]
    assert r["correct"].isna().all()


def test_overrides_reach_the_judge(small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    frame, deploys = small
    cfg = load_config(SMALL)
    source = HistorySource(frame, deploys)
    # pass_score 0 and marginal_score 0: every judged deploy passes, whatever its metrics
    r = backtest(cfg, deploys, source, overrides={"pass_score": 0, "marginal_score": 0})
    assert (r["verdict"] == "pass").all()
    with pytest.raises(ConfigError, match="bogus"):
        backtest(cfg, deploys, source, overrides={"bogus": 1})


# --------------------------------------------------------------------------- fixture history


@pytest.fixture(scope="module")
def history() -> tuple[pd.DataFrame, HistorySource]:
    deploys = read_deploys(HISTORY / "deploys.csv").iloc[:24]
    return deploys, HistorySource.from_files(HISTORY / "history.csv", HISTORY / "deploys.csv")


def test_backtest_equals_judging_each_deploy_alone(history: tuple) -> None:
    """The oracle: judge() on each deploy's own rows of history.csv, selected by id."""
    deploys, source = history
    cfg = load_config(CONFIG)
    result = backtest(cfg, deploys, source)
    raw = pd.read_csv(HISTORY / "history.csv", keep_default_na=False, na_values={"value": [""]})
    raw["timestamp"] = pd.to_datetime(raw["timestamp"], utc=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = [judge(cfg, raw[raw["deploy"] == d]) for d in deploys["deploy"]]
    assert result["verdict"].tolist() == [j.verdict for j in expected]
    assert result["score"].tolist() == [j.score for j in expected]
    assert result["outcome"].tolist() == deploys["outcome"].tolist()


def test_history_source_serves_one_deploy_by_scope_and_window(history: tuple) -> None:
    deploys, source = history
    d = deploys.iloc[3]
    queries = [MetricQuery("request-latency", "q"), MetricQuery("requests", "q")]
    scopes = {"canary": d["canary_scope"], "baseline": d["baseline_scope"]}
    start = d["start"].to_pydatetime()
    three = (d["start"] + pd.Timedelta(minutes=3)).to_pydatetime()
    full = source.fetch(queries, scopes, start, d["end"].to_pydatetime())
    part = source.fetch(queries, scopes, start, three)
    assert set(full["deploy"]) == {d["deploy"]}
    assert set(full["metric"]) == {"request-latency", "requests"}
    # 3 hosts per cohort, 2 cohorts, 2 metrics; latency may have a rare null but keeps its row
    assert len(full) == 3 * 2 * 2 * 10
    assert len(part) == 3 * 2 * 2 * 3
    assert part["timestamp"].max() < three
    only_canary = source.fetch(queries, {"canary": d["canary_scope"]}, start, three)
    assert set(only_canary["cohort"]) == {"canary"}


def test_fetch_deploys_batch_equals_one_fetch_per_deploy(history: tuple) -> None:
    deploys, source = history
    cfg = load_config(CONFIG)
    batched = fetch_deploys(cfg, deploys, source)

    class Plain:
        def fetch(self, *args: object) -> pd.DataFrame:
            return source.fetch(*args)  # type: ignore[arg-type]

    looped = fetch_deploys(cfg, deploys, Plain())  # type: ignore[arg-type]
    key = ["deploy", "metric", "cohort", "host", "timestamp"]
    a = batched.sort_values(key).reset_index(drop=True)
    b = looped[batched.columns].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------- sweeps, settings


def test_sweep_rows_equal_backtests_with_those_settings(small: tuple) -> None:
    frame, deploys = small
    cfg = load_config(SMALL)
    source = HistorySource(frame, deploys)
    grid = {"pass_score": [0, 95], "marginal_score": [0]}
    sweep = backtest_sweep(cfg, deploys, source, grid)
    assert list(sweep.columns) == ["pass_score", "marginal_score", *SUMMARY_COLUMNS]
    assert sweep["pass_score"].tolist() == [0, 95]
    for _, row in sweep.iterrows():
        alone = summarize(
            backtest(
                cfg,
                deploys,
                source,
                overrides={"pass_score": row["pass_score"], "marginal_score": 0},
            )
        )
        assert row["false_alarm_rate"] == alone["false_alarm_rate"]
        assert row["catch_rate"] == alone["catch_rate"]
    # with pass_score 0 nothing is stopped: no false alarm, nothing caught
    assert sweep.loc[0, "false_alarms"] == 0 and sweep.loc[0, "caught"] == 0


def test_sweep_rejects_an_empty_grid_and_bad_settings(small: tuple) -> None:
    frame, deploys = small
    cfg = load_config(SMALL)
    source = HistorySource(frame, deploys)
    with pytest.raises(ConfigError, match="empty"):
        backtest_sweep(cfg, deploys, source, {})
    with pytest.raises(ConfigError, match="no values"):
        backtest_sweep(cfg, deploys, source, {"confidence": []})
    with pytest.raises(ConfigError, match="confidence"):
        backtest_sweep(cfg, deploys, source, {"confidence": [1.5]})


def test_apply_settings_moves_metric_settings() -> None:
    cfg = load_config(CONFIG)
    new = apply_settings(cfg, {"*.allowed_increase": 1.3, "request-latency.threshold_max": 0.9})
    assert {m.effect_size.allowed_increase for m in new.metrics} == {1.3}
    assert new.metric("request-latency").threshold.max == 0.9  # type: ignore[union-attr]
    # a metric without a threshold is left alone by the wildcard
    floor = apply_settings(cfg, {"requests.min_effect_relative": 0.2})
    assert floor.metric("requests").min_effect.relative == 0.2
    assert floor.metric("request-errors").min_effect == cfg.metric("request-errors").min_effect
    star = apply_settings(cfg, {"*.threshold_max": 7.0})
    assert star.metric("request-errors").threshold is None
    assert star.metric("background-jobs-failed").threshold.max == 7.0  # type: ignore[union-attr]
    assert cfg.metric("request-latency").threshold.max == 0.5  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"nope": 1}, "unknown"),
        ({"latency.allowed_increase": 1.2}, "names no metric"),
        ({"requests.threshold_max": 3.0}, "no threshold"),
        ({"*.allowed_increase": -1}, ">= 0"),
        ({"*.allowed_increase": "big"}, "finite number"),
        ({"*.outlier_factor": 0}, "> 0"),
    ],
)
def test_apply_settings_errors_name_the_setting(setting: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        apply_settings(load_config(CONFIG), setting)
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- deploy tables


def _table(**change: object) -> list[dict[str, object]]:
    row: dict[str, object] = {
        "deploy": "a",
        "canary_scope": "role:canary",
        "baseline_scope": "role:baseline",
        "start": "2026-01-01T10:00:00Z",
        "end": "2026-01-01T10:10:00Z",
        "outcome": "good",
    }
    row.update(change)
    return [row]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{"canary_scope": "a", "start": "2026-01-01T00:00Z", "end": "2026-01-01T01:00Z"}],
            "baseline_scope",
        ),
        (_table(canary_scope=" "), "empty canary_scope"),
        (_table(start="yesterday"), "ISO 8601"),
        (_table(start="-1"), "the time '-1', outside the years 1970-2199"),
        (_table(end="9999-01-01T00:00:00Z"), "outside the years"),
        (_table(end="2026-01-01T09:00:00Z"), "end not after start"),
        (_table(outcome="ok"), "use good, bad"),
        (_table() + _table(), "appears twice"),
    ],
)
def test_read_deploys_errors_are_one_line(rows: list, message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        read_deploys(rows, "deploys.csv")
    assert "\n" not in str(info.value) and "deploys.csv" in str(info.value)


def test_read_deploys_rejects_naive_datetimes() -> None:
    table = pd.DataFrame(_table())
    table["start"] = pd.to_datetime(table["start"]).dt.tz_localize(None)
    with pytest.raises(DataError, match="timezone"):
        read_deploys(table)


def test_read_deploys_of_a_missing_file() -> None:
    with pytest.raises(DataError, match="no such deploys file"):
        read_deploys(ROOT / "no-such-deploys.csv")


@settings(max_examples=40, deadline=None)
@given(
    outcome=st.sampled_from(["good", "bad", "GOOD", " Bad ", "", None]),
    minutes=st.integers(1, 10_000),
    offset=st.sampled_from(["Z", "+00:00", "+02:00", "-05:30"]),
)
def test_read_deploys_normalises_outcomes_and_windows(
    outcome: str | None, minutes: int, offset: str
) -> None:
    start = f"2026-03-01T12:00:00{offset}"
    end_ts = pd.Timestamp(start) + pd.Timedelta(minutes=minutes)
    t = read_deploys(_table(outcome=outcome, start=start, end=end_ts.isoformat()))
    if outcome is None or not outcome.strip():
        assert pd.isna(t.loc[0, "outcome"])
    else:
        assert t.loc[0, "outcome"] == outcome.strip().lower()
    assert (t.loc[0, "end"] - t.loc[0, "start"]) == pd.Timedelta(minutes=minutes)
    assert t.loc[0, "start"] == pd.Timestamp(start)
    assert str(t["start"].dt.tz) == "UTC"


# --------------------------------------------------------------------------- the command


def _backtest_files(folder: Path, frame: pd.DataFrame, deploys: pd.DataFrame) -> list[str]:
    """``canarystats backtest`` arguments for a history saved in ``folder``."""
    frame.to_csv(folder / "history.csv", index=False)
    deploys.to_csv(folder / "deploys.csv", index=False)
    (folder / "c.yaml").write_text(
        "name: small\nmetrics:\n  - {name: lat, query: 'avg:lat{$scope} by {host}'}\n"
    )
    config, table, data = (str(folder / f) for f in ("c.yaml", "deploys.csv", "history.csv"))
    return ["backtest", config, table, "--data", data]


def test_the_backtest_command_writes_the_frame_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _backtest_files(tmp_path, *_small_history())
    assert main([*argv, "--output", str(tmp_path / "out.csv")]) == 0
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert out["verdict"].tolist() == ["pass", "fail", "fail", "pass", "fail"]
    assert out["start"].iloc[0] == "2026-02-02T14:00:00Z"
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "1 false alarms in 2 good, 1 of 2 bad caught" in err


def test_the_backtest_command_takes_canary_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame, deploys = _restarted_history()
    argv = _backtest_files(tmp_path, frame, deploys)
    assert main([*argv, "--canary-start", "--output", str(tmp_path / "out.csv")]) == 0
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    want = backtest(load_config(argv[1]), deploys, HistorySource(frame, deploys), canary_start=True)
    assert out["verdict"].tolist() == want["verdict"].tolist()
    assert out["stopped"].tolist() == [False, True, False, True]
    assert "0 false alarms in 2 good, 2 of 2 bad caught" in capsys.readouterr().err


# --------------------------------------------------------------------------- Dask


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_frame(small: tuple, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    frame, deploys = small
    cfg = load_config(SMALL)
    source = HistorySource(frame, deploys)
    local = backtest(cfg, deploys, source)
    sweep_local = backtest_sweep(
        cfg, deploys, source, {"pass_score": [0, 95], "marginal_score": [0]}
    )
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = backtest(cfg, deploys, source, client=client, partitions=3)
        restarted, table = _restarted_history()
        with_start = HistorySource(restarted, table)
        starts_remote = backtest(cfg, table, with_start, client=client, canary_start=True)
        sweep_remote = backtest_sweep(
            cfg, deploys, source, {"pass_score": [0, 95], "marginal_score": [0]}, client=client
        )
        # the command's --scheduler path, against the same cluster
        argv = _backtest_files(tmp_path, frame, deploys)
        output = ["--output", str(tmp_path / "out.csv")]
        cli_code = main([*argv, "--scheduler", cluster.scheduler_address, *output])
    pd.testing.assert_frame_equal(local, remote)
    pd.testing.assert_frame_equal(sweep_local, sweep_remote)
    starts_local = backtest(cfg, table, with_start, canary_start=True)
    pd.testing.assert_frame_equal(starts_local, starts_remote)
    assert cli_code == 0
    via_cli = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert via_cli["verdict"].tolist() == local["verdict"].tolist()


def test_batches_of_deploys_give_the_same_frame(
    history: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    import canarystats.backtesting as bt

    deploys, source = history
    cfg = load_config(CONFIG)
    one_batch = backtest(cfg, deploys, source)
    calls: list[int] = []
    real = bt.judge_runs

    def counting(*args: object, **kwargs: object) -> dict:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bt, "judge_runs", counting)
    monkeypatch.setattr(bt, "BATCH_POINTS", 500)  # two deploys a batch (~210 points each)
    many = backtest(cfg, deploys, source)
    assert len(calls) > 10
    pd.testing.assert_frame_equal(many, one_batch)


def _restarted_history() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four deploys, each with 30 minutes before its canary start and 30 after.  In ``slow``
    deploys the canary host is 25% slower than its own past from the start on, which is inside
    the hosts' persistent spread; in every deploy it runs 3x slow for 3 minutes after the start
    (a restart's cold caches)."""
    from conftest import series_frame

    levels = {"c1": 100.0, "b1": 130.0, "b2": 80.0, "b3": 110.0, "b4": 95.0, "b5": 120.0}
    parts, rows = [], []
    for k, (deploy, slower) in enumerate([("d0", 1.0), ("d1", 1.25), ("d2", 1.0), ("d3", 1.25)]):
        rng = np.random.default_rng(40 + k)
        series = {}
        for host, level in levels.items():
            values = level * np.exp(rng.normal(0, 0.02, 60))
            if host == "c1":
                values[30:] *= slower
                values[30:33] *= 3.0
            series[("canary" if host == "c1" else "baseline", host)] = values
        begin = pd.Timestamp("2026-02-01", tz="UTC") + pd.Timedelta(hours=k)
        parts.append(series_frame({"lat": series}, start=begin).assign(deploy=deploy))
        start = begin + pd.Timedelta(minutes=30)
        rows.append(
            {
                "deploy": deploy,
                "canary_scope": f"role:canary,deploy:{deploy}",
                "baseline_scope": f"role:baseline,deploy:{deploy}",
                "start": start.isoformat(),
                "end": (start + pd.Timedelta(minutes=30)).isoformat(),
                "outcome": "bad" if slower > 1 else "good",
            }
        )
    return pd.concat(parts, ignore_index=True), pd.DataFrame(rows)


def test_a_canary_start_backtest_judges_each_deploy_as_judge_start_does() -> None:
    frame, deploys = _restarted_history()
    config = load_config({**SMALL, "metrics": [{**SMALL["metrics"][0], "direction": "increase"}]})
    source = HistorySource(frame, deploys)
    fetched = fetch_deploys(config, deploys, source, canary_start=True)
    table = read_deploys(deploys)
    for d, start in zip(table["deploy"], table["start"], strict=True):
        mine = fetched[fetched["deploy"] == d]
        # The config's pre-window (30 min by default) is fetched before each canary start.
        assert mine["timestamp"].min() == start - pd.Timedelta(minutes=30)
    result = backtest(config, deploys, source, canary_start=True)
    for row in result.itertuples():
        alone = frame[frame["deploy"] == row.deploy].drop(columns="deploy")
        want = judge(config, alone, start=row.start)
        assert (row.verdict, row.score) == (str(want.verdict), want.score)
    # Each host against its own past sees the 25% the hosts' spread hides, and the warm-up
    # keeps the cold caches of the good deploys out.
    assert result["stopped"].tolist() == [False, True, False, True]
    # Without canary starts the window is judged as a whole: the restart's cold caches stop
    # the good deploys too.
    whole = backtest(config, deploys, source)
    assert whole["false_alarm"].tolist()[0::2] == [True, True]
