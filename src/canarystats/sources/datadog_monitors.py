"""Reading monitors from Datadog: their definitions (for ``init``) and their group states (for
the monitor gate), with the official client's monitor endpoints.

- ``GET /api/v1/monitor/search?query=...`` finds monitors by Datadog's monitor search
  (``tag:service:web``, ``type:metric``, a name), a page at a time;
- ``GET /api/v1/monitor/{id}?group_states=all`` gives one monitor with the state of each of its
  groups: status, and the latest ``last_triggered_ts`` and ``last_resolved_ts`` (epoch seconds).

The gate reads at most :data:`~canarystats.config.monitor_settings.MAX_MONITORS` monitors, one
request each (and one search for a query), through the metric source's host, keys, retries,
deadline and key scrubbing (:class:`~canarystats.sources.datadog.DatadogSource`): every failure
is one :class:`~canarystats.errors.SourceError` line, a set-up mistake a
:class:`~canarystats.errors.SetupError` (exit 2).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pandas as pd
from datadog_api_client import ApiClient
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v1.api.monitors_api import MonitorsApi

from canarystats.config.monitor_settings import MAX_MONITORS, MonitorSettings
from canarystats.errors import SetupError, SourceError
from canarystats.frame import Window
from canarystats.monitors.states import STATUSES, monitor_frame
from canarystats.sources.base import check_window
from canarystats.sources.datadog import DatadogSource
from canarystats.sources.datadog_response import errors_text
from canarystats.sources.datadog_retry import Budget, Rejected, call_with_retries
from canarystats.sources.datadog_web import monitor_url

__all__ = ["SEARCH_PATH", "DatadogMonitors", "monitor_states_rows"]

logger = logging.getLogger("canarystats.sources")

SEARCH_PATH = "/api/v1/monitor/search"
#: monitors a search page asks for (Datadog's page size is at most 100)
PAGE_SIZE = 100
#: the most search pages ``init`` reads: a thousand monitors is an organisation, not a service
MAX_PAGES = 10
_PERMISSION = "the application key with the monitors_read permission"


class _MonitorNotFound(Exception):
    """Datadog answered 404 for a monitor id: no such monitor in this organisation."""


class DatadogMonitors:
    """Read monitors and their group states from Datadog.

    Parameters
    ----------
    source : DatadogSource, optional
        Whose host, keys, timeouts, retries and deadline to use (default: one from the
        environment, ``DD_API_KEY``, ``DD_APP_KEY``, ``DD_SITE``, ``DATADOG_HOST``).
    site : str, optional
        The Datadog site of the monitors' links (default ``$DD_SITE``, else ``datadoghq.com``).

    Examples
    --------
    >>> monitors = DatadogMonitors(DatadogSource(host="http://127.0.0.1:18080", api_key="k",
    ...                                          app_key="a"))
    >>> monitors.requests
    0
    """

    def __init__(self, source: DatadogSource | None = None, *, site: str | None = None) -> None:
        self.source = source if source is not None else DatadogSource()
        self.site = site
        #: HTTP requests made so far, retries included
        self.requests = 0

    def search(self, query: str, *, limit: int = PAGE_SIZE * MAX_PAGES) -> list[dict[str, Any]]:
        """The monitors Datadog's monitor search finds for ``query``, at most ``limit``.

        Each is the search result as Datadog sends it (``id``, ``name``, ``type``, ``query``,
        ``tags``, ``status``, ...).

        Examples
        --------
        >>> DatadogMonitors(source).search("tag:service:web")  # doctest: +SKIP
        [{'id': 1001, 'name': 'Web 5xx errors are high', 'type': 'query alert', ...}]
        """
        budget = self.source.budget()
        found: list[dict[str, Any]] = []
        with ApiClient(self.source.configuration()) as client:
            api = MonitorsApi(client)
            for page in range(MAX_PAGES):
                size = min(PAGE_SIZE, limit - len(found))
                if size <= 0:
                    break
                body = self._send(
                    client,
                    functools.partial(api.search_monitors, query=query, page=page, per_page=size),
                    f"GET {SEARCH_PATH} ({query!r}, page {page})",
                    budget,
                )
                monitors = body.get("monitors")
                if not isinstance(monitors, list):
                    raise SourceError(
                        f"Datadog's answer to the monitor search {query!r} has no monitors list"
                    )
                found += [dict(m) for m in monitors if isinstance(m, Mapping)]
                pages = (body.get("metadata") or {}).get("page_count")
                if len(monitors) < size or (isinstance(pages, int) and page + 1 >= pages):
                    break
        return found

    def states(self, settings: MonitorSettings, window: Window) -> pd.DataFrame:
        """The group states of the monitors ``settings`` names, as the monitor-states table.

        A search ``query`` matching more than
        :data:`~canarystats.config.monitor_settings.MAX_MONITORS` monitors, or an id that is not
        a monitor, is a :class:`SetupError` naming the config key.

        Examples
        --------
        >>> DatadogMonitors(source).states(MonitorSettings(ids=(1001,)), window)  # doctest: +SKIP
        """
        start, end = check_window(*window)
        ids = list(settings.ids)
        if settings.query is not None:
            found = self.search(settings.query, limit=MAX_MONITORS + 1)
            if len(found) > MAX_MONITORS:
                raise SetupError(
                    f"monitors.query {settings.query!r} matches more than {MAX_MONITORS} "
                    "monitors, the most read per judgment: narrow it (add type:metric or a "
                    "tag) or list the ids that page for this service"
                )
            ids = [int(m["id"]) for m in found if isinstance(m.get("id"), int)]
        budget = self.source.budget()
        rows: list[dict[str, Any]] = []
        with ApiClient(self.source.configuration()) as client:
            api = MonitorsApi(client)
            for monitor_id in ids:
                monitor = self._monitor(client, api, monitor_id, budget)
                rows += monitor_states_rows(monitor, site=self.site)
        logger.debug("read the states of %d monitors", len(ids))
        return monitor_frame(rows, window=(start, end), origin="Datadog's monitor states")

    def _monitor(
        self, client: ApiClient, api: MonitorsApi, monitor_id: int, budget: Budget
    ) -> dict[str, Any]:
        def call() -> Any:
            try:
                return api.get_monitor(monitor_id, group_states="all")
            except ApiException as exc:
                # A missing monitor is Datadog's JSON 404; any other 404 means the wrong host.
                if exc.status == 404 and "monitor" in errors_text(exc.body).lower():
                    raise _MonitorNotFound from None
                raise

        try:
            return self._send(client, call, f"GET /api/v1/monitor/{monitor_id}", budget)
        except _MonitorNotFound:
            raise SetupError(
                f"monitor {monitor_id} is not a monitor of this Datadog organisation (HTTP 404): "
                "fix monitors.ids in the config"
            ) from None

    def _send(
        self, client: ApiClient, call: Callable[[], Any], what: str, budget: Budget
    ) -> dict[str, Any]:
        def counted(timeouts: tuple[float, float]) -> Any:
            self.requests += 1
            self.source.requests += 1
            logger.debug("%s: request %d to %s", what, self.requests, self.source.host)
            # The attempt's timeouts, cut to what the deadline leaves (read at each call).
            client.configuration.request_timeout = timeouts
            return call()

        policy = replace(self.source.retry_policy(), permission=_PERMISSION)
        try:
            return call_with_retries(counted, what, budget, policy, _object)
        except Rejected as rejected:
            # A 400 here is a search Datadog cannot parse: the user's to fix.
            raise SetupError(
                f"Datadog rejected {what} (HTTP 400): {rejected}; fix the monitor search"
            ) from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError("the answer is not a JSON object")
    return body


def monitor_states_rows(
    monitor: Mapping[str, Any], *, site: str | None = None
) -> list[dict[str, Any]]:
    """The rows of the monitor-states table for one monitor as ``GET /api/v1/monitor/{id}``
    answers it with ``group_states=all``.

    A monitor without group states (a simple monitor) gives one row, group ``*``, with its
    overall state.

    Examples
    --------
    >>> rows = monitor_states_rows({"id": 7, "name": "5xx", "overall_state": "Alert",
    ...     "state": {"groups": {"host:web-1": {"status": "Alert", "last_triggered_ts": 60}}}},
    ...     site="datadoghq.com")
    >>> rows[0]["group"], rows[0]["status"], rows[0]["triggered"], rows[0]["url"]
    ('host:web-1', 'Alert', 60, 'https://app.datadoghq.com/monitors/7')
    """
    monitor_id = monitor.get("id")
    if isinstance(monitor_id, bool) or not isinstance(monitor_id, int):
        raise SourceError("Datadog's answer for a monitor has no id")
    name = str(monitor.get("name") or f"monitor {monitor_id}")
    url = monitor_url(monitor_id, site)
    state = monitor.get("state")
    groups = state.get("groups") if isinstance(state, Mapping) else None
    if not isinstance(groups, Mapping) or not groups:
        groups = {"*": {"status": monitor.get("overall_state") or "Unknown"}}
    rows = []
    for group, value in groups.items():
        value = value if isinstance(value, Mapping) else {}
        status = str(value.get("status") or "Unknown")
        rows.append(
            {
                "monitor_id": monitor_id,
                "monitor": name,
                "group": str(value.get("name") or group),
                "status": status if status in STATUSES else "Unknown",
                "triggered": _seconds(value.get("last_triggered_ts")),
                "resolved": _seconds(value.get("last_resolved_ts")),
                "url": url,
            }
        )
    return rows


def _seconds(value: Any) -> int | float | None:
    # Datadog sends 0 or nothing for "never".
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return value
    return None
