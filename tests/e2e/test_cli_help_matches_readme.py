"""The command-line reference (docs/cli.md, once the README's) agrees with what `cutout ... --help`
prints, command by command.

The reference is generated from the parser (`make cli-reference`); this asks the installed
console script itself, as a user would, so a stale README or a parser the generator misreads fails.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from cutout_tools.cli import build_parser
from cutout_tools.cli_reference import current_section, leaf_commands
from tests.e2e.support import cutout_command

pytestmark = pytest.mark.slow  # one console-script start per command

README = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
COMMANDS = [list(words) for words, _, _ in leaf_commands(build_parser())]  # every command, as registered
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def _readme_section(words: list[str]) -> str:
    reference = current_section(README.read_text(encoding="utf-8"))
    heading = f"#### `cutout {' '.join(words)}`"
    assert heading in reference, f"the README has no section {heading}: run `make cli-reference`"
    return reference.split(heading, 1)[1].split("#### `cutout ", 1)[0]


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(words) for words in COMMANDS])
def test_every_option_in_help_is_in_the_readme_and_back(words: list[str]) -> None:
    # Given what the console script prints for the command's --help
    shown = subprocess.run(
        cutout_command(*words, "--help"), capture_output=True, text=True, timeout=120, check=True
    ).stdout
    options_section = shown.split("options:", 1)[-1]

    # When its options are compared with the README's section of that command
    in_help = set(OPTION.findall(options_section)) - {"--help"}
    section = _readme_section(words)
    in_readme = {option for option in OPTION.findall(section) if f"| `{option}" in section}

    # Then the two list the same options (a command may have none but its positionals)
    assert "usage: cutout " + " ".join(words) in shown
    assert in_help == in_readme, "README.md and --help disagree: run `make cli-reference`"
