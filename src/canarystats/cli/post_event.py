"""``judge --post-event``: the verdict back to Datadog, as an event and a score gauge.

Posting is a by-product of the verdict, like the report file and the history: it never
changes the exit code, and a failure to post is one warning line that names the verdict.
The deploy's service, env and version come from the flags or from Datadog's unified service
tagging variables (``DD_SERVICE``, ``DD_ENV``, ``DD_VERSION``); the service defaults to the
config's name.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from canarystats.cli.console import Console
from canarystats.errors import CanaryStatsError

if TYPE_CHECKING:
    from canarystats.results import Judgment

__all__ = ["POST_DEADLINE", "add_post_flags", "post_verdict"]

#: the most seconds posting may take: the pipeline waits for the exit code, not for Datadog
POST_DEADLINE = 30.0


def add_post_flags(parser: argparse.ArgumentParser) -> None:
    """Add ``--post-event``, ``--post-score``, ``--service``, ``--env``, ``--deploy-version``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_post_flags(parser)
    >>> args = parser.parse_args(["--post-event", "--post-score", "--deploy-version", "1.4.2"])
    >>> args.post_event, args.post_score, args.deploy_version
    (True, True, '1.4.2')
    """
    parser.add_argument(
        "--post-event",
        action="store_true",
        help="post the verdict to Datadog as an event (the Markdown report as its text); "
        "never changes the exit code",
    )
    parser.add_argument(
        "--post-score",
        action="store_true",
        help="also post the score as the gauge canarystats.score (with --post-event)",
    )
    parser.add_argument(
        "--service",
        metavar="NAME",
        help="the event's service tag (default $DD_SERVICE, else the config's name)",
    )
    parser.add_argument("--env", metavar="ENV", help="the event's env tag (default $DD_ENV)")
    parser.add_argument(
        "--deploy-version", metavar="VERSION", help="the deployed version (default $DD_VERSION)"
    )


def post_verdict(
    args: argparse.Namespace, console: Console, judgment: Judgment, markdown: str
) -> bool:
    """Post the verdict where ``--post-event`` asks; True when posted (or not asked).

    A failure is one warning line on stderr; nothing is raised.

    Examples
    --------
    >>> import io
    >>> args = argparse.Namespace(post_event=False, post_score=False)
    >>> post_verdict(args, Console(io.StringIO(), io.StringIO()), None, "")
    True
    """
    if not args.post_event:
        if args.post_score:
            console.note("warning: --post-score posts only with --post-event; nothing was posted")
        return True
    from canarystats.sources.datadog import DatadogSource
    from canarystats.sources.datadog_events import Deployment, VerdictPoster

    deployment = Deployment(
        service=args.service or os.environ.get("DD_SERVICE") or judgment.config_name,
        env=args.env or os.environ.get("DD_ENV") or None,
        version=args.deploy_version or os.environ.get("DD_VERSION") or None,
    )
    try:
        deadline = min(float(getattr(args, "deadline", POST_DEADLINE)), POST_DEADLINE)
        poster = VerdictPoster(DatadogSource(deadline=deadline, app_key_required=False))
        posted = poster.post(judgment, markdown, deployment, score=args.post_score)
    except CanaryStatsError as exc:
        console.note(
            f"warning: the verdict ({judgment.verdict}) was not posted to Datadog: {exc}; "
            "the exit code is the verdict's"
        )
        return False
    console.progress(f"posted the verdict to Datadog ({' and '.join(posted)})")
    return True
