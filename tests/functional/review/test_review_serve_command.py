"""`cutout review serve` from the command line: loopback unless --host (then a warning), the address
printed once it can be used, errors as one sentence and an exit code."""

from __future__ import annotations

from typing import Any

import pytest

from cutout_tools.cli import main as cutout
from cutout_tools.review_page.app import ReviewTarget
from cutout_tools.unattended import command as review_command


class EmptyS3:
    """An output bucket with nothing held."""

    def get_paginator(self, _name: str) -> EmptyS3:
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return [{"Contents": []}]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """The stack resolved to an empty bucket; serving returns at once, recording (app, the socket's
    address). The socket is bound for those few milliseconds and never served on."""
    calls: list[tuple[Any, Any]] = []
    monkeypatch.setattr(
        review_command, "review_target", lambda _args: ReviewTarget(EmptyS3(), "out", None, "stack 'test'")
    )
    monkeypatch.setattr(
        "cutout_tools.review_page.serve.serve_forever",
        lambda app, sock: calls.append((app, sock.getsockname()[:2])),
    )
    return calls


def test_it_listens_on_loopback_by_default_and_prints_its_address(
    served: list[tuple[Any, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    # When `cutout review serve` runs with no --host
    code = cutout(["review", "serve", "--endpoint-url", "http://127.0.0.1:4599", "--port", "0"])
    # Then it served on 127.0.0.1, printed that address, warned of nothing, and stopped cleanly
    captured = capsys.readouterr()
    ((_, (host, port)),) = served
    assert code == 0
    assert host == "127.0.0.1"
    assert f"the review page of stack 'test' is at http://127.0.0.1:{port}/ (Ctrl-C stops)" in captured.out
    assert "warning" not in captured.err
    assert "cutout review serve: stopped" in captured.err


def test_another_host_is_served_with_a_warning(
    served: list[tuple[Any, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    # When `cutout review serve` is asked to listen on every interface
    code = cutout(
        ["review", "serve", "--endpoint-url", "http://127.0.0.1:4599", "--port", "0", "--host", "0.0.0.0"]  # noqa: S104
    )
    # Then it does, and says plainly that whoever reaches it can decide
    captured = capsys.readouterr()
    ((_, (host, _)),) = served
    assert code == 0
    assert host == "0.0.0.0"  # noqa: S104 - what was asked for
    assert "warning: listening on 0.0.0.0, not on loopback" in captured.err
    assert "approve or reject them (the page has no login)" in captured.err


def test_an_explicit_loopback_host_gets_no_warning(
    served: list[tuple[Any, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    # When --host names loopback
    code = cutout(
        ["review", "serve", "--endpoint-url", "http://127.0.0.1:4599", "--port", "0", "--host", "127.0.0.1"]
    )
    # Then there is nothing to warn of
    assert code == 0
    assert "warning" not in capsys.readouterr().err


def test_a_port_in_use_is_a_sentence(
    served: list[tuple[Any, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a port already taken
    from cutout_tools.review_page.serve import bind

    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        # When `cutout review serve` is asked for it
        code = cutout(["review", "serve", "--endpoint-url", "http://127.0.0.1:4599", "--port", str(port)])
    finally:
        taken.close()
    # Then it says so in one line, and exits 1 without serving
    assert code == 1
    assert f"cutout review serve: cannot listen on 127.0.0.1:{port}:" in capsys.readouterr().err
    assert served == []


@pytest.mark.parametrize("seconds", ["-1", "61"])
def test_an_undo_window_out_of_range_is_a_usage_error(
    served: list[tuple[Any, Any]], capsys: pytest.CaptureFixture[str], seconds: str
) -> None:
    # When the undo window is negative or over a minute
    code = cutout(["review", "serve", "--endpoint-url", "http://127.0.0.1:4599", "--undo-seconds", seconds])
    # Then it is refused with exit code 2
    assert code == 2
    assert "--undo-seconds must be between 0 and 60" in capsys.readouterr().err


def test_an_endpoint_that_does_not_answer_is_a_sentence_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no AWS endpoint on a loopback port (nothing listens on port 9)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    # When `cutout review serve` is pointed at it
    code = cutout(["review", "serve", "--endpoint-url", "http://127.0.0.1:9", "--port", "0"])
    # Then it says it cannot reach it, in one line, with exit code 1
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("cutout review serve: cannot reach http://127.0.0.1:9")
    assert "Traceback" not in err
