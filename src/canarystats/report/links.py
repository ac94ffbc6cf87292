"""Links to Datadog's Metrics Explorer for a metric, a cohort and the judged window.

Datadog does not document the explorer's URL parameters; these are the ``exp_*`` parameters
seen in public use, with ``query=`` for queries that use functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode

from canarystats.errors import ConfigError
from canarystats.frame import Window
from canarystats.sources.datadog_web import app_host
from canarystats.sources.query import render_query

__all__ = ["datadog_links"]

_SIMPLE_QUERY = re.compile(
    r"^\s*(?P<agg>avg|sum|min|max):(?P<metric>[A-Za-z0-9_.\-]+)\s*\{(?P<scope>[^{}]*)\}"
    r"\s*(?:by\s*\{(?P<by>[^{}]*)\})?\s*(?P<rest>.*)$"
)


def datadog_links(
    query: str,
    scopes: Mapping[str, str],
    window: Window,
    *,
    site: str | None = None,
) -> dict[str, str]:
    """Links to Datadog's Metrics Explorer showing the metric for each cohort over the window.

    The query is rendered with each cohort's scope (as :func:`render_query` sends it), and
    the window is given in epoch milliseconds (``from_ts``/``to_ts``, ``live=false``).  A
    query of the simple form ``agg:metric{scope} by {tags}`` becomes the explorer's
    ``exp_*`` parameters; any other query is passed whole as ``query``.

    Parameters
    ----------
    query : str
        The metric's query from the config, with ``$scope``.
    scopes : Mapping
        Cohort -> Datadog tag filter.
    window : (datetime, datetime)
        The judged window.
    site : str, optional
        Datadog site; default ``$DD_SITE``, else ``datadoghq.com``.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> w = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 10, tzinfo=UTC))
    >>> datadog_links("avg:cpu{$scope}", {"canary": "role:canary"}, w)["canary"][:60]
    'https://app.datadoghq.com/metric/explorer?from_ts=1767225600'
    """

    host = app_host(site)
    start_ms = int(window[0].timestamp() * 1000)
    end_ms = int(window[1].timestamp() * 1000)
    links = {}
    for cohort, scope in scopes.items():
        try:
            rendered = render_query(query, scope)
        except ConfigError:
            continue
        params: dict[str, str] = {
            "from_ts": str(start_ms),
            "to_ts": str(end_ms),
            "live": "false",
        }
        simple = _SIMPLE_QUERY.match(rendered)
        if simple and not simple["rest"].strip():
            params.update(
                exp_metric=simple["metric"],
                exp_scope=simple["scope"],
                exp_agg=simple["agg"],
                exp_row_type="metric",
            )
            if simple["by"]:
                params["exp_group"] = simple["by"]
        else:
            params["query"] = rendered
        links[cohort] = f"https://{host}/metric/explorer?{urlencode(params)}"
    return links
