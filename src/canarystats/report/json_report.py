"""The ``json`` report: :meth:`canarystats.results.Judgment.to_dict`, valid against
``schemas/judgment.schema.json``; NaN and infinities become null.  A sequential judgment adds
``sequential`` (:meth:`canarystats.sequential.SequentialJudgment.as_dict`); a one-shot judgment
with a sequential preview adds ``sequential_preview``: its sentence and the same dictionary.
"""

from __future__ import annotations

import json

from canarystats.report.context import ReportContext
from canarystats.report.sequential_text import would_have_line

__all__ = ["render_json"]


def render_json(ctx: ReportContext) -> str:
    """The JSON report of ``ctx.judgment``, indented, ending in a newline.

    Examples
    --------
    >>> import pandas as pd
    >>> from canarystats import judge, load_config
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "q"}]})
    >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    >>> json.loads(render_json(ReportContext(judge(cfg, frame))))["verdict"]
    'nodata'
    """
    payload = ctx.judgment.to_dict()
    if ctx.sequential is not None:
        payload["sequential"] = ctx.sequential.as_dict()
    if ctx.sequential_preview is not None:
        payload["sequential_preview"] = {
            "sentence": would_have_line(ctx.sequential_preview),
            "decision": ctx.sequential_preview.as_dict(),
        }
    return json.dumps(payload, indent=2, allow_nan=False) + "\n"
