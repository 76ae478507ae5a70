"""The ``cutout`` console script: one subcommand per tool.

To add a command, write a module with ``add_parser(commands)`` that calls ``commands.add_parser``
and ``set_defaults(handler=run)`` where ``run(args) -> int`` is the exit code, then list its
``add_parser`` in ``COMMANDS`` below. Keep those modules cheap to import (import heavy things
inside ``run``): every invocation imports all of them to build ``--help``.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from cutout import __version__
from cutout_tools.emulator import command as emulator_command
from cutout_tools.local_stack import command as local_command
from cutout_tools.operations import command as operations_command
from cutout_tools.operations import rerender as rerender_command
from cutout_tools.profiles import command as profiles_command
from cutout_tools.unattended import command as unattended_command

AddParser = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

# The registry of subcommands, in --help order.
COMMANDS: tuple[AddParser, ...] = (
    emulator_command.add_parser,
    local_command.add_parser,
    operations_command.add_dlq_parser,
    operations_command.add_backfill_parser,
    profiles_command.add_parser,
    unattended_command.add_parsers,
    rerender_command.add_parser,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cutout", description="Developer tools of cutout: the Aidge emulator and the local stack."
    )
    parser.add_argument("--version", action="version", version=f"cutout {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_parser in COMMANDS:
        add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the chosen command, return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def run() -> NoReturn:
    """The console script: ``main()``, then exit at once with its code.

    The local stack leaves a large heap (moto, boto3, the SAM translator); the interpreter's final
    garbage collection of it takes seconds on a busy machine, after the command has said it
    stopped. Nothing needs collecting when the process is about to end, so it is skipped.
    """
    code = main()
    gc.freeze()
    sys.exit(code)
