"""The notebooks (jupytext percent files in notebooks/) execute cleanly, each in under 2 minutes,
and show their figures as pictures (an ``image/png`` output), not as ``<Figure size ...>``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.py"))
#: the longest a notebook may take to run
LIMIT_S = 120


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path: Path) -> None:
    jupytext = pytest.importorskip("jupytext", reason="notebook extra not installed")
    nbclient = pytest.importorskip("nbclient", reason="notebook extra not installed")
    pytest.importorskip("ipykernel", reason="notebook extra not installed")
    pytest.importorskip("matplotlib", reason="notebook extra not installed")
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(
        notebook,
        timeout=LIMIT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    started = time.monotonic()
    client.execute()  # raises CellExecutionError, naming the cell, when a cell fails
    elapsed = time.monotonic() - started
    assert elapsed < LIMIT_S, f"{path.name} took {elapsed:.0f} s; the limit is {LIMIT_S} s"
    errors = [
        out
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    images = [
        out
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    ]
    if path.stem.startswith("03-") and _real_data_absent():
        return  # it says SKIPPED and draws nothing without ../shared/realdata/asd
    assert images, f"{path.name} shows no figure as a picture; does it run %matplotlib inline?"


def _real_data_absent() -> bool:
    from canarystats.testing import realdata

    return realdata.find_asd(ROOT / "notebooks") is None


def test_notebooks_are_stored_without_outputs() -> None:
    # jupytext percent files cannot hold outputs; an .ipynb beside them must be clean too.
    assert len(NOTEBOOKS) >= 3, "notebooks/ should hold the three shipped notebooks"
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        dirty = [c for c in cells if c.get("outputs") or c.get("execution_count")]
        assert not dirty, f"{path.name} is stored with outputs; clear them before committing"
