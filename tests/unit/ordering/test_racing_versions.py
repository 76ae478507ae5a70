"""Two versions of one key racing to write its output, with and without an output already there.

The rule: the write is conditional (``If-None-Match: *`` when there is no output yet, ``If-Match``
its ETag when there is one), so the loser of a race looks again and never overwrites the newer
version's output. The race is made deterministic: the other version writes inside our write,
after our check and before our PUT reaches the store.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import ANY, Stubber

from cutout.events import UploadedObject
from cutout.ordering.newest import NewestVersionWins, OutputWriteConflict, SourceStamp, Superseded
from cutout.storage import ObjectHead, S3ObjectStore
from cutout.storage.objects import WriteCondition, WriteConflict
from tests.fakes import InMemoryObjectStore

INPUT, OUTPUT, KEY, OUT_KEY = "in", "out", "shoe.jpg", "shoe.png"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _version(store: InMemoryObjectStore, sequencer: str, seconds: int) -> tuple[UploadedObject, ObjectHead]:
    stored = store.add(INPUT, KEY, f"bytes of {sequencer}".encode())
    stored.last_modified = T0 + timedelta(seconds=seconds)
    upload = UploadedObject(INPUT, KEY, version_id=stored.version_id, sequencer=sequencer)
    return upload, store.head(INPUT, KEY, stored.version_id)


def _writer(
    store: InMemoryObjectStore, upload: UploadedObject, head: ObjectHead, conditions: list[WriteCondition]
) -> Callable[[WriteCondition], None]:
    def write(condition: WriteCondition) -> None:
        conditions.append(condition)
        metadata = {"source-bucket": upload.bucket, **SourceStamp.of(upload, head).metadata()}
        if upload.version_id:
            metadata["source-version-id"] = upload.version_id
        store.put(
            OUTPUT,
            OUT_KEY,
            io.BytesIO(upload.sequencer.encode() if upload.sequencer else b""),
            "image/png",
            metadata,
            condition=condition,
        )

    return write


def _racing(
    store: InMemoryObjectStore,
    other_lands: Callable[[], None],
    write: Callable[[WriteCondition], None],
) -> Callable[[WriteCondition], None]:
    """Our write, with the other version's write slipped in (once) before ours reaches the store."""
    raced: list[bool] = []

    def write_after_the_other(condition: WriteCondition) -> None:
        if not raced:
            raced.append(True)
            other_lands()
        write(condition)

    return write_after_the_other


def _output_version(store: InMemoryObjectStore) -> str:
    return store.objects[(OUTPUT, OUT_KEY)].metadata["source-version-id"]


@pytest.mark.parametrize("existing_output", [False, True], ids=["no output yet", "an older output"])
def test_the_older_version_losing_a_race_never_overwrites_the_newer_output(existing_output: bool) -> None:
    # Given two versions of one key, and either no output or one of an even older version
    store = InMemoryObjectStore()
    step = NewestVersionWins(store, OUTPUT)
    if existing_output:
        v0 = _version(store, "0A", 0)
        assert step.write_unless_superseded(*v0, OUT_KEY, _writer(store, *v0, [])) is None
    v0_etag = store.head(OUTPUT, OUT_KEY).etag if existing_output else None
    older = _version(store, "0B", 1)
    newer: list[tuple[UploadedObject, ObjectHead]] = []

    def newer_uploaded_and_written() -> None:
        newer.append(_version(store, "0C", 2))
        assert step.write_unless_superseded(*newer[0], OUT_KEY, _writer(store, *newer[0], [])) is None

    conditions: list[WriteCondition] = []
    # When the older version checks, then a newer one is uploaded and writes its output, then the
    # older one's PUT arrives
    outcome = step.write_unless_superseded(
        *older, OUT_KEY, _racing(store, newer_uploaded_and_written, _writer(store, *older, conditions))
    )
    # Then the older one's conditional PUT failed, it looked again and found itself superseded
    assert isinstance(outcome, Superseded)
    assert _output_version(store) == newer[0][0].version_id
    assert len(conditions) == 1
    if existing_output:
        assert conditions[0] == WriteCondition(if_match=v0_etag)
    else:
        assert conditions[0] == WriteCondition(if_absent=True)


@pytest.mark.parametrize("existing_output", [False, True], ids=["no output yet", "an older output"])
def test_the_newer_version_losing_a_race_looks_again_and_writes(existing_output: bool) -> None:
    # Given two versions, the older one writing while the newer one is between its check and its PUT
    store = InMemoryObjectStore()
    step = NewestVersionWins(store, OUTPUT)
    if existing_output:
        v0 = _version(store, "0A", 0)
        step.write_unless_superseded(*v0, OUT_KEY, _writer(store, *v0, []))
    older = _version(store, "0B", 1)
    newer = _version(store, "0C", 2)
    older_etag: list[str | None] = []

    def older_lands() -> None:  # the older one passed its checks before the newer was uploaded
        _writer(store, *older, [])(WriteCondition())
        older_etag.append(store.head(OUTPUT, OUT_KEY).etag)

    conditions: list[WriteCondition] = []
    # When the newer one's first PUT arrives after the older one's output
    outcome = step.write_unless_superseded(
        *newer, OUT_KEY, _racing(store, older_lands, _writer(store, *newer, conditions))
    )
    # Then its first conditional PUT failed, and the second (If-Match the older output) won
    assert outcome is None
    assert _output_version(store) == newer[0].version_id
    assert len(conditions) == 2
    assert conditions[1] == WriteCondition(if_match=older_etag[0])


def test_the_first_write_of_a_key_asks_for_no_output_and_a_later_one_for_the_one_seen() -> None:
    # Given a key without output, then with the output of its first version
    store = InMemoryObjectStore()
    step = NewestVersionWins(store, OUTPUT)
    first = _version(store, "01", 0)
    conditions: list[WriteCondition] = []
    # When each version writes in turn
    step.write_unless_superseded(*first, OUT_KEY, _writer(store, *first, conditions))
    second = _version(store, "02", 1)
    etag_seen = store.head(OUTPUT, OUT_KEY).etag
    step.write_unless_superseded(*second, OUT_KEY, _writer(store, *second, conditions))
    # Then the first PUT was If-None-Match: * and the second If-Match the ETag it had seen
    assert conditions == [WriteCondition(if_absent=True), WriteCondition(if_match=etag_seen)]


def test_writers_that_keep_winning_make_a_retryable_conflict() -> None:
    # Given a store where another writer wins every conditional PUT
    store = InMemoryObjectStore()
    step = NewestVersionWins(store, OUTPUT)
    version = _version(store, "01", 0)
    attempts: list[WriteCondition] = []

    def always_beaten(condition: WriteCondition) -> None:
        attempts.append(condition)
        raise WriteConflict("someone else wrote first")

    # When it writes
    with pytest.raises(OutputWriteConflict) as conflict:
        step.write_unless_superseded(*version, OUT_KEY, always_beaten)
    # Then it tried exactly three times and gives up with a retryable reason
    assert len(attempts) == 3
    assert conflict.value.retryable


def _s3_put(
    condition: WriteCondition | None, error: str | None = None
) -> tuple[Stubber, S3ObjectStore, dict[str, object]]:
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stubber = Stubber(client)
    expected: dict[str, object] = {
        "Bucket": OUTPUT,
        "Key": OUT_KEY,
        "Body": ANY,
        "ContentType": "image/png",
        "Metadata": {},
    }
    if condition is not None and condition.if_match:
        expected["IfMatch"] = f'"{condition.if_match}"'
    elif condition is not None and condition.if_absent:
        expected["IfNoneMatch"] = "*"
    if error is None:
        stubber.add_response("put_object", {}, expected)
    else:
        status = 412 if error == "PreconditionFailed" else 409
        stubber.add_client_error(
            "put_object", service_error_code=error, http_status_code=status, expected_params=expected
        )
    return stubber, S3ObjectStore(client), expected


@pytest.mark.parametrize(
    "condition",
    [
        WriteCondition(if_absent=True),
        WriteCondition(if_match="abc123"),
        WriteCondition(if_match='"abc123"'),
        None,
    ],
    ids=["if-none-match", "if-match", "if-match-quoted", "unconditional"],
)
def test_the_s3_put_carries_exactly_the_condition_asked_for(condition: WriteCondition | None) -> None:
    # Given an S3 client that expects exactly these parameters (Stubber checks them)
    stubber, store, _ = _s3_put(
        WriteCondition(if_match="abc123") if condition and condition.if_match else condition
    )
    # When the store puts with the condition
    with stubber:
        store.put(OUTPUT, OUT_KEY, io.BytesIO(b"png"), "image/png", {}, condition=condition)
    # Then S3 got If-None-Match: *, If-Match "<etag>" (quoted once), or neither
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("error", ["PreconditionFailed", "ConditionalRequestConflict"])
def test_a_failed_s3_precondition_is_a_write_conflict(error: str) -> None:
    # Given S3 answering the conditional PUT with 412 or 409
    stubber, store, _ = _s3_put(WriteCondition(if_absent=True), error)
    # When the store puts
    with stubber, pytest.raises(WriteConflict):
        store.put(
            OUTPUT, OUT_KEY, io.BytesIO(b"png"), "image/png", {}, condition=WriteCondition(if_absent=True)
        )
    # Then the caller is told to look again (not a failure)
    stubber.assert_no_pending_responses()
