"""Where Datadog's web app is for a site, and the pages canarystats links to there.

The API lives at ``api.<site>``; people read ``app.<site>`` (or the site itself for the
``us3``/``us5``/``ap1`` style sites).  Links in reports and in judgments point there.
"""

from __future__ import annotations

import os

__all__ = ["app_host", "monitor_url"]


def app_host(site: str | None = None) -> str:
    """The web host of a Datadog site (default ``$DD_SITE``, else ``datadoghq.com``).

    Examples
    --------
    >>> app_host("datadoghq.eu"), app_host("us5.datadoghq.com"), app_host("https://app.datadoghq.com")
    ('app.datadoghq.eu', 'us5.datadoghq.com', 'app.datadoghq.com')
    """
    site = (site or os.environ.get("DD_SITE") or "datadoghq.com").strip().lower()
    site = site.removeprefix("https://").removeprefix("http://").strip("/")
    if site.startswith(("app.", "api.")):
        site = site[4:]
    # us3/us5/ap1 sites are their own web host; the others are served from app.<site>.
    return site if site.count(".") >= 2 else f"app.{site}"


def monitor_url(monitor_id: int, site: str | None = None) -> str:
    """The page of a monitor in Datadog.

    Examples
    --------
    >>> monitor_url(1001, "datadoghq.com")
    'https://app.datadoghq.com/monitors/1001'
    """
    return f"https://{app_host(site)}/monitors/{int(monitor_id)}"
