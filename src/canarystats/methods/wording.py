"""What every method's sentences share: number formats, units, plurals and sentence endings.

Reasons are read by a developer whose deploy was stopped, in a CI log or a pull-request comment,
so every method words the same things the same way: numbers with three significant digits and
no float noise, the metric's unit after each value, the same endings for "not judged", "counts
as failed" and "critical", and one sentence for an absolute threshold.
"""

from __future__ import annotations

import math

from canarystats.config import MetricConfig, Threshold
from canarystats.labels import Label

__all__ = [
    "CRITICAL_FAILS",
    "SHIFT_RESOLUTION",
    "fmt_number",
    "fmt_signed",
    "minutes",
    "nodata_sentence",
    "plural",
    "threshold_sentence",
    "with_unit",
]

#: the ending of a sentence whose metric fails the canary on its own
CRITICAL_FAILS = "; the metric is critical, so the canary fails"

#: a shift below this share of the scale it is read against (its interval's width, the minimum
#: effect) is shown as 0
SHIFT_RESOLUTION = 1e-3

#: format specs of fmt_number's fixed-point branch, by number of decimals
_FIXED = tuple(f".{d}f" for d in range(8))
#: suffixes of thousands from a million on (k is not used below a million)
_SI = ("", "k", "M", "G", "T", "P", "E")


def fmt_number(x: float | None) -> str:
    """Format a number for a sentence or a report: three significant digits, readable at a glance.

    Below 1,000 three significant digits without float noise; from there whole numbers with
    thousands separators, and from a million on an SI suffix (k is not used: ``12,345`` reads as
    fast as ``12.3k`` and keeps the digits).  Never exponent notation between 1e-4 and 1e21, so a
    count of 1,240 events never reads ``1.24e+03``.  Every report and plot axis uses it.

    Examples
    --------
    >>> fmt_number(4.1), fmt_number(1234.5), fmt_number(0.000123), fmt_number(-2.0)
    ('4.1', '1,234', '0.000123', '-2')
    >>> fmt_number(-12345.6), fmt_number(2.5e7), fmt_number(62.125), fmt_number(float("nan"))
    ('-12,346', '25M', '62.1', 'n/a')
    """
    if x is None or math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "infinity" if x > 0 else "-infinity"
    if x == 0:
        return "0"
    a = abs(x)
    if 1e6 <= a < 1e21:
        power = min(int(math.log10(a) // 3), len(_SI) - 1)
        if a / 1000**power >= 999.5 and power < len(_SI) - 1:  # 999,700 reads 1M, not 1,000k
            power += 1
        return f"{fmt_number(x / 1000**power)}{_SI[power]}"
    if 999.5 <= a < 1e6:  # what rounds to four digits or more
        return f"{round(x):,}"
    if 1e-4 <= a < 999.5:
        digits = 2 - math.floor(math.log10(a))
        if digits <= 0:
            return format(x, ".0f")
        # Reasons format tens of thousands of numbers per run: the specs are built once.
        spec = _FIXED[digits] if digits < len(_FIXED) else f".{digits}f"
        return format(x, spec).rstrip("0").rstrip(".")
    return format(x, ".3g")


def fmt_signed(x: float, *, resolution: float = 0.0) -> str:
    """Format a shift with its sign.

    A shift smaller in magnitude than ``resolution`` reads ``0``: digits three orders of
    magnitude below what the shift is read against say nothing (``-1.2e-07`` inside an interval
    of ``-0.77 to +0.8`` is an estimator's numerical tolerance, not a finding).

    Examples
    --------
    >>> fmt_signed(2.8), fmt_signed(-1234.0), fmt_signed(0.0), fmt_signed(float("nan"))
    ('+2.8', '-1,234', '0', 'n/a')
    >>> fmt_signed(-1.2e-07, resolution=0.0016), fmt_signed(-0.01, resolution=0.0016)
    ('0', '-0.01')
    """
    if abs(x) < resolution:
        x = 0.0
    text = fmt_number(x)
    return f"+{text}" if math.isfinite(x) and x > 0 and text != "0" else text


def fmt_change(x: float, *, ratio: bool, unit: str = "") -> str:
    """A change from a host's own past: a signed percentage where changes are ratios (``x`` is
    the ratio minus one), else the signed difference in the metric's unit.

    Examples
    --------
    >>> fmt_change(0.288, ratio=True), fmt_change(-12.0, ratio=False, unit="ms")
    ('+28.8%', '-12 ms')
    """
    if ratio:
        return f"{fmt_signed(100.0 * x)}%"
    return fmt_signed(x) + (f" {unit}" if unit else "")


def plural(n: int, noun: str) -> str:
    """``n`` and the noun, in the plural unless ``n`` is 1.

    Examples
    --------
    >>> plural(1, "value"), plural(3, "canary value")
    ('1 value', '3 canary values')
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def with_unit(x: float, metric: MetricConfig) -> str:
    """A value followed by the metric's unit (when it has one).

    Examples
    --------
    >>> with_unit(0.25, MetricConfig("latency", "q", unit="s"))
    '0.25 s'
    """
    unit = f" {metric.unit}" if metric.unit else ""
    return f"{fmt_number(x)}{unit}"


def nodata_sentence(text: str, label: str, metric: MetricConfig) -> str:
    """End a sentence about missing or unusable data by what it means for the metric.

    Examples
    --------
    >>> m = MetricConfig("errors", "q")
    >>> nodata_sentence("No canary data", "Nodata", m)
    'No canary data, so the metric was not judged.'
    """
    if label == Label.NODATA_FAIL:
        return f"{text}, and must_have_data is set, so the metric counts as failed."
    if metric.critical:
        return f"{text}; the metric is critical, so the canary cannot pass without it."
    return f"{text}, so the metric was not judged."


def threshold_sentence(metric: MetricConfig, which: str, value: float) -> str:
    """Why an absolute threshold labels a metric, whatever the comparison with the baseline.

    ``which`` is ``"max"`` or ``"min"``: the bound the canary statistic ``value`` crossed.

    Examples
    --------
    >>> m = MetricConfig("jobs", "q", unit="jobs/min", threshold=Threshold("mean", max=2.0))
    >>> threshold_sentence(m, "max", 3.5)
    'Canary mean 3.5 jobs/min is above the absolute maximum 2 jobs/min (threshold.max).'
    """
    t: Threshold | None = metric.threshold
    if t is None:
        raise ValueError(f"metric {metric.name!r} has no threshold")
    limit = t.max if which == "max" else t.min
    side = "above the absolute maximum" if which == "max" else "below the absolute minimum"
    crit = CRITICAL_FAILS if metric.critical else ""
    return (
        f"Canary {t.statistic} {with_unit(value, metric)} is {side} "
        f"{with_unit(float(limit or 0.0), metric)} (threshold.{which}){crit}."
    )


def minutes(seconds: int) -> str:
    """A duration as a reader says it: ``30 min``, ``90 s``, ``2 h``.

    Examples
    --------
    >>> minutes(1800), minutes(90), minutes(7200)
    ('30 min', '90 s', '2 h')
    """
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
