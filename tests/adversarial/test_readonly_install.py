"""The compiled kernels on a read-only install, run by a user whose HOME cannot be written.

A container job as a non-root user: the package folder is read-only, HOME is not writable, so
numba finds no place for its on-disk cache ("cannot cache function ...: no locator
available").  ``canarystats judge`` must still give its verdict through the numba path: cached
in a folder of the user's own in the temporary folder, or, where the user pointed
``NUMBA_CACHE_DIR`` somewhere unwritable, compiled without a cache -- with a clean stderr.

The run is a real process, as ``nobody`` (we run as root here, and root writes anywhere), on a
read-only copy of the installed package.  Each run compiles the kernels cold (about 2 s each
on a laptop-class CPU, 3-5 s per run in all).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

import canarystats

WEB = str(ROOT / "examples" / "web.yaml")
INCIDENT = str(ROOT / "fixtures" / "seed-incident.csv")  # a failing deploy: exit 1
NOBODY = 65534
# Exactly ``python -m canarystats ARGS``, then one line on how the kernels ran (after the
# report, on stdout), so the test sees the numba path was taken and not the numpy fallback.
# The fixture is far too small for numba to pay by default, so the probe asks for the kernels.
PROBE = """
import atexit, runpy, sys
from canarystats.stats import compiled
k = compiled.KERNELS
atexit.register(lambda: print(f"kernels: loaded={k.module is not None} failure={k.failure} "
                              f"cache={k.cache} from={compiled.__file__}"))
sys.argv = ["canarystats", *sys.argv[1:]]
with compiled.compiled_kernels(True):
    runpy.run_module("canarystats", run_name="__main__", alter_sys=True)
"""


@dataclass
class Install:
    """A read-only copy of the package, a HOME and a temporary folder for an unprivileged run."""

    prefix: list[str]  # runs a command as the unprivileged user
    uid: int
    packages: Path  # the folder to put on PYTHONPATH
    home: Path  # not writable
    tmp: Path  # writable by the user

    def run(self, **env: str) -> subprocess.CompletedProcess[str]:
        """``canarystats judge`` of the failing fixture, in this install."""
        keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")
        environment = {k: v for k, v in os.environ.items() if k in keep}
        environment |= {
            "HOME": str(self.home),
            "PYTHONPATH": str(self.packages),
            "TMPDIR": str(self.tmp),
            **env,
        }
        argv = [*self.prefix, sys.executable, "-c", PROBE, "-q", "judge", WEB, "--data", INCIDENT]
        return subprocess.run(
            argv, capture_output=True, text=True, env=environment, timeout=120, check=False
        )


def _drop_to_nobody(packages: Path) -> list[str] | None:
    """A prefix that runs this Python as nobody and imports numba and the copy, if any works."""
    probe = "import numba, canarystats; print(canarystats.__file__)"
    for prefix in (
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"],
        ["runuser", "-u", "nobody", "-m", "--"],
    ):
        if shutil.which(prefix[0]) is None:
            continue
        done = subprocess.run(
            [*prefix, sys.executable, "-c", probe],
            capture_output=True, text=True, timeout=60, check=False,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(packages)},
        )  # fmt: skip
        if done.returncode == 0 and done.stdout.startswith(str(packages)):
            return prefix
    return None


def _read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)


@pytest.fixture
def install() -> Iterator[Install]:
    if importlib.util.find_spec("numba") is None:
        pytest.skip("numba is not installed: there is no compiled path to test")
    # pytest's own temporary folders are private to root: nobody could not even reach them.
    base = Path(tempfile.mkdtemp(prefix="canarystats-install-"))
    try:
        base.chmod(0o755)
        packages = base / "site"
        shutil.copytree(
            Path(canarystats.__file__).parent,
            packages / "canarystats",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        home = base / "home"
        tmp = base / "tmp"
        home.mkdir()
        tmp.mkdir()
        _read_only(packages)
        home.chmod(0o555)
        if os.geteuid() == 0:
            prefix = _drop_to_nobody(packages)
            if prefix is None:
                pytest.skip(
                    "running as root, and neither setpriv nor runuser can run this Python "
                    "(and numba) as nobody, so nothing here would be read-only to the run"
                )
            os.chown(tmp, NOBODY, NOBODY)
            yield Install(prefix, NOBODY, packages, home, tmp)
        else:
            yield Install([], os.getuid(), packages, home, tmp)
    finally:
        for path in [base, *base.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(base)


def _check_verdict(done: subprocess.CompletedProcess[str], install: Install) -> str:
    """Exit 1, the report on stdout, nothing on stderr; return the kernels' line."""
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("FAIL  canary web: score 0/100")
    kernels = done.stdout.splitlines()[-1]
    assert kernels.startswith("kernels: loaded=True failure=None"), kernels
    assert f"from={install.packages}" in kernels
    return kernels


def test_kernels_cache_in_a_private_temporary_folder(install: Install) -> None:
    done = install.run()
    assert _check_verdict(done, install).split()[3] == "cache=True"
    cache = install.tmp / f"canarystats-numba-{install.uid}"
    assert list(cache.rglob("*.nbi")), "no kernel was cached"
    assert list((install.packages / "canarystats").rglob("*.nbi")) == []
    assert list(install.home.iterdir()) == []


def test_kernels_compile_without_a_cache_where_numba_cache_dir_cannot_be_written(
    install: Install,
) -> None:
    # The user's NUMBA_CACHE_DIR is respected even where it cannot be written.
    done = install.run(NUMBA_CACHE_DIR=str(install.home / "numba"))
    assert _check_verdict(done, install).split()[3] == "cache=False"
    assert list(install.tmp.iterdir()) == []
    assert list(install.home.iterdir()) == []
