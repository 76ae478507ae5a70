"""SQS's exclusive receive, which moto lacks, for the moto the local stack runs in-process.

On SQS a message a consumer received stays invisible to every other consumer for its visibility
timeout: two concurrent ReceiveMessage calls never both get it (a standard queue may, rarely,
deliver a message twice; it never hands the same receive to two pollers by design). moto's
``receive_message`` walks the queue and marks each visible message received without a lock, so
the local poller's concurrent workers can both take one message (two batches work on one upload at
once), or both move one message to the dead-letter queue (``list.remove(x): x not in list``,
answered as a 500). Seen on a loaded machine, where moto's threads are slow enough to interleave.

The local stack's moto runs in this process (``ThreadedMotoServer``), so its queue operations are
serialised here: each receive pass (without waiting) holds the lock; a long poll waits between
passes outside it, so one waiting receiver never holds up the others.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

_LOCK = threading.RLock()
_PATCHED = "_cutout_serialised"
# moto's SQSBackend methods that read or change a queue's messages.
_SERIALISED = (
    "send_message",
    "send_message_batch",
    "delete_message",
    "delete_message_batch",
    "change_message_visibility",
    "change_message_visibility_batch",
    "purge_queue",
)
LONG_POLL_STEP_SECONDS = 0.1


def give_moto_sqs_exclusive_receives() -> None:
    """Serialise moto's SQS message operations in this process (idempotent)."""
    from moto.sqs.models import SQSBackend

    if getattr(SQSBackend.receive_message, _PATCHED, False):
        return
    for name in _SERIALISED:
        original = getattr(SQSBackend, name, None)
        if original is not None:
            setattr(SQSBackend, name, _serialised(original))
    SQSBackend.receive_message = _exclusive_receive(SQSBackend.receive_message)  # type: ignore[method-assign]


def _serialised(original: Any) -> Any:
    @functools.wraps(original)
    def serialised(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(self, *args, **kwargs)

    setattr(serialised, _PATCHED, True)
    return serialised


def _exclusive_receive(original: Any) -> Any:
    @functools.wraps(original)
    def receive_message(  # noqa: PLR0917  (moto's own signature, which its responses call positionally)
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        polling_end = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with _LOCK:  # one pass, no waiting: nobody else takes what this pass takes
                result = original(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            remaining = polling_end - time.monotonic()
            if result or remaining <= 0:
                return result
            time.sleep(min(LONG_POLL_STEP_SECONDS, remaining))

    setattr(receive_message, _PATCHED, True)
    return receive_message
