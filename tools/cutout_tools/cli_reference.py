"""The docs' command-line reference (``docs/cli.md``), generated from the ``cutout`` argparse parser.

    python -m cutout_tools.cli_reference docs/cli.md           # rewrite the section (``make cli-reference``)
    python -m cutout_tools.cli_reference --check docs/cli.md   # exit 1 if it is out of date

The section sits between ``BEGIN`` and ``END`` markers in the page; everything outside them is
left as it is. The parser is the single source: a new option shows up in the page by running
the command, and a test fails until it is run. The text is built from the parser's own fields
(not from ``format_help()``, whose layout changes between Python versions and terminal widths), so
the output is the same on every machine.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from cutout_tools.cli import build_parser

BEGIN = (
    "<!-- cli-reference:begin (generated from the parser by `make cli-reference`; "
    "edit the --help texts, not this) -->"
)
END = "<!-- cli-reference:end -->"
PROGRAM = ".venv/bin/cutout"


def leaf_commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """``(words, parser, one-line help)`` of every command that runs something, in --help order."""
    for action in parser._actions:  # argparse has no public API for its actions
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, subparser in action.choices.items():
            words = (*path, name)
            children = list(leaf_commands(subparser, words))
            if children:
                yield from children
            else:
                yield words, subparser, helps.get(name, "")


def _arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        action
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and action.help != argparse.SUPPRESS
    ]


def _value_name(action: argparse.Action) -> str:
    if action.metavar is not None:
        return action.metavar if isinstance(action.metavar, str) else " ".join(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(str(choice) for choice in action.choices) + "}"
    return action.dest.upper() if action.option_strings else action.dest


def _usage(action: argparse.Action) -> str:
    """``--out OUT``, ``--json``, ``--fault CODE:PROBABILITY ...``, or a positional's name."""
    if not action.option_strings:
        return _value_name(action)
    option = max(action.option_strings, key=len)  # the long form
    if action.nargs == 0:
        return option
    value = _value_name(action)
    if action.nargs in {"+", "*"}:
        value += " ..."
    elif action.nargs == "?":
        value = f"[{value}]"
    return f"{option} {value}"


def _help(action: argparse.Action, program: str) -> str:
    """The help text with argparse's ``%(default)s``-style fields filled in, on one line."""
    text = action.help or ""
    if "%" in text:
        fields = {name: value for name, value in vars(action).items() if value is not argparse.SUPPRESS}
        if fields.get("choices") is not None:
            fields["choices"] = ", ".join(str(choice) for choice in fields["choices"])
        text = text % {**fields, "prog": program}
    if action.required and action.option_strings:
        text = f"required: {text}"
    return " ".join(text.split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _synopsis(words: Sequence[str], parser: argparse.ArgumentParser) -> str:
    positionals = [_value_name(action) for action in _arguments(parser) if not action.option_strings]
    has_options = any(action.option_strings for action in _arguments(parser))
    return " ".join([PROGRAM, *words, *(["[options]"] if has_options else []), *positionals])


def render(parser: argparse.ArgumentParser | None = None) -> str:
    """The reference in Markdown: a table of the commands, then one section per command."""
    parser = parser or build_parser()
    commands = list(leaf_commands(parser))
    lines = [
        "Every command and option, as `--help` shows them (`.venv/bin/cutout COMMAND --help` has the same).",
        "",
        "| command | what it does |",
        "| --- | --- |",
        *(
            f"| [`cutout {' '.join(words)}`](#cutout-{'-'.join(words)}) | {_cell(text)} |"
            for words, _, text in commands
        ),
    ]
    for words, subparser, text in commands:
        lines += ["", f"#### `cutout {' '.join(words)}`", ""]
        lines += [f"`{_synopsis(words, subparser)}`", ""]
        description = " ".join((subparser.description or text).split())
        if description:
            lines += [description, ""]
        arguments = _arguments(subparser)
        if arguments:
            lines += ["| argument | meaning |", "| --- | --- |"]
            lines += [
                f"| `{_cell(_usage(action))}` | {_cell(_help(action, subparser.prog))} |"
                for action in arguments
            ]
    return "\n".join(lines) + "\n"


def replace_section(document: str, section: str) -> str:
    """``document`` with the text between the markers replaced by ``section``."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers are missing: put {BEGIN!r} and {END!r} where the reference goes")
    return document[: start + len(BEGIN)] + "\n" + section + document[end:]


def current_section(document: str) -> str:
    """The text between the markers, as ``render`` would write it."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError("the cli-reference markers are missing")
    return document[start + len(BEGIN) + 1 : end]


def main(argv: Sequence[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(
        prog="python -m cutout_tools.cli_reference",
        description="Write (or --check) the command-line reference section of docs/cli.md.",
    )
    arguments.add_argument("readme", type=Path, nargs="?", default=Path("docs/cli.md"))
    arguments.add_argument("--check", action="store_true", help="exit 1 if the section is out of date")
    args = arguments.parse_args(argv)
    document = args.readme.read_text(encoding="utf-8")
    updated = replace_section(document, render())
    if args.check:
        if updated != document:
            print(
                f"{args.readme}: the CLI reference is out of date; run `make cli-reference`", file=sys.stderr
            )
            return 1
        return 0
    if updated != document:
        args.readme.write_text(updated, encoding="utf-8")
        print(f"{args.readme}: CLI reference updated")
    else:
        print(f"{args.readme}: CLI reference already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
