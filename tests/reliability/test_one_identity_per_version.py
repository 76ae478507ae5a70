"""Rule 1 and 2 across sources: one object version has one identity, one outcome, one paid call.

The same object reaches the work queue as an S3 notification (AWS's or moto's), an EventBridge
event, either of those inside an SNS envelope, a listing backfill, an S3 Inventory row, or a DLQ
replay. Every pair of sources, in both orders, on a versioned and an unversioned bucket, for an
upload that fails validation and for one that succeeds, ends with one DLQ record or one output.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

import cutout
from cutout.engine.errors import RetryableEngineError
from cutout.events import UploadedObject, uploads_from_sqs_body
from cutout.events.identity import resolve_upload
from cutout.redelivery.delivery import Delivery
from tests.fakes import image_bytes
from tests.reliability.identity_sources import SOURCES, StoredFacts, record_for, replay_of
from tests.unit.pipeline.harness import FAR_DEADLINE, INPUT, Harness, build_harness

KEY = "catalogue/summer sale/Tasse + Henkel ü.jpg"
PAIRS = list(itertools.permutations(SOURCES, 2))
BUCKETS = ["versioned", "unversioned"]


def _store(harness: Harness, data: bytes, bucket: str) -> StoredFacts:
    stored = harness.store.add(INPUT, KEY, data, versioned=bucket == "versioned")
    stored.last_modified = datetime(2026, 12, 1, 20, 0, 7, 412000, tzinfo=UTC)
    return StoredFacts(
        bucket=INPUT,
        key=KEY,
        version_id=stored.version_id,
        etag=stored.etag,
        size=len(data),
        last_modified=stored.last_modified,
    )


def _deliver(harness: Harness, body: str, receive_count: int = 1) -> None:
    (upload,) = uploads_from_sqs_body(body).uploads
    harness.processor.process(
        upload, Delivery(receive_count=receive_count, max_receive_count=3), deadline=FAR_DEADLINE
    )


def _replay_last_record(harness: Harness) -> None:
    """``cutout dlq replay`` (with ``--include-permanent`` for a rejection): the record goes back to
    the work queue and leaves the DLQ."""
    record = harness.dlq.records.pop()
    _deliver(harness, replay_of(record))


# -- the identity itself ------------------------------------------------------------------------------


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(SOURCES, 2)))
def test_two_sources_of_one_object_resolve_to_one_identity(first: str, second: str, bucket: str) -> None:
    # Given one stored object and the messages two sources send about it
    harness = build_harness()
    facts = _store(harness, image_bytes(), bucket)
    uploads = [uploads_from_sqs_body(SOURCES[name](facts)).uploads[0] for name in (first, second)]

    # When each is resolved as the conductor resolves it
    identities = {resolve_upload(upload, harness.store.head).upload.identity for upload in uploads}

    # Then both name the same object version, by its version id or by its content and write time
    expected = f"#v:{facts.version_id}" if facts.version_id else f"#e:{facts.etag}@2026-12-01T20:00:07Z"
    assert identities == {f"{INPUT}/{KEY}{expected}"}


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("source", list(SOURCES))
def test_a_dlq_record_of_any_source_replays_as_the_same_identity(source: str, bucket: str) -> None:
    # Given the DLQ record the pipeline wrote for an upload that came from one source
    harness = build_harness()
    facts = _store(harness, image_bytes(), bucket)
    (original,) = uploads_from_sqs_body(SOURCES[source](facts)).uploads
    resolved = resolve_upload(original, harness.store.head).upload
    record = record_for(resolved)

    # When the record is replayed and resolved
    (replayed,) = uploads_from_sqs_body(replay_of(record)).uploads

    # Then it is the same object version, marked as a replay
    assert resolve_upload(replayed, harness.store.head).upload.identity == resolved.identity
    assert replayed.is_replay


def test_resolving_a_message_that_names_its_version_makes_no_call() -> None:
    # Given an event that names the object's version
    harness = build_harness()
    facts = _store(harness, image_bytes(), "versioned")
    (upload,) = uploads_from_sqs_body(SOURCES["s3-event"](facts)).uploads

    # When it is resolved
    resolved = resolve_upload(upload, harness.store.head)

    # Then no HEAD was needed
    assert resolved.head is None
    assert harness.store.heads == 0
    assert resolved.upload == upload


def test_an_object_that_is_gone_keeps_the_identity_its_message_gave() -> None:
    # Given an event about an object deleted since
    harness = build_harness()
    upload = UploadedObject(bucket=INPUT, key="gone.jpg", etag="abc", sequencer="0065F8")

    # When it is resolved
    resolved = resolve_upload(upload, harness.store.head)

    # Then it stays as the event described it (the conductor's own HEAD reports the failure)
    assert resolved.head is None
    assert resolved.upload.identity == f"{INPUT}/gone.jpg#e:abc"


def test_an_overwrite_on_an_unversioned_bucket_is_a_new_identity_even_with_the_same_bytes() -> None:
    # Given an unversioned key written with A, then B, then A again (same ETag as the first)
    harness = build_harness()
    first = _store(harness, image_bytes(400, 300), "unversioned")
    (upload,) = uploads_from_sqs_body(SOURCES["s3-event"](first)).uploads
    identity_a = resolve_upload(upload, harness.store.head).upload.identity
    harness.store.add(INPUT, KEY, image_bytes(500, 300), versioned=False)
    again = harness.store.add(INPUT, KEY, image_bytes(400, 300), versioned=False)
    again.last_modified = datetime(2026, 12, 1, 20, 5, 0, tzinfo=UTC)

    # When the third write's event is resolved
    identity_again = resolve_upload(upload, harness.store.head).upload.identity

    # Then it is not the first write's identity (its stored outcome would leave B's cut-out in place)
    assert identity_again != identity_a
    assert identity_again.endswith("@2026-12-01T20:05:00Z")


# -- the outcomes: every ordered pair of sources ---------------------------------------------------------


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_a_rejected_upload_arriving_two_ways_gets_one_dlq_record(
    first: str, second: str, bucket: str
) -> None:
    # Given an upload that fails validation (too small), stored once
    harness = build_harness()
    facts = _store(harness, image_bytes(40, 40), bucket)

    # When it arrives from one source, then from another
    _deliver(harness, SOURCES[first](facts))
    _deliver(harness, SOURCES[second](facts))

    # Then there is one DLQ record, and no call was paid for
    [record] = harness.dlq_records()
    assert record["error"]["code"] == "image_too_small"
    assert harness.engine.submits == []
    assert harness.outputs() == []


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_a_good_upload_arriving_two_ways_gets_one_output_and_one_call(
    first: str, second: str, bucket: str
) -> None:
    # Given a good upload, stored once
    harness = build_harness()
    facts = _store(harness, image_bytes(), bucket)

    # When it arrives from one source, then from another
    _deliver(harness, SOURCES[first](facts))
    _deliver(harness, SOURCES[second](facts))

    # Then one paid call made one output, and nothing went to the DLQ
    assert len(harness.engine.submits) == 1
    assert len(harness.outputs()) == 1
    assert harness.dlq.records == []


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("replay_first", [True, False], ids=["replay-then-source", "source-then-replay"])
def test_a_rejected_upload_and_its_replay_leave_one_dlq_record(
    source: str, bucket: str, replay_first: bool
) -> None:
    # Given a rejected upload whose S3 event put one record on the DLQ
    harness = build_harness()
    facts = _store(harness, image_bytes(40, 40), bucket)
    _deliver(harness, SOURCES["s3-event"](facts))

    # When the record is replayed, and the object also arrives from another source (either order)
    if replay_first:
        _replay_last_record(harness)
        _deliver(harness, SOURCES[source](facts))
    else:
        _deliver(harness, SOURCES[source](facts))
        _replay_last_record(harness)

    # Then the DLQ holds one record for it (the replay re-tried it and recorded it again), no call paid
    [record] = harness.dlq_records()
    assert record["source"]["key"] == KEY
    assert harness.engine.submits == []


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("replay_first", [True, False], ids=["replay-then-source", "source-then-replay"])
def test_an_upload_recorded_as_transient_then_replayed_gets_one_output_and_one_call(
    source: str, bucket: str, replay_first: bool
) -> None:
    # Given an upload whose last attempt met a throttled API: a retryable DLQ record, no output
    harness = build_harness()
    harness.engine.fail_with, harness.engine.fail_times = (
        RetryableEngineError("throttled", code="rate_limited"),
        1,
    )
    facts = _store(harness, image_bytes(), bucket)
    _deliver(harness, SOURCES["s3-event"](facts), receive_count=3)
    assert [record["error"]["code"] for record in harness.dlq_records()] == ["rate_limited"]

    # When the record is replayed, and the object also arrives from another source (either order)
    if replay_first:
        _replay_last_record(harness)
        _deliver(harness, SOURCES[source](facts))
    else:
        _deliver(harness, SOURCES[source](facts))
        _replay_last_record(harness)

    # Then one successful paid call (after the throttled one) made one output; the DLQ is empty
    assert len(harness.engine.submits) == 2
    assert len(harness.outputs()) == 1
    assert harness.dlq.records == []


def test_the_output_metadata_names_the_version_the_identity_names() -> None:
    # Given a versioned object announced by moto's event (no versionId)
    harness = build_harness()
    facts = _store(harness, image_bytes(), "versioned")

    # When it is processed
    _deliver(harness, SOURCES["s3-event-moto"](facts))

    # Then its output says which version it was cut from, and which release of cutout cut it
    [(_, _, _, metadata)] = harness.outputs()
    assert metadata["source-version-id"] == facts.version_id
    assert metadata["pipeline-version"] == cutout.__version__
