"""Input validation shared by the kernels: promote to float rows, report whether input was 1-D."""

from __future__ import annotations

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


def scalar_or_rows(arr: NDArray[Any], one: bool) -> Any:
    """Give back a Python scalar for 1-D input and the array for 2-D input."""
    if one:
        return arr[0].item()
    return arr
