"""The paused backlog's refresh against SQS's API (moto): every waiting message sent again as a new
message (receive count 0), the originals deleted, the copies hidden from the scan by their delay."""

from __future__ import annotations

import uuid
from typing import Any

import boto3

from cutout.redelivery.backlog import COPY_DELAY_SECONDS, REFRESHED_ATTRIBUTE, BacklogRefresher


def waiting(sqs: Any, url: str) -> dict[str, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    return {name: int(value) for name, value in attributes.items()}


def test_the_refresh_sends_every_waiting_message_again_and_deletes_the_originals(
    aws_environment: str,
) -> None:
    # Given a work queue holding 23 uploads, two of them already received once (a paused batch)
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"work-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    bodies = {f'{{"upload": {number}}}' for number in range(23)}
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=0)
    # When the scheduled run refreshes the backlog
    refreshed = BacklogRefresher(sqs, url).refresh(seconds=30)
    # Then all 23 were sent again and the scan ended; the copies wait out their delay, no original is left
    assert (refreshed.resent, refreshed.complete) == (23, True)
    assert waiting(sqs, url) == {"ApproximateNumberOfMessages": 0, "ApproximateNumberOfMessagesDelayed": 23}
    assert COPY_DELAY_SECONDS == 900
    # And each copy is the same body, a new message (never received), marked as refreshed once
    copies = _messages_in(url)
    assert {message.body for message in copies} == bodies
    assert {message.approximate_receive_count for message in copies} == {0}
    assert {
        str(
            message.message_attributes[REFRESHED_ATTRIBUTE].get("string_value")
            or message.message_attributes[REFRESHED_ATTRIBUTE].get("StringValue")
        )
        for message in copies
    } == {"1"}


def _messages_in(url: str) -> list[Any]:
    """The queue's messages as moto holds them (the copies are delayed: no receive would show them)."""
    from moto.sqs.models import sqs_backends

    name = url.rsplit("/", 1)[1]
    for backend in sqs_backends.values():
        for region in backend.values():
            if name in region.queues:
                return list(region.queues[name]._messages)
    raise AssertionError(f"no queue {name} in moto")
