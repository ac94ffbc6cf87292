"""Advice on a valid config: settings that load but may not do what their author expects.

A config can be valid and still judge less than it seems to: a critical metric that is muted
neither gates nor counts, a config whose every metric is muted can never give a verdict, and a
setting written without its unit (``warmup: 5`` is five seconds, ``relative: 8`` is 800 %)
judges something else than meant.  ``canarystats validate`` prints these as warnings, and so do
the commands that judge (on standard error, before they start); the judge itself follows the
config.
"""

from __future__ import annotations

from canarystats.config.model import CanaryConfig

__all__ = ["config_warnings", "muting_warnings", "unit_warnings"]

#: durations that mean minutes, below which a value was most likely written without its unit
MINUTE = 60


def config_warnings(config: CanaryConfig) -> list[str]:
    """Every warning about a valid config: :func:`muting_warnings`, then :func:`unit_warnings`.

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> config_warnings(load_config({"name": "c", "metrics": [{"name": "m", "query": "q"}]}))
    []
    """
    return muting_warnings(config) + unit_warnings(config)


def muting_warnings(config: CanaryConfig) -> list[str]:
    """One line per muted metric that will not do what ``critical`` or the config suggests.

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> cfg = load_config({"name": "c", "metrics": [
    ...     {"name": "errors", "query": "q", "critical": True, "muted": True},
    ...     {"name": "cpu", "query": "q"}]})
    >>> muting_warnings(cfg)  # doctest: +NORMALIZE_WHITESPACE
    ["warning: metric 'errors' is critical and muted: muted metrics are reported but never
    judged, so it will not stop a deploy; remove muted: true, or critical: true"]
    """
    out = [
        f"warning: metric {m.name!r} is critical and muted: muted metrics are reported but "
        "never judged, so it will not stop a deploy; remove muted: true, or critical: true"
        for m in config.metrics
        if m.critical and m.muted
    ]
    if config.metrics and all(m.muted for m in config.metrics):
        out.append(
            f"warning: every metric of {config.name!r} is muted: every run will have no "
            "verdict (exit 3); unmute at least one metric"
        )
    return out


def unit_warnings(config: CanaryConfig) -> list[str]:
    """One line per setting whose size says its unit was left out: a warm-up or pre-deploy
    window under a minute (a duration without a unit is seconds), a relative minimum effect
    above 1 (a share: 0.08 is 8 %).

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> cfg = load_config({"name": "c", "judge": {"warmup": 5}, "metrics": [
    ...     {"name": "lat", "query": "q", "min_effect": {"relative": 8}}]})
    >>> for line in unit_warnings(cfg):
    ...     print(line)
    warning: judge.warmup is 5 s; a duration without a unit is seconds: write 5m for minutes
    warning: metric 'lat' min_effect.relative is 8 (800%); it is a share: write 0.08 for 8%
    """
    durations = [
        ("judge.warmup", config.judge.warmup),
        ("judge.pre_window", config.judge.pre_window),
    ]
    durations += [(f"metric {m.name!r} warmup", m.warmup or 0) for m in config.metrics]
    out = [
        f"warning: {what} is {seconds} s; a duration without a unit is seconds: write "
        f"{seconds}m for minutes"
        for what, seconds in durations
        if 0 < seconds < MINUTE
    ]
    out += [
        f"warning: metric {m.name!r} min_effect.relative is {m.min_effect.relative:g} "
        f"({m.min_effect.relative * 100:g}%); it is a share: write "
        f"{m.min_effect.relative / 100:g} for {m.min_effect.relative:g}%"
        for m in config.metrics
        if m.min_effect.relative > 1
    ]
    return out
