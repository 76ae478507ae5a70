"""Announcements through moto's EventBridge: a rule on source "cutout" targets an SQS queue, read back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from cutout.announcements import (
    DETAIL_TYPES,
    FAILED,
    PAUSED,
    PROCESSED,
    SOURCE,
    EventBridgePublisher,
    ImageFacts,
    OutputFacts,
    SourceFacts,
    image_announcement,
    pause_announcement,
)
from tests.event_schemas import validation_errors


@pytest.fixture
def routed_queue(aws_environment: str) -> Iterator[tuple[str, str]]:
    """A custom bus whose rule sends every cutout event to an SQS queue; yields (bus, queue url)."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    bus = f"cutout-{suffix}"
    events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=f"events-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name=f"all-{suffix}", EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule=f"all-{suffix}", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    yield bus, queue_url
    sqs.delete_queue(QueueUrl=queue_url)


def read_events(queue_url: str, expected: int) -> list[dict[str, Any]]:
    sqs, received = boto3.client("sqs"), []
    for _ in range(10):
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        received += [json.loads(message["Body"]) for message in answer.get("Messages", [])]
        if len(received) >= expected:
            break
    return received


def processed_event() -> Any:
    source = SourceFacts(bucket="cutout-input-test", key="shoes/red shoe.jpg", version_id="v1", etag="abc")
    output = OutputFacts("cutout", "cutout-output-test", "shoes/red shoe.png", "png", 800, 600, 123_456)
    facts = ImageFacts(
        identity="cutout-input-test/shoes/red shoe.jpg@v1",
        source=source,
        outputs=(output,),
        profile="default",
        score=0.97,
        engine="aidge",
        request_id="req-1",
        usage=1,
    )
    return image_announcement(PROCESSED, facts)


def test_published_events_reach_a_rule_target_with_valid_payloads(routed_queue: tuple[str, str]) -> None:
    # Given a processed, a failed and a pause event
    bus, queue_url = routed_queue
    failure = ImageFacts(
        identity="cutout-input-test/a.jpg@v2",
        source=SourceFacts("cutout-input-test", "a.jpg", "v2", "def"),
        error={
            "code": "unsupported_format",
            "message": "This is a GIF; cutout takes JPEG, PNG, WebP.",
            "retryable": False,
        },
    )
    announcements = [
        processed_event(),
        image_announcement(FAILED, failure),
        pause_announcement(
            PAUSED, reason_code="budget_exhausted", message="The daily budget of 3 units is spent."
        ),
    ]
    # When they are published to the bus
    EventBridgePublisher(boto3.client("events"), bus).publish(announcements)
    received = read_events(queue_url, expected=3)
    # Then the queue gets all three, with source "cutout", our detail-types and schema-valid details
    assert sorted(event["detail-type"] for event in received) == sorted(a.detail_type for a in announcements)
    for event in received:
        assert event["source"] == SOURCE
        assert event["detail-type"] in DETAIL_TYPES
        assert validation_errors(event["detail-type"], event["detail"]) == []
    by_type = {event["detail-type"]: event for event in received}
    assert by_type[PROCESSED]["detail"]["outputs"][0]["key"] == "shoes/red shoe.png"
    assert by_type[FAILED]["detail"]["error"]["code"] == "unsupported_format"


def test_a_second_publication_of_an_outcome_carries_the_same_detail_id(routed_queue: tuple[str, str]) -> None:
    # Given one outcome's event published twice (a redelivery)
    bus, queue_url = routed_queue
    publisher = EventBridgePublisher(boto3.client("events"), bus)
    event = processed_event()
    # When both are read back
    publisher.publish([event])
    publisher.publish([event])
    received = read_events(queue_url, expected=2)
    # Then a consumer sees one id twice (EventBridge's own ids differ) and can drop the second
    assert len(received) == 2
    assert received[0]["detail"]["id"] == received[1]["detail"]["id"]
