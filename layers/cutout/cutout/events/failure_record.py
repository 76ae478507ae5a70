"""The DLQ failure record: one JSON document per upload that could not be processed.

The processing function writes it (``FailureRecord.for_upload(...).to_json()``) and the event
parser reads it back (``FailureRecord.from_json``) when the DLQ is redriven to the work queue,
so both sides share this one model. A replayed record yields the same ``UploadedObject`` as the
original event (same identity), so a replay never pays twice for an object already done.

Schema ``cutout.failure/1``: additive changes keep the version (unknown fields are ignored on
read); anything else gets a new version, which older readers refuse as unrecognised.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, field

from cutout.events.uploaded_object import UploadedObject
from cutout.typed import Model

NonEmpty = Annotated[str, Meta(min_length=1)]

FAILURE_SCHEMA = "cutout.failure/1"
FAILURE_SCHEMA_PREFIX = "cutout.failure/"


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a ``Z``, as AWS writes event times."""
    if moment.tzinfo is None:
        raise ValueError("timestamps in failure records must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FailureSource(Model, frozen=True, kw_only=True):
    """The object that failed; the key is decoded."""

    bucket: NonEmpty
    key: NonEmpty
    version_id: str | None = None
    etag: str | None = None
    sequencer: str | None = None
    size: Annotated[int, Meta(ge=0)] | None = None
    event_time: str | None = None
    last_modified: str | None = None  # additive (cutout.failure/1): the resolved write time

    @classmethod
    def from_upload(cls, upload: UploadedObject) -> FailureSource:
        return cls.model_validate(upload.to_dict())

    def to_upload(self, replay_of: dict[str, Any] | None = None) -> UploadedObject:
        return UploadedObject(**self.model_dump(), replay_of=replay_of)


class FailureError(Model, frozen=True, kw_only=True):
    """Why it failed: the keys of ``EngineError.to_dict()`` / ``ImageRejected.to_dict()``."""

    code: NonEmpty
    message: str
    retryable: bool
    api_code: int | None = None
    api_message: str | None = None
    request_id: str | None = None


class PaidReceipt(Model, frozen=True, kw_only=True):
    """Where a paid call's result is, without the result URL (it is a bearer credential).

    The receipt itself stays in the idempotency table (paid-call record of ``object_identity``)
    for 15 days: ``cutout dlq replay`` fetches it again without a second call while
    ``expires_at`` is ahead (Unix seconds; ``None``: the URL says no expiry).
    """

    object_identity: str
    request_id: str | None = None
    expires_at: int | None = None
    reported_width: int | None = None
    reported_height: int | None = None


class FailureRecord(Model, frozen=True, kw_only=True):
    """One failed upload. ``source`` is ``None`` only for a message that named no object
    (code ``unrecognised_message``); then ``original_body`` keeps what arrived, for a person."""

    schema_id: Literal["cutout.failure/1"] = field(default="cutout.failure/1", name="schema")
    source: FailureSource | None
    error: FailureError
    attempts: Annotated[int, Meta(ge=1)] = 1
    first_received_at: str | None = None
    failed_at: str
    engine: str | None = None
    original_body: str | None = None
    # What the failure cost: True billed (the receipt, if any, is in ``receipt``), None possibly
    # billed (the answer was lost after sending), False not billed.
    paid: bool | None = False
    receipt: PaidReceipt | None = None
    # Set by ``cutout dlq replay --repay`` on a paid record: the replay pays once more, on purpose.
    repay: bool = False
    # Additive (cutout.failure/1): the same for every send of one upload's failure (a transport
    # duplicate on the queue), different for another failure; readers count a record id once.
    record_id: str | None = None

    @classmethod
    def for_upload(
        cls,
        upload: UploadedObject | None,
        error: Mapping[str, Any],
        *,
        attempts: int,
        failed_at: datetime | str,
        first_received_at: datetime | str | None = None,
        engine: str | None = None,
        original_body: str | None = None,
        paid: bool | None = False,
        receipt: PaidReceipt | None = None,
        record_id: str | None = None,
    ) -> FailureRecord:
        """Build a record from an upload (or ``None``) and an error's ``to_dict()``.

        Datetimes are written as ISO-8601 UTC; strings are kept as given.
        """
        return cls(
            source=None if upload is None else FailureSource.from_upload(upload),
            error=FailureError.model_validate(dict(error)),
            attempts=attempts,
            first_received_at=_timestamp(first_received_at),
            failed_at=failed_at if isinstance(failed_at, str) else iso_utc(failed_at),
            engine=engine,
            original_body=original_body,
            paid=paid,
            receipt=receipt,
            record_id=record_id,
        )

    def to_json(self) -> str:
        """The DLQ message body (``schema`` first, every field present)."""
        return self.model_dump_json(by_alias=True)

    @classmethod
    def from_json(cls, body: str | bytes) -> FailureRecord:
        """Parse a record; raises ``cutout.typed.ValidationError`` if it is not one."""
        return cls.model_validate_json(body)

    def to_upload(self) -> UploadedObject | None:
        """The upload to process again, marked as a replay of this record.

        ``replay_of`` is the record's ``error`` dict plus its ``failed_at`` and ``attempts``, so
        two replays of two different failures of one object can be told apart.
        """
        if self.source is None:
            return None
        replay_of = {**self.error.model_dump(), "failed_at": self.failed_at, "attempts": self.attempts}
        if self.repay:
            replay_of["repay"] = True
        return self.source.to_upload(replay_of=replay_of)


def _timestamp(moment: datetime | str | None) -> str | None:
    if moment is None or isinstance(moment, str):
        return moment
    return iso_utc(moment)
