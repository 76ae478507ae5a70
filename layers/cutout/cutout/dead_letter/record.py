"""The "record the failure" step: the DLQ record (``cutout.events.FailureRecord``) of a failed upload."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cutout.announcements.facts import failed_announcement
from cutout.dead_letter.checkpoint import DeadLetterCheckpoint, Letter, record_id, send_once
from cutout.dead_letter.queue import DeadLetterQueue
from cutout.engine.port import BackgroundRemover, CutoutReceipt
from cutout.events import FailureRecord, PaidReceipt, UnrecognisedMessage, UploadedObject
from cutout.failures import FailureReason
from cutout.observability import PipelineMetrics, logger
from cutout.outcome import Outcome, Status
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
    record_id: str | None = None,
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
        record_id=record_id,
    ).to_json()


def engine_name_of(engine: Callable[[], BackgroundRemover]) -> Callable[[], str]:
    """The engine's name for a failure record, or "unknown" if the engine cannot even be built."""

    def name() -> str:
        try:
            return engine().engine_name
        except Exception:  # noqa: BLE001  (the engine could not even be built: say so, don't fail twice)
            return "unknown"

    return name


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
    """The "record the failure" step: the DLQ record that says why, its metric and its log line.

    With a checkpoint (``cutout.dead_letter.checkpoint``, issue 22) the failure is kept, then sent,
    then marked sent, keyed by its ``subject`` (the object version, plus the replay): one record per
    upload, whatever fails after it; a later decision of the same upload ends with the kept one.
    """

    def __init__(
        self,
        queue: DeadLetterQueue,
        metrics: PipelineMetrics,
        engine_name: Callable[[], str],
        checkpoint: DeadLetterCheckpoint | None = None,
    ) -> None:
        self._queue = queue
        self._metrics = metrics
        self._engine_name = engine_name
        self._checkpoint = checkpoint

    def recorded(self, subject: str) -> dict[str, Any] | None:
        """The outcome of a failure already recorded for ``subject`` (sent again if its send was
        not marked done), or None: decided before, its outcome lost since, that failure stands."""
        letter = self._checkpoint.recorded(subject) if self._checkpoint is not None else None
        if letter is None:
            return None
        logger.info(
            "its failure is recorded already: that outcome stands", reason=letter.outcome.get("error_code")
        )
        return send_once(self._queue, self._checkpoint, subject, letter).outcome

    def record_failure(
        self,
        upload: UploadedObject,
        failure: FailureReason,
        delivery: Delivery,
        receipt: CutoutReceipt | None,
        *,
        subject: str,
    ) -> Outcome:
        """``upload``'s failed outcome, its DLQ record sent once with it; the outcome that stands."""
        outcome = Outcome(
            status=Status.FAILED,
            identity=upload.identity,
            request_id=failure.request_id,
            error_code=failure.code,
            announcement=failed_announcement(upload, failure, engine=self._engine_name()).to_dict(),
        )
        # Kept, then sent, then marked sent: one record per upload (an earlier decision's stands).
        stands = self.record(upload, failure, delivery, receipt, subject=subject, outcome=outcome.to_dict())
        return Outcome.from_dict(stands)

    def record(
        self,
        upload: UploadedObject,
        failure: FailureReason,
        delivery: Delivery,
        receipt: CutoutReceipt | None = None,
        *,
        subject: str | None = None,
        outcome: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send ``upload``'s DLQ record once (``receipt`` when the call was paid, never the signed
        URL), keeping ``outcome`` with it under ``subject``; return the outcome that stands (an
        earlier decision's, if one recorded this upload's failure first)."""
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
            upload,
            failure,
            delivery,
            engine=self._engine_name(),
            paid=paid,
            receipt=reference,
            record_id=record_id(subject) if subject is not None else None,
        )
        letter = Letter(record, outcome or {})
        if subject is None:
            self._queue.send(record)
        else:  # kept, then sent, then marked sent: one record per upload, whatever fails after this
            letter = send_once(self._queue, self._checkpoint, subject, letter)
        self._metrics.failed(failure.code, rejected_before_call=isinstance(failure, ImageRejected))
        logger.warning(
            "recorded on the dead-letter queue",
            reason=failure.code,
            retryable=failure.retryable,
            request_id=failure.request_id,
            error_message=failure.message,
            paid=paid,
        )
        return letter.outcome
