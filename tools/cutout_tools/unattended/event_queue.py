"""Reading cutout's completion events from an SQS queue an EventBridge rule fills.

Two queues are read this way: the stack's own **events queue** (template parameter ``EventsQueue``:
a rule on source ``cutout`` to a queue, output ``EventsQueueUrl``; the local stack deploys it on),
and, for a stack without one, a **temporary** rule and queue that ``TemporaryEventQueue`` puts on the
stack's bus and removes on close. Each message body is one EventBridge event (the envelope:
``id``, ``time``, ``detail-type``, ``source``, ``detail``…); a message is deleted once read.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from cutout.announcements import DETAIL_TYPES, SOURCE

MAX_MESSAGES = 10


def local_queue_url(sqs: Any, queue_url: str) -> str:
    """The queue's URL as this client's endpoint knows it (a stack's output names AWS's host; moto
    answers on loopback): looked up by the queue's name, the last part of the URL."""
    return str(sqs.get_queue_url(QueueName=queue_url.rstrip("/").rsplit("/", 1)[-1])["QueueUrl"])


class EventQueue:
    """The events in one SQS queue, each read once (received, then deleted)."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self.queue_url = queue_url

    def read(self, wait_seconds: int = 5) -> list[dict[str, Any]]:
        """Up to ten events: what the queue holds now, or what arrives within ``wait_seconds``."""
        answer = self._sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=MAX_MESSAGES, WaitTimeSeconds=wait_seconds
        )
        messages = answer.get("Messages", [])
        if messages:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
            )
        events = []
        for message in messages:
            try:
                event = json.loads(message["Body"])
            except ValueError:
                event = {"detail-type": "(not JSON)", "body": message["Body"]}
            events.append(
                event if isinstance(event, dict) else {"detail-type": "(not an event)", "body": event}
            )
        return events

    def drain(self, *, quiet_reads: int = 2) -> list[dict[str, Any]]:
        """Everything the queue holds: read until ``quiet_reads`` reads in a row find nothing."""
        events: list[dict[str, Any]] = []
        empty = 0
        while empty < quiet_reads:
            batch = self.read(wait_seconds=0)
            events.extend(batch)
            empty = 0 if batch else empty + 1
        return events

    def follow(
        self, emit: Callable[[dict[str, Any]], None], *, stop: Callable[[], bool], seconds: float | None
    ) -> int:
        """Emit each event as it arrives, until ``stop()`` or ``seconds`` pass; how many were emitted."""
        count, deadline = 0, None if seconds is None else time.monotonic() + seconds
        while not stop() and (deadline is None or time.monotonic() < deadline):
            for event in self.read(wait_seconds=1 if deadline is not None else 5):
                emit(event)
                count += 1
        return count

    def close(self) -> None:
        """The queue is the stack's: nothing to remove."""


class TemporaryEventQueue(EventQueue):
    """A temporary SQS queue and rule on a bus (every ``cutout`` event); both removed on close."""

    def __init__(self, session: Any, bus: str) -> None:
        self._events = session.client("events")
        sqs = session.client("sqs")
        self._bus = bus
        suffix = uuid.uuid4().hex[:10]
        self._rule = f"cutout-tail-{suffix}"
        queue_url = sqs.create_queue(
            QueueName=f"cutout-tail-{suffix}", Attributes={"MessageRetentionPeriod": "3600"}
        )["QueueUrl"]
        super().__init__(sqs, queue_url)
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        rule_arn = self._events.put_rule(
            Name=self._rule, EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]}), State="ENABLED"
        )["RuleArn"]
        sqs.set_queue_attributes(
            QueueUrl=queue_url,
            Attributes={
                "Policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": arn,
                                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                            }
                        ],
                    }
                )
            },
        )
        self._events.put_targets(Rule=self._rule, EventBusName=bus, Targets=[{"Id": "tail", "Arn": arn}])

    def close(self) -> None:
        try:
            self._events.remove_targets(Rule=self._rule, EventBusName=self._bus, Ids=["tail"])
            self._events.delete_rule(Name=self._rule, EventBusName=self._bus)
        finally:
            self._sqs.delete_queue(QueueUrl=self.queue_url)


def count_by_detail_type(events: list[dict[str, Any]]) -> dict[str, int]:
    """``{detail-type: count}``, cutout's detail-types first in their documented order, then others."""
    counts = Counter(str(event.get("detail-type", "?")) for event in events)
    known = {name: counts.pop(name) for name in DETAIL_TYPES if name in counts}
    return {**known, **dict(sorted(counts.items()))}
