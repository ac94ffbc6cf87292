"""The ``json`` report: :meth:`canarystats.results.Judgment.to_dict`, valid against
``schemas/judgment.schema.json``; NaN and infinities become null.
"""

from __future__ import annotations

import json

from canarystats.report.context import ReportContext

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
    return json.dumps(ctx.judgment.to_dict(), indent=2, allow_nan=False) + "\n"
