"""A pause that loses nothing, however long: the paused backlog is sent again before SQS drops it.

SQS deletes a message ``MessageRetentionPeriod`` after it was *sent* (14 days at most), whether or
not anyone could receive it: a monthly cap reached on the 10th, or an Aidge quota exhausted for
three weeks, would otherwise delete uploads without a trace. So each scheduled run that finds the
pipeline paused (``cutout.spending.schedule``) *refreshes* the backlog first: it receives every
message the paused mapping left in the work queue, sends the same body again as a new message
(its retention starts again, its receive count is 0), and deletes the original once the copy is
sent. The run is daily, so no waiting upload is ever older than about a day plus the age it had
when the pause began: far from 14 days, however long the pause.

Why every message, not only the old ones: SQS tells a message's age only to whoever receives it,
and each receive counts towards the redrive's ``maxReceiveCount``; receiving young messages daily
without resending them would move them to the DLQ within a week. Resending costs three SQS
requests per ten messages (receive, send, delete: batches of ten), about $0.12 per million waiting
uploads per day.

Duplicates are harmless (an upload's outcome is decided once per object version). A copy is sent
with ``DelaySeconds`` (15 minutes), so the scan never receives its own copies; the originals it
received are hidden for the scan (``VisibilityTimeout``) and deleted only once their copy is sent:
a crash in between leaves the original (and perhaps a copy), never neither. A scan stops at its
time budget; whatever it did not reach is refreshed by the next run (a day later).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

COPY_DELAY_SECONDS = 900  # SQS's most: the scan never sees its own copies
SCAN_VISIBILITY_SECONDS = 900  # what the scan received stays hidden while it runs
BATCH = 10  # SQS's most per receive, send batch and delete batch
REFRESHED_ATTRIBUTE = "cutout-refreshed"  # how many times the body was sent again (for the logs)


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What one scan did: messages sent again (originals deleted), and whether it reached the end."""

    resent: int
    complete: bool


class BacklogRefresher:
    """Receives the work queue's waiting messages and sends each again as a new message."""

    def __init__(
        self,
        sqs: Any,  # a boto3 SQS client (or the simulated queue in tests)
        queue_url: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._clock = clock

    def refresh(self, seconds: float) -> Refreshed:
        """Refresh for at most ``seconds``; the backlog may be larger than one scan."""
        from cutout.observability import logger

        stop_at = self._clock() + seconds
        resent = 0
        while self._clock() < stop_at:
            messages = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=BATCH,
                WaitTimeSeconds=0,
                VisibilityTimeout=SCAN_VISIBILITY_SECONDS,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                logger.info("paused backlog refreshed", resent=resent)
                return Refreshed(resent, complete=True)
            resent += self._send_again(messages)
        logger.warning("paused backlog partly refreshed: the next run goes on", resent=resent)
        return Refreshed(resent, complete=False)

    def _send_again(self, messages: list[dict[str, Any]]) -> int:
        entries = []
        for index, message in enumerate(messages):
            attributes = dict(message.get("MessageAttributes") or {})
            times = attributes.get(REFRESHED_ATTRIBUTE, {}).get("StringValue", "0")
            attributes[REFRESHED_ATTRIBUTE] = {
                "DataType": "Number",
                "StringValue": str(int(times) + 1 if times.isdigit() else 1),
            }
            entries.append(
                {
                    "Id": str(index),
                    "MessageBody": message["Body"],
                    "DelaySeconds": COPY_DELAY_SECONDS,
                    "MessageAttributes": {
                        name: {key: value for key, value in attribute.items() if key in _ATTRIBUTE_FIELDS}
                        for name, attribute in attributes.items()
                    },
                }
            )
        answer = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
        sent = {item["Id"] for item in answer.get("Successful", [])}
        originals = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(messages)
            if str(index) in sent
        ]
        if originals:  # only once its copy is in the queue: never neither
            self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=originals)
        return len(originals)


_ATTRIBUTE_FIELDS = frozenset({"DataType", "StringValue", "BinaryValue"})
