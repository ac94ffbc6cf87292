"""Hostile values: infinities, magnitudes near the float limits, negative counts, muted runs.

Each of these once let a deploy through (an infinitely slow canary "not significant", a run with
nothing judged scored 100) or ended in an internal error.  Every case goes through the real
command line or the library entry point, with the data generated here.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, levels_frame, make_config, series_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canarystats import judge
from canarystats.cli import main
from canarystats.errors import DataError
from canarystats.frame import MAX_MAGNITUDE

WEB = str(ROOT / "examples" / "web.yaml")
HEALTHY = ROOT / "fixtures" / "healthy-deploy.csv"


def _with_canary_values(tmp_path: Path, metric: str, value: float, suffix: str = ".csv") -> str:
    frame = pd.read_csv(HEALTHY)
    frame.loc[(frame["metric"] == metric) & (frame["cohort"] == "canary"), "value"] = value
    path = tmp_path / f"run{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:  # Python's json writes the token Infinity, as some producers do
        path.write_text(json.dumps(frame.to_dict(orient="records")))
    return str(path)


def _one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "RuntimeWarning" not in err
    return lines[0]


@pytest.mark.parametrize("metric", ["cpu-user", "background-jobs-failed"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, 1e308, -1e308, 2 * MAX_MAGNITUDE])
def test_a_non_finite_or_huge_value_is_refused_naming_where_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], metric: str, value: float
) -> None:
    data = _with_canary_values(tmp_path, metric, value)
    assert main(["--quiet", "judge", WEB, "--data", data, "--soft-fail"]) == 2  # never hidden
    line = _one_error_line(capsys.readouterr().err)
    assert f"metric {metric!r}" in line and "canary host 'web-01'" in line
    assert "at 2026-03-11T16:15:00Z" in line and "and 119 more" in line


def test_infinity_in_a_json_frame_is_refused_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _with_canary_values(tmp_path, "cpu-user", math.inf, suffix=".json")
    assert main(["--quiet", "judge", WEB, "--data", data]) == 2
    assert "the value is inf" in _one_error_line(capsys.readouterr().err)


def test_the_library_refuses_infinity_rather_than_judging_blind() -> None:
    cfg = make_config({"name": "latency", "query": "q"})
    frame = levels_frame(
        {"c1": ("canary", 45.0), "b1": ("baseline", 30.0), "b2": ("baseline", 31.0)}
    )
    frame.loc[frame["host"] == "c1", "value"] = np.inf
    with pytest.raises(DataError, match="'latency', canary host 'c1'"):
        judge(cfg, frame)


def test_a_negative_count_is_one_line_naming_metric_and_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _with_canary_values(tmp_path, "background-jobs-failed", -5.0)
    assert main(["--quiet", "judge", WEB, "--data", data]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "'background-jobs-failed' is a count" in line and "'web-01'" in line


_HOSTS = ("c1", "c2", "b1", "b2", "b3", "b4")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    levels=st.lists(st.floats(1.0, 10.0), min_size=6, max_size=6),
    shift=st.floats(1.0, 3.0),
    exponent=st.integers(-90, 90),
)
def test_magnitudes_up_to_the_limit_judge_like_ordinary_ones(
    levels: list[float], shift: float, exponent: int
) -> None:
    # Gauges whose minimum effect is relative: scaling every value by 10**k changes no label,
    # and no statistic overflows or underflows into a warning on the way.
    cfg = make_config({"name": "m", "query": "q"}, {"name": "n", "query": "q"})
    rng = np.random.default_rng(len(levels))
    series = {
        name: {
            ("canary" if h.startswith("c") else "baseline", h): list(
                lv
                * (shift if (name == "m" and h.startswith("c")) else 1.0)
                * (1 + 0.05 * rng.standard_normal(12))
            )
            for h, lv in zip(_HOSTS, levels, strict=True)
        }
        for name in ("m", "n")
    }
    frame = series_frame(series)
    scaled = frame.assign(value=frame["value"] * 10.0**exponent)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        before, after = judge(cfg, frame), judge(cfg, scaled)
    assert [m.classification for m in after.metrics] == [m.classification for m in before.metrics]
    assert after.verdict == before.verdict
    for b, a in zip(before.metrics, after.metrics, strict=True):
        assert math.isclose(a.p_value, b.p_value, rel_tol=1e-6, abs_tol=1e-12) or (
            math.isnan(a.p_value) and math.isnan(b.p_value)
        )


def _write_config(tmp_path: Path, metrics: str) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(f"name: c\nmetrics:\n{metrics}")
    return str(path)


def test_a_run_whose_only_unmuted_metric_has_no_data_is_no_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _write_config(
        tmp_path,
        "  - {name: cpu-user, query: q}\n"
        "  - {name: requests, query: q, muted: true}\n"
        "  - {name: request-latency, query: q, muted: true}\n",
    )
    frame = pd.read_csv(HEALTHY)
    data = tmp_path / "run.csv"
    frame[frame["metric"] != "cpu-user"].to_csv(data, index=False)
    assert main(["--quiet", "judge", cfg, "--data", str(data)]) == 3
    out = capsys.readouterr().out
    assert out.startswith("NODATA") and "PASS" not in out.splitlines()[0]


def test_a_run_whose_every_metric_is_muted_is_no_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _write_config(
        tmp_path,
        "  - {name: cpu-user, query: q, muted: true}\n"
        "  - {name: requests, query: q, muted: true}\n",
    )
    assert main(["--quiet", "judge", cfg, "--data", str(HEALTHY)]) == 3
    assert "is muted, so nothing was judged" in capsys.readouterr().out


def test_a_muted_critical_metric_is_reported_but_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _write_config(
        tmp_path,
        "  - {name: cpu-user, query: q}\n"
        "  - {name: requests, query: q, critical: true, muted: true}\n",
    )
    assert main(["--quiet", "validate", cfg]) == 0
    assert "'requests' is critical and muted" in capsys.readouterr().err


def test_the_header_shows_the_exact_score_when_a_metric_failed() -> None:
    from canarystats.report import render

    names = [f"m{i}" for i in range(40)]
    cfg = make_config(*({"name": n, "query": "q"} for n in names))
    hosts = {"c1": "canary", "c2": "canary", "b1": "baseline", "b2": "baseline", "b3": "baseline"}
    rng = np.random.default_rng(3)
    series = {
        n: {
            (cohort, h): list(
                (30.0 if (n == "m0" and cohort == "canary") else 10.0) + rng.normal(0, 0.1, 10)
            )
            for h, cohort in hosts.items()
        }
        for n in names
    }
    j = judge(cfg, series_frame(series), pass_score=95)
    assert j.metric("m0").classification == "High"
    assert 95 <= j.score < 100
    header = render(j, "text").splitlines()[0]
    assert f"score {j.score:g}/100" in header and "100/100" not in header
