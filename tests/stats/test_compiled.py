"""The one switch for the compiled kernels: default, blocks that nest and restore, fallback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from canarystats.stats import compiled, compiled_enabled, compiled_kernels, mann_whitney

needs_numba = pytest.mark.skipif(not compiled.numba_installed(), reason="numba is not installed")


@pytest.fixture
def fresh_kernels(monkeypatch: pytest.MonkeyPatch) -> compiled.KernelState:
    """A process state without loaded kernels or failures; the real one comes back afterwards."""
    state = compiled.KernelState()
    monkeypatch.setattr(compiled, "KERNELS", state)
    return state


@pytest.fixture
def warnings_seen(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Records of the ``canarystats`` logger at WARNING and above."""
    caplog.set_level(logging.WARNING, logger="canarystats")
    return caplog


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    canary = np.round(rng.normal(size=(6, 80)), 1)  # ties, so both rank-sum branches run
    baseline = np.round(rng.normal(size=(6, 70)), 1)
    canary[2, 50:] = np.nan
    return canary, baseline


def _assert_same(a: object, b: object) -> None:
    for field in ("u", "p_value", "estimate", "ci_low", "ci_high", "conf_level", "exact"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_the_environment_variable_sets_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "numba_installed", lambda: True)
    monkeypatch.setenv("CANARYSTATS_NO_NUMBA", "1")
    assert not compiled_enabled()
    monkeypatch.delenv("CANARYSTATS_NO_NUMBA")
    assert compiled_enabled()


def test_a_block_turns_the_kernels_off_and_restores_the_setting_on_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compiled, "numba_installed", lambda: True)
    monkeypatch.delenv("CANARYSTATS_NO_NUMBA", raising=False)
    with compiled_kernels(False):
        assert not compiled_enabled()
    assert compiled_enabled()


def test_blocks_nest_and_each_exit_restores_the_one_outside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compiled, "numba_installed", lambda: True)
    with compiled_kernels(False):
        with compiled_kernels(True):
            assert compiled_enabled()
            with compiled_kernels(False):
                assert not compiled_enabled()
            assert compiled_enabled()
        assert not compiled_enabled()


def test_an_exception_inside_a_block_still_restores_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compiled, "numba_installed", lambda: True)
    monkeypatch.delenv("CANARYSTATS_NO_NUMBA", raising=False)
    with pytest.raises(ValueError, match="boom"), compiled_kernels(False):
        raise ValueError("boom")
    assert compiled_enabled()


def test_an_explicit_block_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "numba_installed", lambda: True)
    monkeypatch.setenv("CANARYSTATS_NO_NUMBA", "1")
    with compiled_kernels(True):
        assert compiled_enabled()


def test_without_numba_the_kernels_stay_off_silently(
    monkeypatch: pytest.MonkeyPatch, warnings_seen: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(compiled, "numba_installed", lambda: False)
    with compiled_kernels(True):
        assert not compiled_enabled()
        assert compiled.call_kernel("rank_sum") is None
    assert warnings_seen.records == []


def test_a_thread_started_inside_a_block_gets_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "numba_installed", lambda: True)
    monkeypatch.delenv("CANARYSTATS_NO_NUMBA", raising=False)
    seen: list[bool] = []
    with compiled_kernels(False):
        thread = threading.Thread(target=lambda: seen.append(compiled_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_a_kernel_loader_that_fails_falls_back_to_numpy_with_one_warning(
    monkeypatch: pytest.MonkeyPatch,
    fresh_kernels: compiled.KernelState,
    warnings_seen: pytest.LogCaptureFixture,
) -> None:
    canary, baseline = _data()
    with compiled_kernels(False):
        plain = mann_whitney(canary, baseline)

    def unwritable_cache() -> object:
        # What numba raises for ``cache=True`` in a read-only package without a writable HOME.
        raise RuntimeError("cannot cache function 'rank_sum': no locator available for file")

    monkeypatch.setattr(compiled, "numba_installed", lambda: True)
    monkeypatch.setattr(compiled, "load_kernels", unwritable_cache)
    with compiled_kernels(True):
        first = mann_whitney(canary, baseline)
        second = mann_whitney(canary, baseline)
        assert not compiled_enabled()
    _assert_same(first, plain)
    _assert_same(second, plain)
    assert fresh_kernels.failure is not None and "no locator" in fresh_kernels.failure
    assert [r.levelno for r in warnings_seen.records] == [logging.WARNING]
    assert "numpy" in warnings_seen.records[0].getMessage()


def test_a_kernel_that_fails_to_compile_falls_back_to_numpy(
    monkeypatch: pytest.MonkeyPatch,
    fresh_kernels: compiled.KernelState,
    warnings_seen: pytest.LogCaptureFixture,
) -> None:
    canary, baseline = _data()
    with compiled_kernels(False):
        plain = mann_whitney(canary, baseline)

    def fails(*args: object) -> None:
        raise TypeError("Failed in nopython mode pipeline")

    kernels = SimpleNamespace(rank_sum=fails, select=fails)
    monkeypatch.setattr(compiled, "numba_installed", lambda: True)
    monkeypatch.setattr(compiled, "load_kernels", lambda: kernels)
    with compiled_kernels(True):
        _assert_same(mann_whitney(canary, baseline), plain)
    assert len(warnings_seen.records) == 1


@needs_numba
def test_the_compiled_kernels_run_and_agree_with_numpy(fresh_kernels: compiled.KernelState) -> None:
    canary, baseline = _data()
    with compiled_kernels(False):
        plain = mann_whitney(canary, baseline)
    with compiled_kernels(True):
        fast = mann_whitney(canary, baseline)
    assert fresh_kernels.module is not None and fresh_kernels.failure is None
    _assert_same(fast, plain)


_NO_LOCATOR = """
import logging
import os
import subprocess
import sys
from numba.core import caching
# No place to write numba's cache: what a read-only install with an unwritable HOME sees.
caching.CacheImpl._locator_classes = []
import numpy as np
from canarystats.stats import compiled_enabled, compiled_kernels, mann_whitney
logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
rng = np.random.default_rng(0)
x, y = rng.normal(size=(4, 60)), rng.normal(size=(4, 50))
with compiled_kernels(False):
    plain = mann_whitney(x, y)
with compiled_kernels(True):
    fast = mann_whitney(x, y)
    print("enabled", compiled_enabled())
print("same", all(np.array_equal(getattr(plain, f), getattr(fast, f))
                  for f in ("u", "p_value", "estimate", "ci_low", "ci_high")))
"""


@needs_numba
def test_numba_without_a_cache_locator_compiles_without_a_cache_in_a_fresh_process(
    tmp_path: Path,
) -> None:
    from numba.core import caching

    if not hasattr(caching, "CacheImpl"):
        pytest.skip("this numba has no CacheImpl to take the locators from")
    # canarystats offers numba a folder in TMPDIR, which numba (without locators) cannot use.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    out = subprocess.run(
        [sys.executable, "-c", _NO_LOCATOR], capture_output=True, text=True, check=True, env=env
    )
    # Still compiled (in memory only), the same values, and not a word on stderr.
    assert out.stdout.split() == ["enabled", "True", "same", "True"]
    assert "WARNING" not in out.stderr


# --------------------------------------------------------------------------- when they pay


def _big_enough(monkeypatch: pytest.MonkeyPatch, values: int) -> None:
    """Make batches of ``values`` values the smallest that load the kernels by default."""
    monkeypatch.setattr(compiled, "MIN_VALUES", dict.fromkeys(compiled.MIN_VALUES, values))


def _counting_loader(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the loader by one whose kernels record their calls and let numpy answer."""
    calls: list[str] = []

    def kernel(name: str) -> object:
        def run(*args: object) -> None:
            calls.append(name)
            raise TypeError("recorded; the numpy path answers")  # switches the kernels off

        return run

    kernels = SimpleNamespace(rank_sum=kernel("rank_sum"), select=kernel("select"))
    monkeypatch.setattr(compiled, "numba_installed", lambda: True)
    monkeypatch.delenv("CANARYSTATS_NO_NUMBA", raising=False)
    monkeypatch.setattr(compiled, "load_kernels", lambda: kernels)
    return calls


def test_by_default_a_small_batch_never_loads_the_kernels(
    monkeypatch: pytest.MonkeyPatch, fresh_kernels: compiled.KernelState
) -> None:
    calls = _counting_loader(monkeypatch)
    canary, baseline = _data()  # 6 rows of 150 values: far below the sizes where numba pays
    mann_whitney(canary, baseline)
    assert calls == [] and fresh_kernels.module is None and fresh_kernels.failure is None


def test_by_default_a_batch_past_the_size_loads_the_kernels(
    monkeypatch: pytest.MonkeyPatch,
    fresh_kernels: compiled.KernelState,
    warnings_seen: pytest.LogCaptureFixture,
) -> None:
    calls = _counting_loader(monkeypatch)
    canary, baseline = _data()
    _big_enough(monkeypatch, canary.size + baseline.size)
    mann_whitney(canary, baseline)
    assert calls[:1] == ["rank_sum"]


def test_a_block_compiles_a_batch_of_any_size(
    monkeypatch: pytest.MonkeyPatch,
    fresh_kernels: compiled.KernelState,
    warnings_seen: pytest.LogCaptureFixture,
) -> None:
    calls = _counting_loader(monkeypatch)
    canary, baseline = _data()
    with compiled_kernels(True):
        mann_whitney(canary[:1, :3], baseline[:1, :3])
    assert calls[:1] == ["rank_sum"]


def test_kernels_loaded_once_serve_small_batches_too(
    monkeypatch: pytest.MonkeyPatch, fresh_kernels: compiled.KernelState
) -> None:
    # Loading is what costs; once paid, the compiled path is the faster one at any size.
    monkeypatch.setattr(compiled, "numba_installed", lambda: True)
    monkeypatch.delenv("CANARYSTATS_NO_NUMBA", raising=False)
    assert not compiled.worth_compiling("rank_sum", 10)
    fresh_kernels.module = SimpleNamespace()  # type: ignore[assignment]
    assert compiled.worth_compiling("rank_sum", 10)


def test_the_sizes_are_where_loading_numba_pays_for_itself() -> None:
    # The selection costs far more per value than the rank sum, so it pays much sooner; both
    # stay above what a pipeline's judgment holds (a few metrics x hosts x points: thousands).
    assert compiled.MIN_VALUES["select"] < compiled.MIN_VALUES["rank_sum"]
    assert min(compiled.MIN_VALUES.values()) >= 100_000


@needs_numba
def test_small_and_large_batches_give_the_same_values_either_side_of_the_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    canary, baseline = _data()
    with compiled_kernels(False):
        plain = mann_whitney(canary, baseline)
    _big_enough(monkeypatch, 1)
    monkeypatch.delenv("CANARYSTATS_NO_NUMBA", raising=False)
    _assert_same(mann_whitney(canary, baseline), plain)
