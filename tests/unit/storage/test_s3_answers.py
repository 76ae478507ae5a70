"""How S3's HEAD/GET errors become the pipeline's reasons (botocore's Stubber: no sockets)."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.stub import Stubber

from cutout.failures import FailureReason
from cutout.storage import ObjectAccessDenied, ObjectNotFound, S3ObjectStore


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [("404", 404, ObjectNotFound), ("NoSuchVersion", 404, ObjectNotFound), ("403", 403, ObjectAccessDenied)],
)
def test_head_errors_become_reasons(code: str, status: int, expected: type[FailureReason]) -> None:
    # Given an S3 client that answers HEAD with this error
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stubber = Stubber(client)
    stubber.add_client_error("head_object", service_error_code=code, http_status_code=status)
    # When the store heads the object
    with stubber, pytest.raises(FailureReason) as raised:
        S3ObjectStore(client).head("in", "a.jpg", "v1")
    # Then the reason is the expected one; a denial is retried, then recorded as such (replayable)
    assert type(raised.value) is expected
    if expected is ObjectAccessDenied:
        assert raised.value.code == "object_access_denied"
        assert raised.value.retryable
        assert "s3:ListBucket" in raised.value.message


@pytest.mark.parametrize(
    ("code", "status", "condition", "conflict"),
    [
        # If-Match on a key deleted since its HEAD: S3 answers 404 NoSuchKey, not 412 (issue 24)
        ("NoSuchKey", 404, "if_match", True),
        ("PreconditionFailed", 412, "if_match", True),
        ("PreconditionFailed", 412, "if_absent", True),
        ("ConditionalRequestConflict", 409, "if_absent", True),
        # a bucket that is gone is no write conflict (no second look heals it)
        ("NoSuchBucket", 404, "if_match", False),
        # a 404 without If-Match is not a conflict either
        ("NoSuchKey", 404, "if_absent", False),
    ],
)
def test_conditional_put_answers_that_mean_someone_else_wrote_or_deleted_first(
    code: str, status: int, condition: str, conflict: bool
) -> None:
    # Given an S3 client that answers the conditional PUT with this error
    from cutout.storage import WriteCondition, WriteConflict

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    stubber = Stubber(client)
    stubber.add_client_error("put_object", service_error_code=code, http_status_code=status)
    when = WriteCondition(if_match="abc") if condition == "if_match" else WriteCondition(if_absent=True)
    # When the store writes
    from botocore.exceptions import ClientError

    with stubber, pytest.raises((WriteConflict, ClientError)) as raised:
        S3ObjectStore(client).put("out", "a.png", io.BytesIO(b"png"), "image/png", {}, condition=when)
    # Then it is a write conflict (the caller looks again) exactly when it means one
    assert isinstance(raised.value, WriteConflict) is conflict


def test_metadata_over_2kb_is_never_sent() -> None:
    # Given an S3 client that would accept anything (no stubbed answer: a request would fail the test)
    from cutout.storage.metadata_limit import MetadataTooLarge

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    # When a PUT carries 2,049 bytes of metadata; Then it is refused before any request
    with Stubber(client), pytest.raises(MetadataTooLarge):
        S3ObjectStore(client).put("out", "a.png", io.BytesIO(b"png"), "image/png", {"k": "v" * 2048})
