"""The dead-letter-queue port and its SQS adapter.

A DLQ record is the JSON of ``cutout.events.FailureRecord``; the same queue is also the work
queue's redrive target, so a consumer can meet raw S3 events there too (crashes, timeouts) and
``cutout dlq replay`` handles both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class DeadLetterQueue(Protocol):
    def send(self, record_json: str) -> None: ...


class SqsDeadLetterQueue:
    """``DeadLetterQueue`` on Amazon SQS."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._sqs = client
        self._queue_url = queue_url

    def send(self, record_json: str) -> None:
        self._sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=record_json,
            MessageAttributes={"cutout-record": {"DataType": "String", "StringValue": "failure/1"}},
        )
