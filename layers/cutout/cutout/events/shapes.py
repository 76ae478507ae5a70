"""Lenient models of the AWS payloads we read: only the fields the pipeline uses.

Why not powertools' parser models (``S3Model``, ``S3EventNotificationEventBridgeModel``)? They
require fields we never use (``userIdentity``, ``responseElements``, ``configurationId``,
``request-id``, ...) that emulators and hand-made test events leave out, and their pre-validator
fails with ``AttributeError`` on malformed input. Here a missing field we do not need is no
error, and a missing field we do need is a ``ValidationError`` that names it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

_LENIENT = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)

S3_EVENT_SOURCE = "aws:s3"
EVENTBRIDGE_S3_SOURCE = "aws.s3"
EVENTBRIDGE_OBJECT_CREATED = "Object Created"
S3_TEST_EVENT = "s3:TestEvent"
SNS_NOTIFICATION = "Notification"
SNS_SUBSCRIPTION_MESSAGES = ("SubscriptionConfirmation", "UnsubscribeConfirmation")


class S3NotificationObject(BaseModel):
    """``s3.object``; ``key`` is URL-encoded the way S3 encodes it (space as ``+``)."""

    model_config = _LENIENT

    key: str = Field(min_length=1)
    size: int | None = Field(default=None, ge=0)
    e_tag: str | None = Field(default=None, alias="eTag")
    version_id: str | None = Field(default=None, alias="versionId")
    sequencer: str | None = None


class S3NotificationBucket(BaseModel):
    model_config = _LENIENT

    name: str = Field(min_length=1)


class S3NotificationEntity(BaseModel):
    model_config = _LENIENT

    bucket: S3NotificationBucket
    object: S3NotificationObject


class S3NotificationRecord(BaseModel):
    """One record of an S3 event notification (the ``Records`` list)."""

    model_config = _LENIENT

    event_source: Literal["aws:s3"] = Field(alias="eventSource")
    event_name: str = Field(alias="eventName", min_length=1)
    event_time: str | None = Field(default=None, alias="eventTime")
    s3: S3NotificationEntity


class S3Notification(BaseModel):
    """An S3 event notification, as S3 sends it to SQS, SNS or Lambda."""

    model_config = _LENIENT

    records: list[S3NotificationRecord] = Field(alias="Records", min_length=1)


class S3TestEvent(BaseModel):
    """The message S3 sends once when a notification configuration is saved."""

    model_config = _LENIENT

    event: Literal["s3:TestEvent"] = Field(alias="Event")
    service: str | None = Field(default=None, alias="Service")
    bucket: str | None = Field(default=None, alias="Bucket")
    time: str | None = Field(default=None, alias="Time")


class EventBridgeObject(BaseModel):
    """``detail.object`` of an S3 EventBridge event; ``key`` is NOT URL-encoded here."""

    model_config = _LENIENT

    key: str = Field(min_length=1)
    size: int | None = Field(default=None, ge=0)
    # AWS spells it ``etag``; moto spells it ``eTag``.
    etag: str | None = Field(default=None, validation_alias=AliasChoices("etag", "eTag"))
    version_id: str | None = Field(default=None, alias="version-id")
    sequencer: str | None = None


class EventBridgeBucket(BaseModel):
    model_config = _LENIENT

    name: str = Field(min_length=1)


class EventBridgeDetail(BaseModel):
    model_config = _LENIENT

    bucket: EventBridgeBucket
    object: EventBridgeObject


class EventBridgeEnvelope(BaseModel):
    """What every EventBridge event has; the detail is read only for the types we act on."""

    model_config = _LENIENT

    source: str
    detail_type: str = Field(alias="detail-type")
    time: str | None = None


class EventBridgeS3Event(EventBridgeEnvelope):
    """An S3 event delivered by EventBridge (``source`` ``aws.s3``)."""

    source: Literal["aws.s3"]
    detail: EventBridgeDetail


class SnsEnvelope(BaseModel):
    """An SNS message as SNS delivers it to SQS without raw delivery (the body) or to Lambda
    (``Records[].Sns``): the publisher's message is the string ``Message``."""

    model_config = _LENIENT

    type: str = Field(alias="Type", min_length=1)
    message_id: str | None = Field(default=None, alias="MessageId")
    topic_arn: str = Field(alias="TopicArn", min_length=1)
    subject: str | None = Field(default=None, alias="Subject")
    message: str = Field(alias="Message")
    timestamp: str | None = Field(default=None, alias="Timestamp")
