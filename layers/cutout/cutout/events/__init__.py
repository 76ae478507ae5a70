"""Incoming events → ``UploadedObject`` references, and the DLQ failure record both sides share.

- ``uploads_from_sqs_body``: the body of one work-queue message (S3 notification, s3:TestEvent,
  EventBridge "Object Created", or a replayed ``FailureRecord``).
- ``uploads_from_event``: a direct Lambda invocation (S3 notification or EventBridge event).
- ``FailureRecord``: the ``cutout.failure/1`` DLQ document (``to_json`` / ``from_json``).

Pure functions and values: no I/O, no boto3.
"""

from cutout.events.failure_record import (
    FAILURE_SCHEMA,
    FailureError,
    FailureRecord,
    FailureSource,
    PaidReceipt,
    iso_utc,
)
from cutout.events.parsing import (
    UNRECOGNISED_MESSAGE_CODE,
    IgnoredRecord,
    IgnoreReason,
    MessageKind,
    ParsedMessage,
    UnrecognisedMessage,
    uploads_from_event,
    uploads_from_sqs_body,
)
from cutout.events.uploaded_object import UploadedObject

__all__ = [
    "FAILURE_SCHEMA",
    "UNRECOGNISED_MESSAGE_CODE",
    "FailureError",
    "FailureRecord",
    "FailureSource",
    "IgnoreReason",
    "IgnoredRecord",
    "MessageKind",
    "PaidReceipt",
    "ParsedMessage",
    "UnrecognisedMessage",
    "UploadedObject",
    "iso_utc",
    "uploads_from_event",
    "uploads_from_sqs_body",
]
