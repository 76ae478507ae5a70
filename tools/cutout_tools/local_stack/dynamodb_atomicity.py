"""DynamoDB's per-item atomicity, which moto lacks, for the moto the local stack runs in-process.

DynamoDB applies a conditional UpdateItem atomically per item (its documented guarantee); the
spending cap's reservation relies on it (``cutout.spending``: one conditional update, never a read
then a write). moto evaluates the condition and writes without a lock, so on a loaded machine two
concurrent reservations can both pass and a local run of a budget of 3 bills 4. The local stack's
moto runs in this process (``ThreadedMotoServer``), so its update is serialised here, one at a time:
what the local stack shows is then what DynamoDB does. Reads and other writes stay unserialised.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.Lock()
_PATCHED = "_cutout_atomic_update_item"


def give_moto_dynamodb_item_atomicity() -> None:
    """Serialise moto's ``update_item`` in this process (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.update_item
    if getattr(original, _PATCHED, False):
        return

    @functools.wraps(original)
    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(self, *args, **kwargs)

    setattr(update_item, _PATCHED, True)
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
