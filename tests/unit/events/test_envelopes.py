"""Messages that reach the work queue wrapped: S3 -> SNS -> SQS, EventBridge -> SQS, SNS -> Lambda."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cutout.events import (
    IgnoreReason,
    MessageKind,
    UnrecognisedMessage,
    uploads_from_event,
    uploads_from_sqs_body,
)

LoadEvent = Callable[[str], Any]
TOPIC = "arn:aws:sns:us-east-1:123456789012:shop-photos-uploaded"


def _body(load_event: LoadEvent, name: str) -> str:
    (record,) = load_event(name)["Records"]
    return str(record["body"])


def test_an_s3_notification_inside_an_sns_envelope_gives_its_upload(load_event: LoadEvent) -> None:
    # Given an SQS message from an SNS subscription without raw delivery, carrying S3's notification
    body = _body(load_event, "sqs-sns-s3-put")

    # When it is parsed
    parsed = uploads_from_sqs_body(body)

    # Then the upload is S3's, the key decoded once (S3's form encoding, not SNS's JSON escaping)
    (upload,) = parsed.uploads
    assert parsed.kind is MessageKind.S3_NOTIFICATION
    assert parsed.sns_topic_arn == TOPIC
    assert (upload.bucket, upload.key) == ("shop-photos", "catalogue/summer sale/Tasse + Henkel ü.jpg")
    assert (upload.etag, upload.sequencer, upload.size) == (
        "b21b84d653bb07b05b1e6b33684dc11b",
        "0065F8A2D4B86A21C0",
        407514,
    )


def test_s3s_test_event_inside_an_sns_envelope_is_ignored(load_event: LoadEvent) -> None:
    # Given the s3:TestEvent S3 publishes to the topic when the notification is saved
    body = _body(load_event, "sqs-sns-s3-test-event")

    # When it is parsed
    parsed = uploads_from_sqs_body(body)

    # Then nothing is processed, and the log says it was the test event
    assert parsed.kind is MessageKind.S3_TEST_EVENT
    assert parsed.uploads == ()
    assert [item.reason for item in parsed.ignored] == [IgnoreReason.TEST_EVENT]


def test_an_sns_subscription_confirmation_is_ignored_and_never_confirmed(load_event: LoadEvent) -> None:
    # Given the confirmation request SNS sends to a queue subscribed from another account
    body = _body(load_event, "sqs-sns-subscription-confirmation")

    # When it is parsed
    parsed = uploads_from_sqs_body(body)

    # Then nothing is processed (no URL is fetched), and the log line names the topic
    assert parsed.kind is MessageKind.SNS_SUBSCRIPTION
    assert parsed.uploads == ()
    (ignored,) = parsed.ignored
    assert ignored.reason is IgnoreReason.SNS_SUBSCRIPTION
    assert TOPIC in ignored.detail


def test_an_eventbridge_event_delivered_by_a_rule_to_sqs_gives_its_upload(load_event: LoadEvent) -> None:
    # Given an EventBridge rule's delivery to the work queue: the event itself is the body
    body = _body(load_event, "sqs-eventbridge-object-created")

    # When it is parsed
    parsed = uploads_from_sqs_body(body)

    # Then the upload is the event's object, the key as EventBridge sends it (not encoded)
    (upload,) = parsed.uploads
    assert parsed.kind is MessageKind.EVENTBRIDGE
    assert parsed.sns_topic_arn is None
    assert upload.key == "summer sale/Tasse+Henkel ü.jpg"
    assert upload.version_id == "8fFhFPLsxHN0ZqgPiaZuN33SDFkpXGFr"


def test_an_eventbridge_event_inside_an_sns_envelope_gives_its_upload(load_event: LoadEvent) -> None:
    # Given EventBridge -> SNS -> SQS
    event = load_event("eventbridge-object-created")
    envelope = json.loads(_body(load_event, "sqs-sns-s3-put"))
    envelope["Message"] = json.dumps(event)

    # When it is parsed
    parsed = uploads_from_sqs_body(json.dumps(envelope))

    # Then it is the EventBridge event's upload
    assert parsed.kind is MessageKind.EVENTBRIDGE
    assert [upload.key for upload in parsed.uploads] == ["summer sale/Tasse+Henkel ü.jpg"]


def test_sns_invoking_the_function_directly_gives_the_uploads(load_event: LoadEvent) -> None:
    # Given SNS -> Lambda: Records[].Sns are the envelopes
    envelope = json.loads(_body(load_event, "sqs-sns-s3-put"))
    event = {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": envelope}]}

    # When the invocation is parsed
    parsed = uploads_from_event(event)

    # Then it gives S3's upload
    assert [upload.key for upload in parsed.uploads] == ["catalogue/summer sale/Tasse + Henkel ü.jpg"]
    assert parsed.sns_topic_arn == TOPIC


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"Message": "not json"}, "Message is not JSON", id="message-not-json"),
        pytest.param({"Type": "Mystery"}, "type 'Mystery'", id="unknown-type"),
        pytest.param({"Message": json.dumps({"hello": "world"})}, "none of", id="unknown-payload"),
    ],
)
def test_an_sns_envelope_around_something_else_is_unrecognised(
    load_event: LoadEvent, change: dict[str, str], reason: str
) -> None:
    # Given an SNS envelope whose content is not an upload event
    envelope = {**json.loads(_body(load_event, "sqs-sns-s3-put")), **change}

    # When it is parsed / Then it is refused with a reason (the DLQ records it, the batch goes on)
    with pytest.raises(UnrecognisedMessage, match=reason):
        uploads_from_sqs_body(json.dumps(envelope))


def test_an_sns_envelope_inside_an_sns_envelope_is_unrecognised(load_event: LoadEvent) -> None:
    # Given an envelope whose message is another envelope
    envelope = json.loads(_body(load_event, "sqs-sns-s3-put"))
    nested = {**envelope, "Message": json.dumps(envelope)}

    # When it is parsed / Then it is refused
    with pytest.raises(UnrecognisedMessage, match="inside an SNS envelope"):
        uploads_from_sqs_body(json.dumps(nested))
