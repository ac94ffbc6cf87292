"""Formulas over named queries, as the fake Datadog's v2 timeseries endpoint computes them.

A formula (``q0 / q1``, ``100 * (q0 - q1) / q2``) combines the series of its queries point by
point: series are matched by group (a query without groups applies to every group of the other
side) and by bucket; a bucket missing on either side, or a division by zero, is null, as in
Datadog.  Numbers, ``+ - * /``, unary minus and parentheses are understood; a function is
answered 400, since the fake does not know Datadog's formula functions.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from canarystats.testing.queries import BadRequest

__all__ = ["evaluate", "formula_names"]

_BINARY: dict[type[ast.operator], Callable[..., object]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
Value = pd.Series | float


def _parse(formula: str) -> ast.Expression:
    try:
        return ast.parse(formula.strip(), mode="eval")
    except SyntaxError:
        raise BadRequest(f"Invalid formula: {formula!r}") from None


def formula_names(formula: str) -> list[str]:
    """The query names a formula uses, in order of first use.

    Examples
    --------
    >>> formula_names("100 * (q1 - q0) / q1")
    ['q1', 'q0']
    """
    names: list[str] = []
    for node in ast.walk(_parse(formula)):
        if isinstance(node, ast.Call):
            raise BadRequest(f"FakeDatadog does not know formula functions: {formula!r}")
        if isinstance(node, ast.Name) and node.id not in names:
            names.append(node.id)
    return names


def evaluate(formula: str, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The ``group``, ``bucket`` and ``value`` of a formula over query tables of the same shape.

    Examples
    --------
    >>> errors = pd.DataFrame({"group": ["a", "a"], "bucket": [0, 60], "value": [1.0, 0.0]})
    >>> hits = pd.DataFrame({"group": ["a", "a"], "bucket": [0, 60], "value": [4.0, 0.0]})
    >>> evaluate("errors / hits", {"errors": errors, "hits": hits})["value"].tolist()
    [0.25, nan]
    """
    series = {
        name: table.set_index(["group", "bucket"])["value"].astype("float64")
        for name, table in tables.items()
    }
    result = _value(_parse(formula).body, series)
    if not isinstance(result, pd.Series):
        raise BadRequest(f"Formula {formula!r} names no query")
    result = result.replace([np.inf, -np.inf], np.nan)
    result.index = result.index.set_names(["group", "bucket"])
    return result.rename("value").reset_index()


def _value(node: ast.expr, series: Mapping[str, pd.Series]) -> Value:
    if isinstance(node, ast.Name):
        if node.id not in series:
            raise BadRequest(f"Formula names {node.id!r}, which is not a query of the request")
        return series[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _value(node.operand, series)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _aligned(_value(node.left, series), _value(node.right, series))
        with np.errstate(all="ignore"):
            out = _BINARY[type(node.op)](left, right)
        return out if isinstance(out, pd.Series) else float(out)  # type: ignore[arg-type]
    raise BadRequest("FakeDatadog understands + - * /, numbers and query names in formulas")


def _aligned(left: Value, right: Value) -> tuple[Value, Value]:
    """Both sides on the same (group, bucket) index; an ungrouped side applies to every group."""
    if not isinstance(left, pd.Series) or not isinstance(right, pd.Series):
        return left, right
    left, right = _broadcast(left, right), _broadcast(right, left)
    joined = left.index.union(right.index)
    return left.reindex(joined), right.reindex(joined)


def _broadcast(side: pd.Series, other: pd.Series) -> pd.Series:
    groups: Sequence[str] = side.index.get_level_values("group").unique().tolist()
    if list(groups) != [""] or other.empty:
        return side
    by_bucket = side.droplevel("group")
    index = other.index
    values = by_bucket.reindex(index.get_level_values("bucket")).to_numpy()
    return pd.Series(values, index=index)
