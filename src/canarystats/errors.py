"""The exceptions a user can cause, each carrying one line that says what to do.

Every error a user can trigger (a bad config, a bad data file, an unreachable backend,
missing credentials) is one of these.  The CLI prints ``str(error)`` as a single line on
stderr and exits with the error's ``exit_code``; it never shows a traceback.
"""

from __future__ import annotations

from canarystats.exit_codes import ExitCode


class CanaryStatsError(Exception):
    """Base class of the errors a user can cause; ``str()`` is one line to show them."""

    #: exit code of ``canarystats`` when this error ends a command (:mod:`canarystats.exit_codes`)
    exit_code: int = ExitCode.USAGE


class ConfigError(CanaryStatsError, ValueError):
    """The canary config (or a command-line override of it) is invalid."""

    exit_code = ExitCode.USAGE


class DataError(CanaryStatsError, ValueError):
    """A data file or frame does not have the shape canarystats needs."""

    exit_code = ExitCode.USAGE


class SourceError(CanaryStatsError, RuntimeError):
    """The metrics backend failed, refused, or answered with something unusable."""

    exit_code = ExitCode.NO_VERDICT


class SetupError(SourceError):
    """The pipeline is set up so that it can never judge: Datadog is the wrong place or refuses.

    A wrong ``DATADOG_HOST`` or ``DD_SITE`` (a name that does not resolve, a server that is not
    Datadog's API, a redirect), keys Datadog refuses, a query it rejects: waiting will not fix
    any of these.  It is a :class:`SourceError` for library callers, but the command line treats
    it like a configuration error (exit 2), so ``--soft-fail`` never hides a pipeline that
    cannot judge at all.  Only a backend that is down or rate-limiting is "no verdict" (exit 3).
    """

    exit_code = ExitCode.USAGE


class CredentialsError(SetupError):
    """Datadog credentials are missing or refused: the pipeline is set up wrong, not Datadog down.

    A :class:`SetupError` (exit 2 on the command line, never hidden by ``--soft-fail``).
    """

    exit_code = ExitCode.USAGE
