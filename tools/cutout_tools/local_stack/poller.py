"""Lambda's SQS event source mapping, played locally: poll, batch, invoke, delete, leave failures.

What Lambda does for an SQS event source with ``ReportBatchItemFailures``, and so what this does:
receive up to ``batch_size`` messages (waiting up to the batching window to fill a batch), invoke
the function with them as one event, delete the messages that did not fail, and leave the reported
failures in the queue: they come back when their visibility ends (the queue's visibility timeout,
or the delay the function's retry schedule set with ChangeMessageVisibility, which moto honours as
SQS does), and SQS's redrive moves them to the dead-letter queue after ``maxReceiveCount``
receives. A function error (an exception, or a malformed response) fails the whole batch. At most
``maximum_concurrency`` batches run at once (``ScalingConfig.MaximumConcurrency``): one worker
thread per allowed concurrent batch. The mapping's state is read as the poller goes (``MappingState``):
a disabled mapping receives nothing, and a lowered MaximumConcurrency leaves the workers above it
idle, as Lambda scales its pollers down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cutout_tools.local_stack.lambda_runtime import sqs_event_from_messages

logger = logging.getLogger("cutout_tools.local_stack")

SQS_MAX_MESSAGES_PER_RECEIVE = 10
DEFAULT_MAXIMUM_CONCURRENCY = 5  # when the mapping sets none; Lambda would scale much further
ERROR_BACKOFF_SECONDS = 1.0
DISABLED_RECHECK_SECONDS = 0.5


MAPPING_STATE_CACHE_SECONDS = 0.5


class MappingState:
    """The mapping as Lambda's pollers see it, read through ``read`` (GetEventSourceMapping), at
    most every ``MAPPING_STATE_CACHE_SECONDS`` for all workers together."""

    def __init__(
        self, read: Callable[[], dict[str, Any]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._read = read
        self._clock = clock
        self._lock = threading.Lock()
        self._answer: dict[str, Any] | None = None
        self._at = 0.0

    def _current(self) -> dict[str, Any]:
        with self._lock:
            if self._answer is None or self._clock() - self._at >= MAPPING_STATE_CACHE_SECONDS:
                self._answer, self._at = self._read(), self._clock()
            return self._answer

    def enabled(self) -> bool:
        return self._current().get("State", "Enabled") not in ("Disabled", "Disabling")

    def maximum_concurrency(self) -> int | None:
        value = (self._current().get("ScalingConfig") or {}).get("MaximumConcurrency")
        return None if value is None else int(value)


class SqsReceiver(Protocol):
    """The part of a boto3 SQS client the poller uses."""

    def receive_message(self, **kwargs: Any) -> dict[str, Any]: ...

    def delete_message_batch(self, **kwargs: Any) -> dict[str, Any]: ...

    def change_message_visibility_batch(self, **kwargs: Any) -> dict[str, Any]: ...


Invoke = Callable[[dict[str, Any]], Any]
"""Runs the function with an SQS event; returns its response (``{"batchItemFailures": [...]}``)."""


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """One invocation: how many records, which message ids failed, how long, and the error if any."""

    records: int
    failed_message_ids: tuple[str, ...]
    seconds: float
    error: str | None = None

    @property
    def failures(self) -> int:
        return len(self.failed_message_ids)


def failed_message_ids(response: Any, message_ids: Sequence[str]) -> tuple[tuple[str, ...], str | None]:
    """The message ids to leave in the queue for ``response``, and why the whole batch failed if it did.

    As Lambda reads a ``ReportBatchItemFailures`` response: ``None``/``{}``/no failures means all
    succeeded; a failure entry with a missing, empty or unknown ``itemIdentifier`` fails the batch.
    """
    if response is None:
        return (), None
    if not isinstance(response, dict):
        return tuple(message_ids), f"the response is a {type(response).__name__}, not an object"
    items = response.get("batchItemFailures") or []
    if not isinstance(items, list):
        return tuple(message_ids), "batchItemFailures is not a list"
    failed: list[str] = []
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in message_ids:
            return tuple(message_ids), f"batchItemFailures names an unknown item {identifier!r}"
        failed.append(str(identifier))
    return tuple(dict.fromkeys(failed)), None


class EventSourcePoller:
    """Worker threads that play one SQS event source mapping until ``stop()``."""

    def __init__(
        self,
        sqs: SqsReceiver,
        *,
        queue_url: str,
        queue_arn: str,
        region: str,
        invoke: Invoke,
        batch_size: int = 10,
        batching_window_seconds: float = 0.0,
        maximum_concurrency: int | None = None,
        poll_wait_seconds: int = 1,
        on_batch: Callable[[BatchOutcome], None] | None = None,
        is_enabled: Callable[[], bool] | None = None,
        mapping: MappingState | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._sqs = sqs
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._region = region
        self._invoke = invoke
        self.batch_size = batch_size
        self.batching_window_seconds = max(0.0, float(batching_window_seconds))
        self.maximum_concurrency = maximum_concurrency or DEFAULT_MAXIMUM_CONCURRENCY
        self._poll_wait_seconds = max(0, int(poll_wait_seconds))
        self._on_batch = on_batch
        # The mapping's Enabled state, as Lambda reads it: a disabled mapping receives nothing (the
        # pipeline pauses itself this way when it cannot pay). None: always enabled.
        self._is_enabled = is_enabled or (mapping.enabled if mapping is not None else None)
        # Its MaximumConcurrency as it is now (None: as started); workers above it stay idle.
        self._allowed = mapping.maximum_concurrency if mapping is not None else None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._batches = 0
        self._threads: list[threading.Thread] = []

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> EventSourcePoller:
        if self._threads:
            raise RuntimeError("the poller is already started")
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._work, args=(number,), name=f"event-source-{number}", daemon=True)
            for number in range(self.maximum_concurrency)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def request_stop(self) -> None:
        """Start no more batches; batches already running finish.

        Once this returns, ``in_flight`` counts every batch that will still run: a batch received
        but not yet started goes back to the queue unprocessed (nothing paid for it).
        """
        with self._lock:
            self._stopping.set()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop receiving and wait for running batches (up to ``timeout``). True if every worker ended."""
        self.request_stop()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        alive = [thread for thread in self._threads if thread.is_alive()]
        self._threads = alive
        return not alive

    # --- facts --------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Batches received and not yet settled (invoked, deleted)."""
        with self._lock:
            return self._in_flight

    @property
    def batches(self) -> int:
        with self._lock:
            return self._batches

    # --- the work -----------------------------------------------------------------------------

    def _work(self, number: int = 0) -> None:
        while not self._stopping.is_set():
            try:
                if not self._may_receive(number):
                    self._stopping.wait(DISABLED_RECHECK_SECONDS)
                    continue
                messages = self._gather()
            except Exception as error:  # noqa: BLE001 - a poller survives a failed receive, as Lambda's does
                if self._stopping.is_set():
                    return
                logger.warning("receive from the work queue failed: %s", error)
                self._stopping.wait(ERROR_BACKOFF_SECONDS)
                continue
            if messages:
                self._settle(messages)

    def _may_receive(self, number: int) -> bool:
        """Worker ``number`` receives while the mapping is enabled and allows that many batches."""
        if self._is_enabled is not None and not self._is_enabled():
            return False
        allowed = self._allowed() if self._allowed is not None else None
        return allowed is None or number < allowed

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=max(1, min(SQS_MAX_MESSAGES_PER_RECEIVE, count)),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages

    def _gather(self) -> list[dict[str, Any]]:
        """One batch: the first receive long-polls; then fill up until the batching window closes."""
        messages = self._receive(self.batch_size, self._poll_wait_seconds)
        if not messages or self.batching_window_seconds <= 0:
            return messages
        with self._lock:
            self._in_flight += 1  # received messages are in flight while the window stays open
        try:
            deadline = time.monotonic() + self.batching_window_seconds
            while len(messages) < self.batch_size and not self._stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                more = self._receive(
                    self.batch_size - len(messages), min(int(remaining), self._poll_wait_seconds)
                )
                if not more:
                    self._stopping.wait(min(remaining, 0.05))
                messages.extend(more)
        finally:
            with self._lock:
                self._in_flight -= 1
        return messages

    def _settle(self, messages: list[dict[str, Any]]) -> None:
        with self._lock:
            stopping = self._stopping.is_set()
            if not stopping:
                self._in_flight += 1
        if stopping:
            self._make_visible_after(messages, 0)  # received as the stop came: not started, not paid
            return
        try:
            outcome = self.run_batch(messages)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._batches += 1
        if self._on_batch is not None:
            self._on_batch(outcome)

    def run_batch(self, messages: list[dict[str, Any]]) -> BatchOutcome:
        """Invoke with ``messages`` as one event, delete the successes, leave the failures."""
        started = time.monotonic()
        message_ids = [str(message["MessageId"]) for message in messages]
        event = sqs_event_from_messages(messages, self._queue_arn, self._region)
        error: str | None
        try:
            response = self._invoke(event)
        except Exception as raised:  # noqa: BLE001 - a function error fails the batch, as in Lambda
            failed, error = tuple(message_ids), f"{type(raised).__name__}: {raised}"
        else:
            failed, error = failed_message_ids(response, message_ids)
        succeeded = [message for message in messages if message["MessageId"] not in failed]
        self._delete(succeeded)
        return BatchOutcome(
            records=len(messages), failed_message_ids=failed, seconds=time.monotonic() - started, error=error
        )

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), SQS_MAX_MESSAGES_PER_RECEIVE):
            chunk = messages[start : start + SQS_MAX_MESSAGES_PER_RECEIVE]
            answer = self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]}
                    for number, message in enumerate(chunk)
                ],
            )
            for failure in answer.get("Failed", []):
                logger.warning("could not delete a processed message: %s", failure.get("Message"))

    def _make_visible_after(self, messages: list[dict[str, Any]], seconds: int) -> None:
        for start in range(0, len(messages), SQS_MAX_MESSAGES_PER_RECEIVE):
            chunk = messages[start : start + SQS_MAX_MESSAGES_PER_RECEIVE]
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {
                        "Id": str(number),
                        "ReceiptHandle": message["ReceiptHandle"],
                        "VisibilityTimeout": seconds,
                    }
                    for number, message in enumerate(chunk)
                ],
            )
