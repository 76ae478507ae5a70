"""No AWS call attempt starts that could not end before the invocation does."""

from __future__ import annotations

import pytest

from cutout.deadline import RESPONSE_MARGIN_SECONDS, InvocationDeadline, OutOfTime
from cutout.wiring import _BOTO_CONFIG, _S3_CONFIG


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_attempt_that_fits_is_allowed_and_one_that_does_not_is_refused() -> None:
    # Given an invocation with 10 s left
    clock = Clock()
    deadline = InvocationDeadline(clock)
    deadline.start(10.0)
    # When a 4 s attempt is checked at once, and again 6 s later
    deadline.check(4.0)
    clock.now += 6.0
    # Then the first passes, the second is refused as a retryable failure, naming the call
    with pytest.raises(OutOfTime) as raised:
        deadline.check(4.0, what="s3.PutObject")
    assert raised.value.retryable
    assert "s3.PutObject" in raised.value.message
    assert deadline.remaining() == pytest.approx(4.0 - RESPONSE_MARGIN_SECONDS)


def test_outside_an_invocation_nothing_is_refused() -> None:
    # Given no invocation (a direct call without a context)
    deadline = InvocationDeadline(Clock())
    deadline.start(None)
    # When a long attempt is checked, Then it passes
    deadline.check(10_000.0)
    assert deadline.remaining() is None


def test_the_production_clients_have_short_timeouts_and_few_attempts() -> None:
    # Given the production clients' configurations
    configs = {"aws": _BOTO_CONFIG, "s3": _S3_CONFIG}
    # When their worst case per attempt and their attempts are read
    worst = {name: config.connect_timeout + config.read_timeout for name, config in configs.items()}
    attempts = {name: config.retries["total_max_attempts"] for name, config in configs.items()}
    # Then no attempt outlasts 8 s (botocore's default is 120 s) and no call makes more than 3
    assert worst == {"aws": 4.0, "s3": 8.0}
    assert attempts == {"aws": 3, "s3": 3}
    assert _S3_CONFIG.signature_version == "s3v4"
