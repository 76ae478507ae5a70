"""Lenient models of the AWS payloads we read: only the fields the pipeline uses.

Why not powertools' parser models (``S3Model``, ``S3EventNotificationEventBridgeModel``)? They
require fields we never use (``userIdentity``, ``responseElements``, ``configurationId``,
``request-id``, ...) that emulators and hand-made test events leave out, and their pre-validator
fails with ``AttributeError`` on malformed input. Here a missing field we do not need is no
error, and a missing field we do need is a ``cutout.typed.ValidationError`` that names it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, field

from cutout.typed import Model

NonEmpty = Annotated[str, Meta(min_length=1)]
Size = Annotated[int, Meta(ge=0)]


class _Lenient(Model, frozen=True, kw_only=True):
    """Unknown fields are ignored; a number where a string is expected is read as its text."""

    @classmethod
    def _prepare(cls, obj: object) -> object:
        # Numbers become their text; lenient reading turns the text back into a number where the
        # field is one (``size``), and leaves it text where the field is text (``sequencer``).
        return _numbers_as_text(obj)


def _numbers_as_text(value: object) -> object:
    if isinstance(value, dict):
        return {name: _numbers_as_text(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_numbers_as_text(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


S3_EVENT_SOURCE = "aws:s3"
EVENTBRIDGE_S3_SOURCE = "aws.s3"
EVENTBRIDGE_OBJECT_CREATED = "Object Created"
S3_TEST_EVENT = "s3:TestEvent"
SNS_NOTIFICATION = "Notification"
SNS_SUBSCRIPTION_MESSAGES = ("SubscriptionConfirmation", "UnsubscribeConfirmation")


class S3NotificationObject(_Lenient, frozen=True, kw_only=True):
    """``s3.object``; ``key`` is URL-encoded the way S3 encodes it (space as ``+``)."""

    key: NonEmpty
    size: Size | None = None
    e_tag: str | None = field(default=None, name="eTag")
    version_id: str | None = field(default=None, name="versionId")
    sequencer: str | None = None


class S3NotificationBucket(_Lenient, frozen=True, kw_only=True):
    name: NonEmpty


class S3NotificationEntity(_Lenient, frozen=True, kw_only=True):
    bucket: S3NotificationBucket
    object: S3NotificationObject


class S3NotificationRecord(_Lenient, frozen=True, kw_only=True):
    """One record of an S3 event notification (the ``Records`` list)."""

    event_source: Literal["aws:s3"] = field(name="eventSource")
    event_name: NonEmpty = field(name="eventName")
    event_time: str | None = field(default=None, name="eventTime")
    s3: S3NotificationEntity


class S3Notification(_Lenient, frozen=True, kw_only=True):
    """An S3 event notification, as S3 sends it to SQS, SNS or Lambda."""

    records: Annotated[list[S3NotificationRecord], Meta(min_length=1)] = field(name="Records")


class S3TestEvent(_Lenient, frozen=True, kw_only=True):
    """The message S3 sends once when a notification configuration is saved."""

    event: Literal["s3:TestEvent"] = field(name="Event")
    service: str | None = field(default=None, name="Service")
    bucket: str | None = field(default=None, name="Bucket")
    time: str | None = field(default=None, name="Time")


class EventBridgeObject(_Lenient, frozen=True, kw_only=True):
    """``detail.object`` of an S3 EventBridge event; ``key`` is NOT URL-encoded here."""

    key: NonEmpty
    size: Size | None = None
    # AWS spells it ``etag``; moto spells it ``eTag`` (and so does the local stack, which adds only
    # the facts the ordering needs to moto's events: ``version-id``, ``sequencer``).
    etag: str | None = None
    moto_etag: str | None = field(default=None, name="eTag")
    version_id: str | None = field(default=None, name="version-id")
    sequencer: str | None = None

    def __post_init__(self) -> None:
        if self.etag is None and self.moto_etag is not None:
            msgspec.structs.force_setattr(self, "etag", self.moto_etag)


class EventBridgeBucket(_Lenient, frozen=True, kw_only=True):
    name: NonEmpty


class EventBridgeDetail(_Lenient, frozen=True, kw_only=True):
    bucket: EventBridgeBucket
    object: EventBridgeObject


class EventBridgeEnvelope(_Lenient, frozen=True, kw_only=True):
    """What every EventBridge event has; the detail is read only for the types we act on."""

    source: str
    detail_type: str = field(name="detail-type")
    time: str | None = None


class EventBridgeS3Event(EventBridgeEnvelope, frozen=True, kw_only=True):
    """An S3 event delivered by EventBridge (``source`` ``aws.s3``)."""

    source: Literal["aws.s3"]
    detail: EventBridgeDetail


class SnsEnvelope(_Lenient, frozen=True, kw_only=True):
    """An SNS message as SNS delivers it to SQS without raw delivery (the body) or to Lambda
    (``Records[].Sns``): the publisher's message is the string ``Message``."""

    type: NonEmpty = field(name="Type")
    message_id: str | None = field(default=None, name="MessageId")
    topic_arn: NonEmpty = field(name="TopicArn")
    subject: str | None = field(default=None, name="Subject")
    message: str = field(name="Message")
    timestamp: str | None = field(default=None, name="Timestamp")
