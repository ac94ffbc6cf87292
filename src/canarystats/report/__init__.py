"""Rendering a :class:`~canarystats.results.Judgment` for people and for CI servers.

One module per format: ``text`` (a terminal or CI log), ``markdown`` (pull-request comments and
job summaries), ``json`` (:meth:`Judgment.to_dict`, valid against the JSON schema), ``junit``
(one test case per metric) and ``html`` (one self-contained file with a plot per metric).  A new
format is a new module and one line in :data:`FORMATS`.  Nothing here computes a statistic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from canarystats.errors import ConfigError
from canarystats.frame import Window, frame_window
from canarystats.report.context import ReportContext
from canarystats.report.html import render_html
from canarystats.report.json_report import render_json
from canarystats.report.junit import render_junit
from canarystats.report.links import datadog_links
from canarystats.report.markdown import render_markdown
from canarystats.report.text import render_text

if TYPE_CHECKING:
    import pandas as pd

    from canarystats.config import CanaryConfig
    from canarystats.results import Judgment
    from canarystats.sequential import SequentialJudgment

__all__ = ["FORMATS", "ReportContext", "datadog_links", "render"]

#: report formats by name, in the order ``--format`` lists them
FORMATS: dict[str, Callable[[ReportContext], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
    "junit": render_junit,
    "html": render_html,
}


def render(
    judgment: Judgment,
    format: str = "text",
    frame: pd.DataFrame | None = None,
    config: CanaryConfig | None = None,
    window: Window | None = None,
    scopes: Mapping[str, str] | None = None,
    *,
    color: bool = False,
    site: str | None = None,
    sequential: SequentialJudgment | None = None,
    sequential_preview: SequentialJudgment | None = None,
    exit_code: int | None = None,
    would_exit: int | None = None,
) -> str:
    """Render a judgment in one of :data:`FORMATS`.

    Parameters
    ----------
    judgment : Judgment
        What :func:`canarystats.judge` returned.
    format : str
        ``text``, ``markdown``, ``json``, ``junit`` or ``html``.
    frame : pandas.DataFrame, optional
        The tidy frame judged; required by ``html`` (the plots), and gives the window when
        ``window`` is not given.
    config : CanaryConfig, optional
        Gives each metric's query (for the Datadog links) and the default scopes.
    window : (datetime, datetime), optional
        The judged window (UTC), shown and used in the links.
    scopes : Mapping, optional
        Cohort -> Datadog tag filter actually used (default: the config's).
    color : bool
        ANSI colours in ``text`` (the CLI sets it only on a terminal).
    site : str, optional
        Datadog site for the links (default ``$DD_SITE``, else ``datadoghq.com``).
    sequential : SequentialJudgment, optional
        Where a sequential plan decided (or would have): the look, the reason and each
        metric's path over the looks (:func:`canarystats.sequential.judge_sequential`).
    sequential_preview : SequentialJudgment, optional
        What the config's sequential plan would have decided on the same data, beside a
        one-shot judgment: one line in ``text`` and ``markdown``, ``sequential_preview`` in
        ``json``.
    exit_code : int, optional
        What the command exits with for this judgment (``--soft-fail`` applied), recorded as
        ``exit_code`` in ``json``; a library caller that gates on the verdict may pass its own.
    would_exit : int, optional
        The verdict's exit code before ``--soft-fail``, recorded as ``would_exit`` in ``json``
        where it differs from ``exit_code`` (a soft-failed run still says it would have failed).

    Returns
    -------
    str
        The report, ending in a newline.

    Raises
    ------
    canarystats.errors.ConfigError
        For an unknown format, or ``html`` without matplotlib, Jinja2 or the frame.

    Examples
    --------
    >>> import pandas as pd
    >>> from canarystats import judge, load_config
    >>> cfg = load_config({"name": "w", "metrics": [{"name": "m", "query": "avg:m{$scope}"}]})
    >>> frame = pd.DataFrame(columns=["metric", "cohort", "host", "timestamp", "value"])
    >>> render(judge(cfg, frame), "text").splitlines()[0]
    'NODATA  canary w: score 0/100 (pass >= 95, marginal >= 75)'
    """
    renderer = FORMATS.get(format)
    if renderer is None:
        raise ConfigError(f"--format {format!r} is unknown; use one of {', '.join(FORMATS)}")
    if window is None and frame is not None:
        window = frame_window(frame, config.step if config is not None else 60)
    ctx = ReportContext(
        judgment,
        frame,
        config,
        window,
        scopes,
        color=color,
        site=site,
        sequential=sequential,
        sequential_preview=sequential_preview,
        exit_code=exit_code,
        would_exit=would_exit,
    )
    return renderer(ctx)
