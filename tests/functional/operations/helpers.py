"""Small observations and actions on a World that the operations tests share."""

from __future__ import annotations

import json
from typing import Any

from tests.functional.pipeline.world import World


def queue_depth(world: World, queue_url: str) -> int:
    """Messages on the queue, visible or in flight."""
    attributes = world.sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def drop_pending_notifications(world: World) -> None:
    """Empty the work queue (S3's test event and notifications of uploads the test sets up)."""
    world.sqs.purge_queue(QueueUrl=world.work_queue_url)


def redrive_to_dead_letter_queue(world: World) -> list[dict[str, Any]]:
    """Let SQS itself move the work queue's messages to the DLQ, as after a crash or timeout:
    receive each of them maxReceiveCount times without deleting, then once more."""
    moved: list[dict[str, Any]] = []
    for _ in range(int(world.environment["MAX_RECEIVE_COUNT"]) + 1):
        moved = world.sqs.receive_message(
            QueueUrl=world.work_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", moved)
    assert queue_depth(world, world.work_queue_url) == 0
    return moved


def upload_notifications(world: World) -> list[dict[str, Any]]:
    """The work queue's messages that are S3 ObjectCreated notifications (test event dropped)."""
    messages = world.receive()
    return [m for m in messages if "Records" in json.loads(m["Body"])]


def stop_notifications(world: World) -> None:
    """Objects uploaded from now on reach the bucket but not the queue (as before a deploy)."""
    world.s3.put_bucket_notification_configuration(Bucket=world.input_bucket, NotificationConfiguration={})
