"""The words of a judgment: metric labels, verdicts, which labels fail, their order and colours.

Labels keep Kayenta's strings (``Pass``, ``High``, ...) so configs and reports compare with
Kayenta's; verdicts are canarystats' own (``pass``, ``marginal``, ``fail``, ``nodata``).  Both
are string enums: they compare equal to, and serialise as, their plain strings, so JSON reports
and history files hold the same text as before they were enums.

Every module that asks "did this metric fail?", "what colour is a High?" or "which metrics come
first in a report?" asks here, so the answer is the same in reports, plots, scores and backtests.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "COUNTED",
    "FAILING",
    "LABEL_COLOURS",
    "UNJUDGED",
    "VERDICT_COLOURS",
    "Label",
    "Verdict",
    "outcome",
    "report_rank",
]


class _Words(StrEnum):
    # A label reads as its string everywhere: in f-strings, JSON and reprs (a notebook shows
    # 'High', as it did when labels were plain strings).
    def __repr__(self) -> str:
        return repr(self.value)


class Label(_Words):
    """A metric's classification (Kayenta's labels and meanings).

    Examples
    --------
    >>> Label.HIGH == "High", f"{Label.NODATA_FAIL}", Label.PASS
    (True, 'NodataFailMetric', 'Pass')
    """

    PASS = "Pass"
    HIGH = "High"
    LOW = "Low"
    NODATA = "Nodata"
    NODATA_FAIL = "NodataFailMetric"
    ERROR = "Error"


class Verdict(_Words):
    """The outcome of a whole canary run.

    ``nodata`` is "no verdict": the run could not be judged (too little data, a critical metric
    without data), which a pipeline must not read as a pass.

    Examples
    --------
    >>> Verdict("fail") is Verdict.FAIL, Verdict.PASS.upper()
    (True, 'PASS')
    """

    PASS = "pass"
    MARGINAL = "marginal"
    FAIL = "fail"
    NODATA = "nodata"


#: labels of a metric that failed: they count against the score, and fail a critical metric
FAILING: frozenset[Label] = frozenset({Label.HIGH, Label.LOW, Label.NODATA_FAIL})
#: labels of a metric that was not judged: they do not count in the score, and leave a
#: critical metric without a verdict
UNJUDGED: frozenset[Label] = frozenset({Label.NODATA, Label.ERROR})
#: labels that count in a group's score (Kayenta's WeightedSumScorer): passed or failed
COUNTED: frozenset[Label] = FAILING | {Label.PASS}


def outcome(label: str) -> str:
    """``"fail"``, ``"unjudged"`` or ``"pass"``: what a label means for the deploy.

    Examples
    --------
    >>> outcome("High"), outcome("Error"), outcome("Pass")
    ('fail', 'unjudged', 'pass')
    """
    if label in FAILING:
        return "fail"
    return "pass" if label == Label.PASS else "unjudged"


_RANK = {"fail": 0, "unjudged": 1, "pass": 2}


def report_rank(label: str) -> int:
    """Where a label comes in a report: failing first, then unjudged, then passing.

    Examples
    --------
    >>> sorted(["Pass", "Nodata", "Low"], key=report_rank)
    ['Low', 'Nodata', 'Pass']
    """
    return _RANK[outcome(label)]


#: a colour per outcome (GitHub's palette: readable on white, distinct for red-green blindness
#: by lightness as well as hue)
OUTCOME_COLOURS = {"fail": "#cf222e", "unjudged": "#9a6700", "pass": "#1a7f37"}
#: a colour per label, for plots and HTML
LABEL_COLOURS: dict[Label, str] = {label: OUTCOME_COLOURS[outcome(label)] for label in Label}
#: a colour per verdict
VERDICT_COLOURS: dict[Verdict, str] = {
    Verdict.PASS: OUTCOME_COLOURS["pass"],
    Verdict.MARGINAL: OUTCOME_COLOURS["unjudged"],
    Verdict.FAIL: OUTCOME_COLOURS["fail"],
    Verdict.NODATA: OUTCOME_COLOURS["unjudged"],
}
