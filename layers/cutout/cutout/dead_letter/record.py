"""Building the DLQ record (``cutout.events.FailureRecord``) for a failed upload."""

from __future__ import annotations

from datetime import UTC, datetime

from cutout.events import FailureRecord, PaidReceipt, UnrecognisedMessage, UploadedObject
from cutout.failures import FailureReason
from cutout.redelivery.delivery import Delivery

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
