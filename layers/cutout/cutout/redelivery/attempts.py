"""Attempts that really ran: the count that decides when a transient failure is final.

``ApproximateReceiveCount`` also counts receives on which no attempt ran (Lambda throttles, init
errors, out-of-memory kills, timeouts), so it is only the backstop (the queue's last receive).
Each attempt that ran and failed transiently adds one to a small item beside the outcome in the
idempotency table (``cutout/attempts/v1#<identity>``), with the same time to live.

A rate limit is not a failed attempt (the API said "not now", not "no"): it adds nothing, and the
same item keeps when the upload was first held back by one (``rate_limited_since``), so an upload
is given up only once it has waited longer than the patience the operator chose.
"""

from __future__ import annotations

import time
from typing import Protocol

from cutout.idempotency_table import IdempotencyTableItems

ATTEMPTS_KEY_PREFIX = "cutout/attempts/v1"


class AttemptCounter(Protocol):
    def count_failed_attempt(self, subject: str) -> int:
        """Record one more attempt on ``subject`` that ran and failed; return how many have."""
        ...

    def rate_limited_since(self, subject: str) -> float:
        """Note that ``subject`` met a rate limit; return when it first did (Unix seconds)."""
        ...


class DynamoDBAttemptCounter(IdempotencyTableItems):
    """``AttemptCounter`` on the idempotency table (partition key ``id``, TTL attribute ``expiration``)."""

    def count_failed_attempt(self, subject: str) -> int:
        answer = self._dynamodb.update_item(
            TableName=self._table,
            Key={self._key: {"S": f"{ATTEMPTS_KEY_PREFIX}#{subject}"}},
            UpdateExpression="ADD attempts :one SET #expiry = :expiry",
            ExpressionAttributeNames={"#expiry": self._expiry},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":expiry": {"N": str(int(time.time()) + self._ttl)},
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["attempts"]["N"])

    def rate_limited_since(self, subject: str) -> float:
        now = time.time()
        answer = self._dynamodb.update_item(
            TableName=self._table,
            Key={self._key: {"S": f"{ATTEMPTS_KEY_PREFIX}#{subject}"}},
            UpdateExpression=(
                "SET rate_limited_since = if_not_exists(rate_limited_since, :now), #expiry = :expiry"
            ),
            ExpressionAttributeNames={"#expiry": self._expiry},
            ExpressionAttributeValues={
                ":now": {"N": f"{now:.3f}"},
                ":expiry": {"N": str(int(now) + self._ttl)},
            },
            ReturnValues="ALL_NEW",  # UPDATED_NEW may leave out a value if_not_exists kept
        )
        return float(answer["Attributes"]["rate_limited_since"]["N"])
