"""Serving until interrupted: the shared part of ``cutout emulator`` and ``cutout local up``."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so a serving command can stop cleanly and exit 0."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop


class Interrupted(BaseException):
    """Raised by a signal inside ``StopRequest.interruptible()``: the step it cut short is abandoned."""


class StopRequest:
    """A stop asked for by a signal (or a test): ``requested`` on the first, ``forced`` on the second.

    A command that has work in flight lets it finish after the first signal and gives up waiting
    after the second; ``exit_code`` is the shell's convention, 128 + the signal's number (130 for
    Ctrl-C, 143 for SIGTERM). A step with nothing worth finishing (bringing a server up) runs inside
    ``interruptible()``, where a signal raises ``Interrupted`` at once instead.
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.forced = threading.Event()
        self.signal_number: int | None = None
        self.requested_at: float | None = None  # time.monotonic() of the first request
        self._interruptible = False

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """A block a signal cuts short (``Interrupted``); raises at once if a stop came before it."""
        if self.requested.is_set():
            raise Interrupted
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False

    def raise_if_interruptible(self) -> None:
        """In a signal handler: raise ``Interrupted`` once, inside an ``interruptible()`` block."""
        if self._interruptible:
            self._interruptible = False  # once: a second signal must not cut the clean-up short
            raise Interrupted

    def request(self, signal_number: int = signal.SIGINT) -> None:
        if self.requested.is_set():
            self.forced.set()
        else:
            self.signal_number = signal_number
            self.requested_at = time.monotonic()
            self.requested.set()

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signal_number or signal.SIGINT)


@contextlib.contextmanager
def stop_request_on_signals(
    on_signal: Callable[[StopRequest], None] | None = None,
) -> Iterator[StopRequest]:
    """A ``StopRequest`` fed by SIGINT and SIGTERM while the block runs (previous handlers restored).

    ``on_signal`` runs in the main thread after each signal (e.g. to print "stopping…" at once).
    """
    stop = StopRequest()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.request(signum)
        if on_signal is not None:
            on_signal(stop)
        stop.raise_if_interruptible()

    previous = {number: signal.signal(number, handle) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
