"""The ``json`` report: :meth:`canarystats.results.Judgment.to_dict`, valid against
``schemas/judgment.schema.json``; NaN and infinities become null.  A sequential judgment adds
``sequential`` (:meth:`canarystats.sequential.SequentialJudgment.as_dict`); a one-shot judgment
with a sequential preview adds ``sequential_preview``: its sentence and the same dictionary.

Beside the judgment it records the run as the report saw it, so a dashboard or a later audit
needs nothing else: ``window`` (the judged window, the canary start, the pre-deploy window and
the warm-up), ``scopes`` (the cohorts' tag filters), ``links`` (Datadog per metric and cohort),
``tool`` (the canarystats version that judged), ``exit_code`` (what the command exited with)
and, where ``--soft-fail`` hid a fail or a no verdict, ``would_exit`` (the code without it).
Each is left out where it is not known, as in library use without a config or a window.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from canarystats.report.context import ReportContext, iso, judged_past
from canarystats.report.sequential_text import would_have_line

__all__ = ["render_json", "run_fields"]


def render_json(ctx: ReportContext) -> str:
    """The JSON report of ``ctx.judgment``, indented, ending in a newline.

    Examples
    --------
    >>> import pandas as pd
    >>> from canarystats import judge, load_config
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "q"}]})
    >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    >>> doc = json.loads(render_json(ReportContext(judge(cfg, frame), exit_code=3)))
    >>> doc["verdict"], doc["exit_code"], doc["tool"]["name"]
    ('nodata', 3, 'canarystats')
    """
    payload = ctx.judgment.to_dict()
    payload.update(run_fields(ctx))
    if ctx.sequential is not None:
        payload["sequential"] = ctx.sequential.as_dict()
    if ctx.sequential_preview is not None:
        payload["sequential_preview"] = {
            "sentence": would_have_line(ctx.sequential_preview),
            "decision": ctx.sequential_preview.as_dict(),
        }
    return json.dumps(payload, indent=2, allow_nan=False) + "\n"


def run_fields(ctx: ReportContext) -> dict[str, Any]:
    """What the report knows of the run beside the judgment: window, scopes, links, tool, exit.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from canarystats import judge, load_config
    >>> import pandas as pd
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "avg:m{$scope}"}]})
    >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    >>> w = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 10, tzinfo=UTC))
    >>> fields = run_fields(ReportContext(judge(cfg, frame), config=cfg, window=w))
    >>> fields["window"]["start"], sorted(fields["scopes"]), sorted(fields["links"]["m"])
    ('2026-01-01T00:00:00Z', ['baseline', 'canary'], ['baseline', 'canary'])
    """
    from canarystats import __version__

    out: dict[str, Any] = {"tool": {"name": "canarystats", "version": __version__}}
    if ctx.window is not None:
        out["window"] = _window(ctx)
    scopes = ctx.cohort_scopes()
    if scopes:
        out["scopes"] = scopes
    links = {m.name: ctx.links(m) for m in ctx.judgment.metrics}
    links = {name: cohorts for name, cohorts in links.items() if cohorts}
    if links:
        out["links"] = links
    if ctx.exit_code is not None:
        out["exit_code"] = int(ctx.exit_code)
        if ctx.would_exit is not None and ctx.would_exit != ctx.exit_code:
            out["would_exit"] = int(ctx.would_exit)
    return out


def _window(ctx: ReportContext) -> dict[str, Any]:
    """The judged window and, from the canary start on, the spans the judge treated apart."""
    assert ctx.window is not None
    j = ctx.judgment
    window: dict[str, Any] = {
        "start": iso(ctx.window[0]),
        "end": iso(ctx.window[1]),
        "canary_start": j.canary_start,
        "pre_window": None,
        "warmup": None,
    }
    if j.canary_start is not None:
        start = datetime.fromisoformat(j.canary_start)
        if j.pre_window:
            before = start - timedelta(seconds=judged_past(j))
            window["pre_window"] = {"start": iso(before), "end": iso(start)}
        if j.warmup:
            after = start + timedelta(seconds=j.warmup)
            window["warmup"] = {"start": iso(start), "end": iso(after)}
    return window
