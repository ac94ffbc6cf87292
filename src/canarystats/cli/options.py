"""The flags and argument types the commands share, and the parser that fails in one line.

Nothing here imports pandas or the statistics stack: ``canarystats --help`` builds every
subparser, and it has to stay fast.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from canarystats.errors import ConfigError
from canarystats.exit_codes import MEANINGS, ExitCode
from canarystats.timeparse import parse_duration

__all__ = [
    "EPILOG",
    "LATE_LIMIT_S",
    "REPORT_FORMATS",
    "TABLE_FORMATS",
    "DashValueParser",
    "Parser",
    "UsageError",
    "add_late_limit_flag",
    "add_verbosity_flags",
    "add_window_flags",
    "attach_dash_values",
    "positive_float",
    "positive_int",
    "positive_seconds",
    "score",
    "step_seconds",
]

#: the formats of :func:`canarystats.report.render`, spelled out here because importing the
#: report module loads pandas, which ``--help`` must not wait for (a test keeps them equal)
REPORT_FORMATS = ("text", "markdown", "json", "junit", "html")
#: the formats of the commands that print a table or its JSON (``history``, ``plan``)
TABLE_FORMATS = ("text", "json")
#: seconds a due look may wait for its data before a sequential canary ends with no verdict:
#: longer than Datadog's usual intake delay and its cloud integrations' crawl (about 10 minutes)
LATE_LIMIT_S = 900


def _exit_code_lines() -> str:
    # Wrapped at 88 columns: the width of a terminal with room for the indentation.
    codes = (
        ExitCode.PASS,
        ExitCode.FAIL,
        ExitCode.USAGE,
        ExitCode.NO_VERDICT,
        ExitCode.UNDECIDED,
    )
    return "\n".join(
        textwrap.fill(
            MEANINGS[c], width=88, initial_indent=f"  {int(c)}  ", subsequent_indent=" " * 5
        )
        for c in codes
    )


#: the help's closing text: exit codes, environment, examples
EPILOG = f"""\
exit codes (judge):
{_exit_code_lines()}
  --soft-fail exits 0 instead of 1 or 3, and prints (and records) the code it would have
  returned.

environment:
  DD_API_KEY, DD_APP_KEY  Datadog credentials (never printed); DATADOG_API_KEY and
                          DATADOG_APP_KEY are read when these are not set
  DD_SITE                 Datadog site, default datadoghq.com
  DATADOG_HOST            full API URL instead of the site (e.g. a fake Datadog in tests)
  NO_COLOR                no colour even on a terminal
  CANARYSTATS_DEBUG=1     show tracebacks of internal errors

example:
  canarystats judge examples/web.yaml --data fixtures/seed-incident.csv
  canarystats judge web.yaml --canary version:v2 --baseline version:v1 --lookback 10m \\
      --format markdown --soft-fail --history canary-history.sqlite
"""


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit 2."""


# A value that starts with a dash and a digit: a relative time (-15m, -1h30m) or a negative
# number.  No canarystats flag looks like that, so after a flag that takes a value it can only
# be that value.
_DASH_VALUE = re.compile(r"^-\d")


def attach_dash_values(argv: Sequence[str], takes_value: Callable[[str], bool]) -> list[str]:
    """Write ``--flag -15m`` as ``--flag=-15m`` wherever ``--flag`` takes a value.

    argparse reads any word that starts with a dash as a flag, so ``--start -15m`` fails with
    "expected one argument" although ``--start=-15m`` works.  A word that starts with a dash and
    a digit cannot be a flag here, so after a flag that takes one value it is joined to it.
    Nothing after ``--`` is touched.

    Parameters
    ----------
    argv : sequence of str
        The command line's words, without the program name.
    takes_value : callable
        Whether a word (a flag as typed, perhaps abbreviated) names a flag that takes one value.

    Returns
    -------
    list of str
        ``argv`` with such pairs joined.

    Examples
    --------
    >>> attach_dash_values(["--start", "-15m", "--end", "now"], lambda flag: True)
    ['--start=-15m', '--end', 'now']
    """
    words = list(argv)
    joined: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            return joined + words[i:]
        nxt = words[i + 1] if i + 1 < len(words) else None
        if (
            nxt is not None
            and word.startswith("--")
            and "=" not in word
            and _DASH_VALUE.match(nxt)
            and takes_value(word)
        ):
            joined.append(f"{word}={nxt}")
            i += 2
        else:
            joined.append(word)
            i += 1
    return joined


class DashValueParser(argparse.ArgumentParser):
    """An ArgumentParser that reads ``--start -15m`` as ``--start=-15m`` (see
    :func:`attach_dash_values`), for every flag of its own that takes one value.

    Examples
    --------
    >>> parser = DashValueParser(prog="canarystats")
    >>> _ = parser.add_argument("--start")
    >>> parser.parse_args(["--start", "-15m"]).start
    '-15m'
    """

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # Subcommands parse with their own parser (this class too), which knows their flags.
        words = sys.argv[1:] if args is None else args
        return super().parse_known_args(attach_dash_values(words, self._takes_value), namespace)

    def _takes_value(self, word: str) -> bool:
        # The flag as typed, or the one flag it abbreviates (argparse accepts unique prefixes).
        flags = self._option_string_actions
        if word in flags:
            names = [word]
        elif self.allow_abbrev:
            names = [flag for flag in flags if flag.startswith(word)]
        else:
            names = []
        actions = {id(flags[name]): flags[name] for name in names}
        if len(actions) != 1:
            return False
        (action,) = actions.values()
        return action.nargs is None and action.option_strings != []


class Parser(DashValueParser):
    """An ArgumentParser whose errors are one line (exit 2), not a usage dump, and that reads
    ``--start -15m`` as ``--start=-15m``.

    Examples
    --------
    >>> parser = Parser(prog="canarystats")
    >>> try:
    ...     parser.parse_args(["--bogus"])
    ... except UsageError as exc:
    ...     print(exc)
    canarystats: unrecognized arguments: --bogus; see canarystats --help
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}; see {self.prog} --help")

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self._unrecognized(parsed, extras)
        return parsed

    def _unrecognized(self, parsed: argparse.Namespace, extras: list[str]) -> NoReturn:
        # A subcommand's unknown flag is named with the subcommand, whose help lists its flags,
        # and with the flag it most likely meant (argparse only says "unrecognized").
        import difflib

        parser: argparse.ArgumentParser = self
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                parser = action.choices.get(str(getattr(parsed, action.dest, "")), self)
        flags = [flag for flag in parser._option_string_actions if flag.startswith("--")]
        guesses = []
        for word in (w.split("=")[0] for w in extras if w.startswith("--")):
            stems = [flag for flag in flags if word.startswith(f"{flag}-")]  # --pre-window
            close = difflib.get_close_matches(word, flags, n=1, cutoff=0.75)  # --dta
            guesses += [max(stems, key=len)] if stems else close
        hint = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
        raise UsageError(
            f"{parser.prog}: unrecognized arguments: {' '.join(extras)}{hint}; "
            f"see {parser.prog} --help"
        )


def positive_float(flag: str) -> Callable[[str], float]:
    """An argument type for a finite number above 0; ``flag`` names it in argparse's errors.

    Examples
    --------
    >>> positive_float("deadline")("2.5")
    2.5
    >>> positive_float("deadline")("-1")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: '-1' must be a positive number
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
        return value

    parse.__name__ = flag
    return parse


#: the largest whole number a flag takes (hosts): beyond it a typo, not a fleet
MAX_COUNT = 100_000


def positive_int(text: str) -> int:
    """An argument type for a whole number from 1 to :data:`MAX_COUNT` (hosts).

    Examples
    --------
    >>> positive_int("6")
    6
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range; use 1 to {MAX_COUNT}")
    return value


def positive_seconds(flag: str) -> Callable[[str], float]:
    """An argument type for a wait: seconds (``90``, ``2.5``) or a duration (``90s``, ``5m``).

    Examples
    --------
    >>> positive_seconds("deadline")("2.5"), positive_seconds("deadline")("5m")
    (2.5, 300.0)
    >>> positive_seconds("deadline")("soon")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    argparse.ArgumentTypeError: 'soon' is not a positive duration; write seconds (90) or ...
    """
    number = positive_float(flag)

    def parse(text: str) -> float:
        try:
            return number(text)
        except argparse.ArgumentTypeError:
            pass
        try:
            value = parse_duration(text.strip(), flag=f"--{flag}").total_seconds()
        except ConfigError:
            value = 0.0
        if not value > 0:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a positive duration; write seconds (90) or a duration (90s, 5m)"
            ) from None
        return value

    parse.__name__ = flag
    return parse


def step_seconds(text: str) -> int:
    """An argument type for a bucket size: a duration (``60s``, ``1m``) or whole seconds, from
    1 s to a day.

    Durations are written as ``--lookback`` and ``--pre`` write them; a plain number stays
    seconds, as a config's ``step`` is.

    Examples
    --------
    >>> step_seconds("60"), step_seconds("1m"), step_seconds("90s")
    (60, 60, 90)
    """
    # Imported here: config.checks loads the config package (and YAML), which --help skips.
    from canarystats.config.checks import MAX_STEP

    word = text.strip()
    if word.isdigit():
        value = int(word)
    else:
        try:
            value = int(parse_duration(word, flag="--step").total_seconds())
        except ConfigError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a positive duration; write seconds (60) or a duration (60s, 1m)"
            ) from None
    if not 1 <= value <= MAX_STEP:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range; use 1s to 1d ({MAX_STEP} s)")
    return value


def score(text: str) -> float:
    """An argument type for a score in [0, 100].

    Examples
    --------
    >>> score("95")
    95.0
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a score in [0, 100]")
    return value


def add_late_limit_flag(parser: argparse.ArgumentParser, *, scope: str = "") -> None:
    """Add ``--late-limit``: how long a due look's data may be late (``watch``, ``judge --state``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_late_limit_flag(parser)
    >>> parser.parse_args(["--late-limit", "30m"]).late_limit, parser.parse_args([]).late_limit
    (1800.0, 900.0)
    """
    parser.add_argument(
        "--late-limit",
        type=positive_seconds("late-limit"),
        default=float(LATE_LIMIT_S),
        metavar="DUR",
        help=f"{scope}how long a due look's data may be late before the canary ends with no "
        "verdict (exit 3; the looks are kept): seconds or a duration (default 15m); metrics that "
        "Datadog crawls from a cloud provider can need more",
    )


def add_verbosity_flags(parser: argparse.ArgumentParser, *, default: Any = None) -> None:
    """Add ``-v/--verbose`` and ``-q/--quiet``; both set ``args.verbosity`` to a logging level.

    The main parser takes them before the command and each command after it; a command's
    parser gets ``default=argparse.SUPPRESS``, so that its absence keeps what the main parser
    read.  ``None`` means neither was given.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_verbosity_flags(parser)
    >>> parser.parse_args(["-q"]).verbosity, parser.parse_args([]).verbosity
    (30, None)
    """
    # A number, not console.Verbosity: that module is imported by the commands, this one by
    # --help, and the two must agree only on logging's levels (a test keeps them so).
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const=10,
        default=default,
        help="say more on stderr: each request to Datadog, and warnings from numpy or pandas",
    )
    group.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const=30,
        default=default,
        help="no progress on stderr: only warnings and errors (the report is unchanged)",
    )


def add_window_flags(
    parser: argparse.ArgumentParser, *, start_help: str | None = None, pre_help: str | None = None
) -> None:
    """Add the scope and time-window flags of the commands that fetch from Datadog;
    ``start_help`` and ``pre_help`` word ``--start`` and ``--pre`` for a command that reads
    them otherwise than as a canary start and its hosts' past.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_window_flags(parser)
    >>> parser.parse_args(["--lookback", "10m"]).deadline
    300.0
    """
    parser.add_argument(
        "--canary",
        metavar="SCOPE",
        help="canary scope: Datadog tags, e.g. role:canary,version:abc123 (default the "
        "config's scopes.canary)",
    )
    parser.add_argument(
        "--baseline",
        metavar="SCOPE",
        help="baseline scope: Datadog tags, e.g. role:baseline (default the config's "
        "scopes.baseline)",
    )
    parser.add_argument(
        "--start",
        metavar="T",
        help=start_help
        or "the canary start (ISO 8601, UTC if no offset; now; -15m): the canary window "
        "begins here, its warm-up is left out, and the hosts' pre-deploy past comes before it",
    )
    parser.add_argument(
        "--pre",
        metavar="DUR",
        help=pre_help
        or "pre-deploy window before --start, each host's own past (default the config's "
        "judge.pre_window, 30m; 0 for none)",
    )
    parser.add_argument("--end", metavar="T", help="window end (ISO 8601, now, -5m; default now)")
    parser.add_argument("--lookback", metavar="DUR", help="window length, e.g. 10m, 1h30m")
    parser.add_argument(
        "--step",
        type=step_seconds,
        metavar="DUR",
        help="bucket size of every metric instead of the config's step, e.g. 60s, 1m "
        "(a plain number is seconds)",
    )
    parser.add_argument(
        "--deadline",
        type=positive_seconds("deadline"),
        default=300.0,
        metavar="DUR",
        help="longest time to wait for Datadog, retries included: seconds or a duration such "
        "as 5m (default 300 s)",
    )
