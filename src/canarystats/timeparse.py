"""Times and durations as people type them on a command line, turned into UTC datetimes.

Accepted times: ``now``; a relative offset from now (``-15m``, ``-2h``, ``-1d``, ``now-90s``,
``+5m``); or ISO 8601 (``2026-03-10T15:00:00Z``, ``2026-03-10T16:00:00+01:00``,
``2026-03-10``).  An ISO time without an offset is read as UTC, because every time inside
canarystats is UTC and a pipeline's clock rarely knows better.  Durations (``--lookback``) are
one or more ``<number><unit>`` parts: ``15m``, ``90s``, ``1h30m``, ``2d``; units are ``s``,
``m``, ``h``, ``d`` and ``w``.

Every mistake is one :class:`~canarystats.errors.ConfigError` line naming the flag.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from canarystats.errors import ConfigError

__all__ = ["format_duration", "parse_duration", "parse_time", "resolve_window"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")
_DURATION = re.compile(r"^(?:\d+[smhdw])+$")
_RELATIVE = re.compile(r"^(?:now)?\s*([+-])\s*((?:\d+[smhdw])+)$")
# timedelta tops out near 2.7 million years; a larger count is a typo, not a window.
_MAX_SECONDS = 100 * 365 * 86400
#: the times a window may have: metrics exist after 1970, and pandas' nanosecond times end in
#: 2262 (a window plus its pre-deploy past and look-ahead stays inside)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

_TIME_HELP = "use ISO 8601 (2026-03-10T15:00:00Z), 'now' or a relative time like -15m"


def parse_duration(text: str, *, flag: str = "--lookback") -> timedelta:
    """Parse a positive duration such as ``15m``, ``90s``, ``1h30m`` or ``2d``.

    Parameters
    ----------
    text : str
        The duration: one or more ``<whole number><unit>`` parts, units ``s m h d w``.
    flag : str
        The command-line flag it came from, for the error message.

    Returns
    -------
    datetime.timedelta
        A positive duration.

    Raises
    ------
    canarystats.errors.ConfigError
        When ``text`` is not a duration or is zero.

    Examples
    --------
    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    cleaned = text.strip().lower().replace(" ", "")
    if not _DURATION.match(cleaned):
        raise ConfigError(
            f"{flag} {text!r} is not a duration; write a number and a unit (s, m, h, d, w), "
            "e.g. 15m or 1h30m"
        )
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(cleaned))
    if seconds <= 0:
        raise ConfigError(f"{flag} {text!r} is zero; give a positive duration such as 15m")
    if seconds > _MAX_SECONDS:
        raise ConfigError(f"{flag} {text!r} is longer than 100 years; check the number")
    return timedelta(seconds=seconds)


def format_duration(duration: timedelta) -> str:
    """Write a whole-second duration the way :func:`parse_duration` reads it.

    Examples
    --------
    >>> format_duration(timedelta(hours=1, minutes=30))
    '1h30m'
    >>> parse_duration(format_duration(timedelta(seconds=86461)))
    datetime.timedelta(days=1, seconds=61)
    """
    seconds = int(duration.total_seconds())
    if seconds <= 0:
        raise ValueError("only positive durations can be formatted")
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_time(text: str, *, now: datetime | None = None, flag: str = "--start") -> datetime:
    """Parse a time given on the command line into a timezone-aware UTC datetime.

    Parameters
    ----------
    text : str
        ``now``, a relative time (``-15m``, ``now-2h``, ``+5m``) or ISO 8601.  ISO times
        without an offset are UTC.
    now : datetime, optional
        What ``now`` means (default: the current time); must be timezone-aware.
    flag : str
        The command-line flag it came from, for the error message.

    Returns
    -------
    datetime.datetime
        In UTC.

    Raises
    ------
    canarystats.errors.ConfigError
        One line naming ``flag`` when ``text`` is not a time.

    Examples
    --------
    >>> ref = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    >>> parse_time("-15m", now=ref).isoformat()
    '2026-03-10T14:45:00+00:00'
    >>> parse_time("2026-03-10T16:00:00+01:00").isoformat()
    '2026-03-10T15:00:00+00:00'
    """
    reference = (now or datetime.now(UTC)).astimezone(UTC)
    cleaned = text.strip()
    lowered = cleaned.lower().replace(" ", "")
    if lowered == "now":
        return reference
    out_of_range = ConfigError(
        f"{flag} {text!r} is out of the range of times canarystats judges "
        f"({EARLIEST.year} to {LATEST.year - 1}); check the date"
    )
    relative = _RELATIVE.match(lowered)
    if relative:
        sign, amount = relative.groups()
        offset = parse_duration(amount, flag=flag)
        try:
            moment = reference + offset if sign == "+" else reference - offset
        except OverflowError:
            raise out_of_range from None
    else:
        if not cleaned or not cleaned[0].isdigit():
            raise ConfigError(f"{flag} {text!r} is not a time; {_TIME_HELP}")
        try:
            moment = datetime.fromisoformat(cleaned)
        except ValueError:
            raise ConfigError(f"{flag} {text!r} is not a time; {_TIME_HELP}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            raise out_of_range from None
    if not EARLIEST <= moment < LATEST:
        raise out_of_range
    return moment


def resolve_window(
    start: str | None,
    end: str | None,
    lookback: str | None,
    *,
    now: datetime | None = None,
) -> tuple[datetime, datetime]:
    """Turn ``--start``, ``--end`` and ``--lookback`` into a UTC window ``(start, end)``.

    ``--lookback`` alone ends the window now; with ``--start`` it sets the window's length.
    ``--end`` and ``--lookback`` together are refused (they would both set the end).

    Raises
    ------
    canarystats.errors.ConfigError
        When no start can be worked out, when ``--end`` and ``--lookback`` are both given, or
        when the end is not after the start.

    Examples
    --------
    >>> ref = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    >>> s, e = resolve_window(None, None, "15m", now=ref)
    >>> s.isoformat(), e.isoformat()
    ('2026-03-10T14:45:00+00:00', '2026-03-10T15:00:00+00:00')
    """
    reference = (now or datetime.now(UTC)).astimezone(UTC)
    if end is not None and lookback is not None:
        raise ConfigError("--end and --lookback both set the window's end; give only one")
    if start is None and lookback is None:
        raise ConfigError("no window: give --lookback (e.g. 15m) or --start (e.g. -15m)")
    if start is None:
        assert lookback is not None
        stop = reference
        begin = stop - parse_duration(lookback, flag="--lookback")
    else:
        begin = parse_time(start, now=reference, flag="--start")
        if lookback is not None:
            stop = begin + parse_duration(lookback, flag="--lookback")
        elif end is not None:
            stop = parse_time(end, now=reference, flag="--end")
        else:
            stop = reference
    if stop <= begin:
        if start is not None and end is None and lookback is None:
            # The end was not given: it is now, and the start is not in the past.
            raise ConfigError(
                f"--start {begin.isoformat()} is not in the past (now is {stop.isoformat()}); "
                "give the time the canary started, or --end"
            )
        raise ConfigError(
            f"--end {stop.isoformat()} is not after --start {begin.isoformat()}; "
            "swap them or fix one"
        )
    return begin, stop
