"""The one switch for the compiled (numba) kernels, and the loader that runs them.

The batched numpy paths work on whole batches with merges; the compiled twins in
:mod:`canarystats.stats.numba_kernels` walk each row's sorted samples with two pointers instead,
which is far cheaper per row (``benchmarks/RESULTS.md`` records the measured ratios).  Both give
exactly the same values, so the switch only ever changes speed:

* :func:`compiled_kernels` turns them on or off inside a ``with`` block (a context variable:
  it nests, restores on exit, and each thread or task has its own);
* outside any block the default is on, unless the environment variable ``CANARYSTATS_NO_NUMBA``
  is set to a non-empty value (for environments where numba misbehaves);
* without numba installed (``pip install canarystats[fast]`` brings it) they are off;
* numba is imported on the first compiled call, not with canarystats.  If importing it or
  compiling a kernel fails -- for instance numba's on-disk cache finds no writable place
  ("cannot cache function ... no locator available") -- the kernels are switched off for the
  rest of the process with one warning on the ``canarystats`` logger, and the numpy path
  answers instead.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import importlib.util
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

#: set to a non-empty value to make the compiled kernels default to off
ENV_VAR = "CANARYSTATS_NO_NUMBA"

logger = logging.getLogger("canarystats")

# None: no ``compiled_kernels`` block is active, the environment decides.
_SWITCH: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "canarystats_compiled_kernels", default=None
)


@dataclass
class KernelState:
    """What this process knows of its compiled kernels.

    Attributes
    ----------
    module : module or None
        :mod:`canarystats.stats.numba_kernels` once loaded.
    failure : str or None
        Why the kernels are off for the rest of the process (``None`` while they may run).
    """

    module: ModuleType | None = None
    failure: str | None = None


#: the process's compiled kernels: loaded on first use, or off for good after a failure
KERNELS = KernelState()


def default_enabled() -> bool:
    """The switch outside any :func:`compiled_kernels` block: on unless ``CANARYSTATS_NO_NUMBA``.

    Examples
    --------
    >>> import os
    >>> default_enabled() == (not os.environ.get("CANARYSTATS_NO_NUMBA"))
    True
    """
    return not os.environ.get(ENV_VAR)


@functools.cache
def numba_installed() -> bool:
    """Whether numba can be found (without importing it); looked up once per process.

    Examples
    --------
    >>> isinstance(numba_installed(), bool)
    True
    """
    return importlib.util.find_spec("numba") is not None


@contextmanager
def compiled_kernels(enabled: bool = True) -> Iterator[None]:
    """Turn the compiled kernels on or off for the code inside the ``with`` block.

    Parameters
    ----------
    enabled : bool
        ``False`` runs the plain numpy paths (the results are identical); ``True`` runs the
        compiled kernels where numba is installed and works, even with ``CANARYSTATS_NO_NUMBA``
        set.

    Notes
    -----
    Blocks nest, and leaving one restores the setting in force before it, also on an
    exception.  The setting is a :class:`contextvars.ContextVar`: threads and asyncio tasks
    started inside the block do not inherit it unless they copy the context.

    Examples
    --------
    >>> with compiled_kernels(False):
    ...     compiled_enabled()
    False
    """
    token = _SWITCH.set(bool(enabled))
    try:
        yield
    finally:
        _SWITCH.reset(token)


def compiled_enabled() -> bool:
    """Whether the kernels take their compiled path here and now.

    True when the switch is on (see :func:`compiled_kernels`), numba is installed, and no
    earlier load or compilation failed in this process.

    Examples
    --------
    >>> with compiled_kernels(False):
    ...     compiled_enabled()
    False
    """
    wanted = _SWITCH.get()
    if wanted is None:
        wanted = default_enabled()
    return wanted and KERNELS.failure is None and numba_installed()


def load_kernels() -> ModuleType:
    """Import :mod:`canarystats.stats.numba_kernels`, and numba with it.

    Examples
    --------
    >>> callable(load_kernels().select) if compiled_enabled() else True
    True
    """
    return importlib.import_module("canarystats.stats.numba_kernels")


def call_kernel(name: str, *args: Any) -> Any | None:
    """Run the compiled kernel ``name`` on ``args``; ``None`` when the numpy path must answer.

    ``None`` comes back when the kernels are off, and when loading numba or compiling the
    kernel fails: the kernels are then switched off for the process and one warning is logged,
    never raised, since the numpy path gives the same values.

    Examples
    --------
    >>> import numpy as np
    >>> with compiled_kernels(False):
    ...     call_kernel("rank_sum", np.ones((1, 1)), np.ones((1, 1)), [1], [1]) is None
    True
    """
    if not compiled_enabled():
        return None
    try:
        if KERNELS.module is None:
            KERNELS.module = load_kernels()
        return getattr(KERNELS.module, name)(*args)
    except Exception as exc:  # numba's errors have no common base class but Exception
        KERNELS.failure = f"{type(exc).__name__}: {exc}"
        KERNELS.module = None
        logger.warning(
            "compiled kernels are off for this process, the numpy paths give the same "
            "results more slowly (%s)",
            KERNELS.failure,
        )
        return None
