"""The retry decision: does a failed attempt go back to the queue, or is it recorded now?

The one place that decides (the conductor asks; nothing else does). A failure goes back to the
queue when it is transient, this is not the queue's last receive (the redrive policy would move
the message to the DLQ without a reason), and fewer than ``max_attempts`` attempts have really run
and failed (``AttemptCounter``; when it cannot count, the receive count stays the backstop).
Anything else is recorded on the DLQ with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from cutout.events import UploadedObject
from cutout.failures import FailureReason
from cutout.observability import logger
from cutout.redelivery.attempts import AttemptCounter
from cutout.redelivery.delivery import Delivery


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Decides, per failed attempt, between "back to the queue" and "record it now"."""

    attempts: AttemptCounter | None = None  # None: only the queue's receive count limits retries
    max_attempts: int = 3

    def goes_back_to_the_queue(
        self, failure: FailureReason, upload: UploadedObject, delivery: Delivery
    ) -> bool:
        """Whether ``failure`` is retried (the message returns to the queue); else it is recorded.

        Counts the attempt (for a transient failure short of the last receive): call it once per
        failed attempt.
        """
        if not failure.retryable or delivery.is_last_attempt:
            return False
        if self.attempts is None:
            return True
        try:
            ran = self.attempts.count_failed_attempt(_subject(upload))
        except Exception as error:  # noqa: BLE001  (uncounted: the receive count stays the backstop)
            logger.warning("could not count the attempt", error=f"{type(error).__name__}: {error}")
            return True
        return ran < self.max_attempts


def _subject(upload: UploadedObject) -> str:
    """What the attempts are counted on: the object version, and a DLQ replay on its own."""
    replay = upload.replay_marker
    return upload.identity + (f"#replay:{replay}" if replay else "")
