"""The docs' command-line reference (docs/cli.md) is the parser's: generated, and checked to be current."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cutout_tools.cli import build_parser
from cutout_tools.cli_reference import BEGIN, END, current_section, leaf_commands, render, replace_section

README = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def test_the_readme_reference_is_what_the_parser_says() -> None:
    # Given the README and the `cutout` parser
    document = README.read_text(encoding="utf-8")

    # When the reference is rendered from the parser
    expected = render(build_parser())

    # Then the README holds exactly that (after changing an option: run `make cli-reference`)
    assert current_section(document) == expected, (
        "docs/cli.md's CLI reference is stale: run `make cli-reference`"
    )


def test_every_option_of_every_command_is_in_the_reference() -> None:
    # Given every command that runs something, and its options
    parser = build_parser()
    commands = list(leaf_commands(parser))

    # When the reference is rendered
    text = render(parser)

    # Then each command has its section, and each option string and positional shows in it
    assert {" ".join(words) for words, _, _ in commands} >= {"emulator", "local up", "local run", "dlq list"}
    sections = text.split("#### `cutout ")
    for words, subparser, _ in commands:
        [section] = [part for part in sections if part.startswith(" ".join(words) + "`")]
        for action in subparser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            names = action.option_strings or [action.metavar or action.dest]
            assert any(f"`{name}" in section for name in names), (words, names)


def test_the_reference_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a narrow terminal and a wide one
    monkeypatch.setenv("COLUMNS", "40")
    narrow = render(build_parser())
    monkeypatch.setenv("COLUMNS", "300")
    # When the reference is rendered in each
    wide = render(build_parser())
    # Then it is the same text
    assert narrow == wide


def test_replacing_the_section_keeps_everything_around_it() -> None:
    # Given a document with the markers and text on both sides
    document = f"before\n{BEGIN}\nold\n{END}\nafter\n"
    # When the section is replaced
    updated = replace_section(document, "new\n")
    # Then only the text between the markers changed
    assert updated == f"before\n{BEGIN}\nnew\n{END}\nafter\n"
    assert current_section(updated) == "new\n"


def test_a_document_without_markers_is_refused() -> None:
    # Given a README without the markers
    # When the section is replaced
    # Then the error says where the markers go
    with pytest.raises(ValueError, match="markers are missing"):
        replace_section("no markers here\n", "text")
