"""The queue-visibility port (when a failed message is received again) and its SQS adapter.

Lambda's event source mapping deletes the messages of a batch that succeeded and leaves the
reported failures in flight; ``ChangeMessageVisibility`` on their receipt handles sets how long
until they are received again (counted from the call, not from the receive).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cutout.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_MAX_BATCH_ENTRIES = 10


@dataclass(frozen=True, slots=True)
class Redelivery:
    """One failed message and how long it stays invisible."""

    queue_arn: str
    receipt_handle: str
    delay_seconds: int
    message_id: str = ""


class MessageVisibility(Protocol):
    def redeliver_after(self, redeliveries: Sequence[Redelivery]) -> None:
        """Best effort: a message whose visibility could not be set comes back after the queue's timeout."""
        ...


def queue_name_and_account(queue_arn: str) -> tuple[str, str]:
    """``arn:aws:sqs:us-east-1:123456789012:name`` → (``name``, ``123456789012``)."""
    parts = queue_arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise ValueError(f"not an SQS queue ARN: {queue_arn!r}")
    return parts[5], parts[4]


class SqsMessageVisibility:
    """``MessageVisibility`` on Amazon SQS: ChangeMessageVisibilityBatch, ten entries per call.

    The event only names the queue's ARN; its URL is looked up once (GetQueueUrl) and cached, so
    the adapter also serves a queue the template did not create.
    """

    def __init__(self, client: SQSClient) -> None:
        self._sqs = client
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def redeliver_after(self, redeliveries: Sequence[Redelivery]) -> None:
        by_queue: dict[str, list[Redelivery]] = {}
        for item in redeliveries:
            by_queue.setdefault(item.queue_arn, []).append(item)
        for queue_arn, items in by_queue.items():
            try:
                url = self._queue_url(queue_arn)
                for start in range(0, len(items), SQS_MAX_BATCH_ENTRIES):
                    self._change(url, items[start : start + SQS_MAX_BATCH_ENTRIES])
            except Exception as error:  # noqa: BLE001  (the batch's response matters more: report, go on)
                logger.warning(
                    "could not set the retry delay; the messages come back after the visibility timeout",
                    queue_arn=queue_arn,
                    error=f"{type(error).__name__}: {error}",
                )

    def _queue_url(self, queue_arn: str) -> str:
        with self._lock:
            url = self._urls.get(queue_arn)
        if url is None:
            name, account = queue_name_and_account(queue_arn)
            url = self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            with self._lock:
                self._urls[queue_arn] = url
        return url

    def _change(self, url: str, items: Sequence[Redelivery]) -> None:
        answer = self._sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": str(number),
                    "ReceiptHandle": item.receipt_handle,
                    "VisibilityTimeout": item.delay_seconds,
                }
                for number, item in enumerate(items)
            ],
        )
        for failure in answer.get("Failed", []):
            logger.warning(
                "could not set one message's retry delay",
                code=failure.get("Code"),
                error_message=failure.get("Message"),
            )
