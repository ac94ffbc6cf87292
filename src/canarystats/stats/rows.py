"""Array plumbing shared by the kernels: rows and cubes in, scalars or rows out, blocks of rows.

Every kernel works on 2-D rows (one per metric) or 3-D cubes ``(metric, host, time)``; the
helpers here promote input to those shapes once, at the edge, and cut large batches into blocks
so that temporaries stay small.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_rows(values: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    """Return ``values`` as a 2-D float64 array (one row per metric) and whether it was 1-D.

    Raises ``ValueError`` for arrays of more than two dimensions.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim == 1:
        return arr.reshape(1, -1), True
    if arr.ndim == 2:
        return arr, False
    raise ValueError(f"expected a 1-D sample or a 2-D array of rows, got {arr.ndim} dimensions")


def as_cube(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``values`` as a 3-D float64 array ``(metric, host, time)``; 2-D is one metric.

    Raises ``ValueError`` naming ``name`` for any other number of dimensions.

    Examples
    --------
    >>> as_cube([[1.0, 2.0], [3.0, 4.0]], "canary").shape
    (1, 2, 2)
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None, :, :]
    if arr.ndim != 3:
        raise ValueError(
            f"{name} must be a 3-D array (metric, host, time), got {arr.ndim} dimensions"
        )
    return arr


def quietly(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` with numpy's RuntimeWarnings silenced.

    All-NaN rows are expected (absent hosts, empty windows) and their NaN results are handled
    by the caller, so the "mean of empty slice" warnings they raise carry no news.

    Examples
    --------
    >>> quietly(np.nanmean, np.array([[np.nan, np.nan]]), axis=1).tolist()
    [nan]
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def row_values(values: ArrayLike, n: int) -> NDArray[np.float64]:
    """``values`` (one per row, or one for all) as a new float array of ``n`` rows.

    Examples
    --------
    >>> row_values(2, 3).tolist(), row_values([1, 2], 2).tolist()
    ([2.0, 2.0, 2.0], [1.0, 2.0])
    """
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)).astype(np.float64)


def scalar_or_rows(arr: NDArray[Any], one: bool) -> Any:
    """Give back a Python scalar for 1-D input and the array for 2-D input."""
    if one:
        return arr[0].item()
    return arr


#: values per working block: batched kernels take their rows in blocks of about this many
#: values, so what a call adds beyond its input stays a small, fixed amount of memory
BLOCK_VALUES = 1 << 20


def row_blocks(rows: int, values_per_row: int) -> list[slice]:
    """Slices cutting ``rows`` rows into blocks of about :data:`BLOCK_VALUES` values.

    Examples
    --------
    >>> row_blocks(5, BLOCK_VALUES // 2)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    step = max(1, BLOCK_VALUES // max(values_per_row, 1))
    return [slice(a, min(rows, a + step)) for a in range(0, rows, step)] or [slice(0, 0)]


def concat_rows(parts: Sequence[Any]) -> Any:
    """Join the results of row blocks: arrays along rows, dataclasses, dicts and tuples field by
    field; anything else (a constant such as a units name) is taken from the first block.

    Examples
    --------
    >>> concat_rows([{"a": np.array([1])}, {"a": np.array([2])}])["a"].tolist()
    [1, 2]
    """
    first = parts[0]
    if len(parts) == 1:
        return first
    if isinstance(first, np.ndarray):
        return np.concatenate(parts, axis=0)
    if dataclasses.is_dataclass(first) and not isinstance(first, type):
        joined = {
            f.name: concat_rows([getattr(p, f.name) for p in parts])
            for f in dataclasses.fields(first)
        }
        return dataclasses.replace(first, **joined)
    if isinstance(first, dict):
        return {k: concat_rows([p[k] for p in parts]) for k in first}
    if isinstance(first, tuple):
        return tuple(concat_rows([p[i] for p in parts]) for i in range(len(first)))
    return first


def select_rows(mask: NDArray[np.bool_], a: Any, b: Any) -> Any:
    """Row ``i`` of ``b`` where ``mask[i]``, else of ``a``: arrays (rows first), dataclasses,
    dicts and tuples field by field; anything else is taken from ``a``.

    Both results must cover the same rows with the same trailing shapes.

    Examples
    --------
    >>> select_rows(np.array([True, False]), {"p": np.array([1, 2])}, {"p": np.array([9, 8])})
    {'p': array([9, 2])}
    """
    if isinstance(a, np.ndarray):
        shaped = mask.reshape((-1,) + (1,) * (a.ndim - 1))
        return np.where(shaped, b, a)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return dataclasses.replace(
            a,
            **{
                f.name: select_rows(mask, getattr(a, f.name), getattr(b, f.name))
                for f in dataclasses.fields(a)
            },
        )
    if isinstance(a, dict):
        return {k: select_rows(mask, a[k], b[k]) for k in a}
    if isinstance(a, tuple):
        return tuple(select_rows(mask, x, y) for x, y in zip(a, b, strict=True))
    return a
