"""Five versions of one key on the local stack: the newest wins, and older versions are not paid for.

The local stack's S3 events carry what S3's do on a versioned bucket (the PUT's ``versionId``, a
sequencer growing per key: ``s3_event_facts``), so the ordering step knows an event's version is no
longer the key's current one before paying, however close together the versions were written.

The order of arrival is set by the test, never by timing: the poller is held (its workers stopped
and joined, so nothing is received) while the versions are uploaded; then either released, or the
test receives the events itself and runs them one at a time, in the order it chooses, through the
poller's own ``run_batch`` (the real handler, deleting what succeeded, as the mapping would).
The paid calls are the emulator's billed count.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote_plus

import pytest

from cutout_tools.local_stack import EventSourcePoller, LocalStack
from tests.e2e.support import product_photo
from tests.functional.aidge_testkit import FakeCutoutEngine

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:No application metrics to publish")]

VERSIONS = 5
RECEIVE_DEADLINE_SECONDS = 120.0  # only ever reached when an event never comes: a failure
IDLE_TIMEOUT_SECONDS = 600.0  # only ever reached when the stack never settles: a failure


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, engine=FakeCutoutEngine(), log=lambda _line: None) as running:
        yield running


@contextmanager
def poller_held(stack: LocalStack) -> Iterator[EventSourcePoller]:
    """The poller stopped (every worker joined: nothing is received) until the block ends."""
    poller = stack.poller
    assert poller is not None
    poller.stop(timeout=None)
    try:
        yield poller
    finally:
        poller.start()


def _upload_versions(stack: LocalStack, key: str, count: int = VERSIONS, first: int = 0) -> list[str]:
    """``count`` versions of ``key``, each a different picture (the ``first``-th on), back to back."""
    s3, bucket = stack.client("s3"), stack.describe()["input_bucket"]
    return [
        s3.put_object(Bucket=bucket, Key=key, Body=product_photo(400 + 16 * n, 320))["VersionId"]
        for n in range(first, first + count)
    ]


def _event_version(message: dict[str, Any], key: str) -> str | None:
    body = json.loads(message["Body"])
    for record in body.get("Records", []):
        entry = record["s3"]["object"]
        if unquote_plus(entry["key"]) == key:  # URL-encoded, as S3 sends keys
            return str(entry["versionId"])
    return None


def _receive_events(stack: LocalStack, key: str, count: int) -> dict[str, dict[str, Any]]:
    """The work queue's events of ``key`` (held poller), by the version they name; others go back."""
    sqs, queue_url = stack.client("sqs"), stack.describe()["work_queue_url"]
    events: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + RECEIVE_DEADLINE_SECONDS
    while len(events) < count:
        assert time.monotonic() < deadline, f"{len(events)} of {count} events of {key} came"
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        ).get("Messages", [])
        for message in messages:
            version_id = _event_version(message, key)
            if version_id is None:
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                events[version_id] = message
    return events


def _outputs(stack: LocalStack, key: str) -> dict[str, dict[str, str]]:
    """Every output made from ``key`` (the master and its variants), with its metadata."""
    s3, bucket = stack.client("s3"), stack.describe()["output_bucket"]
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        item["Key"]: s3.head_object(Bucket=bucket, Key=item["Key"])["Metadata"]
        for item in listed
        if f"/{key}." in f"/{item['Key']}"
    }


def _dlq_records(stack: LocalStack) -> list[dict[str, Any]]:
    """The dead-letter queue's records, taken off it (each test starts from an empty queue)."""
    sqs, queue_url = stack.client("sqs"), stack.describe()["dead_letter_queue_url"]
    records: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            records.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return records


def _billed(stack: LocalStack) -> int:
    return int(stack.emulator.stats()["billed"])


def _assert_the_newest_version_s_outputs_only(stack: LocalStack, key: str, newest: str) -> None:
    outputs = _outputs(stack, key)
    assert any(output.startswith("masters/") for output in outputs), outputs
    assert {metadata["source-version-id"] for metadata in outputs.values()} == {newest}


@pytest.mark.parametrize("duplicate_first", [False, True], ids=["once-each", "first-delivered-twice"])
def test_five_versions_uploaded_before_the_first_is_processed_are_paid_once(
    stack: LocalStack, duplicate_first: bool
) -> None:
    # Given five versions of one key uploaded back to back before any event is processed
    # (and, once, the first version's event delivered a second time, as SQS may)
    key = f"back-to-back-{int(duplicate_first)}/shoe.jpg"
    billed_before = _billed(stack)
    with poller_held(stack):
        versions = _upload_versions(stack, key)
        if duplicate_first:
            events = _receive_events(stack, key, VERSIONS)
            sqs, queue_url = stack.client("sqs"), stack.describe()["work_queue_url"]
            sqs.send_message(QueueUrl=queue_url, MessageBody=events[versions[0]]["Body"])
            for message in events.values():
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )

    # When the poller is released and the stack settles (in whatever order and batches it takes them)
    stack.wait_until_idle(timeout=IDLE_TIMEOUT_SECONDS)

    # Then one paid call, for the newest version: every other event named a version that was no
    # longer the key's current one when its ordering step looked; every output is the newest
    # version's, and nothing reached the DLQ
    assert len(set(versions)) == VERSIONS
    assert _billed(stack) - billed_before == 1
    _assert_the_newest_version_s_outputs_only(stack, key, versions[-1])
    assert _dlq_records(stack) == []


@pytest.mark.parametrize("newest_first", [True, False], ids=["newest-first", "oldest-first"])
def test_five_versions_delivered_in_either_order_are_paid_once(stack: LocalStack, newest_first: bool) -> None:
    # Given five versions of one key uploaded back to back, their events held
    key = f"ordered-{'newest' if newest_first else 'oldest'}-first/shoe.jpg"
    billed_before = _billed(stack)
    with poller_held(stack) as poller:
        versions = _upload_versions(stack, key)
        events = _receive_events(stack, key, VERSIONS)
        order = list(reversed(versions)) if newest_first else versions

        # When the events are processed one at a time in that order
        outcomes = [poller.run_batch([events[version]]) for version in order]

    # Then every event succeeded, one call was paid (the newest version's), every output is the
    # newest version's, and nothing reached the DLQ
    assert [(outcome.failures, outcome.error) for outcome in outcomes] == [(0, None)] * VERSIONS
    assert _billed(stack) - billed_before == 1
    _assert_the_newest_version_s_outputs_only(stack, key, versions[-1])
    assert _dlq_records(stack) == []


def test_versions_each_processed_before_the_next_is_uploaded_are_each_paid(stack: LocalStack) -> None:
    # Given versions of one key, each uploaded only once the one before was processed
    key = "one-by-one/shoe.jpg"
    billed_before = _billed(stack)
    versions: list[str] = []
    with poller_held(stack) as poller:
        outcomes = []
        for n in range(VERSIONS):
            # When each event is processed before the next version exists
            [version] = _upload_versions(stack, key, 1, first=n)
            versions.append(version)
            outcomes.append(poller.run_batch([_receive_events(stack, key, 1)[version]]))

    # Then each was the newest when its event came, so each was paid for (the fewest this order
    # allows); the outputs are the last version's, and nothing reached the DLQ
    assert [outcome.failures for outcome in outcomes] == [0] * VERSIONS
    assert _billed(stack) - billed_before == VERSIONS
    _assert_the_newest_version_s_outputs_only(stack, key, versions[-1])
    assert _dlq_records(stack) == []


def test_a_bad_version_then_a_good_one_each_get_their_own_outcome(stack: LocalStack) -> None:
    # Given a version that is no image, then a good version of the same key, both uploaded before
    # either is processed
    key = "bad-then-good/shoe.jpg"
    s3, bucket = stack.client("s3"), stack.describe()["input_bucket"]
    billed_before = _billed(stack)
    with poller_held(stack):
        bad = s3.put_object(Bucket=bucket, Key=key, Body=b"not an image at all")["VersionId"]
        [good] = _upload_versions(stack, key, 1)

    # When the stack settles
    stack.wait_until_idle(timeout=IDLE_TIMEOUT_SECONDS)

    # Then the bad version has its DLQ record, naming that version (its event named it); the good
    # version has its outputs, from the one paid call
    [record] = _dlq_records(stack)
    assert (record["source"]["key"], record["source"]["version_id"]) == (key, bad)
    _assert_the_newest_version_s_outputs_only(stack, key, good)
    assert _billed(stack) - billed_before == 1
