"""The dead-letter checkpoint: an upload's failure is recorded once, whatever happens after.

A DLQ record *is* an outcome (rule 1: its outputs, or one record that says why). It is sent inside
the outcome's idempotent decision, but Powertools stores that outcome only after the decision has
returned. Between the two, the outcome can be lost while the record is already on the queue: the
outcome write fails (a DynamoDB error, or no time left in the invocation for it), the message comes
back, and once the decision's in-progress lock has expired the upload is decided again. A second
decision can end the same way (a second record) or another way (the transient fault has gone:
outputs beside the record). Both are two outcomes for one upload.

So the failure is written here first, keyed like the outcome (the object version, plus the replay
for a DLQ replay), then sent, then marked sent. A decision that finds a letter here ends with it
and runs nothing again:

- marked sent: the letter's outcome is the outcome; nothing is sent again;
- not marked sent (the send failed, or its answer was lost): the same letter is sent again. At
  worst that is a transport duplicate: the same body, so the same ``record_id``, which every reader
  of the DLQ counts once (a standard SQS queue may deliver any message twice anyway).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from typing import Any, Protocol

from cutout.dead_letter.queue import DeadLetterQueue
from cutout.idempotency_table import IdempotencyTableItems

DEAD_LETTER_KEY_PREFIX = "cutout/dead-letter/v1"


def record_id(subject: str) -> str:
    """The record's id: the same for every send of one upload's failure, different for another's."""
    return hashlib.sha256(f"{DEAD_LETTER_KEY_PREFIX}#{subject}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Letter:
    """A failure as recorded: the DLQ record's JSON, the outcome it stands for, and whether it went out."""

    record_json: str
    outcome: dict[str, Any]
    sent: bool = False


class DeadLetterCheckpoint(Protocol):
    """Where an upload's letter is kept (the idempotency table), keyed by its subject."""

    def recorded(self, subject: str) -> Letter | None:
        """The letter kept for ``subject``, or None."""
        ...

    def keep(self, subject: str, letter: Letter) -> Letter:
        """Keep ``letter`` unless one is kept already; return the one kept (the first wins)."""
        ...

    def mark_sent(self, subject: str) -> None:
        """The letter kept for ``subject`` is on the queue."""
        ...


def send_once(
    queue: DeadLetterQueue, checkpoint: DeadLetterCheckpoint | None, subject: str, letter: Letter
) -> Letter:
    """Record ``letter`` for ``subject`` on the DLQ once; return the letter that stands (an earlier
    one, if a decision before this one kept it). Without a checkpoint (tests, direct invocations),
    it is simply sent."""
    kept = checkpoint.keep(subject, letter) if checkpoint is not None else letter
    if not kept.sent:
        queue.send(kept.record_json)
        if checkpoint is not None:
            checkpoint.mark_sent(subject)
    return replace(kept, sent=True)


class DynamoDBDeadLetterCheckpoint(IdempotencyTableItems):
    """``DeadLetterCheckpoint`` on the idempotency table (partition key ``id``, TTL ``expiration``)."""

    def _item_key(self, subject: str) -> dict[str, dict[str, str]]:
        return {self._key: {"S": f"{DEAD_LETTER_KEY_PREFIX}#{subject}"}}

    def recorded(self, subject: str) -> Letter | None:
        answer = self._dynamodb.get_item(
            TableName=self._table, Key=self._item_key(subject), ConsistentRead=True
        )
        item = answer.get("Item")
        if not item:
            return None
        expiry = item.get(self._expiry, {}).get("N")
        if expiry is not None and int(expiry) < time.time():
            return None  # expired but not yet deleted by DynamoDB's TTL sweep: as if gone
        return Letter(
            record_json=item["record"]["S"],
            outcome=json.loads(item["outcome"]["S"]),
            sent=bool(item.get("sent", {}).get("BOOL", False)),
        )

    def keep(self, subject: str, letter: Letter) -> Letter:
        from botocore.exceptions import ClientError

        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    **self._item_key(subject),
                    "record": {"S": letter.record_json},
                    "outcome": {"S": json.dumps(letter.outcome, separators=(",", ":"))},
                    "sent": {"BOOL": letter.sent},
                    self._expiry: {"N": str(int(time.time()) + self._ttl)},
                },
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": self._key},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            kept = self.recorded(subject)
            if kept is not None:
                return kept
        return letter

    def mark_sent(self, subject: str) -> None:
        self._dynamodb.update_item(
            TableName=self._table,
            Key=self._item_key(subject),
            UpdateExpression="SET sent = :sent",
            ExpressionAttributeValues={":sent": {"BOOL": True}},
        )
