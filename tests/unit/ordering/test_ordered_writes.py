"""One upload's writes in few requests (``OrderedWrites``), newest version winning as before.

A first-time upload's outputs are PUT ``If-None-Match: *`` without a HEAD each; an output is looked
at only when S3 refuses the PUT. The S3 request sequences are checked with botocore's Stubber and
S3's own error shapes (moto answers no 409 and keeps no conditional-write race); the ordering rule
itself on the in-memory store.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from cutout.events import UploadedObject
from cutout.ordering import NewestVersionWins, OrderedWrites, SourceStamp, Superseded
from cutout.storage import ObjectHead, S3ObjectStore
from cutout.storage.objects import WriteCondition
from tests.fakes import InMemoryObjectStore

INPUT, OUTPUT, KEY = "in", "out", "shoe.jpg"
MASTER, VARIANT = "masters/shoe.jpg.png", "amazon-main/shoe.jpg.jpg"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OURS, NEWER = "v-ours", "v-newer"


# --- the S3 requests, exactly (Stubber) ---------------------------------------------------------


def _stubbed() -> tuple[Stubber, S3ObjectStore]:
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    return Stubber(client), S3ObjectStore(client)


def _head_input(stubber: Stubber, current: str) -> None:
    stubber.add_response(
        "head_object",
        {"ContentLength": 10, "ETag": '"in"', "VersionId": current, "LastModified": T0, "Metadata": {}},
        {"Bucket": INPUT, "Key": KEY},
    )


def _head_output(stubber: Stubber, key: str, metadata: dict[str, str] | None, etag: str = "out1") -> None:
    if metadata is None:  # HEAD has no body: S3 answers a bare 404, which botocore names "404"
        stubber.add_client_error(
            "head_object",
            service_error_code="404",
            http_status_code=404,
            expected_params={"Bucket": OUTPUT, "Key": key},
        )
        return
    stubber.add_response(
        "head_object",
        {"ContentLength": 5, "ETag": f'"{etag}"', "LastModified": T0, "Metadata": metadata},
        {"Bucket": OUTPUT, "Key": key},
    )


def _put(stubber: Stubber, key: str, condition: dict[str, str], error: str | None = None) -> None:
    expected = {
        "Bucket": OUTPUT,
        "Key": key,
        "Body": ANY,
        "ContentType": "image/png",
        "Metadata": ANY,
        **condition,
    }
    if error is None:
        stubber.add_response("put_object", {"ETag": '"new"'}, expected)
    else:  # a lost conditional PUT: 412 PreconditionFailed, 409 ConditionalRequestConflict
        status = 412 if error == "PreconditionFailed" else 409
        stubber.add_client_error(
            "put_object", service_error_code=error, http_status_code=status, expected_params=expected
        )


def _ours() -> tuple[UploadedObject, ObjectHead]:
    upload = UploadedObject(INPUT, KEY, version_id=OURS, sequencer="0B")
    return upload, ObjectHead(10, "in", OURS, "image/jpeg", {}, T0)


def _output_of(version: str, sequencer: str) -> dict[str, str]:
    return {"source-bucket": INPUT, "source-version-id": version, "source-sequencer": sequencer}


def _writer(store: S3ObjectStore, key: str) -> Callable[[WriteCondition], None]:
    def write(condition: WriteCondition) -> None:
        store.put(OUTPUT, key, io.BytesIO(b"png"), "image/png", {"source-bucket": INPUT}, condition=condition)

    return write


def test_a_first_time_upload_writes_every_output_with_if_none_match_and_no_head_of_its_own() -> None:
    # Given S3 expecting exactly: the master's key looked up once (absent), the input's current
    # version before paying and once before the first write, then two PUTs If-None-Match: *
    stubber, store = _stubbed()
    _head_output(stubber, MASTER, None)
    _head_input(stubber, OURS)
    _head_input(stubber, OURS)
    _put(stubber, MASTER, {"IfNoneMatch": "*"})
    _put(stubber, VARIANT, {"IfNoneMatch": "*"})
    writes = NewestVersionWins(store, OUTPUT).writes_for(*_ours())
    # When the stored-master lookup, the pre-pay check and the two writes run, in the conductor's order
    with stubber:
        assert writes.output(MASTER) is None
        assert writes.superseded([MASTER]) is None
        assert writes(MASTER, _writer(store, MASTER)) is None
        assert writes(VARIANT, _writer(store, VARIANT)) is None
    # Then S3 saw those requests and no other (Stubber refuses any request not queued)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("refusal", ["PreconditionFailed", "ConditionalRequestConflict"])
def test_an_output_guessed_absent_but_holding_an_older_version_is_replaced_if_match(refusal: str) -> None:
    # Given a first-time master, and a variant key S3 says is taken (412 or 409) by an older version's
    stubber, store = _stubbed()
    _head_output(stubber, MASTER, None)
    _head_input(stubber, OURS)
    _put(stubber, MASTER, {"IfNoneMatch": "*"})
    _put(stubber, VARIANT, {"IfNoneMatch": "*"}, error=refusal)
    _head_output(stubber, VARIANT, _output_of("v-older", "0A"), etag="older")
    _put(stubber, VARIANT, {"IfMatch": '"older"'})
    writes = NewestVersionWins(store, OUTPUT).writes_for(*_ours())
    # When both are written
    with stubber:
        writes.output(MASTER)
        assert writes(MASTER, _writer(store, MASTER)) is None
        outcome = writes(VARIANT, _writer(store, VARIANT))
    # Then the refused PUT made one HEAD, and the second PUT replaced the older output If-Match its ETag
    assert outcome is None
    stubber.assert_no_pending_responses()


def test_an_output_guessed_absent_but_holding_a_newer_version_stops_the_writes() -> None:
    # Given a variant key S3 says is taken (412) by a newer version's output
    stubber, store = _stubbed()
    _head_output(stubber, MASTER, None)
    _head_input(stubber, OURS)
    _put(stubber, MASTER, {"IfNoneMatch": "*"})
    _put(stubber, VARIANT, {"IfNoneMatch": "*"}, error="PreconditionFailed")
    _head_output(stubber, VARIANT, _output_of(NEWER, "0C"), etag="newer")
    writes = NewestVersionWins(store, OUTPUT).writes_for(*_ours())
    # When both are written
    with stubber:
        writes.output(MASTER)
        writes(MASTER, _writer(store, MASTER))
        outcome = writes(VARIANT, _writer(store, VARIANT))
    # Then our version is superseded by that output, and no second PUT was sent
    assert isinstance(outcome, Superseded)
    assert "newer version" in outcome.by
    stubber.assert_no_pending_responses()


def test_after_a_refused_guess_the_next_outputs_are_looked_at_before_their_put() -> None:
    # Given a refused guess on the first variant (an older output was there)
    stubber, store = _stubbed()
    _head_output(stubber, MASTER, None)
    _head_input(stubber, OURS)
    _put(stubber, MASTER, {"IfNoneMatch": "*"})
    _put(stubber, VARIANT, {"IfNoneMatch": "*"}, error="PreconditionFailed")
    _head_output(stubber, VARIANT, _output_of("v-older", "0A"), etag="older")
    _put(stubber, VARIANT, {"IfMatch": '"older"'})
    other = "listing-webp/shoe.jpg.webp"
    _head_output(stubber, other, _output_of("v-older", "0A"), etag="older2")
    _put(stubber, other, {"IfMatch": '"older2"'})
    writes = NewestVersionWins(store, OUTPUT).writes_for(*_ours())
    # When a third output is written
    with stubber:
        writes.output(MASTER)
        writes(MASTER, _writer(store, MASTER))
        writes(VARIANT, _writer(store, VARIANT))
        assert writes(other, _writer(store, other)) is None
    # Then it was HEADed first (the guess is not made again) and replaced If-Match its ETag
    stubber.assert_no_pending_responses()


# --- the rule, on the in-memory store -------------------------------------------------------------


def _unordered(store: InMemoryObjectStore) -> tuple[OrderedWrites, UploadedObject, Any]:
    """Our version (no sequencer: a backfill's), its master written; then the key re-uploaded."""
    ours = store.add(INPUT, KEY, b"ours")
    ours.last_modified = T0
    upload = UploadedObject(INPUT, KEY, version_id=ours.version_id)
    writes = NewestVersionWins(store, OUTPUT).writes_for(upload, store.head(INPUT, KEY, ours.version_id))
    writes.output(MASTER)
    assert writes.superseded([MASTER]) is None
    assert writes(MASTER, _memory_writer(store, MASTER, upload, T0)) is None
    return writes, upload, ours


def _memory_writer(
    store: InMemoryObjectStore, key: str, upload: UploadedObject, when: datetime
) -> Callable[[WriteCondition], None]:
    def write(condition: WriteCondition) -> None:
        metadata = {
            "source-bucket": INPUT,
            "source-version-id": upload.version_id or "",
            **SourceStamp(None, when, upload.version_id).metadata(),
        }
        store.put(OUTPUT, key, io.BytesIO(b"png"), "image/png", metadata, condition=condition)

    return write


def test_an_unordered_output_of_a_newer_version_found_at_a_write_asks_the_input_and_loses_to_it() -> None:
    # Given our master written, then a newer version of the key uploaded in the same second, with no
    # sequencers on either side, whose variant lands before ours
    store = InMemoryObjectStore()
    writes, upload, _ = _unordered(store)
    newer = store.add(INPUT, KEY, b"newer")
    newer.last_modified = T0 + timedelta(milliseconds=300)
    newer_upload = UploadedObject(INPUT, KEY, version_id=newer.version_id)
    _memory_writer(store, VARIANT, newer_upload, T0)(WriteCondition(if_absent=True))
    heads = store.heads
    # When our variant is written (guessed absent: S3 refuses it)
    outcome = writes(VARIANT, _memory_writer(store, VARIANT, upload, T0))
    # Then the stamps could not order the two, so the key's current version decided: ours lost
    assert isinstance(outcome, Superseded)
    assert outcome.by == f"version {newer.version_id} of s3://{INPUT}/{KEY}"
    assert store.objects[(OUTPUT, VARIANT)].metadata["source-version-id"] == newer.version_id
    assert store.heads == heads + 2  # the variant, then the input


def test_an_unordered_output_of_an_older_version_found_at_a_write_is_replaced_when_ours_is_current() -> None:
    # Given our master written, and a variant left by an older version of the same second (unordered)
    store = InMemoryObjectStore()
    older_upload = UploadedObject(INPUT, KEY, version_id="v-older")
    _memory_writer(store, VARIANT, older_upload, T0)(WriteCondition(if_absent=True))
    writes, upload, ours = _unordered(store)
    # When our variant is written
    outcome = writes(VARIANT, _memory_writer(store, VARIANT, upload, T0))
    # Then the key's current version is ours: the older output is replaced
    assert outcome is None
    assert store.objects[(OUTPUT, VARIANT)].metadata["source-version-id"] == ours.version_id
