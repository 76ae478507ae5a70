"""The retry schedule: how long a failed message stays invisible before its next receive.

Exponential steps by receive count (30 s, 2 min, 8 min by default), longer steps for a rate
limit (the API asked us to slow down), "full-range" jitter of ±``jitter`` so that a burst of
failures does not come back as a burst, and a cap below the work queue's visibility timeout
(a longer delay would be no retry schedule at all: the default timeout already does that). A
failure that names its own delay (``retry_after_seconds``, e.g. "not enough time left for a paid
call") gets that one, jittered and capped alike.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from cutout.failures import FailureReason

# SQS's own bounds for ChangeMessageVisibility: 0 s to 12 hours.
SQS_MAX_VISIBILITY_SECONDS = 12 * 3600
# Room kept below the queue's visibility timeout (at most 30 s, a tenth of short timeouts).
CAP_MARGIN_SECONDS = 30


def is_rate_limit(error: BaseException) -> bool:
    """Whether ``error`` says "too many calls, slow down" (any engine's ``*_rate_limited`` code)."""
    code = str(getattr(error, "code", "") or "")
    return bool(getattr(error, "rate_limited", False)) or code.endswith("rate_limited")


def is_in_progress(error: BaseException) -> bool:
    """Whether ``error`` says the same upload is being decided in another invocation right now."""
    return isinstance(error, IdempotencyAlreadyInProgressError)


class RateLimitedTooLong(FailureReason):
    """The API's rate limit held an upload back longer than the operator's patience: recorded."""

    code = "rate_limited_too_long"
    retryable = True  # `cutout dlq replay` sends it again once the limit allows

    @classmethod
    def after(cls, error: FailureReason, patience_seconds: int) -> RateLimitedTooLong:
        hours = patience_seconds / 3600
        return cls(
            f"The API's rate limit held this upload back for more than {hours:g} h "
            f"(RateLimitPatienceSeconds); the last answer was {error.code}: {error.message} "
            "Replay it with `cutout dlq replay` once the account's limit allows.",
            request_id=error.request_id,
        )


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Delays in seconds by receive count: ``steps[0]`` after the 1st receive, then the next…"""

    steps: Sequence[int] = (30, 120, 480)
    rate_limit_steps: Sequence[int] = (120, 480, 900)
    jitter: float = 0.2
    visibility_timeout_seconds: int = 1020
    # The OS's generator: SnapStart-safe (a seeded one would draw alike in every restored environment).
    rng: random.Random = field(default_factory=random.SystemRandom, compare=False)

    def __post_init__(self) -> None:
        if not self.steps or not self.rate_limit_steps:
            raise ValueError("a retry schedule needs at least one step of each kind")
        if any(step < 0 for step in (*self.steps, *self.rate_limit_steps)):
            raise ValueError("retry delays cannot be negative")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError("jitter is a fraction in [0, 1)")

    @property
    def cap_seconds(self) -> int:
        """The longest delay: below the queue's visibility timeout, within SQS's 12 hours."""
        timeout = self.visibility_timeout_seconds
        margin = max(1, min(CAP_MARGIN_SECONDS, timeout // 10))
        return max(0, min(SQS_MAX_VISIBILITY_SECONDS, timeout - margin))

    def delay_for(self, receive_count: int, error: BaseException | None = None) -> int:
        """Seconds until the message's next receive, after its ``receive_count``-th receive failed."""
        asked = getattr(error, "retry_after_seconds", None) if error is not None else None
        if isinstance(asked, int | float) and asked >= 0:
            base = float(asked)
        elif error is not None and is_in_progress(error):
            # Under way in another invocation, or its lock outlived a crash: the lock ends with that
            # invocation, within one function timeout, which the visibility timeout is 6 x (at least).
            base = float(self.visibility_timeout_seconds // 6)
        else:
            steps = self.rate_limit_steps if error is not None and is_rate_limit(error) else self.steps
            base = float(steps[min(max(receive_count, 1), len(steps)) - 1])
        spread = base * self.jitter
        jittered = base + self.rng.uniform(-spread, spread) if spread else base
        return round(min(max(0.0, jittered), float(self.cap_seconds)))
