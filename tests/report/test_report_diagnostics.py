"""The text report says what each metric's test stood on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from canarystats import judge, load_config
from canarystats.report import render

ROOT = Path(__file__).resolve().parents[2]


def _judgment(method: str) -> tuple[object, pd.DataFrame]:
    config = load_config(ROOT / "examples" / "web.yaml")
    frame = pd.read_csv(ROOT / "fixtures" / "seed-incident.csv", parse_dates=["timestamp"])
    return judge(config, frame, method=method), frame


def test_hosts_method_reports_host_units_and_the_raw_p_value() -> None:
    j, frame = _judgment("hosts")
    text = render(j, "text", frame=frame)
    # The fixture has four hosts per cohort (fixtures/README.md).
    assert "units: hosts (4 canary, 4 baseline)" in text
    assert "raw p=" in text and "holm over 7 metrics" in text
    assert "lag-1 autocorrelation" in text


def test_kayenta_method_reports_points_as_units() -> None:
    j, frame = _judgment("kayenta")
    text = render(j, "text", frame=frame)
    assert "units: points" in text
    assert "units: hosts" not in text
