"""The invocation's deadline for AWS calls: no attempt starts that could not end before it.

botocore's defaults (60 s connect, 60 s read, retried) let one slow AWS call after the paid call
(the S3 PUT, the idempotency writes, a DLQ send) run past the Lambda timeout, and then the batch's
whole partial response is lost with it. Two bounds hold instead:

- every client has short per-attempt timeouts and few attempts (``cutout.wiring``);
- before each attempt (botocore's ``before-send`` event), ``InvocationDeadline`` checks that the
  attempt's worst case (connect + read timeout) still fits in the invocation's remaining time;
  if not it raises ``OutOfTime`` (retryable) instead of sending, and the record goes back to the
  queue while the invocation can still answer. The paid call's receipt is saved already, so its
  redelivery never pays again.

The deadline belongs to the invocation, not to the process: it is kept in a context variable that
the handler sets and the batch's record threads inherit (``cutout.pipeline.partial_batch`` runs
each record in a copy of the handler's context). On Lambda one invocation runs at a time per
execution environment, so that is the process's one deadline; the local stack runs several
invocations at once in one process, as several environments would, and each keeps its own (a
process-wide deadline let a newer batch extend an older one's, which then ran past its timeout).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from cutout.failures import FailureReason

# Kept back from the Lambda deadline for the handler to build and return its response.
RESPONSE_MARGIN_SECONDS = 1.0


class OutOfTime(FailureReason):
    """An AWS call's worst case would outlast the invocation: not sent; the record comes back later."""

    code = "invocation_out_of_time"
    retryable = True
    retry_after_seconds = 5  # nothing is wrong with the call itself: try again soon


class InvocationDeadline:
    """The current invocation's end, on ``clock``; ``None`` outside an invocation (no bound)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._deadline: ContextVar[float | None] = ContextVar(f"invocation_deadline_{id(self)}", default=None)

    def start(self, remaining_seconds: float | None) -> None:
        """A new invocation with ``remaining_seconds`` left (``None``: unbounded), in this context."""
        self._deadline.set(
            None
            if remaining_seconds is None
            else self._clock() + max(0.0, remaining_seconds - RESPONSE_MARGIN_SECONDS)
        )

    @contextmanager
    def holding_back(self, seconds: float) -> Iterator[None]:
        """Within the block (and the record threads it starts), the deadline is ``seconds`` earlier:
        time kept for what the invocation does after it (reporting the batch's failures)."""
        deadline = self._deadline.get()
        token = self._deadline.set(None if deadline is None else deadline - seconds)
        try:
            yield
        finally:
            self._deadline.reset(token)

    def remaining(self) -> float | None:
        deadline = self._deadline.get()
        return None if deadline is None else deadline - self._clock()

    def check(self, attempt_seconds: float, what: str = "an AWS call") -> None:
        """Raise ``OutOfTime`` unless an attempt taking up to ``attempt_seconds`` ends in time."""
        remaining = self.remaining()
        if remaining is not None and attempt_seconds > remaining:
            raise OutOfTime(
                f"{what} could take up to {attempt_seconds:.0f} s and only {max(0.0, remaining):.1f} s "
                "of the invocation remain: not sent, the record comes back shortly"
            )

    def attach(self, client: Any, attempt_seconds: float) -> None:
        """Check before every attempt (retries included) ``client`` sends."""

        def before_send(*, request: Any = None, event_name: str = "", **_: Any) -> None:
            self.check(attempt_seconds, what=event_name.removeprefix("before-send.") or "an AWS call")

        client.meta.events.register("before-send", before_send)


# The one the production wiring attaches to its clients and the handler starts per invocation.
invocation_deadline = InvocationDeadline()
