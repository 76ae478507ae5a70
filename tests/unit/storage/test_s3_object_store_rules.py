"""The S3 adapter, row by row: what each call sends, and what each S3 answer becomes.

botocore's Stubber checks the exact parameters of every request (no sockets). Every error code
S3 uses for "not found" and "denied" on HEAD and GET; every code that means a conditional PUT lost
(412, 409, by name or number) and the ones that do not; a byte range from each side (a suffix, an
open end, a closed range); what a HEAD answer becomes with and without its optional fields; the
version, the content type and the tags sent only when given; the 2 KiB metadata limit from both
sides.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from cutout.failures import FailureReason
from cutout.storage import (
    ObjectAccessDenied,
    ObjectHead,
    ObjectNotFound,
    S3ObjectStore,
    WriteCondition,
    WriteConflict,
)
from cutout.storage.metadata_limit import MetadataTooLarge


def s3() -> Any:
    return boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("404", 404, ObjectNotFound),
        ("NoSuchKey", 404, ObjectNotFound),
        ("NoSuchVersion", 404, ObjectNotFound),
        ("NotFound", 404, ObjectNotFound),
        ("NoSuchBucket", 404, ObjectNotFound),
        ("SomethingNew", 404, ObjectNotFound),  # the status alone says it
        ("NoSuchKey", 400, ObjectNotFound),  # the code alone says it
        ("403", 403, ObjectAccessDenied),
        ("AccessDenied", 403, ObjectAccessDenied),
        ("Forbidden", 403, ObjectAccessDenied),
        ("SomethingNew", 403, ObjectAccessDenied),
        ("AccessDenied", 400, ObjectAccessDenied),
        ("SlowDown", 503, None),  # neither: the SDK's own error goes on (retried by the pipeline)
        ("InternalError", 500, None),
        ("InvalidArgument", 400, None),  # statuses below 403 are not a denial either
        ("PermanentRedirect", 301, None),
        ("SomethingNew", 402, None),
    ],
)
@pytest.mark.parametrize("operation", ["head_object", "get_object"])
def test_each_s3_error_of_a_read_becomes_its_reason(
    operation: str, code: str, status: int, reason: type[FailureReason] | None
) -> None:
    # Given S3 answering a HEAD or a ranged GET with this error
    client = s3()
    stubber = Stubber(client)
    stubber.add_client_error(operation, service_error_code=code, http_status_code=status)
    store = S3ObjectStore(client)

    # When the store reads
    def read() -> object:
        if operation == "head_object":
            return store.head("in", "a.jpg", "v1")
        return store.read_range("in", "a.jpg", "v1", 0, 10)

    with stubber, pytest.raises((FailureReason, ClientError)) as raised:
        read()
    # Then a missing object and a denial are the pipeline's reasons, naming the object; anything else is S3's
    if reason is None:
        assert isinstance(raised.value, ClientError)
    else:
        assert type(raised.value) is reason
        assert "s3://in/a.jpg" in str(raised.value)


@pytest.mark.parametrize(
    ("start", "end", "header"),
    [
        (0, 99, "bytes=0-99"),
        (100, None, "bytes=100-"),
        (-64, None, "bytes=-64"),
        (-1, None, "bytes=-1"),
        (0, 0, "bytes=0-0"),
        (5, 5, "bytes=5-5"),
    ],
)
@pytest.mark.parametrize("version_id", ["v7", None])
def test_a_range_read_asks_for_exactly_that_range_of_that_version(
    start: int, end: int | None, header: str, version_id: str | None
) -> None:
    # Given S3 expecting exactly this ranged GET (a version id only when one is known)
    client = s3()
    stubber = Stubber(client)
    expected: dict[str, Any] = {"Bucket": "in", "Key": "a.jpg", "Range": header}
    if version_id:
        expected["VersionId"] = version_id
    stubber.add_response("get_object", {"Body": io.BytesIO(b"abc")}, expected)
    # When the store reads the range, Then it asked for it and returns the bytes
    with stubber:
        assert S3ObjectStore(client).read_range("in", "a.jpg", version_id, start, end) == b"abc"
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("version_id", ["v7", None, ""])
def test_a_head_reads_every_field_and_names_a_version_only_when_given(version_id: str | None) -> None:
    # Given S3 answering a HEAD with every field
    client = s3()
    stubber = Stubber(client)
    expected: dict[str, Any] = {"Bucket": "in", "Key": "a.jpg"}
    if version_id:
        expected["VersionId"] = version_id
    written = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    answer = {
        "ContentLength": 1234,
        "ETag": '"abc123"',
        "VersionId": "v7",
        "ContentType": "image/jpeg",
        "Metadata": {"source": "camera"},
        "LastModified": written,
    }
    stubber.add_response("head_object", answer, expected)
    # When the store heads the object
    with stubber:
        head = S3ObjectStore(client).head("in", "a.jpg", version_id)
    # Then every field is read, the ETag unquoted
    assert (head.size, head.etag, head.version_id, head.content_type) == (1234, "abc123", "v7", "image/jpeg")
    assert (head.metadata, head.last_modified) == ({"source": "camera"}, written)


@pytest.mark.parametrize("etag", [None, '""'])
def test_a_head_without_an_etag_or_size_says_none_and_zero(etag: str | None) -> None:
    # Given S3 answering a HEAD with no (or an empty) ETag, no length, no metadata
    client = s3()
    stubber = Stubber(client)
    stubber.add_response(
        "head_object", {} if etag is None else {"ETag": etag}, {"Bucket": "in", "Key": "a.jpg"}
    )
    # When the store heads it, Then nothing is invented
    with stubber:
        head = S3ObjectStore(client).head("in", "a.jpg")
    assert (head.size, head.etag, head.version_id, head.metadata, head.last_modified) == (
        0,
        None,
        None,
        {},
        None,
    )


@pytest.mark.parametrize(
    ("version_id", "content_type"), [("v7", "image/png"), (None, None), ("v7", None), (None, "image/png")]
)
def test_a_presigned_url_names_the_version_and_the_type_only_when_given(
    version_id: str | None, content_type: str | None
) -> None:
    # Given the store on a real (offline) S3 client
    store = S3ObjectStore(s3())
    # When it presigns a GET
    url = store.presigned_get_url("in", "a.jpg", version_id, 300, content_type)
    # Then the URL names that version and response type when given, nothing otherwise, and expires in 300 s
    assert ("versionId=v7" in url) is (version_id is not None)
    assert ("response-content-type=image%2Fpng" in url) is (content_type is not None)
    assert "Expires=" in url or "X-Amz-Expires=300" in url


def put_expecting(
    extra: dict[str, Any], error: tuple[str, int] | None = None
) -> tuple[Stubber, S3ObjectStore]:
    client = s3()
    stubber = Stubber(client)
    expected = {"Bucket": "out", "Key": "a.png", "Body": ANY, "ContentType": "image/png", **extra}
    if error is None:
        stubber.add_response("put_object", {}, expected)
    else:
        stubber.add_client_error(
            "put_object", service_error_code=error[0], http_status_code=error[1], expected_params=expected
        )
    return stubber, S3ObjectStore(client)


def test_tags_are_sent_url_encoded_and_only_when_given() -> None:
    # Given S3 expecting the tags as a query string
    stubber, store = put_expecting({"Metadata": {}, "Tagging": "status=held+for+review&score=0.4"})
    # When the store puts with tags, Then they went, encoded
    with stubber:
        store.put(
            "out",
            "a.png",
            io.BytesIO(b"png"),
            "image/png",
            {},
            tags={"status": "held for review", "score": "0.4"},
        )
    stubber.assert_no_pending_responses()
    # And with no (or empty) tags, no Tagging is sent
    for tags in (None, {}):
        stubber, store = put_expecting({"Metadata": {}})
        with stubber:
            store.put("out", "a.png", io.BytesIO(b"png"), "image/png", {}, tags=tags)
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("value_bytes", "sent"), [(2046, True), (2047, True), (2048, False)])
def test_metadata_up_to_2_kib_is_sent_and_one_byte_more_never(value_bytes: int, sent: bool) -> None:
    # Given metadata whose key ("k") and value make 2047, 2048 or 2049 bytes
    metadata = {"k": "v" * value_bytes}
    stubber, store = put_expecting({"Metadata": metadata})
    # When the store puts it
    # Then up to S3's 2 KiB it goes; one byte over it is refused before any request
    with stubber:
        if sent:
            store.put("out", "a.png", io.BytesIO(b"png"), "image/png", metadata)
            stubber.assert_no_pending_responses()
        else:
            with pytest.raises(MetadataTooLarge, match="2049 bytes"):
                store.put("out", "a.png", io.BytesIO(b"png"), "image/png", metadata)


@pytest.mark.parametrize(
    ("code", "status", "condition", "conflict"),
    [
        ("412", 412, WriteCondition(if_absent=True), True),
        ("409", 409, WriteCondition(if_match="abc"), True),
        ("PreconditionFailed", 412, None, True),
        ("NoSuchKey", 404, WriteCondition(if_match="abc"), True),
        ("404", 404, WriteCondition(if_match="abc"), True),
        ("NoSuchKey", 404, WriteCondition(), False),
        ("NoSuchKey", 404, None, False),
        ("NoSuchBucket", 404, WriteCondition(if_match="abc"), False),
        ("AccessDenied", 403, WriteCondition(if_match="abc"), False),
        ("InternalError", 500, WriteCondition(if_absent=True), False),
    ],
)
def test_only_the_answers_that_mean_someone_else_wrote_first_are_a_conflict(
    code: str, status: int, condition: WriteCondition | None, conflict: bool
) -> None:
    # Given S3 answering a PUT (with this condition) with this error
    client = s3()
    stubber = Stubber(client)
    stubber.add_client_error("put_object", service_error_code=code, http_status_code=status)
    # When the store writes
    with stubber, pytest.raises((WriteConflict, ClientError)) as raised:
        S3ObjectStore(client).put("out", "a.png", io.BytesIO(b"png"), "image/png", {}, condition=condition)
    # Then it is a conflict (the caller looks again) exactly when it means one; else S3's error goes on
    assert isinstance(raised.value, WriteConflict) is conflict
    if conflict:
        assert "s3://out/a.png" in str(raised.value)


def test_an_empty_condition_sends_no_precondition() -> None:
    # Given a condition that asks for nothing (no ETag, not if-absent)
    stubber, store = put_expecting({"Metadata": {}})
    # When the store puts with it, Then neither If-Match nor If-None-Match is sent
    with stubber:
        store.put("out", "a.png", io.BytesIO(b"png"), "image/png", {}, condition=WriteCondition())
    stubber.assert_no_pending_responses()


def test_a_put_takes_its_condition_and_tags_by_name_only() -> None:
    # Given the S3 store (no request may be made: nothing is stubbed)
    client = s3()
    # When the condition is passed by position, Then it is refused (a condition taken for tags must not pass)
    with Stubber(client), pytest.raises(TypeError):
        S3ObjectStore(client).put(  # type: ignore[misc]
            "out", "a.png", io.BytesIO(b"png"), "image/png", {}, WriteCondition(if_absent=True)
        )


def test_a_head_and_a_write_condition_cannot_be_changed_in_place() -> None:
    # Given what a HEAD told and the condition of a PUT
    head = ObjectHead(size=1, etag="e", version_id="v1", content_type="image/png", metadata={})
    condition = WriteCondition(if_match="e")
    # When something tries to change them, Then they refuse: the PUT's condition is the ETag that was read
    with pytest.raises(dataclasses.FrozenInstanceError):
        head.etag = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        condition.if_match = "other"  # type: ignore[misc]
