"""The "record the failure" step: the DLQ record (``cutout.events.FailureRecord``) of a failed upload."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from cutout.dead_letter.queue import DeadLetterQueue
from cutout.engine.port import CutoutReceipt
from cutout.events import FailureRecord, PaidReceipt, UnrecognisedMessage, UploadedObject
from cutout.failures import FailureReason
from cutout.observability import PipelineMetrics, logger
from cutout.redelivery.delivery import Delivery
from cutout.validation import ImageRejected

MAX_ORIGINAL_BODY_CHARS = 4096


def _from_epoch_ms(value: str | None) -> datetime | None:
    if not value or not value.isdigit():
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def failure_record(
    upload: UploadedObject,
    failure: FailureReason,
    delivery: Delivery,
    engine: str,
    *,
    paid: bool | None = False,
    receipt: PaidReceipt | None = None,
) -> str:
    """The JSON body of the DLQ message for ``upload`` (``paid``/``receipt``: what it cost)."""
    return FailureRecord.for_upload(
        upload,
        failure.to_dict(),
        attempts=delivery.receive_count,
        failed_at=datetime.now(UTC),
        first_received_at=_from_epoch_ms(delivery.first_received_at),
        engine=engine,
        paid=paid,
        receipt=receipt,
    ).to_json()


def unrecognised_message_record(body: str, error: UnrecognisedMessage, delivery: Delivery) -> str:
    """A record for a message that names no object: what arrived is kept (truncated) for a person."""
    return FailureRecord.for_upload(
        None,
        error.to_dict(),
        attempts=delivery.receive_count,
        failed_at=datetime.now(UTC),
        first_received_at=_from_epoch_ms(delivery.first_received_at),
        original_body=body[:MAX_ORIGINAL_BODY_CHARS],
    ).to_json()


class DeadLetters:
    """The "record the failure" step: the DLQ record that says why, its metric and its log line."""

    def __init__(
        self, queue: DeadLetterQueue, metrics: PipelineMetrics, engine_name: Callable[[], str]
    ) -> None:
        self._queue = queue
        self._metrics = metrics
        self._engine_name = engine_name

    def record(
        self,
        upload: UploadedObject,
        failure: FailureReason,
        delivery: Delivery,
        receipt: CutoutReceipt | None = None,
    ) -> None:
        """Send ``upload``'s DLQ record: ``receipt`` when the call was paid (never the signed URL)."""
        paid: bool | None = True if receipt is not None else getattr(failure, "paid", False)
        reference = None
        if receipt is not None:
            reference = PaidReceipt(
                object_identity=upload.identity,
                request_id=receipt.request_id,
                expires_at=receipt.expires_at,
                reported_width=receipt.width,
                reported_height=receipt.height,
            )
        record = failure_record(
            upload, failure, delivery, engine=self._engine_name(), paid=paid, receipt=reference
        )
        self._queue.send(record)
        self._metrics.failed(failure.code, rejected_before_call=isinstance(failure, ImageRejected))
        logger.warning(
            "recorded on the dead-letter queue",
            reason=failure.code,
            retryable=failure.retryable,
            request_id=failure.request_id,
            error_message=failure.message,
            paid=paid,
        )
