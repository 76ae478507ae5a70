"""The conductor with the budget, the pause, the quality gate and the announcements (fakes only)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from cutout.announcements import FAILED, NEEDS_REVIEW, PAUSED, PROCESSED, RESUMED, EventsNotPublished
from cutout.engine.aidge.errors import AidgeQuotaExhaustedError
from cutout.entrypoint import Pipeline
from cutout.pipeline.outcome import Status
from cutout.quality_gate import QualityThresholds
from cutout.spending import PipelinePaused, SpendingGuard
from cutout.spending.pause import PauseController
from tests.event_schemas import validation_errors
from tests.fakes import (
    FakeEngine,
    FakeEventSourceSwitch,
    FakeLambdaContext,
    InMemoryBudget,
    RecordingEventPublisher,
)
from tests.handler import load_lambda_handler
from tests.unit.pipeline.harness import OUTPUT, Harness, build_harness
from tests.unit.pipeline.test_handler_events import store_objects_named_in

LoadEvent = Callable[[str], Any]


@pytest.fixture(scope="module")
def lambda_handler() -> Callable[..., dict[str, Any]]:
    return load_lambda_handler()


def invoke(
    handler: Callable[..., dict[str, Any]], harness: Harness, event: dict[str, Any], pauser: PauseController
) -> dict[str, Any]:
    pipeline = Pipeline(
        harness.settings, harness.processor, harness.dlq, pauser=pauser, spending=harness.spending
    )
    return handler(event, FakeLambdaContext(), pipeline=pipeline)


def test_a_spent_budget_pauses_the_rest_without_paying_or_failing_them() -> None:
    # Given a daily budget of 3 and five uploads
    budget = InMemoryBudget(daily=3)
    harness = build_harness(spending=SpendingGuard(budget))
    uploads = [harness.upload(f"shoes/{number}.jpg") for number in range(5)]
    # When they are processed one by one, each on its last allowed receive
    done, paused = [], []
    for upload in uploads:
        try:
            done.append(harness.process(upload, receive_count=3))
        except PipelinePaused as pause:
            paused.append(pause.reason.code)
    # Then three were paid for and stored, two paused (not failed: nothing on the DLQ)
    assert [outcome.status for outcome in done] == [Status.DONE] * 3
    assert paused == ["budget_exhausted"] * 2
    assert len(harness.engine.submits) == 3
    assert harness.dlq_records() == []
    assert budget.used == 3


def test_an_exhausted_quota_pauses_even_on_the_last_receive_and_costs_no_budget() -> None:
    # Given an engine whose account has no quota left, and a budget
    budget = InMemoryBudget(daily=10)
    engine = FakeEngine(fail_with=AidgeQuotaExhaustedError("resources have been exhausted"))
    harness = build_harness(engine, spending=SpendingGuard(budget))
    upload = harness.upload("shoes/red.jpg")
    # When it is processed on its last allowed receive
    with pytest.raises(PipelinePaused) as paused:
        harness.process(upload, receive_count=3)
    # Then it pauses instead of becoming a permanent aidge_quota_exhausted failure; the units came back
    assert paused.value.reason.code == "aidge_quota_exhausted"
    assert harness.dlq_records() == []
    assert budget.used == 0


def test_a_batch_that_pauses_stops_the_event_source_once_and_leaves_its_records_in_the_queue(
    lambda_handler: Any, load_event: LoadEvent
) -> None:
    # Given a budget of 1 and a batch of several uploads
    event = load_event("sqs-s3-put-batch")
    harness = build_harness(spending=SpendingGuard(InMemoryBudget(daily=1)), RECORD_CONCURRENCY="1")
    store_objects_named_in(harness, event)
    switch, publisher = FakeEventSourceSwitch(), RecordingEventPublisher()
    # When the handler runs
    response = invoke(lambda_handler, harness, event, PauseController(switch, publisher))
    # Then one record was processed, every other one is reported for redelivery, the mapping was
    # disabled once, "Cutout Paused" was announced once, and nothing went to the DLQ
    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    assert len(failed) == len(event["Records"]) - 1
    assert len(harness.outputs()) == 1
    assert (switch.enabled, switch.disables) == (False, 1)
    (pause_event,) = publisher.of_type(PAUSED)
    assert pause_event.detail["reason"]["code"] == "budget_exhausted"
    assert validation_errors(PAUSED, pause_event.detail) == []
    assert harness.dlq_records() == []


def test_a_record_paused_on_its_last_receive_is_sent_again_as_a_new_message(
    lambda_handler: Any, load_event: LoadEvent
) -> None:
    # Given a spent budget and a message on its last allowed receive (3 of 3)
    event = load_event("sqs-s3-put")
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "3"
    budget = InMemoryBudget(daily=1)
    budget.used = 1
    harness = build_harness(spending=SpendingGuard(budget))
    store_objects_named_in(harness, event)
    requeued: list[str] = []
    pauser = PauseController(FakeEventSourceSwitch(), None, requeued.append)
    # When the handler runs
    response = invoke(lambda_handler, harness, event, pauser)
    # Then the original is acknowledged (the redrive would move it to the DLQ on its next receive)
    # and the same body waits in the work queue as a fresh message
    assert response == {"batchItemFailures": []}
    assert requeued == [event["Records"][0]["body"]]
    assert harness.dlq_records() == []


def test_the_schedule_resumes_a_paused_pipeline_and_announces_it(lambda_handler: Any) -> None:
    # Given a paused pipeline whose budget has room again
    harness = build_harness(spending=SpendingGuard(InMemoryBudget(daily=5)))
    switch, publisher = FakeEventSourceSwitch(), RecordingEventPublisher()
    switch.enabled = False
    # When the schedule's resume event arrives
    response = invoke(
        lambda_handler, harness, {"cutout": "resume", "by": "schedule"}, PauseController(switch, publisher)
    )
    # Then the mapping is enabled again and "Cutout Resumed" says who resumed it
    assert response["resumed"] is True
    assert switch.enabled
    (resumed,) = publisher.of_type(RESUMED)
    assert resumed.detail["by"] == "schedule"
    assert validation_errors(RESUMED, resumed.detail) == []


def test_the_schedule_leaves_the_pipeline_paused_while_the_budget_is_still_spent(lambda_handler: Any) -> None:
    # Given a paused pipeline whose (monthly) budget is still spent
    budget = InMemoryBudget(monthly=2)
    budget.used = 2
    harness = build_harness(spending=SpendingGuard(budget))
    switch = FakeEventSourceSwitch()
    switch.enabled = False
    # When the schedule's resume event arrives
    response = invoke(lambda_handler, harness, {"cutout": "resume"}, PauseController(switch, None))
    # Then it stays paused
    assert response["resumed"] is False
    assert not switch.enabled


def test_each_outcome_is_announced_after_it_is_stored_with_a_valid_payload() -> None:
    # Given a publisher, a good upload and one the API refuses for good
    publisher = RecordingEventPublisher()
    harness = build_harness(publisher=publisher)
    good = harness.upload("shoes/red.jpg")
    # When the good one is processed
    outcome = harness.process(good)
    # Then one "Processed" event names the stored output with its facts, valid against the schema
    (event,) = publisher.of_type(PROCESSED)
    assert validation_errors(PROCESSED, event.detail) == []
    (output,) = event.detail["outputs"]
    assert (output["bucket"], output["key"]) == (OUTPUT, outcome.output_key)
    assert (OUTPUT, output["key"]) in harness.store.objects  # it exists before it is announced
    assert event.detail["source"]["version_id"] == good.version_id
    assert (event.detail["request_id"], event.detail["usage"], event.detail["engine"]) == ("req-1", 1, "fake")


def test_a_failure_is_announced_with_its_reason_code_and_sentence() -> None:
    # Given a publisher and an upload that is not an image
    publisher = RecordingEventPublisher()
    harness = build_harness(publisher=publisher)
    upload = harness.upload("shoes/readme.jpg", data=b"not an image at all" * 10)
    # When it is processed
    harness.process(upload)
    # Then "Failed" carries the same reason as the DLQ record
    (event,) = publisher.of_type(FAILED)
    (record,) = harness.dlq_records()
    assert event.detail["error"]["code"] == record["error"]["code"]
    assert event.detail["error"]["message"]
    assert validation_errors(FAILED, event.detail) == []


def test_a_redelivery_announces_the_same_event_again_and_pays_nothing() -> None:
    # Given an upload already processed and announced
    publisher = RecordingEventPublisher()
    harness = build_harness(publisher=publisher)
    upload = harness.upload("shoes/red.jpg")
    harness.process(upload)
    # When the same message is delivered again
    harness.process(upload)
    # Then the event is published again with the same detail (same id to deduplicate on), no second call
    first, second = publisher.of_type(PROCESSED)
    assert first.detail == second.detail
    assert len(harness.engine.submits) == 1


def test_a_failed_publication_asks_for_redelivery_without_repeating_the_outcome_or_the_call() -> None:
    # Given a publisher that fails once
    publisher = RecordingEventPublisher(fail_times=1)
    harness = build_harness(publisher=publisher)
    upload = harness.upload("shoes/red.jpg")
    # When the upload is processed (the event fails), then redelivered
    with pytest.raises(EventsNotPublished):
        harness.process(upload, receive_count=1)
    harness.process(upload, receive_count=2)
    # Then the output was stored once, paid once, and the event went out on the redelivery
    assert len(harness.outputs()) == 1
    assert len(harness.engine.submits) == 1
    assert len(publisher.of_type(PROCESSED)) == 1


def test_on_the_last_receive_a_failed_publication_keeps_the_outcome() -> None:
    # Given a publisher that always fails
    publisher = RecordingEventPublisher(fail_times=10**6)
    harness = build_harness(publisher=publisher)
    upload = harness.upload("shoes/red.jpg")
    # When the upload is processed on its last allowed receive
    outcome = harness.process(upload, receive_count=3)
    # Then the outcome stands (stored, not on the DLQ); only the event is missing (logged, counted)
    assert outcome.status is Status.DONE
    assert harness.dlq_records() == []
    assert ("processed", "unannounced") in harness.metrics.events


class BlankEngine(FakeEngine):
    """Returns a fully transparent cut-out: the engine found no subject (with a confident score)."""

    def fetch(self, receipt: Any, *, deadline: float | None = None) -> Any:
        from cutout.engine.port import Cutout

        fetched = super().fetch(receipt, deadline=deadline)
        return Cutout.from_bytes(
            _transparent_png(),
            content_type="image/png",
            width=fetched.width,
            height=fetched.height,
            score=0.95,
            usage=1,
            request_id=fetched.request_id,
            engine="fake",
        )


def _transparent_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (400, 300), (0, 0, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_held_cut_out_goes_under_review_never_to_the_published_key() -> None:
    # Given an engine that returns an empty mask, and a publisher
    publisher = RecordingEventPublisher()
    harness = build_harness(BlankEngine(), publisher=publisher)
    upload = harness.upload("shoes/red.jpg")
    # When it is processed
    outcome = harness.process(upload)
    # Then the output is under review/ with its reasons in metadata and as a tag, counted by reason,
    # announced as "Needs Review", and nothing is at the published key
    assert outcome.status is Status.REVIEW
    assert outcome.output_key == "review/shoes/red.jpg.png"
    assert (OUTPUT, "shoes/red.jpg.png") not in harness.store.objects
    stored = harness.store.objects[(OUTPUT, "review/shoes/red.jpg.png")]
    assert stored.metadata["review-reasons"] == "empty_mask"
    assert harness.store.tags[(OUTPUT, "review/shoes/red.jpg.png")] == {"cutout-review": "empty_mask"}
    assert ("held", "empty_mask") in harness.metrics.events
    (event,) = publisher.of_type(NEEDS_REVIEW)
    assert event.detail["review"]["reasons"] == ["empty_mask"]
    assert validation_errors(NEEDS_REVIEW, event.detail) == []


def test_a_gate_switched_off_in_the_profile_publishes_everything() -> None:
    # Given the same empty mask, with the gate disabled
    harness = build_harness(BlankEngine(), quality=QualityThresholds(enabled=False))
    upload = harness.upload("shoes/red.jpg")
    # When it is processed
    outcome = harness.process(upload)
    # Then it is published as usual
    assert (outcome.status, outcome.output_key) == (Status.DONE, "shoes/red.jpg.png")


def test_events_are_small_json_objects(load_event: LoadEvent) -> None:
    # Given a processed upload's event
    publisher = RecordingEventPublisher()
    harness = build_harness(publisher=publisher)
    harness.process(harness.upload("shoes/red.jpg"))
    (event,) = publisher.published
    # When it is serialised as PutEvents would send it
    text = json.dumps(copy.deepcopy(event.detail))
    # Then it is far under EventBridge's entry limit (it carries keys, never image bytes)
    assert len(text.encode()) < 4096


PROFILES = """
default = "shop"
[profiles.shop]
variants = [{ name = "site", format = "png" }, { name = "thumb", format = "webp", canvas = "200x200" }]
"""


def test_with_profiles_a_held_upload_gets_its_variants_under_review_and_one_event_listing_them() -> None:
    # Given profiles with two variants, an engine returning an empty mask, and a publisher
    from cutout.profiles import parse_profiles

    publisher = RecordingEventPublisher()
    harness = build_harness(BlankEngine(), profiles=parse_profiles(PROFILES), publisher=publisher)
    upload = harness.upload("shoes/red.jpg")
    # When it is processed
    outcome = harness.process(upload)
    # Then both variants are under review/ (tagged), none at a published key, and one event lists both
    keys = sorted(
        key for bucket, key in harness.store.objects if bucket == OUTPUT and not key.startswith("masters/")
    )
    assert outcome.status is Status.REVIEW
    assert keys == ["review/site/shoes/red.jpg.png", "review/thumb/shoes/red.jpg.webp"]
    assert harness.store.tags[(OUTPUT, "review/site/shoes/red.jpg.png")] == {"cutout-review": "empty_mask"}
    (event,) = publisher.of_type(NEEDS_REVIEW)
    assert [output["variant"] for output in event.detail["outputs"]] == ["site", "thumb"]
    assert event.detail["profile"] == "shop"
    assert validation_errors(NEEDS_REVIEW, event.detail) == []


def test_with_profiles_a_good_upload_is_announced_with_every_variant() -> None:
    # Given profiles with two variants and a publisher
    from cutout.profiles import parse_profiles

    publisher = RecordingEventPublisher()
    harness = build_harness(profiles=parse_profiles(PROFILES), publisher=publisher)
    # When an upload is processed
    harness.process(harness.upload("shoes/red.jpg"))
    # Then one "Processed" event names both published variants with their sizes
    (event,) = publisher.of_type(PROCESSED)
    assert [(o["variant"], o["key"], o["format"]) for o in event.detail["outputs"]] == [
        ("site", "site/shoes/red.jpg.png", "png"),
        ("thumb", "thumb/shoes/red.jpg.webp", "webp"),
    ]
    assert all(output["bytes"] > 0 for output in event.detail["outputs"])
    assert validation_errors(PROCESSED, event.detail) == []
