"""The judge settings of a config: the method, its test parameters and the score thresholds.

The methods a config may name are those of :mod:`canarystats.methods.registry`, read when a
config is validated, so a method registered at run time is accepted like a built-in one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canarystats.config.checks import (
    Context,
    as_choice,
    as_mapping,
    as_number,
    check_keys,
    format_number,
    join_key,
)
from canarystats.methods.registry import DEFAULT_METHOD, method_names

#: multiplicity adjustments across a run's gating metrics (canarystats.stats.multiplicity)
MULTIPLICITY = ("holm", "bonferroni", "bh", "none")

_JUDGE_KEYS = (
    "method",
    "confidence",
    "tolerance",
    "pass_score",
    "marginal_score",
    "multiplicity",
    "alpha",
)


@dataclass(frozen=True)
class JudgeSettings:
    """How metrics are tested and how the score becomes a verdict.

    ``confidence`` is the two-sided confidence level of the Mann-Whitney shift interval and
    ``tolerance`` the fraction of the shift estimate the interval must clear (Kayenta's
    hard-coded 0.98 and 0.25 are the defaults; they apply to ``method: kayenta``).
    ``pass_score`` and ``marginal_score`` are the score thresholds (percent) of the ``pass`` and
    ``marginal`` verdicts.  ``multiplicity`` and ``alpha`` are how the ``hosts`` method decides:
    a metric fails when its p-value, adjusted over the run's gating metrics, is below ``alpha``.
    """

    method: str = DEFAULT_METHOD
    confidence: float = 0.98
    tolerance: float = 0.25
    pass_score: float = 95.0
    marginal_score: float = 75.0
    multiplicity: str = "holm"
    alpha: float = 0.05


def validate_judge(ctx: Context, raw: Any, path: str) -> JudgeSettings:
    """Validate the ``judge`` section of a config (``path`` empty: a mapping already checked).

    Parameters
    ----------
    ctx : Context
        Names the file in messages.
    raw : mapping
        The section's keys; a missing key takes its :class:`JudgeSettings` default.
    path : str
        The section's key path in messages (``"judge"``).

    Returns
    -------
    JudgeSettings

    Raises
    ------
    canarystats.errors.ConfigError
        One line naming the key and what is allowed.

    Examples
    --------
    >>> validate_judge(Context("web.yaml"), {"alpha": 0.01}, "judge").alpha
    0.01
    """
    data: Mapping[str, Any] = as_mapping(ctx, raw, path) if path else raw
    check_keys(ctx, data, path, _JUDGE_KEYS)
    d = JudgeSettings()
    method = as_choice(ctx, data.get("method", d.method), join_key(path, "method"), method_names())
    confidence = as_number(
        ctx,
        data.get("confidence", d.confidence),
        join_key(path, "confidence"),
        lo=0.0,
        hi=1.0,
        lo_open=True,
        hi_open=True,
    )
    tolerance = as_number(
        ctx, data.get("tolerance", d.tolerance), join_key(path, "tolerance"), lo=0.0
    )
    pass_score = as_number(
        ctx, data.get("pass_score", d.pass_score), join_key(path, "pass_score"), lo=0.0, hi=100.0
    )
    marginal_score = as_number(
        ctx,
        data.get("marginal_score", d.marginal_score),
        join_key(path, "marginal_score"),
        lo=0.0,
        hi=100.0,
    )
    if marginal_score > pass_score:
        raise ctx.error(
            join_key(path, "marginal_score"),
            f"{format_number(marginal_score)} is above pass_score {format_number(pass_score)}; "
            "marginal_score must be <= pass_score",
        )
    multiplicity = as_choice(
        ctx,
        data.get("multiplicity", d.multiplicity),
        join_key(path, "multiplicity"),
        MULTIPLICITY,
    )
    alpha = as_number(
        ctx,
        data.get("alpha", d.alpha),
        join_key(path, "alpha"),
        lo=0.0,
        hi=1.0,
        lo_open=True,
        hi_open=True,
    )
    return JudgeSettings(
        method, confidence, tolerance, pass_score, marginal_score, multiplicity, alpha
    )
