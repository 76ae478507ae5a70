"""The object-store port (input reads, presigned URLs, output writes) and its S3 adapter.

The pipeline never touches boto3: it talks to ``ObjectStore``. Production uses ``S3ObjectStore``
(one boto3 client, created once per process); unit tests use an in-memory fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol
from urllib.parse import urlencode

from cutout.failures import FailureReason

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ObjectNotFound(FailureReason):
    """The object (or that version of it) does not exist (any more): deleted before we got to it."""

    code = "object_not_found"


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """What a HEAD tells: size, etag (unquoted), version id and user metadata."""

    size: int
    etag: str | None
    version_id: str | None
    content_type: str | None
    metadata: dict[str, str]


class ObjectStore(Protocol):
    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectHead:
        """Raises ``ObjectNotFound``."""
        ...

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int | None) -> bytes:
        """Bytes ``start..end`` inclusive; ``end=None`` reads to the end; a negative ``start`` is a suffix."""
        ...

    def presigned_get_url(self, bucket: str, key: str, version_id: str | None, expires_in: int) -> str: ...

    def put(
        self,
        bucket: str,
        key: str,
        body: BinaryIO,
        content_type: str,
        metadata: dict[str, str],
        *,
        tags: dict[str, str] | None = None,
    ) -> None: ...


def _range_header(start: int, end: int | None) -> str:
    if start < 0:
        return f"bytes={start}"
    return f"bytes={start}-" if end is None else f"bytes={start}-{end}"


def _is_not_found(error: Exception) -> bool:
    response: dict[str, Any] = getattr(error, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in {"404", "NoSuchKey", "NoSuchVersion", "NotFound", "NoSuchBucket"} or status == 404


def survives_url_normalisation(key: str) -> bool:
    """Whether ``key`` reaches S3 unchanged in a URL path fetched by a third party's HTTP client.

    Clients normalise paths (RFC 3986 dot-segment removal; some also merge ``//``), so a
    presigned URL for ``a/../b.jpg`` or ``a//b.jpg`` would be fetched as another key (404).
    """
    return not any(segment in ("", ".", "..") for segment in key.split("/"))


class S3ObjectStore:
    """``ObjectStore`` on Amazon S3 (or any S3 endpoint: moto, through ``AWS_ENDPOINT_URL``)."""

    def __init__(self, client: S3Client) -> None:
        self._s3 = client

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectHead:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            answer = self._s3.head_object(**kwargs)
        except Exception as error:
            if _is_not_found(error):
                raise ObjectNotFound(f"s3://{bucket}/{key} does not exist") from None
            raise
        return ObjectHead(
            size=int(answer.get("ContentLength", 0)),
            etag=(answer.get("ETag") or "").strip('"') or None,
            version_id=answer.get("VersionId"),
            content_type=answer.get("ContentType"),
            metadata=dict(answer.get("Metadata", {})),
        )

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int | None) -> bytes:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "Range": _range_header(start, end)}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            answer = self._s3.get_object(**kwargs)
        except Exception as error:
            if _is_not_found(error):
                raise ObjectNotFound(f"s3://{bucket}/{key} does not exist") from None
            raise
        with answer["Body"] as body:
            return body.read()

    def presigned_get_url(self, bucket: str, key: str, version_id: str | None, expires_in: int) -> str:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        return self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def put(
        self,
        bucket: str,
        key: str,
        body: BinaryIO,
        content_type: str,
        metadata: dict[str, str],
        *,
        tags: dict[str, str] | None = None,
    ) -> None:
        # One PUT carries the bytes, the content type and the metadata: never a copy-in-place afterwards.
        # put_object streams the (seekable) body from where it is; upload_fileobj would switch to a
        # threaded multipart upload with 8 MB buffers past 8 MB, ten of them at once in a batch.
        extra: dict[str, Any] = {"Tagging": urlencode(tags)} if tags else {}
        self._s3.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata, **extra
        )
