"""Turning an invocation into outcomes: SQS batches (concurrently, with partial failures) and
direct S3 / EventBridge invocations.

A batch of 10 images should take about as long as its slowest image, not the sum: the records
are processed on a bounded thread pool (each mostly waits on the API), with the partial batch
response (``batchItemFailures``) of ``cutout.pipeline.partial_batch``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cutout.dead_letter import DeadLetterQueue
from cutout.dead_letter.record import unrecognised_message_record
from cutout.deadline import invocation_deadline
from cutout.events import UnrecognisedMessage, uploads_from_event, uploads_from_sqs_body
from cutout.observability import logger
from cutout.pipeline.outcome import Outcome
from cutout.pipeline.partial_batch import SqsMessage, process_sqs_batch
from cutout.pipeline.process_upload import UploadProcessor
from cutout.redelivery import MessageVisibility, Redelivery, RetrySchedule, is_rate_limit
from cutout.redelivery.concurrency import ConcurrencyGovernor
from cutout.redelivery.delivery import Delivery
from cutout.redelivery.schedule import is_in_progress
from cutout.spending import PipelinePaused
from cutout.spending.pause import PauseController

# Time kept back from the Lambda deadline for the output PUT, reporting and a clean return.
SAFETY_MARGIN_SECONDS = 10.0
# Time kept back from the records' AWS calls for the batch's report (the retry delays: a queue URL
# look-up and a ChangeMessageVisibilityBatch per ten failures, each bounded at 1 + 3 s).
REPORTING_SECONDS = 10.0


def deadline_for(context: LambdaContext | None, clock: Callable[[], float] = time.monotonic) -> float:
    """An absolute ``clock()`` deadline: the invocation's remaining time less a safety margin.

    Also starts the AWS calls' own deadline (``cutout.deadline``): the invocation's end itself.
    """
    remaining_ms = context.get_remaining_time_in_millis() if context is not None else 900_000
    invocation_deadline.start(remaining_ms / 1000.0 if context is not None else None)
    return clock() + max(1.0, remaining_ms / 1000.0 - SAFETY_MARGIN_SECONDS)


def handle_sqs_batch(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    processor: UploadProcessor,
    dead_letter_queue: DeadLetterQueue,
    max_receive_count: int,
    max_workers: int,
    retry_schedule: RetrySchedule | None = None,
    visibility: MessageVisibility | None = None,
    pauser: PauseController | None = None,
    governor: ConcurrencyGovernor | None = None,
) -> dict[str, Any]:
    """The deployed path: an SQS batch of S3 notifications (or DLQ records being replayed).

    With a ``visibility`` port, each reported failure's next receive is set by ``retry_schedule``
    (as part of reporting the batch's failures); without one it comes back after the queue's
    visibility timeout.
    """
    deadline = deadline_for(context)
    processor.register_lambda_context(context)
    failures: dict[str, tuple[SqsMessage, BaseException]] = {}
    failures_lock = threading.Lock()
    throttled: set[str] = set()  # records the API's rate limit held back (reported or sent again)

    def record_handler(record: SqsMessage) -> list[dict[str, Any]]:
        try:
            return handle_record(record)
        except BaseException as error:
            with failures_lock:
                failures[record.message_id] = (record, error)
            raise

    def handle_record(record: SqsMessage) -> list[dict[str, Any]]:
        delivery = Delivery(
            receive_count=record.receive_count,
            max_receive_count=max_receive_count,
            first_received_at=record.first_received_at,
            can_requeue=pauser is not None and pauser.can_requeue,
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
                pauser.pause_for(paused)  # never raises: a failed pause still waits (issue 24)
                if delivery.is_last_attempt and pauser.requeue(record.body):
                    logger.info(
                        "paused on its last receive: sent again as a new message", reason=paused.reason.code
                    )
                    return []
            raise
        except Exception as error:
            if not (is_rate_limit(error) or is_in_progress(error)):
                raise
            if is_rate_limit(error):
                with failures_lock:
                    throttled.add(record.message_id)
            # "Not now" on the last receive (the API's rate limit, or the upload under way in another
            # invocation): the waiting goes on in a new message; SQS's redrive would move it unrecorded.
            last = delivery.can_requeue and delivery.is_last_attempt
            if last and pauser is not None and pauser.requeue(record.body):
                logger.info(
                    "not now on its last receive: sent again as a new message", reason=type(error).__name__
                )
                return []
            raise

    # The records' AWS calls stop early enough for the batch's report: a failure whose retry delay
    # cannot be set waits out the whole visibility timeout (17 min with the defaults).
    with invocation_deadline.holding_back(REPORTING_SECONDS):
        response = process_sqs_batch(event, record_handler, max_workers=max_workers)
    if visibility is not None:
        reported = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        schedule = retry_schedule or RetrySchedule()
        visibility.redeliver_after(
            [
                _redelivery(record, None if isinstance(error, PipelinePaused) else error, schedule)
                for message_id, (record, error) in failures.items()
                if message_id in reported
            ]
        )
    if governor is not None:  # after the report: the API's answer to this batch moves the concurrency
        governor.after_batch(
            rate_limited=len(throttled),
            answered=len(event.get("Records") or []) - len(failures.keys() | throttled),
        )
    return dict(response)


def _redelivery(record: SqsMessage, error: BaseException | None, schedule: RetrySchedule) -> Redelivery:
    """The message's next receive. One that met a pause (``error`` None) is not failing: it waits
    for the mapping to be enabled again, and comes back at the schedule's first step whatever its
    receive count, so it is received soon after the pipeline resumes, not a long backoff later."""
    receive_count = record.receive_count if error is not None else 1
    delay = schedule.delay_for(receive_count, error)
    logger.info(
        "failed message comes back later",
        message_id=record.message_id,
        receive_count=receive_count,
        retry_in_seconds=delay,
        reason="paused" if error is None else str(getattr(error, "code", "") or type(error).__name__),
    )
    return Redelivery(
        queue_arn=record.queue_arn,
        receipt_handle=record.receipt_handle,
        delay_seconds=delay,
        message_id=record.message_id,
    )


def handle_direct_event(
    event: dict[str, Any], context: LambdaContext | None, processor: UploadProcessor
) -> dict[str, Any]:
    """A direct S3 notification or EventBridge event (``sam local invoke``, S3 → Lambda wiring).

    There is no queue to come back through, so every attempt is the last: transient failures are
    recorded on the DLQ too (retryable, so ``cutout dlq replay`` can send them again).
    """
    deadline = deadline_for(context)
    if context is not None:
        processor.register_lambda_context(context)
    parsed = uploads_from_event(event)
    outcomes: list[Outcome] = [processor.process(upload, Delivery(), deadline) for upload in parsed.uploads]
    return {
        "outcomes": [outcome.to_dict() for outcome in outcomes],
        "ignored": [{"key": item.key, "reason": item.reason} for item in parsed.ignored],
    }
