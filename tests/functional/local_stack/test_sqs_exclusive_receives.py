"""The local stack's moto keeps SQS's exclusive receive: concurrent pollers never share a message."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from cutout_tools.local_stack.sqs_atomicity import give_moto_sqs_exclusive_receives
from tests.functional.local_aws import REGION, moto_server, point_boto3_at

MESSAGES = 120
POLLERS = 6


@pytest.mark.slow
def test_concurrent_receives_never_hand_one_message_to_two_pollers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given moto as the local stack runs it, and a queue of 120 messages
    give_moto_sqs_exclusive_receives()
    with moto_server() as endpoint:
        point_boto3_at(endpoint, monkeypatch)
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
        for start in range(0, MESSAGES, 10):
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(n), "MessageBody": f"m{start + n}"} for n in range(10)],
            )
        received: list[str] = []
        lock = threading.Lock()

        def poll() -> None:
            client: Any = boto3.client("sqs", region_name=REGION)
            while True:
                messages = client.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", [])
                if not messages:
                    return
                with lock:
                    received.extend(message["Body"] for message in messages)

        # When six pollers receive at once until the queue is empty
        threads = [threading.Thread(target=poll) for _ in range(POLLERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    # Then every message was received exactly once
    assert len(received) == MESSAGES
    assert len(set(received)) == MESSAGES


def test_patching_twice_changes_nothing() -> None:
    from moto.sqs.models import SQSBackend

    give_moto_sqs_exclusive_receives()
    first = SQSBackend.receive_message
    give_moto_sqs_exclusive_receives()
    assert SQSBackend.receive_message is first
