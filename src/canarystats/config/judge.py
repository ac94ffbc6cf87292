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
    as_bool,
    as_choice,
    as_duration,
    as_mapping,
    as_number,
    check_keys,
    format_number,
    join_key,
)
from canarystats.methods.registry import DEFAULT_METHOD, method_names

#: multiplicity adjustments across a run's gating metrics (canarystats.stats.multiplicity)
MULTIPLICITY = ("hommel", "holm", "bonferroni", "bh", "none")
#: the host test's components, in the order of their weights
COMPONENTS = ("location", "trend", "jitter")

#: the keys of the ``judge`` section
JUDGE_KEYS = (
    "method",
    "confidence",
    "tolerance",
    "pass_score",
    "marginal_score",
    "multiplicity",
    "alpha",
    "pre_window",
    "warmup",
    "robust",
    "weights",
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

    Where the canary start is known (``judge(..., start=T0)``, ``--start``): ``pre_window``
    (seconds) is how much of the time before it is fetched and used as each host's own past,
    and ``warmup`` (seconds) how much after it is left out of the tests while restarted hosts
    warm up (metrics may set their own).  ``robust`` makes the hosts method summarise each host
    by its median, its robust jitter and its trend late in the window; ``weights`` are the
    weighted-Bonferroni weights of location, trend and jitter.
    """

    method: str = DEFAULT_METHOD
    confidence: float = 0.98
    tolerance: float = 0.25
    pass_score: float = 95.0
    marginal_score: float = 75.0
    multiplicity: str = "hommel"
    alpha: float = 0.05
    pre_window: int = 1800
    warmup: int = 300
    robust: bool = True
    weights: tuple[float, float, float] = (0.6, 0.2, 0.2)


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
    check_keys(ctx, data, path, JUDGE_KEYS)
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
        method,
        confidence,
        tolerance,
        pass_score,
        marginal_score,
        multiplicity,
        alpha,
        pre_window=as_duration(ctx, data.get("pre_window", "30m"), join_key(path, "pre_window")),
        warmup=as_duration(ctx, data.get("warmup", "5m"), join_key(path, "warmup")),
        robust=as_bool(ctx, data.get("robust", d.robust), join_key(path, "robust")),
        weights=_weights(ctx, data.get("weights"), join_key(path, "weights"), d.weights),
    )


def _weights(
    ctx: Context, raw: Any, path: str, default: tuple[float, float, float]
) -> tuple[float, float, float]:
    """``{location: 0.6, trend: 0.2, jitter: 0.2}``: weights >= 0, missing ones 0, not all 0."""
    if raw is None:
        return default
    if isinstance(raw, (tuple, list)) and len(raw) == 3:
        raw = dict(zip(COMPONENTS, raw, strict=True))
    data = as_mapping(ctx, raw, path)
    check_keys(ctx, data, path, COMPONENTS)
    w = tuple(as_number(ctx, data.get(k, 0.0), join_key(path, k), lo=0.0) for k in COMPONENTS)
    if sum(w) <= 0:
        raise ctx.error(path, "all weights are 0; give location, trend or jitter a weight")
    return w[0], w[1], w[2]
