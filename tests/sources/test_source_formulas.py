"""A metric that is a formula over named queries: validated in the config, sent through the v2
formula API with both cohorts in one request, and computed per host.

The expected values are computed here from the generated data with pandas, not by the fake's
formula evaluator, so a wrong evaluation or a lost grouping fails.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canarystats.config import load_config
from canarystats.config.checks import Context
from canarystats.config.formulas import expand_formula, rename, validate_formula
from canarystats.errors import ConfigError
from canarystats.sources import DatadogSource, MetricQuery, metric_queries
from canarystats.testing import FakeDatadog
from canarystats.testing.formulas import evaluate
from canarystats.testing.queries import BadRequest

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
END = START + timedelta(minutes=10)
SCOPES = {"canary": "role:canary", "baseline": "role:baseline"}
TAGS = {"role:canary": "canary", "role:baseline": "baseline"}
HOSTS = {"canary": ["c-1", "c-2"], "baseline": ["b-1", "b-2", "b-3"]}
ERRORS = "sum:trace.errors{$scope} by {host}.as_count()"
HITS = "sum:trace.hits{$scope} by {host}.as_count()"


def _traffic() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    for cohort, hosts in HOSTS.items():
        for host in hosts:
            for minute in range(12):
                stamp = START + timedelta(minutes=minute)
                hits = float(rng.poisson(400))
                errors = float(rng.binomial(int(hits), 0.05 if cohort == "canary" else 0.01))
                rows += [
                    ("trace.hits", cohort, host, stamp, hits),
                    ("trace.errors", cohort, host, stamp, errors),
                ]
    return pd.DataFrame(rows, columns=["metric", "cohort", "host", "timestamp", "value"])


def _config(**metric: Any) -> Any:
    return load_config({"name": "web", "metrics": [{"name": "error-share", **metric}]})


# --------------------------------------------------------------------------- the config


def test_a_formula_metric_keeps_its_queries_and_is_a_share_not_a_count() -> None:
    cfg = _config(queries={"errors": ERRORS, "hits": HITS}, formula="100 * errors / hits")
    metric = cfg.metrics[0]
    assert metric.queries == (("errors", ERRORS), ("hits", HITS))
    assert metric.formula == "100 * errors / hits"
    assert metric.query == f"100 * ({ERRORS}) / ({HITS})"
    # Both queries end in .as_count(), but their ratio is a share: judged as a gauge.
    assert metric.kind == "gauge"
    assert _config(queries={"a": ERRORS, "b": HITS}, formula="a + b").metrics[0].kind == "count"


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ({"queries": {"e": ERRORS}, "formula": "e", "query": ERRORS}, "not both"),
        ({"queries": {"e": ERRORS}}, "formula: missing"),
        ({"queries": {}, "formula": "e"}, "queries: is empty"),
        ({"queries": {"1e": ERRORS}, "formula": "e"}, "is not a query name"),
        ({"queries": {"e": ERRORS, "h": HITS}, "formula": "e / x"}, "uses 'x'"),
        ({"queries": {"e": ERRORS, "h": HITS}, "formula": "e"}, "does not use the query 'h'"),
        ({"queries": {"e": ERRORS}, "formula": "e /"}, "is not a formula"),
        ({"queries": {"e": ERRORS}, "formula": "e ** 2"}, "is not a formula"),
        ({"queries": {"e": ERRORS}, "formula": "e.real"}, "is not a formula"),
        ({"queries": {"e": 3}, "formula": "e"}, "queries.e"),
    ],
)
def test_a_bad_formula_is_one_line_naming_the_key(metric: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(**metric)
    text = str(caught.value)
    assert "metrics[0]" in text and message in text and "\n" not in text


_NAMES = st.sampled_from(["errors", "hits", "slow", "e2"])


def _expressions() -> st.SearchStrategy[str]:
    leaves = _NAMES | st.integers(0, 1000).map(str)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
                lambda t: f"{t[0]} {t[1]} {t[2]}"
            ),
            inner.map(lambda x: f"({x})"),
            inner.map(lambda x: f"-{x}"),
        ),
        max_leaves=8,
    )


@settings(max_examples=200, deadline=None)
@given(_expressions())
def test_any_arithmetic_over_its_queries_is_accepted_and_renames_exactly(formula: str) -> None:
    names = [n for n in ("errors", "hits", "slow", "e2") if re.search(rf"\b{n}\b", formula)]
    if not names:
        return  # numbers only: no query to name
    queries = {n: f"sum:{n}{{$scope}}" for n in names}
    got, text = validate_formula(Context("c"), {"queries": queries, "formula": formula}, "m")
    assert text == formula and [n for n, _ in got] == names
    # Renaming to q0.. and back is the identity: no name is touched inside another.
    there = {n: f"q{i}" for i, n in enumerate(names)}
    back = {v: k for k, v in there.items()}
    assert rename(rename(formula, there), back) == formula.strip()
    expanded = expand_formula(tuple(queries.items()), formula)
    assert all(f"(sum:{n}{{$scope}})" in expanded for n in names)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_any_text_as_a_formula_is_accepted_or_one_config_error(formula: str) -> None:
    try:
        validate_formula(Context("c"), {"queries": {"a": "q{$scope}"}, "formula": formula}, "m")
    except ConfigError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=3, max_size=3),
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=3, max_size=3),
)
def test_the_fakes_formula_matches_pointwise_arithmetic(a: list[float], b: list[float]) -> None:
    table = lambda v: pd.DataFrame({"group": "host:h", "bucket": [0, 60, 120], "value": v})  # noqa: E731
    got = evaluate("100 * (a - b) / b", {"a": table(a), "b": table(b)})["value"].to_numpy()
    with np.errstate(all="ignore"):
        want = 100 * (np.array(a) - np.array(b)) / np.array(b)
    want[~np.isfinite(want)] = np.nan  # Datadog answers a division by zero with null
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


def test_the_fake_refuses_formula_functions_it_does_not_know() -> None:
    table = pd.DataFrame({"group": "", "bucket": [0], "value": [1.0]})
    with pytest.raises(BadRequest, match="formula functions"):
        from canarystats.testing.formulas import formula_names

        formula_names("abs(a)")
    assert evaluate("a * 2", {"a": table})["value"].tolist() == [2.0]


# --------------------------------------------------------------------------- fetching


def test_a_formula_is_computed_per_host_for_both_cohorts_in_one_request() -> None:
    data = _traffic()
    cfg = _config(queries={"errors": ERRORS, "hits": HITS}, formula="errors / hits")
    with FakeDatadog(data, scopes=TAGS) as dd:
        source = DatadogSource(host=dd.url, api_key="k", app_key="a")
        frame = source.fetch(metric_queries(cfg), SCOPES, START, END)
        (request,) = dd.received
    # Two named queries per cohort, one request.
    assert len(request.queries) == 4
    assert set(request.queries) == {
        "sum:trace.errors{role:canary} by {host}.as_count()",
        "sum:trace.hits{role:canary} by {host}.as_count()",
        "sum:trace.errors{role:baseline} by {host}.as_count()",
        "sum:trace.hits{role:baseline} by {host}.as_count()",
    }
    wide = data.pivot_table(index=["cohort", "host", "timestamp"], columns="metric", values="value")
    share = (wide["trace.errors"] / wide["trace.hits"]).rename("expected").reset_index()
    got = frame.merge(share, on=["cohort", "host", "timestamp"], how="left")
    assert set(frame["host"]) == {h for hosts in HOSTS.values() for h in hosts}
    assert len(got) == len(frame) > 0
    np.testing.assert_allclose(got["value"], got["expected"], rtol=1e-12)
    assert (frame["metric"] == "error-share").all()


def test_formula_and_plain_metrics_share_requests_within_max_queries() -> None:
    data = _traffic()
    queries = [
        MetricQuery("share", "", queries=(("e", ERRORS), ("h", HITS)), formula="e / h"),
        MetricQuery("hits", HITS, kind="count"),
        MetricQuery("errors", ERRORS, kind="count"),
    ]
    with FakeDatadog(data, scopes=TAGS) as dd:
        source = DatadogSource(host=dd.url, api_key="k", app_key="a", max_queries=6)
        frame = source.fetch(queries, SCOPES, START, END)
        sizes = [len(r.queries) for r in dd.received]
    # The formula's four queries and one plain metric's two; the last metric in a second request.
    assert sizes == [6, 2]
    assert set(frame["metric"]) == {"share", "hits", "errors"}


def test_a_formula_on_the_v1_api_is_a_config_error() -> None:
    query = MetricQuery("share", "", queries=(("e", ERRORS), ("h", HITS)), formula="e / h")
    with FakeDatadog(_traffic(), scopes=TAGS) as dd:
        source = DatadogSource(host=dd.url, api_key="k", app_key="a", api="v1")
        with pytest.raises(ConfigError, match="needs the v2 API"):
            source.fetch([query], SCOPES, START, END)
        assert dd.requests == 0


def test_fill_zero_makes_a_quiet_counters_empty_minutes_a_zero_share() -> None:
    # Errors only in the first minute of one host: without fill(zero) the share is null in
    # every other minute, with it 0 errors of that minute's hits.
    data = _traffic()
    errors = data["metric"] == "trace.errors"
    quiet = errors & ~((data["host"] == "c-1") & (data["timestamp"] == START))
    data = data[~quiet]
    queries = {"errors": ERRORS, "hits": HITS}
    filled = {"errors": ERRORS + ".fill(zero)", "hits": HITS}
    with FakeDatadog(data, scopes=TAGS) as dd:
        source = DatadogSource(host=dd.url, api_key="k", app_key="a")
        for named, expected_points in ((queries, 1), (filled, 10)):
            cfg = _config(queries=named, formula="errors / hits")
            frame = source.fetch(metric_queries(cfg), SCOPES, START, END).dropna()
            # c-1 is the only host with an error series: one share, or one for each minute
            assert set(frame["host"]) == {"c-1"}
            assert len(frame) == expected_points
            assert (frame["value"].iloc[1:] == 0.0).all()
