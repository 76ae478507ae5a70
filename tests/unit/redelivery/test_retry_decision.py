"""The retry decision alone: every branch, each limit from both sides."""

from __future__ import annotations

import pytest

from cutout.engine.errors import PermanentEngineError, RetryableEngineError
from cutout.events import UploadedObject
from cutout.redelivery.delivery import Delivery
from cutout.redelivery.retry import RetryDecision
from cutout.redelivery.schedule import RateLimitedTooLong
from tests.fakes import InMemoryAttemptCounter

UPLOAD = UploadedObject(bucket="in", key="shoe.jpg", version_id="v1", etag="e", size=1)
TRANSIENT = RetryableEngineError("down", code="aidge_500")


class BrokenCounter:
    def count_failed_attempt(self, subject: str) -> int:
        raise RuntimeError("DynamoDB is unreachable")


def test_a_permanent_failure_is_recorded_at_once_and_uses_no_attempt() -> None:
    # Given a decision with attempts to spare
    counter = InMemoryAttemptCounter()
    decision = RetryDecision(counter, max_attempts=3)
    # When a permanent failure is decided on its first receive
    retried = decision.goes_back_to_the_queue(PermanentEngineError("bad"), UPLOAD, Delivery(1, 5))
    # Then it is recorded now, and no attempt was counted
    assert retried is False
    assert counter.counts == {}


@pytest.mark.parametrize(("receive_count", "retried"), [(4, True), (5, False)])
def test_the_queue_s_last_receive_is_final_and_the_one_before_is_not(
    receive_count: int, retried: bool
) -> None:
    # Given a transient failure, attempts to spare, and a queue allowing 5 receives
    decision = RetryDecision(InMemoryAttemptCounter(), max_attempts=10)
    # When it is decided on the 4th or the 5th receive
    # Then only the 5th (the last) is recorded
    assert decision.goes_back_to_the_queue(TRANSIENT, UPLOAD, Delivery(receive_count, 5)) is retried


@pytest.mark.parametrize("max_attempts", range(1, 13))
def test_a_transient_failure_is_retried_until_max_attempts_have_run(max_attempts: int) -> None:
    # Given a transient failure and a queue that would allow many more receives
    counter = InMemoryAttemptCounter()
    decision = RetryDecision(counter, max_attempts=max_attempts)
    # When it fails on every attempt
    decisions = [
        decision.goes_back_to_the_queue(TRANSIENT, UPLOAD, Delivery(attempt, 100))
        for attempt in range(1, max_attempts + 1)
    ]
    # Then the first max_attempts - 1 go back to the queue and the last is recorded
    assert decisions == [True] * (max_attempts - 1) + [False]
    assert counter.counts == {UPLOAD.identity: max_attempts}


def test_a_replay_counts_its_attempts_apart_from_the_original() -> None:
    # Given an upload whose attempts are used up, and a DLQ replay of it
    counter = InMemoryAttemptCounter()
    decision = RetryDecision(counter, max_attempts=1)
    decision.goes_back_to_the_queue(TRANSIENT, UPLOAD, Delivery(1, 100))
    replay = UploadedObject(
        bucket="in",
        key="shoe.jpg",
        version_id="v1",
        etag="e",
        size=1,
        replay_of={"failed_at": "t", "code": "c"},
    )
    # When the replay fails once
    decision.goes_back_to_the_queue(TRANSIENT, replay, Delivery(1, 100))
    # Then it was counted on its own subject
    assert counter.counts == {UPLOAD.identity: 1, f"{UPLOAD.identity}#replay:t|c": 1}


def test_without_a_counter_only_the_receive_count_limits_retries() -> None:
    # Given no attempt counter
    decision = RetryDecision(None, max_attempts=1)
    # When a transient failure is decided before the last receive, and on it
    # Then it is retried, then recorded
    assert decision.goes_back_to_the_queue(TRANSIENT, UPLOAD, Delivery(1, 3)) is True
    assert decision.goes_back_to_the_queue(TRANSIENT, UPLOAD, Delivery(3, 3)) is False


def test_an_attempt_that_cannot_be_counted_is_retried_and_the_receive_count_stays_the_backstop() -> None:
    # Given a counter that fails
    decision = RetryDecision(BrokenCounter(), max_attempts=1)
    # When a transient failure is decided before the last receive, and on it
    # Then it goes back to the queue, and the last receive still records it
    assert decision.goes_back_to_the_queue(TRANSIENT, UPLOAD, Delivery(1, 3)) is True
    assert decision.goes_back_to_the_queue(TRANSIENT, UPLOAD, Delivery(3, 3)) is False


RATE_LIMITED = RetryableEngineError("rate limit exceed", code="aidge_rate_limited")
PATIENCE = 3600
NOW = 1_800_000_000.0


def rate_limit_decision(counter: InMemoryAttemptCounter) -> RetryDecision:
    return RetryDecision(counter, max_attempts=1, rate_limit_patience_seconds=PATIENCE, clock=lambda: NOW)


@pytest.mark.parametrize(("waited", "retried"), [(PATIENCE - 1, True), (PATIENCE, False)])
def test_a_rate_limit_waits_until_it_has_outlived_the_patience(waited: int, retried: bool) -> None:
    # Given an upload the API's rate limit has held back for just under or exactly the patience
    counter = InMemoryAttemptCounter()
    counter.rate_limited[UPLOAD.identity] = NOW - waited
    decision = rate_limit_decision(counter)
    # When it is rate limited again, far from the queue's last receive
    # Then it goes back to the queue until the patience is used up, and uses up no attempt
    assert decision.goes_back_to_the_queue(RATE_LIMITED, UPLOAD, Delivery(1, 5)) is retried
    assert counter.counts == {}


def test_a_rate_limit_outlived_is_recorded_as_rate_limited_too_long() -> None:
    # Given a rate limit on an upload that could wait
    decision = rate_limit_decision(InMemoryAttemptCounter())
    # When the failure to record is asked for
    final = decision.final_failure(RATE_LIMITED, Delivery(1, 5))
    # Then it says the patience ran out, and keeps the API's answer in its message
    assert isinstance(final, RateLimitedTooLong)
    assert final.code == "rate_limited_too_long"
    assert "aidge_rate_limited" in final.message


@pytest.mark.parametrize(("can_requeue", "retried"), [(True, True), (False, False)])
def test_a_rate_limit_on_the_last_receive_waits_only_if_it_can_be_sent_again(
    can_requeue: bool, retried: bool
) -> None:
    # Given a rate limit that has waited no time, on the queue's last receive
    counter = InMemoryAttemptCounter()
    counter.rate_limited[UPLOAD.identity] = NOW
    delivery = Delivery(5, 5, can_requeue=can_requeue)
    decision = rate_limit_decision(counter)
    # When it is decided
    # Then it waits (the batch sends it again) if it can be sent again, else it is recorded as it is
    assert decision.goes_back_to_the_queue(RATE_LIMITED, UPLOAD, delivery) is retried
    # (and one that could wait is only ever recorded as having outlived the patience)
    final = decision.final_failure(RATE_LIMITED, delivery)
    assert isinstance(final, RateLimitedTooLong) is can_requeue
    assert (final is RATE_LIMITED) is not can_requeue


def test_a_direct_invocation_s_rate_limit_cannot_wait_and_is_recorded_as_it_is() -> None:
    # Given a direct invocation (every attempt is the last, nothing to send again)
    decision = rate_limit_decision(InMemoryAttemptCounter())
    # When the API rate limits it
    # Then it is recorded now, with the API's own reason
    assert decision.goes_back_to_the_queue(RATE_LIMITED, UPLOAD, Delivery()) is False
    assert decision.final_failure(RATE_LIMITED, Delivery()) is RATE_LIMITED


def test_a_rate_limit_whose_start_cannot_be_noted_waits() -> None:
    # Given a counter that cannot be reached
    class Unreachable(InMemoryAttemptCounter):
        def rate_limited_since(self, subject: str) -> float:
            raise RuntimeError("DynamoDB is unreachable")

    decision = rate_limit_decision(Unreachable())
    # When a rate limit is decided
    # Then it waits (the patience is checked the next time)
    assert decision.goes_back_to_the_queue(RATE_LIMITED, UPLOAD, Delivery(1, 5)) is True
