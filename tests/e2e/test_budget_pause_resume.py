"""The local stack with a spending cap: a budget of 3 for 10 uploads pauses; `cutout resume` with a
raised budget finishes the rest, billed exactly 10; every outcome's event is read back from the stack's
events queue (the template's example consumer: an EventBridge rule on source "cutout" to SQS)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cutout.announcements import PAUSED, PROCESSED, RESUMED
from cutout_tools.cli import main as cutout
from cutout_tools.local_stack import LocalStack
from cutout_tools.unattended.event_queue import EventQueue
from tests.e2e.support import product_photo, wait_for
from tests.event_schemas import validation_errors
from tests.functional.aidge_testkit import FakeCutoutEngine

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:No application metrics to publish")]
UPLOADS = 10


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    overrides = {"DailyBudget": "3", "BatchSize": "2", "MaxConcurrency": "2"}
    with LocalStack(
        port=0,
        parameter_overrides=overrides,
        engine=FakeCutoutEngine(),
        retry_delay_seconds=1,
        log=lambda _: None,
    ) as running:
        yield running


def outputs(stack: LocalStack) -> list[str]:
    """The uploads delivered: the last variant of the default profile (``listing-webp``) is there."""
    answer = stack.client("s3").list_objects_v2(
        Bucket=stack.describe()["output_bucket"], Prefix="listing-webp/"
    )
    return sorted(item["Key"] for item in answer.get("Contents", []))


def queued(stack: LocalStack) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.describe()["work_queue_url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def mapping_state(stack: LocalStack) -> str:
    """The work queue's event source mapping's state: the pause is the mapping disabled, which comes
    after the pause marker is written (so a status read between the two says "not paused" yet)."""
    mappings = stack.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    queue_arn = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.describe()["work_queue_url"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    return str(next(m["State"] for m in mappings if m["EventSourceArn"] == queue_arn))


def billed(stack: LocalStack) -> int:
    return int(stack.emulator.stats()["billed"])


def test_a_spent_budget_pauses_and_resume_with_a_raised_budget_finishes_billed_exactly_once_each(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a local stack with a daily budget of 3, its events queue, and 10 uploads
    endpoint = ["--endpoint-url", stack.endpoint_url]
    tail = EventQueue(stack.client("sqs"), stack.describe()["events_queue_url"])
    s3 = stack.client("s3")
    for number in range(UPLOADS):
        s3.put_object(
            Bucket=stack.describe()["input_bucket"], Key=f"shoes/{number}.jpg", Body=product_photo()
        )
    # When the stack has worked until it paused
    wait_for(
        lambda: (
            len(outputs(stack)) == 3
            and queued(stack) == UPLOADS - 3
            and mapping_state(stack) in ("Disabled", "Disabling")
        ),
        timeout=120,
        what="a pause",
    )
    assert cutout(["budget", "status", "--json", *endpoint]) == 0
    paused_status = capsys.readouterr().out
    # Then three were billed and stored, seven wait in the queue, the mapping is disabled
    assert billed(stack) == 3
    assert '"paused": true' in paused_status
    assert '"used_today": 3' in paused_status

    # When `cutout resume` raises the budget to 20
    assert cutout(["resume", "--daily-budget", "20", *endpoint]) == 0
    wait_for(lambda: len(outputs(stack)) == UPLOADS and queued(stack) == 0, timeout=180, what="all outputs")
    # Then all ten are stored, billed exactly ten times in all, nothing is on the DLQ
    assert billed(stack) == UPLOADS
    dlq = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.describe()["dead_letter_queue_url"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert dlq["ApproximateNumberOfMessages"] == "0"

    # And every outcome, the pause and the resume reached the events queue, with valid payloads
    events: list[dict[str, Any]] = []
    wait_for(
        lambda: events.extend(tail.read(wait_seconds=1)) or len(_of(events, PROCESSED)) >= UPLOADS, timeout=30
    )
    processed = _of(events, PROCESSED)
    assert len({event["detail"]["source"]["key"] for event in processed}) == UPLOADS
    assert _of(events, PAUSED)
    assert len(_of(events, RESUMED)) == 1
    for event in events:
        assert validation_errors(event["detail-type"], event["detail"]) == []


def _of(events: list[dict[str, Any]], detail_type: str) -> list[dict[str, Any]]:
    return [event for event in events if event["detail-type"] == detail_type]
