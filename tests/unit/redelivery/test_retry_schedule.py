"""The retry schedule: delays by receive count, rate limits, jitter, the cap; and the batch reporting them."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import pytest

from cutout.engine.errors import RetryableEngineError
from cutout.engine.port import CutoutOptions, CutoutReceipt, ImageSource
from cutout.entrypoint import Pipeline
from cutout.events import uploads_from_sqs_body
from cutout.failures import FailureReason
from cutout.redelivery import RetrySchedule, is_rate_limit
from cutout.redelivery.visibility import queue_name_and_account
from cutout_tools.local_stack.lambda_runtime import LocalLambdaContext
from tests.fakes import FakeEngine, RecordingMessageVisibility, image_bytes
from tests.handler import load_lambda_handler
from tests.unit.pipeline.harness import build_harness

LoadEvent = Callable[[str], Any]


class RateLimited(FailureReason):
    code = "aidge_rate_limited"
    retryable = True


class NotEnoughTime(FailureReason):
    code = "not_enough_time"
    retryable = True
    retry_after_seconds = 5


@pytest.mark.parametrize(("receive_count", "expected"), [(1, 30), (2, 120), (3, 480), (4, 480), (9, 480)])
def test_each_receive_waits_the_next_step_and_the_last_step_repeats(
    receive_count: int, expected: int
) -> None:
    # Given the default steps without jitter
    schedule = RetrySchedule(jitter=0)
    # When the delay after this receive is asked for
    delay = schedule.delay_for(receive_count, RetryableEngineError("down"))
    # Then it is that step
    assert delay == expected


def test_a_rate_limit_waits_longer_and_a_named_delay_is_honoured() -> None:
    # Given the default schedule without jitter
    schedule = RetrySchedule(jitter=0)
    # When a rate limit and a failure naming its own delay are scheduled on the first receive
    rate_limited, named = (
        schedule.delay_for(1, RateLimited("slow down")),
        schedule.delay_for(1, NotEnoughTime("x")),
    )
    # Then the rate limit takes its own longer step and the named delay is used as is
    assert is_rate_limit(RateLimited("slow down"))
    assert (rate_limited, named) == (120, 5)


def test_jitter_spreads_delays_within_its_fraction() -> None:
    # Given 20 % jitter and a seeded random source
    schedule = RetrySchedule(jitter=0.2, rng=random.Random(7))
    # When the first delay is drawn many times
    delays = {schedule.delay_for(1) for _ in range(200)}
    # Then they spread over 24..36 s, not one value
    assert min(delays) >= 24
    assert max(delays) <= 36
    assert len(delays) > 5


@pytest.mark.parametrize(("timeout", "cap"), [(1020, 990), (480, 450), (60, 54), (1, 0)])
def test_no_delay_reaches_the_queue_s_visibility_timeout(timeout: int, cap: int) -> None:
    # Given steps far longer than the queue's visibility timeout
    schedule = RetrySchedule(
        steps=(10_000,), rate_limit_steps=(10_000,), jitter=0.2, visibility_timeout_seconds=timeout
    )
    # When a delay is drawn
    delay = schedule.delay_for(1)
    # Then it is capped below the timeout
    assert schedule.cap_seconds == cap
    assert delay == cap


def test_a_queue_arn_names_its_queue_and_owner() -> None:
    # Given an SQS queue ARN, When it is split, Then the name and account come out; other ARNs are refused
    assert queue_name_and_account("arn:aws:sqs:eu-west-1:123456789012:work") == ("work", "123456789012")
    with pytest.raises(ValueError, match="not an SQS queue ARN"):
        queue_name_and_account("arn:aws:s3:::bucket")


class FailsForOneKey(FakeEngine):
    """Fails transiently for sources whose URL names ``key``; succeeds for the others."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def submit(
        self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
    ) -> CutoutReceipt:
        if self.key in getattr(source, "url", ""):
            raise RetryableEngineError("down", code="aidge_500")
        return super().submit(source, options, deadline=deadline)


def test_the_batch_sets_each_reported_failure_s_visibility_from_its_receive_count(
    load_event: LoadEvent,
) -> None:
    # Given a batch of two notifications whose second fails transiently, on its 2nd receive
    event = copy.deepcopy(load_event("sqs-s3-put-batch"))
    event["Records"] = event["Records"][:2]
    failing = event["Records"][1]
    failing["attributes"]["ApproximateReceiveCount"] = "2"
    failing_key = uploads_from_sqs_body(failing["body"]).uploads[0].key.split("/")[-1]
    harness = build_harness(
        engine=FailsForOneKey(failing_key), RETRY_BACKOFF_SECONDS="7,11", RETRY_JITTER="0"
    )
    for record in event["Records"]:
        for upload in uploads_from_sqs_body(record["body"]).uploads:
            harness.store.add(upload.bucket, upload.key, image_bytes(), version_id=upload.version_id)
    visibility = RecordingMessageVisibility()
    pipeline = Pipeline(
        harness.settings, harness.processor, harness.dlq, visibility, spending=harness.spending
    )

    # When the handler runs
    response = load_lambda_handler()(event, LocalLambdaContext(), pipeline=pipeline)

    # Then only the failure is reported, and its visibility is set to the 2nd step, on its queue
    assert response == {"batchItemFailures": [{"itemIdentifier": failing["messageId"]}]}
    [redelivery] = visibility.redeliveries
    assert (redelivery.receipt_handle, redelivery.delay_seconds) == (failing["receiptHandle"], 11)
    assert redelivery.queue_arn == failing["eventSourceARN"]


@pytest.mark.parametrize("visibility", [480, 1020, 5700])
@pytest.mark.parametrize("receive_count", [1, 2, 5])
def test_an_upload_under_way_elsewhere_comes_back_after_that_invocation_can_have_ended(
    visibility: int, receive_count: int
) -> None:
    # Given the template's visibility timeout (6 x the function's timeout + 300 s), 1 s retry steps
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    schedule = RetrySchedule(
        steps=(1,), rate_limit_steps=(1,), jitter=0.0, visibility_timeout_seconds=visibility
    )
    # When an upload's decision was already in progress in another invocation
    delay = schedule.delay_for(receive_count, IdempotencyAlreadyInProgressError("in progress"))
    # Then it comes back no sooner than one function timeout ((visibility - 300) / 6), whatever the
    # steps say: its receives are not used up while the other invocation's lock can still hold
    assert delay >= (visibility - 300) // 6
    assert delay == visibility // 6
