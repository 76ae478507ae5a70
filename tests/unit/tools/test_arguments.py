"""The ``cutout`` command line's shared arguments: checked ports and durations, plain help, and a
suggestion for a mistyped option (issue 26)."""

from __future__ import annotations

import argparse

import pytest

from cutout_tools.arguments import port, positive_seconds
from cutout_tools.cli import build_parser, main
from cutout_tools.cli_reference import leaf_commands
from cutout_tools.operations.command import WORK_QUEUE_RETENTION_DAYS
from cutout_tools.template import load_template


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("1", 1), ("65535", 65535)])
def test_a_port_from_0_to_65535_is_taken(text: str, value: int) -> None:
    assert port(text) == value


@pytest.mark.parametrize("text", ["-1", "65536", "70000", "http", "4.5"])
def test_any_other_port_is_refused_with_a_sentence(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        port(text)


@pytest.mark.parametrize(("text", "value"), [("0.001", 0.001), ("600", 600.0)])
def test_a_positive_duration_is_taken(text: str, value: float) -> None:
    assert positive_seconds(text) == value


@pytest.mark.parametrize("text", ["0", "-5", "-0.1", "inf", "nan", "soon"])
def test_a_duration_that_is_not_positive_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        positive_seconds(text)


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (
            ["local", "up", "--port", "70000"],
            "argument --port: a port is 0 (pick a free one) to 65535, got 70000",
        ),
        (
            ["local", "run", "samples", "--timeout-seconds", "-5"],
            "argument --timeout-seconds: expected a positive number of seconds, got -5",
        ),
        (["emulator", "--key-name", "k", "--timeout-seconds", "0"], "expected a positive number of seconds"),
    ],
)
def test_a_bad_port_or_timeout_exits_2_with_usage_and_no_traceback(
    argv: list[str], sentence: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the command is given a value out of range
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    # Then argparse's usage line and one sentence, exit code 2
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith(f"usage: cutout {argv[0]}")
    assert sentence in err
    assert "Traceback" not in err


def test_a_mistyped_option_is_named_with_its_command_and_the_closest_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When an option of `cutout dlq list` is mistyped (with its value), and one is unlike any
    code = main(["dlq", "list", "--stak-name", "shop", "--zzz"])
    # Then the command's own usage, the closest option, and exit code 2
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("usage: cutout dlq list")
    assert err.strip().splitlines()[-1] == (
        "cutout dlq list: error: no option --stak-name: did you mean --stack-name?; no option --zzz "
        "(see cutout dlq list --help)"
    )


def test_no_help_shows_rest_double_backticks() -> None:
    # Given every command's --help
    parser = build_parser()
    helps = [parser.format_help()] + [sub.format_help() for _, sub, _ in leaf_commands(parser)]
    # Then none shows reST's ``code`` (single backticks, as in the docs)
    assert [text for text in helps if "``" in text] == []
    assert any("`cutout rerender`" in text for text in helps)


def test_the_retention_the_help_states_is_the_templates() -> None:
    # Given the work queue of template.yaml
    queue = load_template()["Resources"]["WorkQueue"]["Properties"]
    # Then the backfill help's retention is its own, in days
    assert queue["MessageRetentionPeriod"] == WORK_QUEUE_RETENTION_DAYS * 86400
    backfill = next(sub for words, sub, _ in leaf_commands(build_parser()) if words == ("backfill",))
    assert "14-day retention" in " ".join(backfill.format_help().split())
