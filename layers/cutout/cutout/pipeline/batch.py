"""Turning an invocation into outcomes: SQS batches (concurrently, with partial failures) and
direct S3 / EventBridge invocations.

A batch of 10 images should take about as long as its slowest image, not the sum: the records
are processed on a bounded thread pool (each mostly waits on the API). Powertools' batch
processor does the bookkeeping of partial failures (``batchItemFailures``); only the loop is ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cutout.budget import PipelinePaused
from cutout.budget.pause import PauseController
from cutout.dead_letter import DeadLetterQueue
from cutout.dead_letter.record import unrecognised_message_record
from cutout.events import UnrecognisedMessage, uploads_from_event, uploads_from_sqs_body
from cutout.observability import logger
from cutout.pipeline.outcome import Delivery, Outcome
from cutout.pipeline.process_upload import UploadProcessor

# Time kept back from the Lambda deadline for the output PUT, reporting and a clean return.
SAFETY_MARGIN_SECONDS = 10.0


class ConcurrentBatchProcessor(BatchProcessor):
    """Powertools' ``BatchProcessor``, with the records of one batch processed concurrently."""

    def __init__(self, max_workers: int) -> None:
        # A batch whose records all failed is reported like any other partial failure (every item
        # listed) instead of raising: the queue redelivers the same either way, without an error.
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.max_workers = max_workers

    def process(self) -> list[tuple[Any, ...]]:
        if len(self.records) <= 1:
            return super().process()
        workers = min(self.max_workers, len(self.records))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="record") as pool:
            return list(pool.map(self._process_record, self.records))


def deadline_for(context: LambdaContext | None, clock: Callable[[], float] = time.monotonic) -> float:
    """An absolute ``clock()`` deadline: the invocation's remaining time less a safety margin."""
    remaining_ms = context.get_remaining_time_in_millis() if context is not None else 900_000
    return clock() + max(1.0, remaining_ms / 1000.0 - SAFETY_MARGIN_SECONDS)


def handle_sqs_batch(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    processor: UploadProcessor,
    dead_letter_queue: DeadLetterQueue,
    max_receive_count: int,
    max_workers: int,
    pauser: PauseController | None = None,
) -> dict[str, Any]:
    """The deployed path: an SQS batch of S3 notifications (or DLQ records being replayed)."""
    deadline = deadline_for(context)
    processor.idempotency_config.register_lambda_context(context)

    def record_handler(record: SQSRecord) -> list[dict[str, Any]]:
        delivery = Delivery(
            receive_count=int(record.attributes.approximate_receive_count or 1),
            max_receive_count=max_receive_count,
            first_received_at=record.attributes.approximate_first_receive_timestamp,
        )
        try:
            parsed = uploads_from_sqs_body(record.body)
        except UnrecognisedMessage as error:
            # Not ours and never will be: record it with its reason instead of redelivering it.
            dead_letter_queue.send(unrecognised_message_record(record.body, error, delivery))
            logger.warning("unrecognised message recorded on the DLQ", message_id=record.message_id)
            return []
        for ignored in parsed.ignored:
            logger.info("ignored", reason=ignored.reason, key=ignored.key, message_id=record.message_id)
        try:
            return [processor.process(upload, delivery, deadline).to_dict() for upload in parsed.uploads]
        except PipelinePaused as paused:  # we cannot pay: stop receiving, leave the message in the queue
            if pauser is not None:
                pauser.pause(paused.reason)
                if delivery.is_last_attempt and pauser.requeue(record.body):
                    logger.info(
                        "paused on its last receive: sent again as a new message", reason=paused.reason.code
                    )
                    return []
            raise

    batch = ConcurrentBatchProcessor(max_workers=max_workers)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=batch, context=context
    )
    return dict(response)


def handle_direct_event(
    event: dict[str, Any], context: LambdaContext | None, processor: UploadProcessor
) -> dict[str, Any]:
    """A direct S3 notification or EventBridge event (``sam local invoke``, S3 → Lambda wiring).

    There is no queue to come back through, so every attempt is the last: transient failures are
    recorded on the DLQ too (retryable, so ``cutout dlq replay`` can send them again).
    """
    deadline = deadline_for(context)
    if context is not None:
        processor.idempotency_config.register_lambda_context(context)
    parsed = uploads_from_event(event)
    outcomes: list[Outcome] = [processor.process(upload, Delivery(), deadline) for upload in parsed.uploads]
    return {
        "outcomes": [outcome.to_dict() for outcome in outcomes],
        "ignored": [{"key": item.key, "reason": item.reason} for item in parsed.ignored],
    }
