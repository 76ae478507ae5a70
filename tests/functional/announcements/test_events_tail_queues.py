"""Where `cutout events tail` reads: the stack's events queue when it has one, else a temporary rule
and queue on its bus (both removed on close), in moto's EventBridge and SQS."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from cutout.announcements import PAUSED, EventBridgePublisher, pause_announcement
from cutout_tools.unattended.control import UnattendedStack, event_queue
from cutout_tools.unattended.event_queue import TemporaryEventQueue


class Session:
    def client(self, service: str) -> Any:
        return boto3.client(service)


def stack_on(bus: str, events_queue_url: str = "") -> UnattendedStack:
    return UnattendedStack("out", "mapping", "table", bus, "function", events_queue_url=events_queue_url)


def read_all(tail: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for _ in range(5):
        events += tail.read(wait_seconds=1)
        if events:
            break
    return events


def test_a_stack_without_an_events_queue_is_followed_through_a_temporary_rule_and_queue(
    aws_environment: str,
) -> None:
    # Given a bus, and a stack deployed without the events queue
    events = boto3.client("events")
    bus = f"cutout-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=bus)
    tail = event_queue(Session(), stack_on(bus))
    # When an event is put on the bus while the tail follows, then the tail is closed
    EventBridgePublisher(events, bus).publish(
        [pause_announcement(PAUSED, reason_code="budget_exhausted", message="The daily budget is spent.")]
    )
    received = read_all(tail)
    tail.close()
    # Then the event came through a temporary queue, and nothing of it is left on the bus or in SQS
    assert isinstance(tail, TemporaryEventQueue)
    assert [event["detail-type"] for event in received] == [PAUSED]
    assert events.list_rules(EventBusName=bus)["Rules"] == []
    queues = boto3.client("sqs").list_queues().get("QueueUrls", [])
    assert tail.queue_url not in queues


def test_a_stack_with_an_events_queue_is_read_from_it_and_the_queue_stays(aws_environment: str) -> None:
    # Given a stack whose events queue (as its output names it, on AWS's host) holds an event
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"stack-CompletionEventsQueue-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"detail-type": PAUSED, "detail": {}}))
    output = "https://sqs.us-east-1.amazonaws.com/123456789012/" + url.rsplit("/", 1)[1]
    tail = event_queue(Session(), stack_on("default", output))
    # When the tail reads it and is closed
    received = read_all(tail)
    tail.close()
    # Then it read the stack's queue, which is still there (only its message is consumed)
    assert not isinstance(tail, TemporaryEventQueue)
    assert [event["detail-type"] for event in received] == [PAUSED]
    assert url in sqs.list_queues().get("QueueUrls", [])
    assert tail.read(wait_seconds=0) == []
