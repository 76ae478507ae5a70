"""Small items kept beside the outcomes in the idempotency table (partition key ``id``, TTL
``expiration``): the attempt counter and the dead-letter checkpoint share how they address it."""

from __future__ import annotations

from typing import Any, Protocol


class DynamoDBItems(Protocol):
    """The part of a boto3 DynamoDB client these items use."""

    def get_item(self, **kwargs: Any) -> Any: ...

    def put_item(self, **kwargs: Any) -> Any: ...

    def update_item(self, **kwargs: Any) -> Any: ...


class IdempotencyTableItems:
    """A DynamoDB client, the table, its key and TTL attributes, and how long an item lives."""

    def __init__(
        self,
        client: DynamoDBItems,
        table_name: str,
        *,
        ttl_seconds: int,
        key_attribute: str = "id",
        expiry_attribute: str = "expiration",
    ) -> None:
        self._dynamodb = client
        self._table = table_name
        self._ttl = ttl_seconds
        self._key = key_attribute
        self._expiry = expiry_attribute
