"""StopRequest: the first signal asks, the second forces; inside interruptible() a signal cuts short."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from cutout_tools.shutdown import Interrupted, StopRequest, stop_request_on_signals

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signal handlers need the main thread"
)


def test_the_first_signal_requests_a_stop_and_the_second_forces_it() -> None:
    # Given the handlers installed, with a callback
    seen: list[tuple[bool, bool]] = []
    with stop_request_on_signals(
        lambda stop: seen.append((stop.requested.is_set(), stop.forced.is_set()))
    ) as stop:
        # When SIGINT arrives twice
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
    # Then the first asked, the second forced, and the exit code is the shell's 130
    assert seen == [(True, False), (True, True)]
    assert stop.exit_code == 130
    assert stop.requested_at is not None


def test_sigterm_gives_exit_code_143_and_the_previous_handlers_come_back() -> None:
    # Given the handlers installed over whatever was there
    before = signal.getsignal(signal.SIGTERM)
    with stop_request_on_signals() as stop:
        # When SIGTERM arrives
        os.kill(os.getpid(), signal.SIGTERM)
    # Then the stop is requested with 143, and the old handler is back
    assert stop.requested.is_set()
    assert stop.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_signal_inside_interruptible_raises_once() -> None:
    # Given the handlers installed and a step that may be cut short
    with stop_request_on_signals() as stop:
        # When SIGINT arrives inside it
        with pytest.raises(Interrupted), stop.interruptible():
            os.kill(os.getpid(), signal.SIGINT)
        # Then it raised there; a second signal after it only forces the stop
        os.kill(os.getpid(), signal.SIGINT)
    assert stop.forced.is_set()


def test_interruptible_refuses_to_start_once_a_stop_was_requested() -> None:
    # Given a stop already requested
    stop = StopRequest()
    stop.request()
    # When a step that may be cut short begins
    # Then it does not begin
    with pytest.raises(Interrupted), stop.interruptible():
        pytest.fail("the block must not run")
