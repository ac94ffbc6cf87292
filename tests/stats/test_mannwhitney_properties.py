"""Invariants of mann_whitney that hold for every input (hypothesis).

Samples are small integers or dyadic numbers (k/4), so the float arithmetic the properties rely
on (negating, shifting, pairwise differences) is exact and equality can be asserted.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from canarystats.stats import mann_whitney

SETTINGS = settings(max_examples=60, deadline=None)

ALTERNATIVES = st.sampled_from(["two-sided", "less", "greater"])
CONFIDENCE = st.sampled_from([0.8, 0.9, 0.95, 0.99])
EXACT = st.sampled_from([None, True, False])

# Dyadic values in [-16, 16]: many ties when drawn small, few when drawn wide.
dyadic = st.integers(-64, 64).map(lambda k: k / 4)
sample = st.lists(dyadic, min_size=1, max_size=30)
MIRROR = {"two-sided": "two-sided", "less": "greater", "greater": "less"}


def _fields(res: object) -> dict[str, object]:
    return {f: getattr(res, f) for f in res.__dataclass_fields__}


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@SETTINGS
@given(x=sample, y=sample, alternative=ALTERNATIVES, confidence=CONFIDENCE, exact=EXACT)
def test_swapping_cohorts_mirrors_the_result(
    x: list[float], y: list[float], alternative: str, confidence: float, exact: bool | None
) -> None:
    kw = {"confidence": confidence, "exact": exact}
    a = mann_whitney(x, y, alternative=alternative, **kw)
    b = mann_whitney(y, x, alternative=MIRROR[alternative], **kw)
    assert b.u == len(x) * len(y) - a.u
    assert (b.n_canary, b.n_baseline) == (a.n_baseline, a.n_canary)
    assert b.exact == a.exact
    assert math.isclose(b.p_value, a.p_value, rel_tol=1e-12, abs_tol=1e-300) or _same(
        a.p_value, b.p_value
    )
    assert _same(b.estimate, -a.estimate)
    assert _same(b.ci_low, -a.ci_high)
    assert _same(b.ci_high, -a.ci_low)
    assert _same(b.conf_level, a.conf_level)


TRANSFORMS = {
    "affine": lambda v: 3.0 * v + 7.0,
    "cubic": lambda v: v**3 + v,
    "exp": lambda v: np.exp(v / 4.0),
}


@SETTINGS
@given(
    x=sample,
    y=sample,
    alternative=ALTERNATIVES,
    exact=EXACT,
    continuity=st.booleans(),
    name=st.sampled_from(sorted(TRANSFORMS)),
)
def test_increasing_transform_leaves_u_and_p_unchanged(
    x: list[float],
    y: list[float],
    alternative: str,
    exact: bool | None,
    continuity: bool,
    name: str,
) -> None:
    f = TRANSFORMS[name]
    xs, ys = np.array(x), np.array(y)
    # The transform must keep the order and the ties of the floats it is given.
    both = np.concatenate([xs, ys])
    assert len(np.unique(f(both))) == len(np.unique(both))
    kw = {"alternative": alternative, "exact": exact, "continuity": continuity}
    a = mann_whitney(xs, ys, **kw)
    b = mann_whitney(f(xs), f(ys), **kw)
    assert b.u == a.u
    assert b.exact == a.exact
    assert _same(b.p_value, a.p_value) or math.isclose(b.p_value, a.p_value, rel_tol=1e-12)


@SETTINGS
@given(
    x=sample,
    y=sample,
    c=st.integers(-40, 40).map(lambda k: k / 2),
    alternative=ALTERNATIVES,
    confidence=CONFIDENCE,
    continuity=st.booleans(),
)
def test_shifting_the_canary_shifts_estimate_and_interval(
    x: list[float],
    y: list[float],
    c: float,
    alternative: str,
    confidence: float,
    continuity: bool,
) -> None:
    # exact=False: the normal-approximation interval depends only on ties within each sample,
    # which a shift keeps; with exact=None a shift can create or remove a tie across samples
    # and so switch between the exact and the approximate path.
    kw = {"alternative": alternative, "confidence": confidence, "continuity": continuity}
    assume(len(set(x)) > 1 or len(set(y)) > 1)  # not everything constant: an interval exists
    xs = np.array(x)
    a = mann_whitney(xs, y, exact=False, **kw)
    b = mann_whitney(xs + c, y, exact=False, **kw)
    assert b.estimate == a.estimate + c
    assert b.ci_low == a.ci_low + c
    assert b.ci_high == a.ci_high + c
    assert b.conf_level == a.conf_level


distinct = st.lists(st.integers(-400, 400), min_size=1, max_size=20, unique=True)


@SETTINGS
@given(
    xy=distinct.flatmap(
        lambda xv: st.tuples(
            st.just(xv),
            st.lists(st.integers(-400, 400), min_size=1, max_size=20, unique=True),
        )
    ),
    c=st.integers(-50, 50),
    alternative=ALTERNATIVES,
    confidence=CONFIDENCE,
)
def test_shift_on_the_exact_path(
    xy: tuple[list[int], list[int]], c: int, alternative: str, confidence: float
) -> None:
    x, y = xy
    # Odd values for the canary, even for the baseline and an even shift: no tie ever, so both
    # calls take the exact path.
    xs = np.array(x, float) * 2 + 1
    ys = np.array(y, float) * 2
    kw = {"alternative": alternative, "confidence": confidence}
    a = mann_whitney(xs, ys, **kw)
    b = mann_whitney(xs + 2 * c, ys, **kw)
    assert a.exact is True and b.exact is True
    assert b.estimate == a.estimate + 2 * c
    assert b.ci_low == a.ci_low + 2 * c
    assert b.ci_high == a.ci_high + 2 * c
    assert b.conf_level == a.conf_level


rows = st.lists(st.tuples(sample, sample), min_size=1, max_size=8)


def _pad(values: list[list[float]], width: int) -> np.ndarray:
    out = np.full((len(values), width), np.nan)
    for i, v in enumerate(values):
        out[i, : len(v)] = v
    return out


@SETTINGS
@given(
    pairs=rows,
    extra=st.integers(0, 3),
    alternative=ALTERNATIVES,
    confidence=CONFIDENCE,
    exact=EXACT,
    continuity=st.booleans(),
)
def test_batched_equals_row_by_row(
    pairs: list[tuple[list[float], list[float]]],
    extra: int,
    alternative: str,
    confidence: float,
    exact: bool | None,
    continuity: bool,
) -> None:
    kw = {
        "alternative": alternative,
        "confidence": confidence,
        "exact": exact,
        "continuity": continuity,
    }
    xs = [p[0] for p in pairs]
    ys = [p[1] for p in pairs]
    # Extra all-NaN padding columns must change nothing.
    cx = _pad(xs, max(map(len, xs)) + extra)
    cy = _pad(ys, max(map(len, ys)) + extra)
    batch = _fields(mann_whitney(cx, cy, **kw))
    for i, (x, y) in enumerate(pairs):
        one = _fields(mann_whitney(x, y, **kw))
        for name, value in one.items():
            got = np.asarray(batch[name])[i].item()
            if name == "p_value":
                assert _same(got, value) or math.isclose(got, value, rel_tol=1e-12), name
            else:
                assert got == value or _same(got, value), name


@SETTINGS
@given(
    x=sample,
    y=sample,
    data=st.data(),
    alternative=ALTERNATIVES,
    exact=EXACT,
)
def test_nan_values_are_dropped(
    x: list[float], y: list[float], data: st.DataObject, alternative: str, exact: bool | None
) -> None:
    def with_nans(v: list[float]) -> list[float]:
        out = list(v)
        for _ in range(data.draw(st.integers(0, 4))):
            out.insert(data.draw(st.integers(0, len(out))), math.nan)
        return out

    a = _fields(mann_whitney(x, y, alternative=alternative, exact=exact))
    b = _fields(mann_whitney(with_nans(x), with_nans(y), alternative=alternative, exact=exact))
    for name, value in a.items():
        assert b[name] == value or _same(b[name], value), name


@SETTINGS
@given(
    x=sample,
    y=sample,
    alternative=ALTERNATIVES,
    confidence=CONFIDENCE,
    exact=EXACT,
    continuity=st.booleans(),
    mu=st.sampled_from([0.0, 0.5, -1.25]),
)
def test_p_in_unit_interval_and_estimate_inside_interval(
    x: list[float],
    y: list[float],
    alternative: str,
    confidence: float,
    exact: bool | None,
    continuity: bool,
    mu: float,
) -> None:
    r = mann_whitney(
        x,
        y,
        alternative=alternative,
        confidence=confidence,
        exact=exact,
        continuity=continuity,
        mu=mu,
    )
    assert 0.0 <= r.u <= len(x) * len(y)
    # The test ranks the canary shifted by mu: when everything is tied after the shift the
    # statistic has no spread and p is NaN, as in R.
    if len({v - mu for v in x} | set(y)) > 1:
        assert 0.0 <= r.p_value <= 1.0
    else:
        assert math.isnan(r.p_value) or 0.0 <= r.p_value <= 1.0
    assert r.ci_low <= r.estimate <= r.ci_high
    assert 0.0 <= r.conf_level <= 1.0
    if alternative == "less":
        assert r.ci_low == -math.inf
    if alternative == "greater":
        assert r.ci_high == math.inf
