"""The HTML report's page: the verdict and its reasons first, readable numbers, the shift as
each method states it, and one line naming the extra where Jinja2 is missing."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from canarystats import judge, load_config
from canarystats.cli import main
from canarystats.errors import ConfigError
from canarystats.report import render
from canarystats.sources import read_frame

pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return load_config(ROOT / "examples" / "web.yaml")


@pytest.fixture(scope="module")
def frame():  # type: ignore[no-untyped-def]
    return read_frame(ROOT / "fixtures" / "seed-incident.csv")


@pytest.fixture(scope="module")
def page(config, frame) -> str:  # type: ignore[no-untyped-def]
    return render(judge(config, frame), "html", frame=frame, config=config)


class _Order(HTMLParser):
    """Where things start (source line), and the text outside the plots."""

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[str, int] = {}
        self.svg_depth = 0
        self.text: list[str] = []
        self.meta: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in (tag, f"#{a.get('id')}"):
            self.first.setdefault(key, self.getpos()[0])
        if tag == "meta":
            self.meta.append(a)
        self.svg_depth += tag == "svg"

    def handle_endtag(self, tag: str) -> None:
        self.svg_depth -= tag == "svg"

    def handle_data(self, data: str) -> None:
        if not self.svg_depth:
            self.text.append(data)


def test_the_page_fits_a_phone_and_puts_the_verdict_and_reasons_first(page: str) -> None:
    order = _Order()
    order.feed(page)
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in order.meta
    assert order.first["#verdict"] < order.first["#reason"] < order.first["#why"]
    assert order.first["#why"] < order.first["table"] < order.first["section"]
    text = " ".join(order.text)
    # The incident's three failing metrics, each with its own sentence, before any table.
    why = page[page.index('id="why"') : page.index('id="summary"')]
    for name in ("background-jobs-failed", "background-jobs-processed", "background-queue-latency"):
        assert name in why
    assert "above the absolute maximum 2 failed jobs/min" in why
    assert "window 2026-03-10T15:00:00Z to 2026-03-10T15:30:00Z (UTC)" in text


def test_numbers_are_readable_without_exponents(page: str) -> None:
    order = _Order()
    order.feed(page)
    text = " ".join(order.text)
    # background-jobs-failed: the canary's max of 1706 failed jobs in a minute, the mean ratio.
    assert "1,706" in text and "mean ratio 1,242" in text
    assert not re.search(r"\de\+\d", text)  # no 1.24e+03


def test_the_shift_is_stated_as_each_method_gives_it(config, frame, page: str) -> None:
    # The default hosts method: a gauge's shift has the t interval of the host test and the
    # minimum effect; a count's rate difference has none, and the page says so.
    hosts = judge(config, frame)
    gauge = hosts.metric("background-queue-latency")
    pct = f"{gauge.confidence * 100:g}"
    assert gauge.ci_low <= gauge.estimate <= gauge.ci_high
    assert f"({pct}% CI " in page and "minimum effect" in page
    assert "(no interval)" in page  # the job counts: rate differences
    assert "tolerance bound" not in page
    kayenta = config.with_judge(method="kayenta")
    judged = judge(kayenta, frame)
    other = render(judged, "html", frame=frame, config=kayenta)
    latency = judged.metric("request-latency")
    pct = f"{latency.confidence * 100:g}"
    assert f"({pct}% CI " in other and "tolerance bound ±" in other


def test_without_jinja2_the_command_names_the_extra_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A None entry in sys.modules makes "import jinja2" raise ImportError.
    monkeypatch.setitem(sys.modules, "jinja2", None)
    args = ["judge", str(ROOT / "examples" / "web.yaml"), "--data"]
    args += [str(ROOT / "fixtures" / "seed-incident.csv"), "--format", "html"]
    assert main([*args, "--output", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "html extra" in err[-1] and "Jinja2" in err[-1]
    assert not (tmp_path / "r.html").exists()


def test_render_without_jinja2_is_one_line_config_error(
    config, frame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)
    judged = judge(config, frame)
    with pytest.raises(ConfigError, match=r"html extra") as info:
        render(judged, "html", frame=frame, config=config)
    assert "\n" not in str(info.value)


def test_names_units_and_scopes_from_the_user_are_text_never_markup(frame) -> None:  # type: ignore[no-untyped-def]
    # A config is user input: a metric name, unit, config name or scope with markup in it
    # must show as those characters, never become an element or a script of the page.
    evil = '<img src=x onerror="alert(1)">'
    cfg = load_config(
        {
            "name": f"web{evil}",
            "scopes": {"canary": f"role:canary{evil}", "baseline": "role:baseline"},
            "metrics": [
                {"name": f"errors{evil}", "query": "sum:e{$scope} by {host}", "unit": evil}
            ],
        }
    )
    tidy = frame[frame["metric"] == frame["metric"].iloc[0]].assign(metric=f"errors{evil}")
    page = render(judge(cfg, tidy), "html", frame=tidy, config=cfg)
    tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.append((tag, attrs))

    Tags().feed(page)
    assert tags and not [t for t, _ in tags if t == "img"]
    assert not [name for _, attrs in tags for name, _ in attrs if name.startswith("on")]
    assert "&lt;img src=x onerror=" in page  # shown as text
