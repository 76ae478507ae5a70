"""An SQS batch with partial failures (``ReportBatchItemFailures``), its records run concurrently.

What Powertools' ``BatchProcessor`` does for SQS, in the few lines this function needs: run the
record handler on every record (on a bounded thread pool, so a batch of 10 images takes about as
long as its slowest one), and answer ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}``
for the records whose handler raised; an empty list when none did. Ours rather than Powertools'
because importing ``aws_lambda_powertools.utilities.batch`` imports ``asyncio`` (for its async
processor) and every event data class, about a tenth of the function's cold start, for
bookkeeping we use none of (docs/benchmarks.md).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cutout.observability import logger


@dataclass(frozen=True, slots=True)
class SqsMessage:
    """One record of an SQS event, as Lambda's event source mapping delivers it."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    first_received_at: str | None
    queue_arn: str

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SqsMessage:
        attributes = record.get("attributes") or {}
        return cls(
            message_id=str(record.get("messageId", "")),
            receipt_handle=str(record.get("receiptHandle", "")),
            body=str(record.get("body", "")),
            receive_count=int(attributes.get("ApproximateReceiveCount") or 1),
            first_received_at=attributes.get("ApproximateFirstReceiveTimestamp"),
            queue_arn=str(record.get("eventSourceARN", "")),
        )


def process_sqs_batch(
    event: Mapping[str, Any], handle: Callable[[SqsMessage], object], *, max_workers: int
) -> dict[str, list[dict[str, str]]]:
    """Run ``handle`` on every record; the partial batch response lists those that raised."""
    messages = [SqsMessage.from_record(record) for record in event.get("Records") or []]

    def run(message: SqsMessage) -> str | None:
        try:
            handle(message)
        except Exception as error:  # noqa: BLE001  (a failed record is reported, never the whole batch)
            logger.info(
                "record reported for redelivery",
                message_id=message.message_id,
                error=type(error).__name__,
            )
            return message.message_id
        return None

    if len(messages) <= 1:
        failed = [run(message) for message in messages]
    else:
        # Each record runs in a copy of the handler's context: the invocation's deadline goes with it.
        with ThreadPoolExecutor(
            max_workers=min(max_workers, len(messages)), thread_name_prefix="record"
        ) as pool:
            futures = [pool.submit(contextvars.copy_context().run, run, message) for message in messages]
            failed = [future.result() for future in futures]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed if message_id]}
