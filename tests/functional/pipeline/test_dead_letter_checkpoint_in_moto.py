"""Against moto: the dead-letter checkpoint on the idempotency table, and the DLQ send that a slow
answer turns into two messages (the transport duplicate the checkpoint's record id is for)."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from moto.sqs import models as sqs_models

from cutout.dead_letter import SqsDeadLetterQueue
from cutout.dead_letter.checkpoint import (
    DEAD_LETTER_KEY_PREFIX,
    DynamoDBDeadLetterCheckpoint,
    Letter,
    send_once,
)
from cutout.wiring import AWS_READ_TIMEOUT_SECONDS, DEAD_LETTER_READ_TIMEOUT_SECONDS, dead_letter_sqs_config
from tests.functional.pipeline.world import REGION, World


def test_the_first_letter_kept_wins_and_is_marked_sent_with_a_ttl(world: World) -> None:
    # Given the checkpoint on the world's idempotency table
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = world.environment["IDEMPOTENCY_TABLE"]
    checkpoint = DynamoDBDeadLetterCheckpoint(dynamodb, table, ttl_seconds=3600)
    first = Letter('{"record": 1}', {"status": "failed", "identity": "in/a.jpg#v:1"})
    # When two decisions keep a letter for one subject, and the first is marked sent
    assert checkpoint.recorded("in/a.jpg#v:1") is None
    kept = checkpoint.keep("in/a.jpg#v:1", first)
    again = checkpoint.keep("in/a.jpg#v:1", Letter('{"record": 2}', {"status": "failed"}))
    checkpoint.mark_sent("in/a.jpg#v:1")
    # Then the first one stands, is marked sent, under the versioned prefix, expiring with the records
    assert kept == first
    assert again == first
    assert checkpoint.recorded("in/a.jpg#v:1") == Letter(first.record_json, first.outcome, sent=True)
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": f"{DEAD_LETTER_KEY_PREFIX}#in/a.jpg#v:1"}})
    assert int(item["Item"]["expiration"]["N"]) > time.time() + 3000
    assert checkpoint.recorded("in/b.jpg#v:1") is None


@pytest.mark.slow
def test_an_answer_slower_than_the_read_timeout_is_waited_for_not_sent_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an SQS that accepts a DLQ record but answers after the ordinary 3 s read timeout (what
    # moto did on a loaded machine, and what a slow network does on AWS)
    answered = sqs_models.SQSBackend.send_message
    delay = AWS_READ_TIMEOUT_SECONDS + 1.0

    def slow_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        message = answered(self, *args, **kwargs)
        time.sleep(delay)
        return message

    monkeypatch.setattr(sqs_models.SQSBackend, "send_message", slow_send)
    assert delay < DEAD_LETTER_READ_TIMEOUT_SECONDS
    sqs = boto3.client("sqs", region_name=REGION, config=dead_letter_sqs_config())
    queue = SqsDeadLetterQueue(sqs, world.dlq_url)
    # When one failure is recorded
    send_once(queue, None, "in/a.jpg#v:1", Letter(json.dumps({"record_id": "r1"}), {}))
    # Then exactly one message is on the queue: the client waited instead of sending it again
    monkeypatch.setattr(sqs_models.SQSBackend, "send_message", answered)
    assert [record["record_id"] for record in world.dlq_records()] == ["r1"]
