"""The assembled pipeline: what the wiring builds and the entry point runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from cutout.dead_letter import DeadLetterQueue
from cutout.pipeline.process_upload import UploadProcessor
from cutout.redelivery import MessageVisibility, RetrySchedule
from cutout.redelivery.concurrency import ConcurrencyGovernor
from cutout.settings import Settings
from cutout.spending import SpendingGuard
from cutout.spending.pause import PauseController


@dataclass(frozen=True)
class Pipeline:
    settings: Settings
    processor: UploadProcessor
    dead_letter_queue: DeadLetterQueue
    # Sets each failed message's next receive (the retry schedule); None: the queue's visibility timeout.
    message_visibility: MessageVisibility | None = None
    pauser: PauseController | None = None
    # The spending guard the paid calls reserve from (the resume event clears its pause): required,
    # so that it is the processor's own object (a new one would resume a guard nothing reserves from).
    spending: SpendingGuard = field(kw_only=True)
    # Lowers the event source's concurrency while the API throttles; None: never changed.
    governor: ConcurrencyGovernor | None = None

    def retry_schedule(self) -> RetrySchedule:
        return RetrySchedule(
            steps=self.settings.retry_backoff_seconds,
            rate_limit_steps=self.settings.rate_limit_backoff_seconds,
            jitter=self.settings.retry_jitter,
            visibility_timeout_seconds=self.settings.work_queue_visibility_timeout,
        )
