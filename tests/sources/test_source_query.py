"""Query templating: the cohort's scope goes into the query, ``by {...}`` groups stay."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from canarystats.errors import ConfigError
from canarystats.sources.query import group_name, render_query, split_top_level


@pytest.mark.parametrize(
    ("query", "scope", "expected"),
    [
        ("avg:m{$scope} by {host}", "role:canary", "avg:m{role:canary} by {host}"),
        ("avg:m{${scope}}", "role:canary", "avg:m{role:canary}"),
        (
            "avg:m{env:prod,$scope} by {host}",
            "role:canary",
            "avg:m{env:prod,role:canary} by {host}",
        ),
        ("avg:m{env:prod} by {host}", "role:canary", "avg:m{env:prod,role:canary} by {host}"),
        ("avg:m{*} by {host}", "role:canary", "avg:m{role:canary} by {host}"),
        ("sum:errors{*}.as_count()", "role:canary", "sum:errors{role:canary}.as_count()"),
        ("avg:m{}", "a:1,b:2", "avg:m{a:1,b:2}"),
        ("avg:m{env:prod} by {host,zone}", "*", "avg:m{env:prod} by {host,zone}"),
        (
            "sum:a{*}.as_count() / sum:b{*}.as_count()",
            "role:canary",
            "sum:a{role:canary}.as_count() / sum:b{role:canary}.as_count()",
        ),
        (
            "avg:m{env:prod AND zone:a} by {host}",
            "role:canary,version:v2",
            "avg:m{env:prod AND zone:a AND role:canary AND version:v2} by {host}",
        ),
        ("avg:m{$scope} BY {host}", "role:canary", "avg:m{role:canary} BY {host}"),
    ],
)
def test_render_query_puts_the_scope_in_the_filter(query: str, scope: str, expected: str) -> None:
    assert render_query(query, scope) == expected


@pytest.mark.parametrize("scope", ["", "  ", "role:{canary}", "}"])
def test_render_query_rejects_a_scope_that_is_not_a_tag_filter(scope: str) -> None:
    with pytest.raises(ConfigError, match="scope"):
        render_query("avg:m{$scope}", scope)


def test_render_query_without_filter_or_placeholder_says_how_to_write_it() -> None:
    with pytest.raises(ConfigError, match=r"\$scope"):
        render_query("avg:system.cpu.user", "role:canary")


_tag = st.from_regex(r"[a-z][a-z0-9_]{0,6}:[a-z0-9*][a-z0-9_.*-]{0,6}", fullmatch=True)
_scope = st.lists(_tag, min_size=1, max_size=3).map(",".join)
_groups = st.lists(st.sampled_from(["host", "zone", "pod", "version"]), min_size=1, max_size=2)


@given(scope=_scope, keys=_groups, placeholder=st.sampled_from(["$scope", "${scope}"]))
def test_placeholder_queries_get_exactly_the_scope_and_keep_their_groups(
    scope: str, keys: list[str], placeholder: str
) -> None:
    group = "by {" + ",".join(keys) + "}"
    rendered = render_query(f"avg:metric.name{{{placeholder}}} {group}", scope)
    assert rendered == f"avg:metric.name{{{scope}}} {group}"
    assert "$" not in rendered


@given(scope=_scope, existing=_scope, keys=_groups)
# A tag value spelled like a boolean operator is still a tag (found by hypothesis).
@example(scope="a:0", existing="a:in", keys=["host"])
@example(scope="role:canary", existing="region:or,env:not", keys=["host"])
def test_filters_keep_their_tags_and_gain_the_scope(
    scope: str, existing: str, keys: list[str]
) -> None:
    group = "by {" + ",".join(keys) + "}"
    rendered = render_query(f"max:metric.name{{{existing}}} {group}.rollup(max,60)", scope)
    assert rendered == f"max:metric.name{{{existing},{scope}}} {group}.rollup(max,60)"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([], ""),
        (["host:web-1"], "web-1"),
        (["pod_name:api-7f9c:x"], "api-7f9c:x"),
        (["host:a", "env:prod"], "host:a,env:prod"),
        (["untagged"], "untagged"),
    ],
)
def test_group_name_of_the_by_tags(tags: list[str], expected: str) -> None:
    assert group_name(tags) == expected


@given(
    st.lists(
        st.from_regex(r"avg:[a-z.]{1,8}\{[a-z:,]{0,10}\}( by \{[a-z,]{1,8}\})?", fullmatch=True),
        min_size=1,
        max_size=4,
    )
)
def test_split_top_level_finds_the_sub_queries_of_a_joined_query(parts: list[str]) -> None:
    assert split_top_level(",".join(parts)) == parts
