"""The HTML report in a real browser: headless Chromium renders the shipped incident's report
at desktop (1280x900) and phone (390x844) sizes.

Each size is checked three ways: a screenshot that is not one flat colour (the page rendered),
no horizontal overflow (the page is never wider than the window: ``scrollWidth <= innerWidth``)
and the verdict inside the first screen (its bounding box starts above the window's height).
The report is laid out in a frame of exactly the size under test (a headless window is never
narrower than 500 pixels); a script in the page around it writes the measurements into the DOM,
read back with ``--dump-dom``.  The report itself carries no script.

Skipped, with the reason, where no Chromium binary is found (``apt-get install chromium``).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from canarystats.cli import main

pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")

ROOT = Path(__file__).resolve().parents[2]
BROWSERS = ("chromium", "chromium-browser")
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}

#: a page holding the report in a frame of exactly the size under test (a headless window
#: cannot be narrower than 500 pixels), and a script that measures the report in it and writes
#: what it found where --dump-dom shows it
FRAME = """<!DOCTYPE html>
<html><head><style>html,body{{margin:0;padding:0;overflow:hidden}}
iframe{{border:0;display:block}}</style></head>
<body><iframe id="report" src="{src}" width="{width}" height="{height}"></iframe>
<script>
document.getElementById("report").addEventListener("load", (event) => {{
  const win = event.target.contentWindow, doc = win.document;
  const verdict = doc.getElementById("verdict"), box = verdict.getBoundingClientRect();
  document.body.setAttribute("data-probe", JSON.stringify({{
    scrollWidth: doc.documentElement.scrollWidth, innerWidth: win.innerWidth,
    innerHeight: win.innerHeight, verdictTop: box.top, verdictText: verdict.textContent}}));
}});
</script></body></html>
"""


def _browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path is not None:
            return path
    return None


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = _browser()
    if path is None:
        pytest.skip("no chromium or chromium-browser binary on PATH (apt-get install chromium)")
    # Its own profile: Chromium refuses a profile another running Chromium holds.
    profile = tmp_path_factory.mktemp("chromium-profile")
    return [
        path,
        "--headless",
        "--no-sandbox",  # CI containers run as root, where the sandbox cannot start
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        "--allow-file-access-from-files",  # the frame's page reads the report it holds
        f"--user-data-dir={profile}",
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "seed-incident.html"
    data = str(ROOT / "fixtures" / "seed-incident.csv")
    args = ["judge", str(ROOT / "examples" / "web.yaml"), "--data", data]
    assert main([*args, "--format", "html", "--output", str(out)]) == 1  # the incident fails
    return out


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.mark.parametrize("size", SIZES)
def test_the_report_renders_fits_the_width_and_shows_the_verdict_first(
    chromium: list[str], report: Path, size: str, tmp_path: Path
) -> None:
    width, height = SIZES[size]
    framed = tmp_path / "framed.html"
    framed.write_text(FRAME.format(src=report.as_uri(), width=width, height=height))
    window = f"--window-size={width},{height}"
    shot = tmp_path / f"{size}.png"
    _run([*chromium, window, f"--screenshot={shot}", framed.as_uri()])
    _assert_not_blank(shot)

    dom = _run([*chromium, window, "--dump-dom", framed.as_uri()]).stdout
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, "the probe script did not run"
    probe = json.loads(html.unescape(found.group(1)))
    assert probe["innerWidth"] == width  # the report was laid out at the width under test
    assert probe["scrollWidth"] <= probe["innerWidth"], probe
    assert probe["verdictText"] == "FAIL"
    assert 0 <= probe["verdictTop"] < probe["innerHeight"], probe


def _assert_not_blank(png: Path) -> None:
    """A screenshot of a rendered page: many colours, not one flat fill."""
    from matplotlib.image import imread

    pixels = imread(png)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    flat = pixels.reshape(-1, pixels.shape[-1])
    assert float(flat.std(axis=0).max()) > 0.05, "the screenshot is a single colour"
    share = (flat[:, :3] < 0.5).any(axis=1).mean()
    assert share > 0.005, "the screenshot has almost no dark (text) pixels"
