"""`cutout review` operations on moto's S3: approve publishes by copy (no API call), reject deletes."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from cutout.quality_gate import Verdict, review_key, review_metadata, review_tags
from cutout.storage import S3ObjectStore
from cutout_tools.unattended.control import approve, held_outputs, reject, review_tag_of
from tests.fakes import image_bytes


@pytest.fixture
def bucket(aws_environment: str) -> tuple[Any, str]:
    s3 = boto3.client("s3")
    name = f"cutout-output-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return s3, name


def hold(s3: Any, bucket: str, key: str, reasons: tuple[str, ...]) -> None:
    """Write a held output exactly as the pipeline does (S3ObjectStore.put with the tag)."""
    import io

    verdict = Verdict(reasons)
    metadata = {"source-bucket": "in", "engine": "fake", **review_metadata(verdict)}
    S3ObjectStore(s3).put(
        bucket,
        review_key(key),
        io.BytesIO(image_bytes(fmt="PNG", mode="RGBA")),
        "image/png",
        metadata,
        tags=review_tags(verdict),
    )


def test_held_outputs_are_listed_with_their_reasons_and_tagged(bucket: tuple[Any, str]) -> None:
    # Given two held outputs
    s3, name = bucket
    hold(s3, name, "shoes/red.png", ("cut_by_frame",))
    hold(s3, name, "bags/blue.png", ("low_score", "fragmented"))
    # When they are listed
    held = {item.key: item.reasons for item in held_outputs(s3, name)}
    # Then each shows its reasons, and carries them as its S3 tag
    assert held == {
        "review/shoes/red.png": ("cut_by_frame",),
        "review/bags/blue.png": ("low_score", "fragmented"),
    }
    assert review_tag_of(s3, name, "review/bags/blue.png") == "low_score+fragmented"


def test_approve_publishes_by_copy_without_the_review_marks(bucket: tuple[Any, str]) -> None:
    # Given a held output
    s3, name = bucket
    hold(s3, name, "shoes/red.png", ("cut_by_frame",))
    original = s3.get_object(Bucket=name, Key="review/shoes/red.png")["Body"].read()
    # When it is approved (by its published key)
    published = approve(s3, name, "shoes/red.png")
    # Then the same bytes are at the published key, the metadata kept, the review marks gone,
    # and nothing is left under review/
    answer = s3.get_object(Bucket=name, Key=published)
    assert published == "shoes/red.png"
    assert answer["Body"].read() == original
    assert answer["ContentType"] == "image/png"
    assert answer["Metadata"]["engine"] == "fake"
    assert "review-reasons" not in answer["Metadata"]
    assert review_tag_of(s3, name, published) is None
    assert list(held_outputs(s3, name)) == []


def test_reject_deletes_the_held_output_and_publishes_nothing(bucket: tuple[Any, str]) -> None:
    # Given a held output
    s3, name = bucket
    hold(s3, name, "shoes/red.png", ("empty_mask",))
    # When it is rejected
    deleted = reject(s3, name, "review/shoes/red.png")
    # Then it is gone, and the published key never existed
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=name).get("Contents", [])]
    assert deleted == "review/shoes/red.png"
    assert keys == []
