"""A moving clock for the fake Datadog: serve a saved frame as if its data were arriving now.

A :class:`ReplayClock` starts at a data time (a canary start, or a little before) and runs
``speed`` times faster than the wall clock; the fake answers only points before it, so a
``canarystats watch`` against it sees a saved incident unfold look by look, in real or
accelerated time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import pandas as pd

from canarystats.windows import utc_timestamp

__all__ = ["ReplayClock"]


class ReplayClock:
    """Data time that starts at ``start`` and runs ``speed`` times faster than the wall clock.

    Parameters
    ----------
    start : datetime or str
        The data time at the moment the clock is made (UTC if no zone).
    speed : float
        Data seconds per wall second (1: real time; 60: a minute of data per second).
    wall : callable, optional
        The wall clock in seconds (default :func:`time.monotonic`; tests pass their own).

    Examples
    --------
    >>> ticks = iter([0.0, 2.0])
    >>> clock = ReplayClock("2026-03-02T10:30Z", speed=30, wall=lambda: next(ticks))
    >>> str(clock.now())
    '2026-03-02 10:31:00+00:00'
    """

    def __init__(
        self,
        start: datetime | str,
        speed: float = 1.0,
        *,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be above 0, got {speed}")
        self.start = utc_timestamp(start, what="replay start")
        self.speed = float(speed)
        self._wall = wall
        self._origin = wall()

    def now(self) -> pd.Timestamp:
        """The data time now."""
        return self.start + pd.Timedelta(seconds=(self._wall() - self._origin) * self.speed)

    def now_ms(self) -> int:
        """The data time now, in epoch milliseconds (what the fake's answers compare with)."""
        return int(self.now().value // 1_000_000)
