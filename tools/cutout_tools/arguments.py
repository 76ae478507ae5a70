"""What every ``cutout`` command's arguments share: checked values, plain help, and suggestions.

- ``port`` and ``positive_seconds``: argparse types that refuse ``--port 70000`` or a negative
  ``--timeout-seconds`` with argparse's own usage line and a sentence (exit 2), not a traceback.
- ``plain_help``: the help texts are written once, as docstrings, in reST (````code````); --help
  shows Markdown-style single backticks instead.
- ``unknown_option_error``: a mistyped option names the command it was given to and the closest
  option that command has (``--stak-name``: did you mean ``--stack-name``?); argparse only does
  that from Python 3.14 (``suggest_on_error``), and only for choices.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence

MAX_PORT = 65535


def port(text: str) -> int:
    """A TCP port: 0 (pick a free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"a port is 0 (pick a free one) to {MAX_PORT}, got {value}")
    return value


def positive_seconds(text: str) -> float:
    """A duration in seconds, more than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def _plain(text: str | None) -> str | None:
    return None if text is None else text.replace("``", "`")


def plain_help(parser: argparse.ArgumentParser) -> None:
    """Replace reST's double backticks by single ones in every help text of ``parser``, recursively."""
    parser.description = _plain(parser.description)
    parser.epilog = _plain(parser.epilog)
    for action in parser._actions:  # argparse has no public API for its actions
        if isinstance(action.help, str):
            action.help = _plain(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = _plain(choice.help)
            for subparser in action.choices.values():
                plain_help(subparser)


def chosen_parser(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.ArgumentParser:
    """The (sub)parser the words of ``argv`` lead to: ``["dlq", "list", "--x"]`` → ``cutout dlq list``."""
    current = parser
    for word in argv:
        if word.startswith("-"):
            continue
        subparsers = [action for action in current._actions if isinstance(action, argparse._SubParsersAction)]
        if not subparsers or word not in subparsers[0].choices:
            break
        current = subparsers[0].choices[word]
    return current


def unknown_option_error(parser: argparse.ArgumentParser, argv: Sequence[str], unknown: Sequence[str]) -> str:
    """One line for the options in ``unknown``: the command they were given to, and a suggestion."""
    target = chosen_parser(parser, argv)
    known = [option for action in target._actions for option in action.option_strings]
    parts = []
    after_option = False  # a word right after an unknown option is taken as its value
    for word in unknown:
        name = word.split("=", 1)[0]
        if not name.startswith("-"):
            if not after_option:
                parts.append(f"unexpected argument {word!r}")
            after_option = False
            continue
        after_option = "=" not in word
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        parts.append(f"no option {name}" + (f": did you mean {close[0]}?" if close else ""))
    return f"{target.prog}: error: " + "; ".join(parts) + f" (see {target.prog} --help)"
