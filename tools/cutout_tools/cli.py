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
from cutout_tools.arguments import chosen_parser, plain_help, unknown_option_error
from cutout_tools.emulator import command as emulator_command
from cutout_tools.local_stack import command as local_command
from cutout_tools.operations import command as operations_command
from cutout_tools.operations import rerender as rerender_command
from cutout_tools.operations import teardown as teardown_command
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
    teardown_command.add_parser,
)


DESCRIPTION = """\
cutout: operate a deployed cutout stack, and run one on this machine.

operations, on a deployed stack (--stack-name) or the local one (--endpoint-url);
the operator's install is enough: pip install 'cutout[ops]'
  dlq        the dead-letter queue: list, replay
  backfill   enqueue objects already in the input bucket
  review     cut-outs the quality gate held: list, approve, reject
  budget     the spending cap: what is used and left
  resume     resume a paused pipeline
  rerender   make the variants again from the stored masters (no API call)
  events     follow the stack's completion events
  teardown   empty the stack's buckets (every version), then delete the stack
  profiles   check a profiles file (preview needs the developer install)

local development, needs the developer install (pip install 'cutout[dev]', or make venv)
  local      the whole stack on this machine: moto, the emulator, the real function
  emulator   the Aidge API emulator

exit codes, every command: 0 done, 1 a failure or a wrong file (the line says which), 2 usage
"""

# Modules only the developer install has (requirements-dev.txt): a command that needs one says so.
DEV_ONLY_MODULES = frozenset(
    {"moto", "scipy", "numpy", "cairosvg", "jinja2", "cryptography", "samtranslator"}
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cutout",
        usage="cutout [-h] [--version] COMMAND ...",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cutout {__version__}")
    # The commands are listed, grouped, in DESCRIPTION; argparse's own flat list would repeat them.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", help=argparse.SUPPRESS, prog="cutout")
    for add_parser in COMMANDS:
        add_parser(commands)
    plain_help(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the chosen command, return its exit code."""
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    args, unknown = parser.parse_known_args(words)
    if unknown:
        chosen_parser(parser, words).print_usage(sys.stderr)
        print(unknown_option_error(parser, words, unknown), file=sys.stderr)
        return 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in DEV_ONLY_MODULES:
            raise
        print(
            f"cutout {args.command} needs the developer install (it imports {error.name}): "
            "pip install 'cutout[dev]', or make venv in a clone",
            file=sys.stderr,
        )
        return 1


def run() -> NoReturn:
    """The console script: ``main()``, then exit at once with its code.

    The local stack leaves a large heap (moto, boto3, the SAM translator); the interpreter's final
    garbage collection of it takes seconds on a busy machine, after the command has said it
    stopped. Nothing needs collecting when the process is about to end, so it is skipped.
    """
    code = main()
    gc.freeze()
    sys.exit(code)
