"""`cutout review approve|reject` on moto's S3 and EventBridge: a decision covers every held output of
the upload and is announced with the pipeline's own stable id, read back through a rule → SQS."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from cutout.announcements import FAILED, NEEDS_REVIEW, PROCESSED, SOURCE, EventBridgePublisher, stable_id
from cutout.announcements.publisher import EventsNotPublished
from cutout.events import UploadedObject
from cutout.events.identity import with_object_facts
from cutout.profiles import parse_profiles
from cutout.quality_gate import REVIEW_TAG
from cutout.storage import S3ObjectStore
from cutout_tools.review_decisions import (
    REJECTED_IN_REVIEW,
    approve_upload,
    held_upload,
    reject_upload,
)
from cutout_tools.unattended.event_queue import EventQueue
from tests.event_schemas import validation_errors
from tests.fakes import RecordingEventPublisher
from tests.unit.pipeline.harness import OUTPUT, Harness, build_harness
from tests.unit.pipeline.test_budget_pause_and_events import BlankEngine

PROFILES = """
default = "shop"
[profiles.shop]
variants = [{ name = "site", format = "png" }, { name = "thumb", format = "webp", canvas = "200x200" }]
"""
UNGATED = PROFILES + "\n[profiles.shop.quality]\nenabled = false\n"


@pytest.fixture
def world(aws_environment: str) -> Iterator[tuple[Any, str, str, EventQueue]]:
    """An output bucket, a bus whose rule sends every cutout event to a queue; (s3, bucket, bus, queue)."""
    s3, events, sqs = boto3.client("s3"), boto3.client("events"), boto3.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    bucket, bus = f"cutout-output-{suffix}", f"cutout-{suffix}"
    s3.create_bucket(Bucket=bucket)
    events.create_event_bus(Name=bus)
    queue_url = sqs.create_queue(QueueName=f"events-{suffix}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=f"all-{suffix}", EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule=f"all-{suffix}", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    yield s3, bucket, bus, EventQueue(sqs, queue_url)
    sqs.delete_queue(QueueUrl=queue_url)


def held_by_the_pipeline(
    s3: Any, bucket: str, *, versioned: bool = True
) -> tuple[Harness, UploadedObject, RecordingEventPublisher]:
    """A real conductor holds an upload with two variants (an empty mask); its review/ objects are
    then written to moto's S3 exactly as the pipeline wrote them (metadata and tag)."""
    publisher = RecordingEventPublisher()
    harness = build_harness(BlankEngine(), profiles=parse_profiles(PROFILES), publisher=publisher)
    upload = harness.upload("shoes/red shoe.jpg", versioned=versioned)
    harness.process(upload)
    store = S3ObjectStore(s3)
    for (where, key), stored in harness.store.objects.items():
        if where == OUTPUT and key.startswith("review/"):
            tags = harness.store.tags.get((OUTPUT, key))
            store.put(bucket, key, io.BytesIO(stored.data), stored.content_type, stored.metadata, tags=tags)
    return harness, upload, publisher


def keys(s3: Any, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def read(queue: EventQueue, expected: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for _ in range(10):
        events += queue.read(wait_seconds=1)
        if len(events) >= expected:
            break
    return events


def test_approving_one_variant_publishes_the_upload_and_announces_it_with_the_pipelines_id(
    world: tuple[Any, str, str, EventQueue],
) -> None:
    # Given an upload the gate held, with two variants under review/, announced as Needs Review
    s3, bucket, bus, queue = world
    _, upload, pipeline_events = held_by_the_pipeline(s3, bucket)
    (needs_review,) = pipeline_events.of_type(NEEDS_REVIEW)
    # When one of its variants is approved
    decision = approve_upload(
        s3, bucket, "site/shoes/red shoe.jpg.png", EventBridgePublisher(boto3.client("events"), bus)
    )
    (event,) = read(queue, expected=1)
    # Then both variants are at their published keys (no tag), nothing is left under review/
    assert decision.keys == ("site/shoes/red shoe.jpg.png", "thumb/shoes/red shoe.jpg.webp")
    assert keys(s3, bucket) == ["site/shoes/red shoe.jpg.png", "thumb/shoes/red shoe.jpg.webp"]
    tags = s3.get_object_tagging(Bucket=bucket, Key="site/shoes/red shoe.jpg.png")["TagSet"]
    assert REVIEW_TAG not in {tag["Key"] for tag in tags}
    # And one schema-valid "Processed" event lists them, for the same source, nothing paid
    detail = event["detail"]
    assert event["detail-type"] == PROCESSED
    assert validation_errors(PROCESSED, detail) == []
    assert [(o["variant"], o["key"], o["format"]) for o in detail["outputs"]] == [
        ("site", "site/shoes/red shoe.jpg.png", "png"),
        ("thumb", "thumb/shoes/red shoe.jpg.webp", "webp"),
    ]
    assert detail["source"] == needs_review.detail["source"]
    assert (detail["profile"], detail["usage"], detail["unchanged"]) == ("shop", 0, False)
    assert detail["outputs"][1]["width"] == 200
    # And its id is the one the pipeline gives this upload's "Processed" event when the gate passes it
    ungated = RecordingEventPublisher()
    passing = build_harness(BlankEngine(), profiles=parse_profiles(UNGATED), publisher=ungated)
    passing.process(passing.upload("shoes/red shoe.jpg"))
    (published,) = ungated.of_type(PROCESSED)
    assert detail["id"] == published.detail["id"] == stable_id(upload.identity, None, PROCESSED)


def test_rejecting_deletes_every_held_output_and_announces_a_failure_rejected_in_review(
    world: tuple[Any, str, str, EventQueue],
) -> None:
    # Given an upload the gate held (empty mask)
    s3, bucket, bus, queue = world
    _, upload, _ = held_by_the_pipeline(s3, bucket)
    # When it is rejected by its held key
    decision = reject_upload(
        s3, bucket, "review/thumb/shoes/red shoe.jpg.webp", EventBridgePublisher(boto3.client("events"), bus)
    )
    (event,) = read(queue, expected=1)
    # Then both held outputs are gone and nothing was published
    assert decision.keys == ("review/thumb/shoes/red shoe.jpg.webp", "review/site/shoes/red shoe.jpg.png")
    assert keys(s3, bucket) == []
    # And a schema-valid "Failed" event says why, with no outputs, not retryable
    detail = event["detail"]
    assert event["detail-type"] == FAILED
    assert validation_errors(FAILED, detail) == []
    assert detail["error"]["code"] == REJECTED_IN_REVIEW
    assert detail["error"]["retryable"] is False
    assert "empty_mask" in detail["error"]["message"]
    assert detail["outputs"] == []
    assert detail["id"] == stable_id(upload.identity, None, FAILED)


def test_an_unversioned_upload_is_announced_under_the_identity_the_pipeline_gave_it(
    world: tuple[Any, str, str, EventQueue],
) -> None:
    # Given an upload from an unversioned bucket (identity: ETag and write time), held
    s3, bucket, _, _ = world
    harness, upload, _ = held_by_the_pipeline(s3, bucket, versioned=False)
    resolved = with_object_facts(upload, harness.store.head(upload.bucket, upload.key))
    # When the held upload is read back from its outputs' metadata
    held = held_upload(s3, bucket, "site/shoes/red shoe.jpg.png")
    # Then it has the identity the pipeline processed it under
    assert resolved.version_id is None
    assert resolved.last_modified
    assert held.upload.identity == resolved.identity
    assert held.reasons == ("empty_mask",)


def test_an_approval_eventbridge_refuses_keeps_the_held_outputs_and_can_be_repeated(
    world: tuple[Any, str, str, EventQueue],
) -> None:
    # Given a held upload, and EventBridge refusing the first publication
    s3, bucket, _, _ = world
    held_by_the_pipeline(s3, bucket)
    publisher = RecordingEventPublisher(fail_times=1)
    # When it is approved, then approved again
    with pytest.raises(EventsNotPublished):
        approve_upload(s3, bucket, "site/shoes/red shoe.jpg.png", publisher)
    left_held = [key for key in keys(s3, bucket) if key.startswith("review/")]
    again = approve_upload(s3, bucket, "site/shoes/red shoe.jpg.png", publisher)
    # Then the first left the held copies (nothing lost), the second published and announced once
    assert len(left_held) == 2
    assert again.announced
    assert [event.detail_type for event in publisher.published] == [PROCESSED]
    assert keys(s3, bucket) == ["site/shoes/red shoe.jpg.png", "thumb/shoes/red shoe.jpg.webp"]


def test_without_a_bus_a_decision_is_made_and_nothing_announced(
    world: tuple[Any, str, str, EventQueue],
) -> None:
    # Given a held upload on a stack whose events are switched off
    s3, bucket, _, queue = world
    held_by_the_pipeline(s3, bucket)
    # When it is approved with no publisher
    decision = approve_upload(s3, bucket, "review/site/shoes/red shoe.jpg.png", None)
    # Then it is published, and no event was put
    assert decision.announced is False
    assert keys(s3, bucket) == ["site/shoes/red shoe.jpg.png", "thumb/shoes/red shoe.jpg.webp"]
    assert queue.read(wait_seconds=0) == []
