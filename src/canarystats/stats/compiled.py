"""The one switch for the compiled (numba) kernels, and the loader that runs them.

The batched numpy paths work on whole batches with merges; the compiled twins in
:mod:`canarystats.stats.numba_kernels` walk each row's sorted samples with two pointers instead,
which is far cheaper per row (``benchmarks/RESULTS.md`` records the measured ratios).  Both give
exactly the same values, so the switch only ever changes speed:

* :func:`compiled_kernels` turns them on or off inside a ``with`` block (a context variable:
  it nests, restores on exit, and each thread or task has its own);
* outside any block the default is on, unless the environment variable ``CANARYSTATS_NO_NUMBA``
  is set to a non-empty value (for environments where numba misbehaves);
* by default a kernel compiles only for a batch big enough to pay for loading numba (about
  half a second in a fresh process: :data:`MIN_VALUES`), or once the kernels are loaded in this
  process anyway; a small judgment (a pipeline's handful of metrics) never loads numba.  A
  ``compiled_kernels(True)`` block takes the compiled path at any size;
* without numba installed (the ``fast`` extra brings it) they are off;
* numba is imported on the first compiled call, not with canarystats;
* compiled code is cached on disk where numba finds a writable place of its own (the
  package's ``__pycache__``, then ``$XDG_CACHE_HOME/numba`` or ``~/.cache/numba``, or the
  user's ``NUMBA_CACHE_DIR``).  On a read-only install whose HOME cannot be written either
  (a container job as a non-root user), numba finds none ("cannot cache function ... no
  locator available"): unless the user set ``NUMBA_CACHE_DIR``, canarystats then points it
  at the first folder it can write of :func:`cache_folders`, and failing that compiles
  without a cache, every run anew.  Neither says anything but a debug or info log line;
* if importing numba or compiling a kernel fails for any other reason, the kernels are
  switched off for the rest of the process with one warning on the ``canarystats`` logger,
  and the numpy path answers instead.  Nothing here ever stops a judgment.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import importlib.util
import logging
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

#: set to a non-empty value to make the compiled kernels default to off
ENV_VAR = "CANARYSTATS_NO_NUMBA"
#: numba's own setting for where it caches compiled code; a value the user set is never changed
CACHE_ENV_VAR = "NUMBA_CACHE_DIR"
#: the module of the compiled kernels, imported only when one is first called
KERNELS_MODULE = "canarystats.stats.numba_kernels"
#: the fewest values (both cohorts, NaN padding included) a batch needs before a kernel loads
#: numba by default.  Importing numba and loading a cached kernel takes about 0.5 s in a fresh
#: process; on a 2-core EPYC the numpy rank sum costs about 55 ns more per value than its twin,
#: the numpy selection (three ranks per row) about 3.3 us more, so each pays from about these
#: sizes on (measured with ``benchmarks/stats_kernels.py``'s data, December 2026).
MIN_VALUES = {"rank_sum": 10_000_000, "select": 150_000}

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
    cache : bool
        Whether the kernels are compiled with numba's on-disk cache (read by
        :mod:`canarystats.stats.numba_kernels` when it is imported).
    """

    module: ModuleType | None = None
    failure: str | None = None
    cache: bool = True


#: the process's compiled kernels: loaded on first use, or off for good after a failure
KERNELS = KernelState()
# Threads of one process (a Dask worker's) may call a kernel first at the same time; one loads.
_LOADING = threading.Lock()


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


def worth_compiling(name: str, values: int) -> bool:
    """Whether the kernel ``name`` takes its compiled path for a batch of ``values`` values.

    Inside a ``compiled_kernels(True)`` block, always; by default, once the kernels are loaded
    in this process or when the batch has at least :data:`MIN_VALUES` values for ``name``.
    Called only where :func:`compiled_enabled` is true.

    Examples
    --------
    >>> worth_compiling("select", 10**9)
    True
    >>> with compiled_kernels(True):
    ...     worth_compiling("select", 10)
    True
    """
    if _SWITCH.get() is not None or KERNELS.module is not None:
        return True
    return values >= MIN_VALUES.get(name, 0)


def load_kernels() -> ModuleType:
    """Import :mod:`canarystats.stats.numba_kernels`, and numba with it, with a cache if any.

    Where numba finds no writable cache folder of its own, the kernels are cached in the first
    writable one of :func:`cache_folders` (unless the user set ``NUMBA_CACHE_DIR``), and where
    there is none, compiled without a cache.

    Raises
    ------
    Exception
        Whatever importing numba or compiling raises for another reason than the cache.

    Examples
    --------
    >>> callable(load_kernels().select) if compiled_enabled() else True
    True
    """
    try:
        return importlib.import_module(KERNELS_MODULE)
    except RuntimeError as exc:
        if "no locator available" not in str(exc):
            raise
    if CACHE_ENV_VAR not in os.environ:
        folder = next((f for f in cache_folders() if _usable_cache(f)), None)
        if folder is not None:
            _point_numba_cache_at(folder)
            try:
                return importlib.import_module(KERNELS_MODULE)
            except RuntimeError as exc:
                if "no locator available" not in str(exc):
                    raise
    KERNELS.cache = False
    logger.info("no writable folder for numba's cache: the kernels are compiled on each run")
    return importlib.import_module(KERNELS_MODULE)


def cache_folders() -> list[Path]:
    """Where canarystats offers to cache compiled kernels, in order of preference.

    ``$XDG_CACHE_HOME/canarystats/numba``, ``~/.cache/canarystats/numba``, then a folder of
    this user's own in the temporary folder (``$TMPDIR``, ``/tmp``, ...).

    Examples
    --------
    >>> cache_folders()[-1].name.startswith("canarystats-numba")
    True
    """
    folders = []
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        folders.append(Path(xdg, "canarystats", "numba"))
    with suppress(RuntimeError, KeyError):  # no HOME and no password entry: no home at all
        folders.append(Path.home() / ".cache" / "canarystats" / "numba")
    owner = f"-{os.getuid()}" if hasattr(os, "getuid") else ""
    with suppress(OSError):  # not one writable temporary folder on this machine
        folders.append(Path(tempfile.gettempdir(), f"canarystats-numba{owner}"))
    return folders


def _usable_cache(folder: Path) -> bool:
    """Whether ``folder`` is (or can be made) a writable folder that only this user can write.

    numba loads pickles from its cache: a folder someone else could write into (a temporary
    folder made by another user before us) would let them run code in this process.
    """
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return False
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def _point_numba_cache_at(folder: Path) -> None:
    # numba reads its settings from the environment when imported and again before each
    # compilation, so the variable is what must change; the reload makes the decorators of
    # the next import see it.  Child processes (Dask workers) inherit it, which they want.
    os.environ[CACHE_ENV_VAR] = str(folder)
    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.reload_config()
    logger.debug("numba finds no writable cache folder; caching the kernels in %s", folder)


def call_kernel(name: str, *args: Any, values: int | None = None) -> Any | None:
    """Run the compiled kernel ``name`` on ``args``; ``None`` when the numpy path must answer.

    ``None`` comes back when the kernels are off, when the batch of ``values`` values is too
    small to pay for loading them (:func:`worth_compiling`; ``None`` counts as large enough),
    and when loading numba or compiling the kernel fails: the kernels are then switched off for
    the process and one warning is logged, never raised, since the numpy path gives the same
    values.

    Examples
    --------
    >>> import numpy as np
    >>> with compiled_kernels(False):
    ...     call_kernel("rank_sum", np.ones((1, 1)), np.ones((1, 1)), [1], [1]) is None
    True
    """
    if not compiled_enabled():
        return None
    if values is not None and not worth_compiling(name, values):
        return None
    try:
        if KERNELS.module is None:
            with _LOADING:
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
