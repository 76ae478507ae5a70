"""Finality from attempts that really ran, not from the receive count alone."""

from __future__ import annotations

from cutout.engine.errors import RetryableEngineError
from cutout.pipeline.outcome import Status
from cutout.redelivery.delivery import Delivery
from tests.fakes import FakeEngine, InMemoryAttemptCounter
from tests.unit.pipeline.harness import FAR_DEADLINE, build_harness


def test_a_transient_failure_is_final_after_the_attempts_that_ran_not_the_receives() -> None:
    # Given an API failing transiently, a queue allowing 5 receives, 3 attempts, and 2 receives lost
    # to throttles (the receive count runs 2 ahead of the attempts)
    counter = InMemoryAttemptCounter()
    harness = build_harness(FakeEngine(fail_with=RetryableEngineError("down", code="aidge_500")), counter)
    upload = harness.upload("shoe.jpg")
    outcomes: list[str] = []

    # When the upload is tried on receives 3, 4 and 5 (attempts 1, 2 and 3)
    for receive_count in (3, 4):
        try:
            harness.processor.process(upload, Delivery(receive_count, 6), FAR_DEADLINE)
            outcomes.append("recorded")
        except RetryableEngineError:
            outcomes.append("redelivered")
    final = harness.processor.process(upload, Delivery(5, 6), FAR_DEADLINE)

    # Then the first two attempts go back to the queue and the third is recorded, with its reason
    assert outcomes == ["redelivered", "redelivered"]
    assert final.status is Status.FAILED
    assert [record["error"]["code"] for record in harness.dlq_records()] == ["aidge_500"]
    assert counter.counts == {upload.identity: 3}
    assert len(harness.engine.submits) == 3


def test_the_queue_s_last_receive_is_final_even_before_the_attempts_are_used_up() -> None:
    # Given an API failing transiently and an attempt counter that has seen nothing
    harness = build_harness(
        FakeEngine(fail_with=RetryableEngineError("down", code="aidge_500")), InMemoryAttemptCounter()
    )
    upload = harness.upload("shoe.jpg")
    # When it arrives on the queue's last receive (the redrive would move it without a reason next)
    outcome = harness.processor.process(upload, Delivery(5, 5), FAR_DEADLINE)
    # Then it is recorded now
    assert outcome.status is Status.FAILED
    assert len(harness.dlq_records()) == 1
