"""The exit codes of ``canarystats``, defined once: the command line returns them, errors carry
them, backtests record the code each deploy would have given.

| code | meaning |
|---|---|
| 0 | pass |
| 1 | fail (a ``marginal`` verdict counts as fail unless marginal is accepted) |
| 2 | bad command line, config or data; or a set-up that cannot work (keys, host, site) |
| 3 | no verdict: the backend is down or throttling past the deadline, or ``nodata`` |
| 4 | undecided: a sequential judgment (``--state``) needs the next look; call again |
| 130 | interrupted (Ctrl-C) |
"""

from __future__ import annotations

from enum import IntEnum

from canarystats.labels import Verdict

__all__ = ["ExitCode", "for_verdict"]


class ExitCode(IntEnum):
    """Exit codes of ``canarystats`` commands (``judge`` uses all of them)."""

    PASS = 0
    FAIL = 1
    USAGE = 2
    NO_VERDICT = 3
    UNDECIDED = 4
    INTERRUPTED = 130


#: what each code means, for help texts and docs
MEANINGS: dict[ExitCode, str] = {
    ExitCode.PASS: "pass",
    ExitCode.FAIL: "fail; marginal counts as fail unless --marginal-ok",
    ExitCode.USAGE: (
        "the command line, the config or the data is wrong, or the set-up cannot work "
        "(missing or refused Datadog keys, a wrong DATADOG_HOST or DD_SITE); never hidden by "
        "--soft-fail"
    ),
    ExitCode.NO_VERDICT: (
        "no verdict: the source (Datadog) is down or throttling past the deadline, or the "
        "judgment is nodata"
    ),
    ExitCode.UNDECIDED: (
        "undecided (with --state): no boundary reached yet; call again after the next look"
    ),
    ExitCode.INTERRUPTED: "interrupted",
}


def for_verdict(verdict: str, *, marginal_ok: bool = False) -> ExitCode:
    """The exit code ``canarystats judge`` gives a verdict: 0, 1 or 3.

    ``marginal`` counts as a failure unless ``marginal_ok``; ``nodata`` is "no verdict".

    Examples
    --------
    >>> [int(for_verdict(v)) for v in ("pass", "marginal", "fail", "nodata")]
    [0, 1, 1, 3]
    >>> int(for_verdict("marginal", marginal_ok=True))
    0
    """
    if verdict == Verdict.PASS or (verdict == Verdict.MARGINAL and marginal_ok):
        return ExitCode.PASS
    if verdict in (Verdict.MARGINAL, Verdict.FAIL):
        return ExitCode.FAIL
    return ExitCode.NO_VERDICT
