"""Turn any incoming message or event into ``UploadedObject`` references, without I/O.

A work-queue message body can be an S3 event notification, the ``s3:TestEvent`` S3 sends when a
notification is configured, an EventBridge "Object Created" event (a rule targeting the queue),
one of our own DLQ failure records being replayed, or any of the first three wrapped in an SNS
envelope (a queue subscribed to a topic without raw message delivery; the topic's subscription
confirmations are ignored, never confirmed from here). A direct Lambda invocation can be an S3
notification, an EventBridge event or an SNS event (``Records[].Sns``). The parser says which
kind it saw, the uploads to process, and what it ignored and why, so the caller can log every
message's fate. Anything else raises ``UnrecognisedMessage``: the
caller sends it to the DLQ with code ``unrecognised_message``, it never crashes the batch.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import unquote_plus

from cutout.events.failure_record import FAILURE_SCHEMA_PREFIX, FailureRecord
from cutout.events.shapes import (
    EVENTBRIDGE_OBJECT_CREATED,
    EVENTBRIDGE_S3_SOURCE,
    S3_EVENT_SOURCE,
    S3_TEST_EVENT,
    SNS_NOTIFICATION,
    SNS_SUBSCRIPTION_MESSAGES,
    EventBridgeEnvelope,
    EventBridgeS3Event,
    S3Notification,
    S3NotificationRecord,
    S3TestEvent,
    SnsEnvelope,
)
from cutout.events.uploaded_object import UploadedObject
from cutout.failures import FailureReason
from cutout.typed import Model, ValidationError, format_loc

UNRECOGNISED_MESSAGE_CODE = "unrecognised_message"
ModelT = TypeVar("ModelT", bound=Model)
_MAX_REASON_ERRORS = 3


class MessageKind(StrEnum):
    """What a message turned out to be."""

    S3_NOTIFICATION = "s3_notification"
    S3_TEST_EVENT = "s3_test_event"
    EVENTBRIDGE = "eventbridge"
    FAILURE_RECORD = "failure_record"
    SNS_SUBSCRIPTION = "sns_subscription"


class IgnoreReason(StrEnum):
    """Why part of a message needs no work (logged, never sent to the DLQ)."""

    TEST_EVENT = "test_event"
    NOT_OBJECT_CREATED = "not_object_created"
    FOLDER_PLACEHOLDER = "folder_placeholder"
    SNS_SUBSCRIPTION = "sns_subscription"


@dataclass(frozen=True, slots=True)
class IgnoredRecord:
    """One thing the parser dropped, with a sentence for the log."""

    reason: IgnoreReason
    detail: str
    bucket: str | None = None
    key: str | None = None
    event_name: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """The uploads a message asks for, and what it held that needs no work."""

    kind: MessageKind
    uploads: tuple[UploadedObject, ...]
    ignored: tuple[IgnoredRecord, ...] = ()
    # The SNS topic the message came through (``None``: it came straight from its source).
    sns_topic_arn: str | None = None


class UnrecognisedMessage(FailureReason):
    """The message is not one we know. Never retryable: the same bytes will never parse.

    ``reason`` is the short technical why; ``message`` the sentence for the DLQ record.
    """

    code = UNRECOGNISED_MESSAGE_CODE
    retryable = False

    def __init__(self, reason: str) -> None:
        super().__init__(f"The message is not an upload event we know: {reason}.")
        self.reason = reason


def uploads_from_sqs_body(body: str) -> ParsedMessage:
    """Parse the body of one work-queue message (see the module docstring for the shapes)."""
    try:
        document = json.loads(body)
    except (ValueError, TypeError, RecursionError) as error:
        raise UnrecognisedMessage("the body is not JSON") from error
    return _parse_document(document)


def uploads_from_event(event: Mapping[str, Any]) -> ParsedMessage:
    """Parse a direct Lambda invocation: an S3 notification or an EventBridge S3 event.

    (A DLQ failure record or a test event passed directly is accepted too.) An SQS batch is not
    parsed here: the handler gives each SQS record's body to ``uploads_from_sqs_body``.
    """
    records = event.get("Records") if isinstance(event, Mapping) else None
    first = records[0] if isinstance(records, list) and records else None
    if isinstance(first, Mapping) and first.get("eventSource") == "aws:sqs":
        raise UnrecognisedMessage(
            "this is an SQS batch event; parse each record's body with uploads_from_sqs_body"
        )
    if isinstance(first, Mapping) and first.get("EventSource") == "aws:sns":
        return _parse_sns_lambda_event(records)  # type: ignore[arg-type]  # a list, checked above
    return _parse_document(event)


def _parse_document(document: object, *, inside_sns: bool = False) -> ParsedMessage:
    if not isinstance(document, Mapping):
        raise UnrecognisedMessage(f"expected a JSON object, got a JSON {_json_type(document)}")
    if "TopicArn" in document and "Type" in document:
        if inside_sns:
            raise UnrecognisedMessage("an SNS envelope inside an SNS envelope")
        return _parse_sns_envelope(document)
    if "Records" in document:
        return _parse_s3_notification(document)
    if document.get("Event") == S3_TEST_EVENT:
        return _parse_s3_test_event(document)
    if "detail-type" in document:
        return _parse_eventbridge(document)
    schema = document.get("schema")
    if isinstance(schema, str) and schema.startswith(FAILURE_SCHEMA_PREFIX):
        return _parse_failure_record(document)
    raise UnrecognisedMessage(
        "it is none of: an S3 event notification (Records), an s3:TestEvent, an EventBridge "
        "S3 event (detail-type), a cutout failure record (schema cutout.failure/1), an SNS "
        "notification of one of these (Type, TopicArn, Message); "
        f"top-level fields: {_field_names(document)}"
    )


def _parse_sns_envelope(document: Mapping[str, Any]) -> ParsedMessage:
    """An SNS notification: its ``Message`` is the source's own document (S3's, EventBridge's)."""
    envelope = _validate(SnsEnvelope, document, "SNS message")
    if envelope.type in SNS_SUBSCRIPTION_MESSAGES:
        ignored = IgnoredRecord(
            reason=IgnoreReason.SNS_SUBSCRIPTION,
            detail=f"SNS {envelope.type} for {envelope.topic_arn}: no upload. A subscription in "
            "another account is confirmed by its owner (SubscribeURL), never by the pipeline.",
            event_name=envelope.type,
        )
        return ParsedMessage(MessageKind.SNS_SUBSCRIPTION, (), (ignored,), sns_topic_arn=envelope.topic_arn)
    if envelope.type != SNS_NOTIFICATION:
        raise UnrecognisedMessage(f"an SNS message of type {envelope.type!r}")
    try:
        inner = json.loads(envelope.message)
    except (ValueError, TypeError, RecursionError) as error:
        raise UnrecognisedMessage(
            f"an SNS notification from {envelope.topic_arn} whose Message is not JSON"
        ) from error
    parsed = _parse_document(inner, inside_sns=True)
    return dataclasses.replace(parsed, sns_topic_arn=envelope.topic_arn)


def _parse_sns_lambda_event(records: list[Any]) -> ParsedMessage:
    """SNS -> Lambda: ``Records[].Sns`` are envelopes; their uploads are put together."""
    envelopes = [record.get("Sns") if isinstance(record, Mapping) else None for record in records]
    if not all(isinstance(envelope, Mapping) for envelope in envelopes):
        raise UnrecognisedMessage("an SNS event record without its Sns envelope")
    parts = [_parse_sns_envelope(envelope) for envelope in envelopes]  # type: ignore[arg-type]
    kinds = {part.kind for part in parts}
    return ParsedMessage(
        kind=parts[0].kind if len(kinds) == 1 else MessageKind.S3_NOTIFICATION,
        uploads=tuple(upload for part in parts for upload in part.uploads),
        ignored=tuple(item for part in parts for item in part.ignored),
        sns_topic_arn=parts[0].sns_topic_arn,
    )


def _parse_s3_notification(document: Mapping[str, Any]) -> ParsedMessage:
    records = document.get("Records")
    if isinstance(records, list):
        for record in records:
            source = record.get("eventSource") if isinstance(record, Mapping) else None
            if source != S3_EVENT_SOURCE:
                raise UnrecognisedMessage(
                    f"a record has eventSource {source!r}; only {S3_EVENT_SOURCE!r} records are handled"
                )
    notification = _validate(S3Notification, document, "S3 event notification")
    uploads: list[UploadedObject] = []
    ignored: list[IgnoredRecord] = []
    for record in notification.records:
        key = _decode_s3_key(record.s3.object.key)
        bucket = record.s3.bucket.name
        event_name = record.event_name.removeprefix("s3:")
        if not event_name.startswith("ObjectCreated:"):
            ignored.append(_not_created(bucket, key, event_name))
            continue
        upload = _upload_from_s3_record(record, key)
        if upload.is_folder_placeholder:
            ignored.append(_folder_placeholder(upload, event_name))
            continue
        uploads.append(upload)
    return ParsedMessage(MessageKind.S3_NOTIFICATION, tuple(uploads), tuple(ignored))


def _upload_from_s3_record(record: S3NotificationRecord, key: str) -> UploadedObject:
    entry = record.s3.object
    return UploadedObject(
        bucket=record.s3.bucket.name,
        key=key,
        version_id=entry.version_id,
        etag=entry.e_tag,
        sequencer=entry.sequencer,
        size=entry.size,
        event_time=record.event_time,
    )


def _decode_s3_key(raw_key: str) -> str:
    """S3 notifications carry keys form-encoded: space as ``+``, ``+`` as ``%2B``, UTF-8 escapes.

    S3 itself leaves ``/`` as is while some emulators send ``%2F``; ``unquote_plus`` takes both.
    """
    try:
        return unquote_plus(raw_key, errors="strict")
    except UnicodeDecodeError as error:
        raise UnrecognisedMessage("an object key's percent-escapes are not valid UTF-8") from error


def _parse_s3_test_event(document: Mapping[str, Any]) -> ParsedMessage:
    test_event = _validate(S3TestEvent, document, "s3:TestEvent")
    ignored = IgnoredRecord(
        reason=IgnoreReason.TEST_EVENT,
        detail="S3 sends this test message once when the bucket notification is configured.",
        bucket=test_event.bucket,
        event_name=S3_TEST_EVENT,
    )
    return ParsedMessage(MessageKind.S3_TEST_EVENT, (), (ignored,))


def _parse_eventbridge(document: Mapping[str, Any]) -> ParsedMessage:
    envelope = _validate(EventBridgeEnvelope, document, "EventBridge event")
    if envelope.source != EVENTBRIDGE_S3_SOURCE:
        raise UnrecognisedMessage(
            f"an EventBridge event from {envelope.source!r}; only {EVENTBRIDGE_S3_SOURCE!r} is handled"
        )
    if envelope.detail_type != EVENTBRIDGE_OBJECT_CREATED:
        detail = document.get("detail")
        bucket, key = _eventbridge_bucket_and_key(detail)
        return ParsedMessage(MessageKind.EVENTBRIDGE, (), (_not_created(bucket, key, envelope.detail_type),))
    event = _validate(EventBridgeS3Event, document, "EventBridge S3 event")
    entry = event.detail.object
    upload = UploadedObject(
        bucket=event.detail.bucket.name,
        key=entry.key,  # EventBridge sends the key as it is, not URL-encoded
        version_id=entry.version_id,
        etag=entry.etag,
        sequencer=entry.sequencer,
        size=entry.size,
        event_time=event.time,
    )
    if upload.is_folder_placeholder:
        return ParsedMessage(
            MessageKind.EVENTBRIDGE, (), (_folder_placeholder(upload, envelope.detail_type),)
        )
    return ParsedMessage(MessageKind.EVENTBRIDGE, (upload,))


def _eventbridge_bucket_and_key(detail: object) -> tuple[str | None, str | None]:
    """Best-effort names for the log line of an ignored EventBridge event."""
    if not isinstance(detail, Mapping):
        return None, None
    bucket = detail.get("bucket")
    entry = detail.get("object")
    name = bucket.get("name") if isinstance(bucket, Mapping) else None
    key = entry.get("key") if isinstance(entry, Mapping) else None
    return (name if isinstance(name, str) else None), (key if isinstance(key, str) else None)


def _parse_failure_record(document: Mapping[str, Any]) -> ParsedMessage:
    record = _validate(FailureRecord, document, "cutout failure record")
    upload = record.to_upload()
    if upload is None:
        raise UnrecognisedMessage(
            f"a failure record ({record.error.code}) that names no object; there is nothing to replay"
        )
    return ParsedMessage(MessageKind.FAILURE_RECORD, (upload,))


def _not_created(bucket: str | None, key: str | None, event_name: str) -> IgnoredRecord:
    return IgnoredRecord(
        reason=IgnoreReason.NOT_OBJECT_CREATED,
        detail=f"{event_name} is not an object creation; only new uploads are processed.",
        bucket=bucket,
        key=key,
        event_name=event_name,
    )


def _folder_placeholder(upload: UploadedObject, event_name: str) -> IgnoredRecord:
    return IgnoredRecord(
        reason=IgnoreReason.FOLDER_PLACEHOLDER,
        detail="An empty object whose key ends with '/' is a folder placeholder, not an image.",
        bucket=upload.bucket,
        key=upload.key,
        event_name=event_name,
    )


def _validate(model: type[ModelT], document: Mapping[str, Any], what: str) -> ModelT:
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise UnrecognisedMessage(f"not a valid {what}: {_summarise(error)}") from error


def _summarise(error: ValidationError) -> str:
    """Where and what, never the input values (they may be large or private)."""
    problems = error.errors()
    parts = [f"{format_loc(problem['loc'])}: {problem['msg']}" for problem in problems[:_MAX_REASON_ERRORS]]
    more = len(problems) - _MAX_REASON_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def _field_names(document: Mapping[str, Any]) -> str:
    names = sorted(str(name)[:40] for name in document)[:10]
    return ", ".join(names) if names else "(none)"


def _json_type(value: object) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
