"""Advice on a valid config: settings that load but may not do what their author expects.

A config can be valid and still judge less than it seems to: a critical metric that is muted
neither gates nor counts, and a config whose every metric is muted can never give a verdict.
``canarystats validate`` prints these as warnings; the judge itself follows the config.
"""

from __future__ import annotations

from canarystats.config.model import CanaryConfig

__all__ = ["muting_warnings"]


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
