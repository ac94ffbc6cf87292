"""The state of a sequential judgment between calls: the looks taken, and the decision once made.

A pipeline that calls ``canarystats judge --state FILE`` again and again gets one look per due
data time, never more: the state records each look's evidence as it was first judged, so a look
is never judged twice (late points cannot rewrite a look already taken) and extra calls between
looks add nothing.  Once decided, the decision is final and every later call repeats it.  The
file is JSON, written atomically after every call, so a crash leaves the previous state whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from canarystats.config import CanaryConfig
from canarystats.errors import DataError
from canarystats.sequential.looks import LookMetric
from canarystats.windows import utc_timestamp

__all__ = [
    "STATE_VERSION",
    "SequentialState",
    "config_digest",
    "iso_start",
    "read_state",
    "write_state",
]

#: the layout of the state file; a file of another version is refused, never guessed at
STATE_VERSION = 1


@dataclass(frozen=True)
class SequentialState:
    """Looks taken so far (``looks[k]`` holds look ``k + 1``'s metrics) and the decision.

    ``digest`` identifies the config the looks were taken under (:func:`config_digest`);
    ``start`` is the canary start, ISO 8601 UTC; ``decision`` is None while undecided, else
    ``{"verdict", "look", "at", "early", "failed", "reason", "held_back", "exit_code"}``;
    ``waiting_since`` is the wall-clock time (ISO 8601 UTC) at which a call first found the next
    look due without its data, None while no look waits.
    """

    digest: str
    start: str
    looks: tuple[dict[str, LookMetric], ...] = ()
    decision: dict[str, Any] | None = None
    calls: int = 0
    waiting_since: str | None = None


def config_digest(config: CanaryConfig) -> str:
    """A short fingerprint of everything in ``config`` that judging depends on.

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> a = load_config({"name": "c", "metrics": [{"name": "m", "query": "q"}]})
    >>> len(config_digest(a)), config_digest(a) == config_digest(a)
    (16, True)
    """
    text = repr(replace(config, source=""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_state(
    path: str | Path, config: CanaryConfig, start: pd.Timestamp | None
) -> SequentialState:
    """The state in ``path``, or a new one when the file does not exist yet.

    Raises
    ------
    canarystats.errors.DataError
        When the file is not a state file, was written for another config or another canary
        start, or has another layout version: one line saying what to do.
    """
    target = Path(path)
    if not target.exists():
        if start is None:
            raise DataError(f"--state {target} does not exist yet; give --start for its first look")
        return SequentialState(config_digest(config), iso_start(start))
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"--state {target}: not a canarystats state file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != "canarystats-sequential-state":
        raise DataError(f"--state {target}: not a canarystats state file; give a file of its own")
    if data.get("version") != STATE_VERSION:
        raise DataError(
            f"--state {target}: layout version {data.get('version')!r}, this canarystats reads "
            f"{STATE_VERSION}; start a new state file"
        )
    if data.get("digest") != config_digest(config):
        raise DataError(
            f"--state {target} was started with another config; a plan cannot change between "
            "looks: use a new state file for the new config"
        )
    if start is not None and data.get("start") != iso_start(start):
        raise DataError(
            f"--state {target} belongs to the canary started at {data.get('start')}, not "
            f"{iso_start(start)}; use a new state file for a new canary"
        )
    try:
        looks = tuple(
            {name: LookMetric.from_dict(m) for name, m in look.items()}
            for look in data.get("looks", [])
        )
    except (AttributeError, TypeError, ValueError) as exc:
        raise DataError(
            f"--state {target}: a look is damaged ({exc}); start a new state file"
        ) from None
    times = config.sequential.look_times() if config.sequential is not None else ()
    if len(looks) > len(times):
        raise DataError(
            f"--state {target} holds {len(looks)} looks, but the plan has {len(times)}; start a "
            "new state file"
        )
    names = {m.name for m in config.metrics}
    for k, look in enumerate(looks, start=1):
        if set(look) != names:
            lost = sorted(names ^ set(look))
            raise DataError(
                f"--state {target}: look {k} is damaged (it does not hold the config's metrics: "
                f"{', '.join(lost)}); start a new state file"
            )
    if not isinstance(data.get("start"), str) or _parses(data["start"]) is None:
        raise DataError(f"--state {target}: its canary start is damaged; start a new state file")
    decision = data.get("decision")
    if decision is not None and not _valid_record(decision, times[: len(looks)]):
        raise DataError(f"--state {target}: its decision is damaged; start a new state file")
    return SequentialState(
        digest=str(data["digest"]),
        start=str(data["start"]),
        looks=looks,
        decision=decision,
        calls=_calls(data.get("calls", 0)),
        waiting_since=_moment(data.get("waiting_since")),
    )


def _valid_record(record: Any, times: Sequence[int]) -> bool:
    """Whether a decision read back has every field, each of its type, at a look taken
    (``times``: the times of the looks taken)."""
    types = {"verdict": str, "look": int, "at": int, "early": bool, "failed": list, "reason": str}
    if not isinstance(record, dict) or not all(
        isinstance(record.get(key), kind) for key, kind in types.items()
    ):
        return False
    if not isinstance(record.get("held_back", ""), str):  # absent in files of earlier versions
        return False
    look = record["look"]
    return 1 <= look <= len(times) and record["at"] == times[look - 1]


def _parses(text: str) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return None


def _moment(value: Any) -> str | None:
    # A damaged wait time restarts the wait: the worst it costs is waiting longer.
    return value if isinstance(value, str) and _parses(value) is not None else None


def _calls(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def write_state(path: str | Path, state: SequentialState) -> None:
    """Write ``state`` atomically (the previous file stays whole if anything fails)."""
    from canarystats.frame import write_atomic

    payload = {
        "format": "canarystats-sequential-state",
        "version": STATE_VERSION,
        "digest": state.digest,
        "start": state.start,
        "calls": state.calls,
        "looks": [{name: m.as_dict() for name, m in look.items()} for look in state.looks],
        "decision": state.decision,
        "waiting_since": state.waiting_since,
    }
    write_atomic(path, json.dumps(payload, indent=1, allow_nan=False) + "\n", flag="--state")


def iso_start(moment: Any) -> str:
    """A canary start as the state file keeps it: ISO 8601 UTC to the second.

    Examples
    --------
    >>> iso_start("2026-03-02 11:30+01:00")
    '2026-03-02T10:30:00Z'
    """
    return str(utc_timestamp(moment, what="canary start").strftime("%Y-%m-%dT%H:%M:%SZ"))
