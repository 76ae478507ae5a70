"""How S3's HEAD/GET errors become the pipeline's reasons (botocore's Stubber: no sockets)."""

from __future__ import annotations

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
