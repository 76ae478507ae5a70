"""The retry decision: does a failed attempt go back to the queue, or is it recorded now?

The one place that decides (the conductor asks; nothing else does). A failure goes back to the
queue when it is transient, this is not the queue's last receive (the redrive policy would move
the message to the DLQ without a reason), and fewer than ``max_attempts`` attempts have really run
and failed (``AttemptCounter``; when it cannot count, the receive count stays the backstop).
Anything else is recorded on the DLQ with its reason.

The API's rate limit is neither an attempt nor final (rule 6: we wait, issue 22): it uses up no
attempt, and on the last receive the batch sends the message again as a new one. It is final only
once it has held the upload back longer than ``rate_limit_patience_seconds``, or where it cannot
wait (a direct invocation, or a last receive that cannot be sent again); then it is recorded as
``RateLimitedTooLong`` (``final_failure``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cutout.events import UploadedObject
from cutout.failures import FailureReason
from cutout.observability import logger
from cutout.redelivery.attempts import AttemptCounter
from cutout.redelivery.delivery import Delivery
from cutout.redelivery.schedule import RateLimitedTooLong, is_rate_limit


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Decides, per failed attempt, between "back to the queue" and "record it now"."""

    attempts: AttemptCounter | None = None  # None: only the queue's receive count limits retries
    max_attempts: int = 3
    # How long the API's rate limit may hold an upload back before it is recorded (issue 22).
    rate_limit_patience_seconds: int = 86_400
    clock: Callable[[], float] = field(default=time.time)

    def goes_back_to_the_queue(
        self, failure: FailureReason, upload: UploadedObject, delivery: Delivery
    ) -> bool:
        """Whether ``failure`` is retried (the message returns to the queue); else it is recorded.

        Counts the attempt (for a transient failure short of the last receive): call it once per
        failed attempt.
        """
        if not failure.retryable:
            return False
        if waits_out_rate_limit(delivery, failure):
            return not self._rate_limit_outlived(upload)
        if delivery.is_last_attempt:
            return False
        if self.attempts is None:
            return True
        try:
            ran = self.attempts.count_failed_attempt(attempt_subject(upload))
        except Exception as error:  # noqa: BLE001  (uncounted: the receive count stays the backstop)
            logger.warning("could not count the attempt", error=f"{type(error).__name__}: {error}")
            return True
        return ran < self.max_attempts

    def final_failure(self, failure: FailureReason, delivery: Delivery) -> FailureReason:
        """What a failure that does not go back to the queue is recorded as: a rate limit that
        could wait has outlived the patience (``RateLimitedTooLong``); anything else as it is."""
        if waits_out_rate_limit(delivery, failure):
            return RateLimitedTooLong.after(failure, self.rate_limit_patience_seconds)
        return failure

    def _rate_limit_outlived(self, upload: UploadedObject) -> bool:
        if self.attempts is None:
            return False
        try:
            since = self.attempts.rate_limited_since(attempt_subject(upload))
        except Exception as error:  # noqa: BLE001  (unknown: wait; the patience is checked next time)
            logger.warning("could not note the rate limit", error=f"{type(error).__name__}: {error}")
            return False
        return self.clock() - since >= self.rate_limit_patience_seconds


def waits_out_rate_limit(delivery: Delivery, failure: FailureReason) -> bool:
    """A rate limit waits in the queue, unless this is a last receive that cannot be sent again."""
    return is_rate_limit(failure) and (not delivery.is_last_attempt or delivery.can_requeue)


def attempt_subject(upload: UploadedObject) -> str:
    """What the attempts and the dead-letter checkpoint are counted on: the object version, and a
    DLQ replay on its own."""
    replay = upload.replay_marker
    return upload.identity + (f"#replay:{replay}" if replay else "")
