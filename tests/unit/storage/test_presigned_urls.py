"""Presigned GET URLs name the regional virtual-hosted S3 endpoint, in every region (no network)."""

from __future__ import annotations

import boto3
import httpx
import pytest

from cutout.storage import S3ObjectStore
from cutout.wiring import s3_client


@pytest.mark.parametrize("region", ["eu-south-1", "ap-southeast-3", "us-west-2", "us-east-1"])
def test_presigned_urls_name_the_regional_endpoint(region: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the pipeline's S3 client in a region (eu-south-1 and ap-southeast-3 answer 400 on the
    # global endpoint; older regions answer a new bucket with a 307 a signed fetch cannot follow)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name=region
    )
    store = S3ObjectStore(s3_client(session))
    # When an input is presigned for the API, with the type validation sniffed
    url = httpx.URL(
        store.presigned_get_url("my-input-bucket", "a b/photo.jpg", "v1", 300, content_type="image/jpeg")
    )
    # Then it is virtual-hosted on the region's own endpoint, SigV4 for that region, over https
    assert (url.scheme, url.host) == ("https", f"my-input-bucket.s3.{region}.amazonaws.com")
    assert url.params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert f"/{region}/s3/aws4_request" in url.params["X-Amz-Credential"]
    assert url.params["response-content-type"] == "image/jpeg"
    assert url.params["versionId"] == "v1"
