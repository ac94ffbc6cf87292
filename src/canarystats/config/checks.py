"""Checks of single config values: each returns the value or raises one :class:`ConfigError` line.

Every message names the file, the key path (``metrics[2].effect_size.measure``), what was found
and what is allowed, so a user can fix a config from the message alone.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from typing import Any

from canarystats.errors import ConfigError

#: the longest bucket a metric may have: a day (a canary is judged over minutes to hours)
MAX_STEP = 86400
#: the longest duration a config may give in whole seconds (100 years: more is a typo)
MAX_DURATION = 100 * 365 * 86400


class Context:
    """The file label used in every message of one validation run.

    Examples
    --------
    >>> str(Context("web.yaml").error("judge.alpha", "must be small"))
    'web.yaml: judge.alpha: must be small'
    """

    def __init__(self, label: str) -> None:
        self.label = label

    def error(self, path: str, problem: str) -> ConfigError:
        """The error for ``problem`` at key ``path`` (the file alone when ``path`` is empty)."""
        where = f"{self.label}: {path}" if path else self.label
        return ConfigError(f"{where}: {problem}")


def join_key(path: str, key: str) -> str:
    """The key path of ``key`` inside ``path``.

    Examples
    --------
    >>> join_key("judge", "alpha"), join_key("", "name"), join_key("groups", " a")
    ('judge.alpha', 'name', "groups[' a']")
    """
    # A key with spaces at its ends or unprintable characters is quoted so the message stays
    # one readable line.
    if not key or not key.isprintable() or key.strip() != key:
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def describe(value: Any) -> str:
    """What a value is, in the words of a message.

    Examples
    --------
    >>> describe(None), describe(True), describe("x")
    ('nothing (null)', 'a boolean (true)', "a string ('x')")
    """
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def format_number(x: float) -> str:
    """A number as messages print it.

    Examples
    --------
    >>> format_number(95.0), format_number(0.05)
    ('95', '0.05')
    """
    return f"{x:g}"


def as_mapping(ctx: Context, value: Any, path: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping with string keys.

    Examples
    --------
    >>> as_mapping(Context("c"), {"a": 1}, "judge")
    {'a': 1}
    """
    if not isinstance(value, Mapping):
        raise ctx.error(path, f"expected a mapping of keys, got {describe(value)}")
    for key in value:
        if not isinstance(key, str):
            raise ctx.error(path, f"key {key!r} must be a string")
    return value


def check_keys(ctx: Context, data: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
    """Refuse a key of ``data`` that is not ``allowed``: a misspelt key would disable a check.

    Examples
    --------
    >>> check_keys(Context("c"), {"canary": "a"}, "scopes", ("canary", "baseline"))
    """
    for key in data:
        if key not in allowed:
            raise ctx.error(
                join_key(path, key), f"unknown key; allowed keys here are {', '.join(allowed)}"
            )


def as_string(
    ctx: Context, value: Any, path: str, *, empty: bool = False, multiline: bool = False
) -> str:
    """``value`` if it is a string of visible text, and not blank unless ``empty``.

    Control characters (a newline would split a one-line report or log line) and invisible
    format characters (a right-to-left override would make a name read as another) are
    refused; ``multiline`` allows line breaks and tabs (a long query).

    Examples
    --------
    >>> as_string(Context("c"), "web", "name")
    'web'
    >>> as_string(Context("c"), "web\u202eoops", "name")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    canarystats.errors.ConfigError: c: name: 'web\\u202eoops' has an invisible or control ...
    """
    if not isinstance(value, str):
        raise ctx.error(path, f"expected a string, got {describe(value)}")
    if not empty and not value.strip():
        raise ctx.error(path, "must not be empty")
    allowed = "\n\r\t" if multiline else ""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") and (
            ch not in allowed
        ):
            raise ctx.error(
                path,
                f"{value!r} has an invisible or control character (U+{ord(ch):04X}); use "
                "visible text",
            )
    return value


def as_choice(ctx: Context, value: Any, path: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``.

    Examples
    --------
    >>> as_choice(Context("c"), "cles", "measure", ("mean_ratio", "cles"))
    'cles'
    """
    if not isinstance(value, str) or value not in allowed:
        raise ctx.error(path, f"{describe(value)} is not allowed; use one of {', '.join(allowed)}")
    return value


def as_bool(ctx: Context, value: Any, path: str) -> bool:
    """``value`` if it is true or false (not 0, 1 or a string).

    Examples
    --------
    >>> as_bool(Context("c"), True, "critical")
    True
    """
    if not isinstance(value, bool):
        raise ctx.error(path, f"expected true or false, got {describe(value)}")
    return value


def as_number(
    ctx: Context,
    value: Any,
    path: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """``value`` as a float if it is a finite number within the bounds.

    ``lo`` and ``hi`` are the bounds (None: unbounded); ``lo_open`` and ``hi_open`` exclude them.

    Examples
    --------
    >>> as_number(Context("c"), 1, "alpha", lo=0.0, hi=1.0)
    1.0
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ctx.error(path, f"expected a finite number, got {describe(value)}")
    x = float(value)
    bad_lo = lo is not None and (x <= lo if lo_open else x < lo)
    bad_hi = hi is not None and (x >= hi if hi_open else x > hi)
    if bad_lo or bad_hi:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        low = "-inf" if lo is None else format_number(lo)
        high = "inf" if hi is None else format_number(hi)
        span = f"{left}{low}, {high}{right}"
        raise ctx.error(path, f"{format_number(x)} is out of range; use a number in {span}")
    return x


def as_step(ctx: Context, value: Any, path: str) -> int:
    """``value`` if it is a whole number of seconds, from 1 to :data:`MAX_STEP` (a day).

    Examples
    --------
    >>> as_step(Context("c"), 60.0, "step")
    60
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise ctx.error(path, f"expected a whole number of seconds, got {describe(value)}")
    if not 1 <= value <= MAX_STEP:
        raise ctx.error(path, f"{value:g} is out of range; use 1 to {MAX_STEP} seconds")
    return int(value)


def as_duration(ctx: Context, value: Any, path: str) -> int:
    """``value`` as whole seconds: a duration such as ``5m`` or ``1h30m``, a whole number of
    seconds, or 0 for none.

    Examples
    --------
    >>> as_duration(Context("c"), "30m", "judge.pre_window"), as_duration(Context("c"), 0, "w")
    (1800, 0)
    """
    from canarystats.timeparse import parse_duration

    if isinstance(value, str) and value.strip() in ("0", "0s", "0m"):
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_DURATION:
            raise ctx.error(path, f"{value} seconds is not a duration; give e.g. 5m or 300")
        return value
    if not isinstance(value, str):
        raise ctx.error(path, f"expected a duration such as 5m or 1h, got {describe(value)}")
    try:
        return int(parse_duration(value, flag=path).total_seconds())
    except ConfigError:
        raise ctx.error(
            path, f"{value!r} is not a duration; write a number and a unit, e.g. 5m or 1h30m"
        ) from None
