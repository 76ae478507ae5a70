"""The Lambda handler with every event shape, against in-memory fakes (no sockets)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from cutout.engine.errors import RetryableEngineError
from cutout.engine.port import CutoutOptions, CutoutReceipt, ImageSource
from cutout.entrypoint import Pipeline
from cutout.events import uploads_from_event, uploads_from_sqs_body
from tests.fakes import FakeEngine, FakeLambdaContext, image_bytes
from tests.handler import load_lambda_handler
from tests.unit.pipeline.harness import Harness, build_harness

LoadEvent = Callable[[str], Any]


@pytest.fixture(scope="module")
def lambda_handler() -> Callable[..., dict[str, Any]]:
    return load_lambda_handler()


def store_objects_named_in(harness: Harness, event: dict[str, Any]) -> None:
    """Put a valid image in the fake store for every object the event names."""
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:sqs":
        uploads = [u for record in records for u in _safe_uploads(record["body"])]
    else:
        uploads = list(uploads_from_event(event).uploads)
    for upload in uploads:
        harness.store.add(upload.bucket, upload.key, image_bytes(), version_id=upload.version_id)


def _safe_uploads(body: str) -> list[Any]:
    try:
        return list(uploads_from_sqs_body(body).uploads)
    except Exception:  # noqa: BLE001  (unrecognised bodies name no object)
        return []


def invoke(handler: Callable[..., dict[str, Any]], harness: Harness, event: dict[str, Any]) -> dict[str, Any]:
    pipeline = Pipeline(harness.settings, harness.processor, harness.dlq, spending=harness.spending)
    return handler(event, FakeLambdaContext(), pipeline=pipeline)


def test_an_sqs_batch_of_s3_notifications_is_processed_whole(
    lambda_handler: Any, load_event: LoadEvent
) -> None:
    # Given a batch of SQS-wrapped S3 notifications whose objects exist
    harness = build_harness()
    event = load_event("sqs-s3-put-batch")
    store_objects_named_in(harness, event)

    # When the handler runs
    response = invoke(lambda_handler, harness, event)

    # Then no item failed and every record has its output
    assert response == {"batchItemFailures": []}
    assert len(harness.outputs()) == len(event["Records"])


def test_only_the_failing_record_of_a_batch_is_reported(lambda_handler: Any, load_event: LoadEvent) -> None:
    # Given a batch where one object's API call fails transiently on its first receive
    event = load_event("sqs-s3-put-batch")
    failing_body = event["Records"][1]["body"]
    failing_key = uploads_from_sqs_body(failing_body).uploads[0].key

    class FailsForOneKey(FakeEngine):
        def submit(
            self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
        ) -> CutoutReceipt:
            if failing_key.split("/")[-1] in getattr(source, "url", ""):
                raise RetryableEngineError("system error", code="aidge_500", api_code=500)
            return super().submit(source, options, deadline=deadline)

    harness = build_harness(FailsForOneKey())
    store_objects_named_in(harness, event)

    # When the handler runs
    response = invoke(lambda_handler, harness, event)

    # Then exactly that message is reported for redelivery, the others have outputs
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert len(harness.outputs()) == len(event["Records"]) - 1
    assert harness.dlq_records() == []


def test_the_records_of_a_batch_are_processed_concurrently(
    lambda_handler: Any, load_event: LoadEvent
) -> None:
    # Given an engine whose calls only return once three of them are under way at the same time
    event = load_event("sqs-s3-put-batch")
    assert len(event["Records"]) >= 3
    barrier = threading.Barrier(3, timeout=10)

    class WaitsForCompany(FakeEngine):
        def submit(
            self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
        ) -> CutoutReceipt:
            barrier.wait()  # raises BrokenBarrierError if the records were processed one by one
            return super().submit(source, options, deadline=deadline)

    harness = build_harness(WaitsForCompany())
    store_objects_named_in(harness, event)
    event["Records"] = event["Records"][:3]

    # When the handler runs
    response = invoke(lambda_handler, harness, event)

    # Then all three succeeded, which they could only do together
    assert response == {"batchItemFailures": []}
    assert len(harness.outputs()) == 3


@pytest.mark.parametrize("name", ["sqs-s3-test-event", "s3-put-folder-placeholder", "s3-object-removed"])
def test_events_that_name_no_new_object_are_dropped_quietly(
    lambda_handler: Any, load_event: LoadEvent, name: str
) -> None:
    # Given an event that is not a new object (test event, folder placeholder, deletion)
    harness = build_harness()
    event = load_event(name)

    # When the handler runs
    response = invoke(lambda_handler, harness, event)

    # Then nothing is called, written or recorded, and nothing fails
    assert response.get("batchItemFailures", []) == []
    assert response.get("outcomes", []) == []
    assert harness.engine.submits == []
    assert harness.outputs() == []
    assert harness.dlq_records() == []


def test_an_unrecognised_message_is_recorded_with_its_reason_and_acknowledged(
    lambda_handler: Any, load_event: LoadEvent
) -> None:
    # Given a work-queue message that is not an event we know
    harness = build_harness()
    event = load_event("sqs-unrecognised-body")

    # When the handler runs
    response = invoke(lambda_handler, harness, event)

    # Then it is acknowledged and the DLQ record says why, keeping the body for a person
    assert response == {"batchItemFailures": []}
    [record] = harness.dlq_records()
    assert record["error"]["code"] == "unrecognised_message"
    assert record["source"] is None
    assert record["original_body"] == event["Records"][0]["body"][:4096]


@pytest.mark.parametrize(
    "name", ["s3-put", "eventbridge-object-created", "s3-put-key-with-space-plus-unicode"]
)
def test_direct_invocations_are_processed(lambda_handler: Any, load_event: LoadEvent, name: str) -> None:
    # Given a direct S3 or EventBridge event whose object exists
    harness = build_harness()
    event = load_event(name)
    store_objects_named_in(harness, event)

    # When the handler runs
    response = invoke(lambda_handler, harness, event)

    # Then every named object has its output
    assert [outcome["status"] for outcome in response["outcomes"]] == ["done"] * len(response["outcomes"])
    assert len(response["outcomes"]) >= 1
    assert len(harness.outputs()) == len(response["outcomes"])


def test_a_dlq_record_on_the_work_queue_is_replayed(lambda_handler: Any, load_event: LoadEvent) -> None:
    # Given a DLQ record redriven to the work queue, for an object that exists
    harness = build_harness()
    event = load_event("sqs-dlq-record")
    store_objects_named_in(harness, event)

    # When the handler runs
    response = invoke(lambda_handler, harness, copy.deepcopy(event))

    # Then the object is processed again and has its output
    assert response == {"batchItemFailures": []}
    source = json.loads(event["Records"][0]["body"])["source"]
    [(_, key, _, metadata)] = harness.outputs()
    assert key == source["key"] + ".png"
    assert metadata["source-etag"]
