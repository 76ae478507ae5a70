"""The invocation's deadline belongs to the invocation: concurrent invocations in one process (the
local stack's several execution environments) and their record threads each keep their own."""

from __future__ import annotations

import threading
from typing import Any

from cutout.deadline import InvocationDeadline
from cutout.pipeline.partial_batch import SqsMessage, process_sqs_batch


def _event(count: int) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{number}", "receiptHandle": "r", "body": "{}", "attributes": {}}
            for number in range(count)
        ]
    }


def test_two_invocations_at_once_each_keep_their_own_deadline_in_every_record_thread() -> None:
    # Given one process-wide deadline object and a clock at 0
    deadline = InvocationDeadline(clock=lambda: 0.0)
    seen: dict[str, list[float | None]] = {"old": [], "new": []}
    both_started = threading.Barrier(2)

    def invocation(name: str, remaining: float) -> None:
        deadline.start(remaining)
        both_started.wait()  # the other invocation has started its own by now

        def record(message: SqsMessage) -> None:
            seen[name].append(deadline.remaining())

        process_sqs_batch(_event(4), record, max_workers=4)

    # When an older invocation (20 s left) and a newer one (120 s left) run side by side
    threads = [
        threading.Thread(target=invocation, args=("old", 20.0)),
        threading.Thread(target=invocation, args=("new", 120.0)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every record of each sees its own invocation's deadline (less the response margin)
    assert seen["old"] == [19.0] * 4
    assert seen["new"] == [119.0] * 4


def test_outside_an_invocation_there_is_no_bound() -> None:
    # Given a deadline started in another thread only
    deadline = InvocationDeadline(clock=lambda: 0.0)
    started = threading.Thread(target=deadline.start, args=(5.0,))
    started.start()
    started.join()
    # When this thread asks, Then nothing bounds it (and check never refuses)
    assert deadline.remaining() is None
    deadline.check(10_000.0)


def test_the_records_stop_early_enough_for_the_batch_to_report_their_retry_delays() -> None:
    # Given an invocation with 30 s left (29 s for AWS calls, less the response margin)
    deadline = InvocationDeadline(clock=lambda: 0.0)
    deadline.start(30.0)
    seen: list[float | None] = []
    # When its records run with 10 s held back for the report
    with deadline.holding_back(10.0):
        process_sqs_batch(_event(3), lambda message: seen.append(deadline.remaining()), max_workers=3)
    # Then every record's AWS calls had 19 s, and the report after them has the whole 29 s again
    assert seen == [19.0, 19.0, 19.0]
    assert deadline.remaining() == 29.0


def test_holding_back_outside_an_invocation_bounds_nothing() -> None:
    deadline = InvocationDeadline(clock=lambda: 0.0)
    with deadline.holding_back(10.0):
        assert deadline.remaining() is None
