"""The local event source mapping: batch size, batching window, concurrency, partial failures.

An in-memory queue stands in for SQS (no sockets); the handler is injected.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from cutout_tools.local_stack.poller import EventSourcePoller, MappingState, failed_message_ids

QUEUE_URL = "http://127.0.0.1:1/123456789012/work"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:work"


class InMemoryQueue:
    """Just enough SQS: receive hides messages, delete removes them, visibility changes are recorded."""

    def __init__(self, bodies: list[str], max_per_receive: int = 10) -> None:
        self._lock = threading.Lock()
        self._handles = itertools.count()
        self.visible: list[dict[str, Any]] = [
            {"MessageId": f"m{number}", "Body": body, "Attributes": {"ApproximateReceiveCount": "1"}}
            for number, body in enumerate(bodies)
        ]
        self.in_flight: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self.visibility_changes: list[tuple[str, int]] = []
        self.receive_sizes: list[int] = []
        self._max_per_receive = max_per_receive

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.receive_sizes.append(kwargs["MaxNumberOfMessages"])
            count = min(kwargs["MaxNumberOfMessages"], self._max_per_receive)
            taken, self.visible = self.visible[:count], self.visible[count:]
            for message in taken:
                message["ReceiptHandle"] = f"h{next(self._handles)}"
                self.in_flight[message["ReceiptHandle"]] = message
        if not taken:
            time.sleep(0.01)  # what long polling would do, briefly
        return {"Messages": [dict(message) for message in taken]} if taken else {}

    def delete_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            for entry in kwargs["Entries"]:
                self.deleted.append(self.in_flight.pop(entry["ReceiptHandle"])["MessageId"])
        return {"Successful": [{"Id": entry["Id"]} for entry in kwargs["Entries"]]}

    def change_message_visibility_batch(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            for entry in kwargs["Entries"]:
                message = self.in_flight[entry["ReceiptHandle"]]
                self.visibility_changes.append((message["MessageId"], entry["VisibilityTimeout"]))
        return {"Successful": []}


def _poller(
    queue: InMemoryQueue, invoke: Callable[[dict[str, Any]], Any], **options: Any
) -> EventSourcePoller:
    return EventSourcePoller(
        queue, queue_url=QUEUE_URL, queue_arn=QUEUE_ARN, region="us-east-1", invoke=invoke, **options
    )


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_batches_never_exceed_the_batch_size_and_every_success_is_deleted() -> None:
    # Given 25 messages and a mapping with batch size 10
    queue = InMemoryQueue([f"body {n}" for n in range(25)])
    sizes: list[int] = []

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        sizes.append(len(event["Records"]))
        return {"batchItemFailures": []}

    # When the poller runs until the queue is drained
    poller = _poller(queue, invoke, batch_size=10, maximum_concurrency=1).start()
    try:
        _wait_for(lambda: len(queue.deleted) == 25)
    finally:
        assert poller.stop(timeout=5)
    # Then every receive asked for at most 10, every event held at most 10, and all were deleted
    assert set(queue.receive_sizes) == {10}
    assert max(sizes) == 10
    assert sum(sizes) == 25
    assert sorted(queue.deleted) == sorted(f"m{n}" for n in range(25))


def test_the_event_is_what_lambda_delivers_for_sqs() -> None:
    # Given one message
    queue = InMemoryQueue(["hello"])
    events: list[dict[str, Any]] = []
    poller = _poller(queue, events.append, batch_size=10)
    # When one batch runs
    messages = queue.receive_message(MaxNumberOfMessages=10)["Messages"]
    poller.run_batch(messages)
    # Then the handler got an aws:sqs record with the queue's ARN, and a None response deleted it
    (record,) = events[0]["Records"]
    assert (record["eventSource"], record["eventSourceARN"], record["body"]) == (
        "aws:sqs",
        QUEUE_ARN,
        "hello",
    )
    assert queue.deleted == ["m0"]


def test_reported_failures_stay_in_the_queue_and_the_rest_is_deleted() -> None:
    # Given a batch of three where the handler reports the second as failed
    queue = InMemoryQueue(["a", "b", "c"])
    poller = _poller(queue, lambda event: {"batchItemFailures": [{"itemIdentifier": "m1"}]})
    messages = queue.receive_message(MaxNumberOfMessages=10)["Messages"]
    # When the batch runs
    outcome = poller.run_batch(messages)
    # Then m0 and m2 are deleted, m1 stays in flight for redelivery, and nothing touched its visibility
    assert sorted(queue.deleted) == ["m0", "m2"]
    assert [message["MessageId"] for message in queue.in_flight.values()] == ["m1"]
    assert queue.visibility_changes == []
    assert (outcome.records, outcome.failed_message_ids, outcome.error) == (3, ("m1",), None)


def test_a_function_error_leaves_the_whole_batch_for_redelivery() -> None:
    # Given a handler that raises
    queue = InMemoryQueue(["a", "b"])

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("boom")

    poller = _poller(queue, invoke)
    messages = queue.receive_message(MaxNumberOfMessages=10)["Messages"]
    # When the batch runs
    outcome = poller.run_batch(messages)
    # Then nothing is deleted and the error is reported
    assert queue.deleted == []
    assert outcome.failures == 2
    assert outcome.error == "RuntimeError: boom"


def test_failures_are_left_to_the_function_s_retry_schedule() -> None:
    # Given a handler that fails one record and sets its retry delay itself, as the function does
    queue = InMemoryQueue(["a", "b"])

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        failed = event["Records"][0]
        queue.change_message_visibility_batch(
            Entries=[{"Id": "0", "ReceiptHandle": failed["receiptHandle"], "VisibilityTimeout": 30}]
        )
        return {"batchItemFailures": [{"itemIdentifier": failed["messageId"]}]}

    poller = _poller(queue, invoke)
    messages = queue.receive_message(MaxNumberOfMessages=10)["Messages"]
    # When the batch runs
    poller.run_batch(messages)
    # Then the poller deleted the success and changed no visibility of its own: the function's 30 s stands
    assert queue.visibility_changes == [("m0", 30)]
    assert queue.deleted == ["m1"]


def test_no_more_batches_run_at_once_than_the_maximum_concurrency() -> None:
    # Given 12 single-message batches, maximum concurrency 3, and a handler that holds until 3 run at once
    queue = InMemoryQueue([f"body {n}" for n in range(12)])
    lock = threading.Lock()
    running = 0
    most_at_once = 0
    three_together = threading.Barrier(3, timeout=10)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        nonlocal running, most_at_once
        with lock:
            running += 1
            most_at_once = max(most_at_once, running)
        try:
            three_together.wait()
        except threading.BrokenBarrierError:
            pass
        finally:
            with lock:
                running -= 1
        return {}

    # When the poller drains the queue
    poller = _poller(queue, invoke, batch_size=1, maximum_concurrency=3).start()
    try:
        _wait_for(lambda: len(queue.deleted) == 12)
    finally:
        assert poller.stop(timeout=5)
    # Then exactly three batches ran together, never more
    assert most_at_once == 3
    assert poller.batches == 12


def test_the_batching_window_fills_a_batch_from_several_receives() -> None:
    # Given five messages that SQS hands out two at a time, batch size 5 and a 5 s window
    queue = InMemoryQueue([f"body {n}" for n in range(5)], max_per_receive=2)
    sizes: list[int] = []
    poller = _poller(
        queue, lambda event: sizes.append(len(event["Records"])), batch_size=5, batching_window_seconds=5
    ).start()
    # When the poller runs until all are deleted
    try:
        _wait_for(lambda: len(queue.deleted) == 5)
    finally:
        assert poller.stop(timeout=10)
    # Then one invocation got all five (the window closed as soon as the batch was full)
    assert sizes == [5]


@pytest.mark.parametrize(
    ("response", "expected_failed", "whole_batch_error"),
    [
        (None, (), False),
        ({}, (), False),
        ({"batchItemFailures": []}, (), False),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, ("b",), False),
        ({"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "b"}]}, ("b",), False),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ("a", "b"), True),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, ("a", "b"), True),
        ({"batchItemFailures": [{}]}, ("a", "b"), True),
        ({"batchItemFailures": "b"}, ("a", "b"), True),
        ("ok", ("a", "b"), True),
    ],
)
def test_responses_are_read_as_lambda_reads_them(
    response: Any, expected_failed: tuple[str, ...], whole_batch_error: bool
) -> None:
    # Given a batch of messages a and b
    message_ids = ["a", "b"]
    # When a ReportBatchItemFailures response is read
    failed, error = failed_message_ids(response, message_ids)
    # Then the right messages stay, and a malformed response fails the whole batch
    assert failed == expected_failed
    assert (error is not None) == whole_batch_error


def test_a_batch_received_as_the_stop_comes_goes_back_to_the_queue_unprocessed() -> None:
    # Given a poller whose receive returns messages just as a stop is requested (during the long poll)
    queue = InMemoryQueue(["a", "b"])
    invoked: list[dict[str, Any]] = []
    poller = _poller(queue, invoked.append, maximum_concurrency=1)
    receive = queue.receive_message

    def receive_while_stopping(**kwargs: Any) -> dict[str, Any]:
        answer = receive(**kwargs)
        if answer:
            poller.request_stop()
        return answer

    queue.receive_message = receive_while_stopping  # type: ignore[method-assign]

    # When it runs until it stops
    poller.start()
    _wait_for(lambda: bool(queue.visibility_changes))
    assert poller.stop(timeout=10)

    # Then the function never saw the batch, nothing was deleted, and the messages are visible again
    assert invoked == []
    assert queue.deleted == []
    assert sorted(queue.visibility_changes) == [("m0", 0), ("m1", 0)]
    assert poller.in_flight == 0


def test_a_lowered_maximum_concurrency_leaves_the_workers_above_it_idle() -> None:
    # Given 8 single-message batches, a poller started at 4, and a mapping lowered to 2 (what the
    # pipeline does while the API throttles)
    queue = InMemoryQueue([f"body {n}" for n in range(8)])
    mapping = {"State": "Enabled", "ScalingConfig": {"MaximumConcurrency": 2}}
    lock = threading.Lock()
    running = most_at_once = 0

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        nonlocal running, most_at_once
        with lock:
            running += 1
            most_at_once = max(most_at_once, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return {}

    # When the poller drains the queue
    state = MappingState(lambda: mapping)
    poller = _poller(queue, invoke, batch_size=1, maximum_concurrency=4, mapping=state).start()
    try:
        _wait_for(lambda: len(queue.deleted) == 8)
    finally:
        assert poller.stop(timeout=5)
    # Then never more than two batches ran at once
    assert 1 <= most_at_once <= 2
    assert (state.enabled(), state.maximum_concurrency()) == (True, 2)


def test_the_mapping_is_read_at_most_twice_a_second_for_all_workers() -> None:
    # Given a mapping state on a clock
    reads: list[int] = []
    now = [0.0]
    state = MappingState(lambda: reads.append(1) or {"State": "Disabled"}, clock=lambda: now[0])
    # When the workers ask many times within half a second, then once after
    answers = [state.enabled() for _ in range(10)]
    now[0] += 0.5
    answers.append(state.enabled())
    # Then it was read twice, and says disabled; no cap is None
    assert (len(reads), set(answers)) == (2, {False})
    assert state.maximum_concurrency() is None
