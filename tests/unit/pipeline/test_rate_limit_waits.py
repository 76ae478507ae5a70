"""Rule 6 for a rate limit: the API said "not now", so the upload waits; it is recorded only once it
has waited longer than the operator's patience (RATE_LIMIT_PATIENCE_SECONDS), or where it cannot wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from cutout.engine.errors import RetryableEngineError
from cutout.entrypoint import Pipeline
from cutout.pipeline.outcome import Status
from cutout.redelivery.concurrency import ConcurrencyGovernor
from cutout.redelivery.delivery import Delivery
from cutout.spending.pause import PauseController
from tests.fakes import FakeEngine, FakeEventSourceSwitch, FakeLambdaContext, InMemoryAttemptCounter
from tests.handler import load_lambda_handler
from tests.unit.pipeline.harness import FAR_DEADLINE, Harness, build_harness
from tests.unit.pipeline.test_handler_events import store_objects_named_in

LoadEvent = Callable[[str], Any]
PATIENCE = 3600


def _throttled_harness(times: int = 10**9) -> tuple[Harness, InMemoryAttemptCounter]:
    attempts = InMemoryAttemptCounter()
    engine = FakeEngine(
        fail_with=RetryableEngineError("rate limit exceed", code="aidge_rate_limited"), fail_times=times
    )
    return build_harness(engine, attempts, RATE_LIMIT_PATIENCE_SECONDS=str(PATIENCE)), attempts


def _deliver(harness: Harness, upload: Any, receive_count: int, *, can_requeue: bool = True) -> Any:
    delivery = Delivery(receive_count=receive_count, max_receive_count=3, can_requeue=can_requeue)
    return harness.processor.process(upload, delivery, deadline=FAR_DEADLINE)


def test_a_rate_limit_uses_up_no_attempt_however_often_it_comes() -> None:
    # Given an API that throttles every call, and MAX_ATTEMPTS 3
    harness, attempts = _throttled_harness()
    upload = harness.upload("shoes/red.jpg")
    # When the upload is delivered ten times, the last of each three on its last receive
    for number in range(10):
        with pytest.raises(RetryableEngineError):
            _deliver(harness, upload, receive_count=number % 3 + 1)
    # Then it waits each time: no attempt counted, nothing on the DLQ, the first limit noted once
    assert attempts.counts == {}
    assert harness.dlq_records() == []
    assert list(attempts.rate_limited) == [upload.identity]


def test_a_rate_limit_that_clears_delivers_the_upload_once_paid() -> None:
    # Given an API that throttles five times, then answers
    harness, _ = _throttled_harness(times=5)
    upload = harness.upload("shoes/red.jpg")
    for _ in range(5):
        with pytest.raises(RetryableEngineError):
            _deliver(harness, upload, receive_count=3)
    # When it comes back once more
    outcome = _deliver(harness, upload, receive_count=1)
    # Then it is done, with one output and one successful call, and nothing on the DLQ
    assert outcome.status is Status.DONE
    assert len(harness.outputs()) == 1
    assert harness.dlq_records() == []


@pytest.mark.parametrize(
    ("waited", "recorded"), [(PATIENCE - 5, False), (PATIENCE, True), (PATIENCE + 5, True)]
)
def test_an_upload_held_back_longer_than_the_patience_is_recorded_with_its_own_reason(
    waited: int, recorded: bool
) -> None:
    # Given an upload first throttled ``waited`` seconds ago
    harness, attempts = _throttled_harness()
    upload = harness.upload("shoes/red.jpg")
    attempts.rate_limited[upload.identity] = time.time() - waited
    # When it is throttled again
    if not recorded:
        with pytest.raises(RetryableEngineError):
            _deliver(harness, upload, receive_count=2)
        assert harness.dlq_records() == []
        return
    outcome = _deliver(harness, upload, receive_count=2)
    # Then past the patience it is recorded, with a reason and a sentence that say so
    assert outcome.status is Status.FAILED
    [record] = harness.dlq_records()
    assert record["error"]["code"] == "rate_limited_too_long"
    assert record["error"]["retryable"] is True
    assert "more than 1 h" in record["error"]["message"]
    assert "aidge_rate_limited" in record["error"]["message"]


def test_where_it_cannot_wait_a_rate_limit_is_recorded_as_what_it_is() -> None:
    # Given a throttled upload on a last receive that cannot be sent again (no work queue known),
    # and one in a direct invocation (no queue at all)
    harness, _ = _throttled_harness()
    queued, direct = harness.upload("shoes/red.jpg"), harness.upload("shoes/blue.jpg")
    # When each is throttled
    _deliver(harness, queued, receive_count=3, can_requeue=False)
    harness.processor.process(direct, Delivery(), deadline=FAR_DEADLINE)
    # Then each is recorded (retryable, so `cutout dlq replay` can send it again) rather than lost
    assert [record["error"]["code"] for record in harness.dlq_records()] == ["aidge_rate_limited"] * 2


class RecordingMapping:
    def __init__(self, value: int) -> None:
        self.value = value
        self.sets: list[int] = []

    def current(self) -> int | None:
        return self.value

    def set(self, value: int) -> None:
        self.sets.append(value)
        self.value = value


@pytest.fixture(scope="module")
def lambda_handler() -> Callable[..., dict[str, Any]]:
    return load_lambda_handler()


def test_a_batch_throttled_on_its_last_receive_is_sent_again_and_lowers_the_concurrency(
    lambda_handler: Any, load_event: LoadEvent
) -> None:
    # Given a message on its last allowed receive (3 of 3), an API that throttles, and a mapping
    # deployed at MaximumConcurrency 8
    event = load_event("sqs-s3-put")
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "3"
    harness, attempts = _throttled_harness()
    store_objects_named_in(harness, event)
    requeued: list[str] = []
    mapping = RecordingMapping(8)
    pipeline = Pipeline(
        harness.settings,
        harness.processor,
        harness.dlq,
        pauser=PauseController(FakeEventSourceSwitch(), None, requeued.append),
        spending=harness.spending,
        governor=ConcurrencyGovernor(mapping, ceiling=8, cooldown_seconds=0),
    )
    # When the handler runs
    response = lambda_handler(event, FakeLambdaContext(), pipeline=pipeline)
    # Then the original is acknowledged and its body waits as a new message; nothing on the DLQ;
    # the event source's concurrency is halved
    assert response == {"batchItemFailures": []}
    assert requeued == [event["Records"][0]["body"]]
    assert harness.dlq_records() == []
    assert attempts.counts == {}
    assert mapping.sets == [4]

    # When the API answers again and the same message comes back
    harness.engine.fail_times = 0
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "1"
    assert lambda_handler(event, FakeLambdaContext(), pipeline=pipeline) == {"batchItemFailures": []}
    # Then it is delivered, and the concurrency goes back up
    assert len(harness.outputs()) == 1
    assert mapping.sets == [4, 8]


def test_an_upload_under_way_elsewhere_on_its_last_receive_is_sent_again_not_redriven(
    lambda_handler: Any, load_event: LoadEvent
) -> None:
    # Given a message on its last allowed receive whose upload is being decided in another
    # invocation (its in-progress lock is held)
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    event = load_event("sqs-s3-put")
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "3"
    harness = build_harness()
    store_objects_named_in(harness, event)

    def under_way(*_: Any, **__: Any) -> Any:
        raise IdempotencyAlreadyInProgressError("Execution already in progress")

    harness.processor.process = under_way  # type: ignore[method-assign]
    requeued: list[str] = []
    pipeline = Pipeline(
        harness.settings,
        harness.processor,
        harness.dlq,
        pauser=PauseController(FakeEventSourceSwitch(), None, requeued.append),
        spending=harness.spending,
    )
    # When the handler runs
    response = lambda_handler(event, FakeLambdaContext(), pipeline=pipeline)
    # Then it waits in a new message (SQS's redrive would have moved it to the DLQ unrecorded,
    # beside the outcome the other invocation is about to give it)
    assert response == {"batchItemFailures": []}
    assert requeued == [event["Records"][0]["body"]]
    assert harness.dlq_records() == []
