"""A metric computed by a formula over named queries, as Datadog's v2 formula API computes it.

```yaml
- name: error-share
  queries:
    errors: "sum:trace.rack.request.errors{service:web,$scope} by {host}.as_count()"
    hits: "sum:trace.rack.request.hits{service:web,$scope} by {host}.as_count()"
  formula: errors / hits
```

Each named query gets the cohort's scope like a plain ``query``; the formula names them and may
use numbers, ``+ - * /``, parentheses and Datadog's formula functions (``abs(errors)``).  The
metric's ``query`` becomes the formula with each name replaced by its query in parentheses
(``(sum:...) / (sum:...)``): one Datadog expression, for links and for ``validate``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from canarystats.config.checks import Context, as_mapping, as_string, describe, join_key

__all__ = [
    "MAX_FORMULA_QUERIES",
    "QUERY_NAME",
    "divides",
    "expand_formula",
    "rename",
    "validate_formula",
]

#: the most named queries one formula may use (Datadog's own limit per request is higher; a
#: canary metric past a handful of queries is a dashboard, not a check)
MAX_FORMULA_QUERIES = 8
#: what a query name of a formula looks like
QUERY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WORD = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")
# what a formula may hold: arithmetic, numbers, names and Datadog's functions (abs, ...)
_NODES = (
    *(ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant, ast.Load),
    *(ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd),
)


def validate_formula(
    ctx: Context, data: Mapping[str, Any], path: str
) -> tuple[tuple[tuple[str, str], ...], str]:
    """The checked ``queries`` (name, query pairs in config order) and ``formula`` of a metric.

    Raises one :class:`~canarystats.errors.ConfigError` line naming the key: a name that is not
    an identifier, a query that is not text, a formula that does not parse or names a query
    that is not declared, or a declared query the formula leaves unused.

    Examples
    --------
    >>> queries, formula = validate_formula(Context("c"), {
    ...     "queries": {"errors": "sum:e{$scope}", "hits": "sum:h{$scope}"},
    ...     "formula": "errors / hits"}, "metrics[0]")
    >>> [name for name, _ in queries], formula
    (['errors', 'hits'], 'errors / hits')
    """
    raw = as_mapping(ctx, data.get("queries"), join_key(path, "queries"))
    if not raw:
        raise ctx.error(join_key(path, "queries"), "is empty; name at least one query")
    if len(raw) > MAX_FORMULA_QUERIES:
        raise ctx.error(
            join_key(path, "queries"),
            f"has {len(raw)} queries; a formula uses at most {MAX_FORMULA_QUERIES}",
        )
    queries: list[tuple[str, str]] = []
    for name, text in raw.items():
        key = join_key(join_key(path, "queries"), name)
        if not QUERY_NAME.match(name):
            raise ctx.error(
                key, "is not a query name: use letters, digits and _ (e.g. errors, hits)"
            )
        queries.append((name, as_string(ctx, text, key, multiline=True)))
    if "formula" not in data:
        raise ctx.error(
            join_key(path, "formula"), "missing; queries need a formula over their names"
        )
    formula = as_string(ctx, data["formula"], join_key(path, "formula"))
    _check_formula(ctx, formula, {name for name, _ in queries}, join_key(path, "formula"))
    return tuple(queries), formula


def _check_formula(ctx: Context, formula: str, names: set[str], path: str) -> None:
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError:
        raise ctx.error(
            path, f"{formula!r} is not a formula: write names, numbers and + - * / ( )"
        ) from None
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called:
            if node.id not in names:
                raise ctx.error(
                    path,
                    f"{formula!r} uses {node.id!r}, which is not one of its queries "
                    f"({', '.join(sorted(names))})",
                )
            used.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            raise ctx.error(path, f"{formula!r} holds {describe(node.value)}; use numbers")
        elif not isinstance(
            node,
            _NODES,
        ):
            raise ctx.error(
                path, f"{formula!r} is not a formula: write names, numbers and + - * / ( )"
            )
    unused = sorted(names - used)
    if unused:
        raise ctx.error(
            path, f"{formula!r} does not use the query {unused[0]!r}; use it or remove it"
        )


def expand_formula(queries: tuple[tuple[str, str], ...], formula: str) -> str:
    """The formula as one Datadog expression: each name replaced by its query in parentheses.

    Examples
    --------
    >>> expand_formula((("e", "sum:e{$scope}"), ("h", "sum:h{$scope}")), "100 * e / h")
    '100 * (sum:e{$scope}) / (sum:h{$scope})'
    """
    return rename(formula, {name: f"({text})" for name, text in queries})


def rename(formula: str, names: Mapping[str, str]) -> str:
    """The formula with each query name replaced (function names and numbers stay).

    Examples
    --------
    >>> rename("abs(errors) / hits", {"errors": "q0", "hits": "q1"})
    'abs(q0) / q1'
    """
    return _WORD.sub(lambda m: names.get(m[1], m[0]), formula.strip())


def divides(formula: str) -> bool:
    """Whether the formula divides: a ratio is a share, a level, never a count of events.

    Examples
    --------
    >>> divides("errors / hits"), divides("a + b")
    (True, False)
    """
    return "/" in formula
