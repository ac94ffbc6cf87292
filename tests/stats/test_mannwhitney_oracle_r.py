"""mann_whitney against R's wilcox.test, on the cases tests/oracle/wilcox_oracle.R recorded.

The expected values come from R 4.2 (tests/data/wilcox_r_cases.json); R is not needed to run
these tests.  What is compared, and the deliberate differences from R, are described in
tests/oracle/README.md:

- ``u`` is R's W; ``p_value`` agrees to 1e-9 relative; ``exact`` is the path R took.
- exact path: both interval bounds equal R's bounds (they are pairwise differences).
- asymptotic path: R's bounds are uniroot() approximations of where its step function crosses
  the normal quantile; canarystats must return that pairwise difference itself (recorded by the
  R script as ``step_lo`` / ``step_hi``, with every candidate where rounding makes it ambiguous).
- ``estimate`` is always the median of all pairwise differences (R's exact-path estimate).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from canarystats.stats import mann_whitney

CASES_PATH = Path(__file__).resolve().parents[1] / "data" / "wilcox_r_cases.json"

# R's uniroot() stops within tol.root = 1e-4 of the step; its last bracket can be up to twice that.
R_ROOT_TOL = 2e-4


def _num(v: Any) -> float:
    return (
        {"NaN": math.nan, "Inf": math.inf, "-Inf": -math.inf}.get(v, v)
        if isinstance(v, str)
        else float(v)
    )


def _nums(v: Any) -> list[float] | None:
    if v is None:
        return None
    if not isinstance(v, list):
        v = [v]
    return [_num(a) for a in v]


@dataclass(frozen=True)
class Case:
    id: str
    x: list[float]
    y: list[float]
    alternative: str
    conf_level: float
    exact: bool | None
    correct: bool
    mu: float
    statistic: float
    p_value: float
    exact_path: bool
    conf_int: list[float] | None
    r_conf_level: float | None
    ci_error: str | None
    n_x: int
    n_y: int
    hl_estimate: float | None
    step_lo: list[float] | None
    step_hi: list[float] | None

    @property
    def kwargs(self) -> dict[str, Any]:
        return {
            "alternative": self.alternative,
            "confidence": self.conf_level,
            "exact": self.exact,
            "continuity": self.correct,
            "mu": self.mu,
        }

    @property
    def diffs(self) -> np.ndarray:
        x = np.array(self.x)
        y = np.array(self.y)
        return np.subtract.outer(x[~np.isnan(x)], y[~np.isnan(y)]).ravel()


def _load() -> list[Case]:
    doc = json.loads(CASES_PATH.read_text())
    cases = []
    for c in doc["cases"]:
        r = c["r"]
        cases.append(
            Case(
                id=c["id"],
                x=_nums(c["x"]) or [],
                y=_nums(c["y"]) or [],
                alternative=c["alternative"],
                conf_level=float(c["conf_level"]),
                exact=c["exact"],
                correct=c["correct"],
                mu=float(c["mu"]),
                statistic=float(r["statistic"]),
                p_value=_num(r["p_value"]),
                exact_path=r["exact_path"],
                conf_int=_nums(r["conf_int"]),
                r_conf_level=None if r["conf_level"] is None else float(r["conf_level"]),
                ci_error=r["ci_error"],
                n_x=int(c["n_x"]),
                n_y=int(c["n_y"]),
                hl_estimate=None if c["hl_estimate"] is None else _num(c["hl_estimate"]),
                step_lo=_nums(c["step_lo"]),
                step_hi=_nums(c["step_hi"]),
            )
        )
    return cases


CASES = _load()
BY_ID = {c.id: c for c in CASES}
# Inf on both sides makes some pairwise differences Inf - Inf: no interval or estimate exists.
WITH_DIFFERENCES = [c for c in CASES if c.hl_estimate is not None]


@cache
def _one(case_id: str) -> dict[str, Any]:
    case = BY_ID[case_id]
    res = mann_whitney(case.x, case.y, **case.kwargs)
    return {f: getattr(res, f) for f in res.__dataclass_fields__}


def _check_u_p(case: Case, got: dict[str, Any]) -> None:
    assert got["u"] == case.statistic
    assert got["n_canary"] == case.n_x
    assert got["n_baseline"] == case.n_y
    assert bool(got["exact"]) == case.exact_path
    if math.isnan(case.p_value):
        # R: 0/0 when every observation is tied.  canarystats may say NaN or "no evidence" (1).
        assert math.isnan(got["p_value"]) or got["p_value"] == 1.0
    else:
        assert got["p_value"] == pytest.approx(case.p_value, rel=1e-9, abs=1e-300)


def _check_bound(
    case: Case, value: float, candidates: list[float] | None, r_value: float | None
) -> None:
    if candidates is None:
        # R could not evaluate its step function (everything tied after the shift): the one
        # pairwise difference there is, or NaN.
        distinct = np.unique(case.diffs)
        assert math.isnan(value) or (len(distinct) == 1 and value == distinct[0]), value
        return
    if case.ci_error is not None and math.isnan(value):
        return  # R refused the interval; NaN is an allowed answer (never an exception)
    assert value in candidates, f"{value!r} not in {candidates!r}"
    if r_value is not None and math.isfinite(r_value):
        assert abs(value - r_value) <= R_ROOT_TOL + 1e-12 * abs(r_value)


def _check_interval(case: Case, got: dict[str, Any]) -> None:
    r_lo, r_hi = case.conf_int if case.conf_int is not None else (None, None)
    if case.exact_path and case.conf_int is not None:
        assert got["ci_low"] == r_lo
        assert got["ci_high"] == r_hi
    else:
        _check_bound(case, got["ci_low"], case.step_lo, r_lo)
        _check_bound(case, got["ci_high"], case.step_hi, r_hi)
    if case.r_conf_level is not None:
        assert got["conf_level"] == pytest.approx(case.r_conf_level, rel=1e-12, abs=1e-15)


def _check_estimate(case: Case, got: dict[str, Any]) -> None:
    assert case.hl_estimate is not None
    if not math.isfinite(case.hl_estimate):
        assert got["estimate"] == case.hl_estimate
        return
    d = case.diffs
    scale = float(np.max(np.abs(d[np.isfinite(d)])))
    # (a + b) / 2 and a / 2 + b / 2 may differ in the last bit.
    assert got["estimate"] == pytest.approx(case.hl_estimate, rel=1e-12, abs=1e-15 * scale)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_u_and_p_value_match_r(case: Case) -> None:
    _check_u_p(case, _one(case.id))


@pytest.mark.parametrize("case", WITH_DIFFERENCES, ids=lambda c: c.id)
def test_interval_is_the_pairwise_difference_r_steps_at(case: Case) -> None:
    _check_interval(case, _one(case.id))


@pytest.mark.parametrize("case", WITH_DIFFERENCES, ids=lambda c: c.id)
def test_estimate_is_median_of_pairwise_differences(case: Case) -> None:
    _check_estimate(case, _one(case.id))


def test_oracle_covers_what_the_issue_asks() -> None:
    # Guards against a regenerated JSON silently losing coverage.
    assert len(CASES) >= 60
    assert {c.alternative for c in CASES} == {"two-sided", "less", "greater"}
    assert {c.exact_path for c in CASES} == {True, False}
    assert {0.8, 0.9, 0.95, 0.98, 0.99} <= {c.conf_level for c in CASES}
    assert {c.correct for c in CASES} == {True, False}
    assert any(c.mu != 0 for c in CASES)
    assert any(c.ci_error for c in CASES)
    assert any(any(math.isnan(v) for v in c.x + c.y) for c in CASES)
    assert any(any(math.isinf(v) for v in c.x + c.y) for c in CASES)
    assert any(c.r_conf_level is not None and c.r_conf_level < c.conf_level for c in CASES)


def _groups() -> list[tuple[str, list[Case]]]:
    groups: dict[tuple[Any, ...], list[Case]] = defaultdict(list)
    for c in CASES:
        groups[(c.alternative, c.conf_level, c.exact, c.correct, c.mu)].append(c)
    return [
        ("{}-{}-exact{}-correct{}-mu{}".format(*key), cs)
        for key, cs in groups.items()
        if len(cs) >= 2
    ]


def _padded(rows: list[list[float]]) -> np.ndarray:
    out = np.full((len(rows), max(len(r) for r in rows)), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


@pytest.mark.parametrize("group", _groups(), ids=lambda g: g[0] if isinstance(g, tuple) else "")
def test_batched_call_matches_r_row_by_row(group: tuple[str, list[Case]]) -> None:
    _, cases = group
    res = mann_whitney(
        _padded([c.x for c in cases]), _padded([c.y for c in cases]), **cases[0].kwargs
    )
    fields = {f: np.asarray(getattr(res, f)) for f in res.__dataclass_fields__}
    for f, arr in fields.items():
        assert arr.shape == (len(cases),), f
    for i, case in enumerate(cases):
        got = {f: arr[i].item() for f, arr in fields.items()}
        _check_u_p(case, got)
        if case.hl_estimate is not None:
            _check_interval(case, got)
            _check_estimate(case, got)
