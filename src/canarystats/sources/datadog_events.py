"""Verdicts back to Datadog: an event beside the deploy, and a ``canarystats.score`` gauge.

The event (``POST /api/v1/events``) has the service, version and verdict in its title, the
Markdown report as its text (cut to Datadog's 4,000 characters), tags for the service, env,
version and verdict, an alert type by verdict (pass ``success``, marginal and no verdict
``warning``, fail ``error``) and one aggregation key per deploy, so the events of one deploy's
runs are grouped in Datadog's event stream.  The gauge (``POST /api/v2/series``) carries the
score with the same tags, for dashboards and monitors on canary scores.

Posting needs only ``DD_API_KEY``, and goes through the metric source's host, timeouts,
retries, deadline and key scrubbing (:class:`~canarystats.sources.datadog.DatadogSource`):
a failure is one :class:`~canarystats.errors.SourceError` (or
:class:`~canarystats.errors.CredentialsError`) line that never holds a key.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from datadog_api_client import ApiClient
from datadog_api_client.v1.api.events_api import EventsApi
from datadog_api_client.v1.model.event_alert_type import EventAlertType
from datadog_api_client.v1.model.event_create_request import EventCreateRequest
from datadog_api_client.v2.api.metrics_api import MetricsApi
from datadog_api_client.v2.model.metric_intake_type import MetricIntakeType
from datadog_api_client.v2.model.metric_payload import MetricPayload
from datadog_api_client.v2.model.metric_point import MetricPoint
from datadog_api_client.v2.model.metric_series import MetricSeries

from canarystats.errors import SourceError
from canarystats.sources.datadog import DatadogSource
from canarystats.sources.datadog_retry import Budget, Rejected, call_with_retries

if TYPE_CHECKING:
    from canarystats.results import Judgment

__all__ = [
    "MAX_TEXT",
    "MAX_TITLE",
    "SCORE_METRIC",
    "Deployment",
    "VerdictPoster",
    "score_series",
    "verdict_event",
]

logger = logging.getLogger("canarystats.sources")

#: Datadog's limits on an event's title and text (characters)
MAX_TITLE = 100
MAX_TEXT = 4000
#: the gauge the score is posted as
SCORE_METRIC = "canarystats.score"
# Datadog renders an event's text as Markdown between these markers.
_MD_OPEN, _MD_CLOSE = "%%% \n", "\n %%%"
_CUT = "\n\n… (cut to Datadog's limit: the full report is in the pipeline's log)"
_ALERT = {"pass": "success", "marginal": "warning", "fail": "error", "nodata": "warning"}
_PERMISSION = "posting needs only the API key"


@dataclass(frozen=True)
class Deployment:
    """The deploy a verdict is about: its service, env and version (Datadog's unified service
    tags), and the key that groups its events.

    Examples
    --------
    >>> d = Deployment("web", env="prod", version="1.4.2")
    >>> d.tags(), d.aggregation_key()
    (['service:web', 'env:prod', 'version:1.4.2'], 'canarystats:web:prod:1.4.2')
    """

    service: str
    env: str | None = None
    version: str | None = None

    def tags(self) -> list[str]:
        """``service:``, ``env:`` and ``version:`` tags, where known."""
        pairs = (("service", self.service), ("env", self.env), ("version", self.version))
        return [f"{key}:{value}" for key, value in pairs if value]

    def aggregation_key(self) -> str:
        """One key per deploy (Datadog keeps the first 100 characters)."""
        parts = [self.service, self.env or "", self.version or ""]
        return ("canarystats:" + ":".join(parts))[:100]


def verdict_event(judgment: Judgment, report: str, deployment: Deployment) -> dict[str, Any]:
    """The event for a verdict: title, text (``report``, cut to fit), tags, alert type, key.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> j = SimpleNamespace(verdict="fail", score=12.5, config_name="web")
    >>> e = verdict_event(j, "x" * 5000, Deployment("web", version="1.4.2"))
    >>> e["title"], e["alert_type"], len(e["text"]) <= MAX_TEXT, e["tags"][-1]
    ('canary web 1.4.2: FAIL (score 12.5/100)', 'error', True, 'verdict:fail')
    """
    verdict = str(judgment.verdict)
    score = "" if not _finite(judgment.score) else f" (score {judgment.score:.3g}/100)"
    version = f" {deployment.version}" if deployment.version else ""
    title = f"canary {deployment.service}{version}: {verdict.upper()}{score}"
    room = MAX_TEXT - len(_MD_OPEN) - len(_MD_CLOSE)
    body = report.rstrip()
    if len(body) > room:
        # Cut at a line end where one is near, so no table row is left half.
        kept = body[: room - len(_CUT)]
        line_end = kept.rfind("\n")
        body = (kept[:line_end] if line_end > len(kept) // 2 else kept) + _CUT
    return {
        "title": title[:MAX_TITLE],
        "text": _MD_OPEN + body + _MD_CLOSE,
        "tags": [*deployment.tags(), f"verdict:{verdict}"],
        "alert_type": _ALERT.get(verdict, "info"),
        "aggregation_key": deployment.aggregation_key(),
    }


def score_series(
    judgment: Judgment, deployment: Deployment, when: datetime
) -> dict[str, Any] | None:
    """The ``canarystats.score`` gauge point, tagged like the event (None without a score).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> s = score_series(SimpleNamespace(verdict="pass", score=97.0), Deployment("web"),
    ...                  datetime(2026, 3, 10, tzinfo=UTC))
    >>> s["metric"], s["points"]
    ('canarystats.score', [{'timestamp': 1773100800, 'value': 97.0}])
    >>> s["tags"]
    ['service:web', 'verdict:pass']
    """
    if not _finite(judgment.score):
        return None
    return {
        "metric": SCORE_METRIC,
        "points": [{"timestamp": int(when.timestamp()), "value": float(judgment.score)}],
        "tags": [*deployment.tags(), f"verdict:{judgment.verdict}"],
    }


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


class VerdictPoster:
    """Post verdicts to Datadog as events and score gauges.

    Parameters
    ----------
    source : DatadogSource, optional
        Whose host, API key, timeouts, retries and deadline to use (default: one from the
        environment; only ``DD_API_KEY`` is needed).
    now : callable, optional
        The wall clock, for the gauge's timestamp.

    Examples
    --------
    >>> poster = VerdictPoster(DatadogSource(host="http://127.0.0.1:18080", api_key="k",
    ...                                      app_key_required=False))
    >>> poster.requests
    0
    """

    def __init__(
        self, source: DatadogSource | None = None, *, now: Callable[[], datetime] | None = None
    ) -> None:
        self.source = source if source is not None else DatadogSource(app_key_required=False)
        self._now = now or (lambda: datetime.now(UTC))
        #: HTTP requests made so far, retries included
        self.requests = 0

    def post(
        self, judgment: Judgment, report: str, deployment: Deployment, *, score: bool = False
    ) -> list[str]:
        """Post the verdict's event (and, with ``score``, its gauge); return what was posted.

        Raises
        ------
        SourceError
            One line, when Datadog refused or could not be reached (a key never in it).

        Examples
        --------
        >>> VerdictPoster(source).post(judgment, markdown, Deployment("web"))  # doctest: +SKIP
        ['event']
        """
        budget = self.source.budget()
        posted = []
        with ApiClient(self.source.configuration()) as client:
            event = verdict_event(judgment, report, deployment)
            events = EventsApi(client)
            body = EventCreateRequest(
                **{**event, "alert_type": EventAlertType(event["alert_type"])}
            )
            self._send(
                client, lambda: events.create_event(body=body), "POST /api/v1/events", budget
            )
            posted.append("event")
            series = score_series(judgment, deployment, self._now()) if score else None
            if series is not None:
                payload = MetricPayload(
                    series=[
                        MetricSeries(
                            metric=series["metric"],
                            type=MetricIntakeType.GAUGE,
                            points=[MetricPoint(**p) for p in series["points"]],
                            tags=series["tags"],
                        )
                    ]
                )
                metrics = MetricsApi(client)
                self._send(
                    client,
                    lambda: metrics.submit_metrics(body=payload),
                    "POST /api/v2/series",
                    budget,
                )
                posted.append("score")
        logger.debug("posted the verdict to Datadog: %s", ", ".join(posted))
        return posted

    def _send(self, client: ApiClient, call: Callable[[], Any], what: str, budget: Budget) -> Any:
        def counted(timeouts: tuple[float, float]) -> Any:
            self.requests += 1
            self.source.requests += 1
            client.configuration.request_timeout = timeouts
            return call()

        policy = replace(self.source.retry_policy(), permission=_PERMISSION, read_body=False)
        try:
            return call_with_retries(counted, what, budget, policy, _any)
        except Rejected as rejected:
            raise SourceError(f"Datadog refused {what} (HTTP 400): {rejected}") from None


def _any(body: Any) -> Any:
    return body
