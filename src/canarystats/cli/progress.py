"""A progress bar for a terminal: one line on stderr, redrawn in place, cleared at the end.

A long fetch (many metrics) or backtest (many deploys) on a terminal shows how far it got as
``canarystats: fetching [########------------] 12/30 metrics``, redrawn after a carriage
return and wiped when the work ends, so the terminal keeps only the command's one-line progress
messages and its report.  Off a terminal (a CI log, a file) there is no bar at all: a log keeps
its one plain line per event (:mod:`canarystats.cli.console` decides which one a command gets).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar"]

#: cells of the bar itself; the line is cut to the terminal's width besides
BAR_CELLS = 24
#: seconds between redraws: a bar updated thousands of times a second would cost more to draw
#: than the work it shows
REDRAW_INTERVAL_S = 0.1


class ProgressBar:
    """A bar of ``done`` out of ``total`` drawn on ``stream``, a terminal.

    Parameters
    ----------
    stream : text stream
        Where to draw (stderr); only ever a terminal.
    label : str
        What is being done, e.g. ``"fetching"``.
    total : int
        How many units of work there are in all (at least 1).
    unit : str
        What is counted, e.g. ``"metrics"``.
    clock : callable
        Monotonic clock, for the redraw interval (replaceable in tests).
    interval : float
        Least seconds between two redraws (the first and the last draw always happen).

    Examples
    --------
    >>> import io
    >>> screen = io.StringIO()
    >>> bar = ProgressBar(screen, "fetching", 4, unit="metrics", interval=0.0)
    >>> bar.update(1)
    >>> screen.getvalue()
    '\\rcanarystats: fetching [######------------------] 1/4 metrics'
    >>> bar.close()
    >>> screen.getvalue().endswith("\\r" + " " * 60 + "\\r")
    True
    """

    def __init__(
        self,
        stream: TextIO,
        label: str,
        total: int,
        *,
        unit: str,
        clock: Callable[[], float] = time.monotonic,
        interval: float = REDRAW_INTERVAL_S,
    ) -> None:
        self.stream = stream
        self.label = label
        self.total = max(int(total), 1)
        self.unit = unit
        self.done = 0
        self._clock = clock
        self._interval = interval
        self._drawn_at: float | None = None
        self._shown = ""

    def update(self, done: int) -> None:
        """Show ``done`` units finished (redrawn at most every ``interval`` seconds)."""
        self.done = min(max(int(done), 0), self.total)
        now = self._clock()
        due = self._drawn_at is None or now - self._drawn_at >= self._interval
        if due or self.done == self.total:
            self.draw()
            self._drawn_at = now

    def line(self) -> str:
        """The bar's text, cut to the terminal's width (a wrapped line cannot be redrawn)."""
        filled = BAR_CELLS * self.done // self.total
        bar = "#" * filled + "-" * (BAR_CELLS - filled)
        text = f"canarystats: {self.label} [{bar}] {self.done}/{self.total} {self.unit}"
        return text[: terminal_width(self.stream) - 1]

    def draw(self) -> None:
        """Redraw the bar over whatever it showed before."""
        text = self.line()
        # Spaces wipe the end of a longer earlier line; no escape sequence is needed.
        pad = " " * max(len(self._shown) - len(text), 0)
        self.stream.write(f"\r{text}{pad}")
        self.stream.flush()
        self._shown = text

    def clear(self) -> None:
        """Wipe the bar's line and put the cursor at its start (a message may follow)."""
        if self._shown:
            self.stream.write("\r" + " " * len(self._shown) + "\r")
            self.stream.flush()
            self._shown = ""

    def close(self) -> None:
        """Wipe the bar for good: the work is over."""
        self.clear()


def terminal_width(stream: TextIO) -> int:
    """Columns of the terminal ``stream`` is (80 when it cannot tell).

    Examples
    --------
    >>> import io
    >>> terminal_width(io.StringIO())
    80
    """
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 80
    return columns if columns > 20 else 80
