"""The ``canarystats`` command: judge a canary in a deploy pipeline and exit with its verdict.

The command is a thin shell around the library: it parses flags, loads the config, gets the
tidy frame (from Datadog or a saved file), calls :func:`canarystats.judge`, renders the report
with :mod:`canarystats.report`, and turns the verdict into an exit code.  Progress goes to
stderr, one line per event (``--quiet`` for none, ``-v`` for more); stdout carries only the
report.

Each command is a module of this package with ``add_parser`` (its flags) and ``run``; the shared
pieces are :mod:`~canarystats.cli.options` (flags, argument types, the one-line parser),
:mod:`~canarystats.cli.inputs` (config, scopes, the frame and its window) and
:mod:`~canarystats.cli.console` (where messages go, key scrubbing).

Every error a user can cause ends in ONE line on stderr and a documented exit code
(:mod:`canarystats.exit_codes`), never a traceback (set ``CANARYSTATS_DEBUG=1`` to see one) and
never a key value.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from canarystats.cli import (
    backtest,
    fetch,
    history,
    init,
    judge,
    plan,
    schema,
    serve_fake_datadog,
    validate,
    watch,
)
from canarystats.cli.console import Console, Verbosity, logging_to, scrub
from canarystats.cli.options import EPILOG, Parser, UsageError, add_verbosity_flags
from canarystats.errors import CanaryStatsError
from canarystats.exit_codes import ExitCode

__all__ = ["COMMANDS", "build_parser", "main"]

Command = Callable[[argparse.Namespace, Console], int]

#: the commands that parse with the main parser, in the order ``--help`` lists them
COMMANDS: dict[str, Command] = {
    judge.NAME: judge.run,
    watch.NAME: watch.run,
    fetch.NAME: fetch.run,
    validate.NAME: validate.run,
    history.NAME: history.run,
    init.NAME: init.run,
    plan.NAME: plan.run,
    backtest.NAME: backtest.run,
    schema.NAME: schema.run,
}
_ADDERS = (
    judge.add_parser,
    watch.add_parser,
    fetch.add_parser,
    validate.add_parser,
    history.add_parser,
    init.add_parser,
    plan.add_parser,
    backtest.add_parser,
    schema.add_parser,
    serve_fake_datadog.add_parser,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``canarystats`` argument parser (for documentation tools and tests).

    Examples
    --------
    >>> build_parser().parse_args(["validate", "web.yaml"]).command
    'validate'
    """
    from canarystats import __version__

    parser = Parser(
        prog="canarystats",
        description="A statistical canary judge: compare canary against baseline metrics "
        "from Datadog and exit with the verdict.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"canarystats {__version__}")
    add_verbosity_flags(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _ADDERS:
        add(commands)
    for name, command in commands.choices.items():
        if name != serve_fake_datadog.NAME:  # it parses its own flags
            add_verbosity_flags(command, default=argparse.SUPPRESS)
    return parser


def _verbosity_flags_before_command(words: list[str]) -> int:
    # How many of the first words are -q/-v flags.
    n = 0
    while n < len(words) and words[n] in ("-q", "--quiet", "-v", "--verbose"):
        n += 1
    return n


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``canarystats`` command; return its exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 pass, 1 fail, 2 usage or config error, 3 no verdict (see ``canarystats --help``).

    Examples
    --------
    >>> main(["validate", "examples/web.yaml"])  # doctest: +ELLIPSIS
    examples/web.yaml: valid config 'web': 7 metrics, ...
    0
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    console = Console(sys.stdout, sys.stderr)
    skip = _verbosity_flags_before_command(args_list)
    if args_list[skip : skip + 1] == [serve_fake_datadog.NAME]:
        # It parses its own flags and shows no progress: -q or -v before it change nothing.
        return serve_fake_datadog.run(args_list[skip + 1 :], console)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(args_list)
        except SystemExit as done:  # --help and --version
            return int(done.code or 0)
        if args.verbosity is not None:
            console.verbosity = Verbosity(args.verbosity)
        if args.command is None:
            raise UsageError(
                "canarystats: give a command (judge, watch, fetch, validate, plan, backtest, "
                "history, init, schema, serve-fake-datadog); see canarystats --help"
            )
        with logging_to(console):
            return COMMANDS[args.command](args, console)
    except UsageError as exc:
        print(scrub(str(exc)), file=console.stderr)
        return int(ExitCode.USAGE)
    except CanaryStatsError as exc:
        print(f"canarystats: error: {scrub(str(exc))}", file=console.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("canarystats: interrupted", file=console.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader (head, a closed pipe) went away; nothing more to say.
        return int(ExitCode.PASS)
    except Exception as exc:
        if os.environ.get("CANARYSTATS_DEBUG") == "1":
            raise
        print(
            f"canarystats: internal error ({type(exc).__name__}: {scrub(str(exc))}); "
            "rerun with CANARYSTATS_DEBUG=1 for the traceback and report it",
            file=console.stderr,
        )
        return int(ExitCode.NO_VERDICT)
