"""The object-store port (input reads, presigned URLs, output writes) and its S3 adapter.

The pipeline never touches boto3: it talks to ``ObjectStore``. Production uses ``S3ObjectStore``
(one boto3 client, created once per process); unit tests use an in-memory fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol
from urllib.parse import urlencode

from cutout.failures import FailureReason
from cutout.storage.metadata_limit import METADATA_LIMIT_BYTES, MetadataTooLarge, metadata_bytes

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ObjectNotFound(FailureReason):
    """The object (or that version of it) does not exist (any more): deleted before we got to it."""

    code = "object_not_found"


class ObjectAccessDenied(FailureReason):
    """S3 refused to say (403). With ``s3:ListBucket`` granted (the template does), a missing object
    answers 404, so a 403 means a real denial: a bucket policy, a KMS key, an object owned by another
    account, or a role whose permissions have not propagated yet. Retried on the schedule (IAM
    propagation heals), then recorded with this code, replayable once the access is fixed."""

    code = "object_access_denied"
    retryable = True


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """What a HEAD tells: size, etag (unquoted), version id, user metadata and when it was written."""

    size: int
    etag: str | None
    version_id: str | None
    content_type: str | None
    metadata: dict[str, str]
    # Last-Modified (whole seconds, as HTTP dates have): with the ETag it names a write on an
    # unversioned bucket (cutout.events.identity).
    last_modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class WriteCondition:
    """A conditional PUT: only over the object with this ETag, or only where there is none."""

    if_match: str | None = None
    if_absent: bool = False


class WriteConflict(Exception):  # noqa: N818  (an answer, not a failure: the caller looks again)
    """The conditional PUT's precondition failed: someone else wrote the object first."""


class ObjectStore(Protocol):
    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectHead:
        """Raises ``ObjectNotFound``."""
        ...

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int | None) -> bytes:
        """Bytes ``start..end`` inclusive; ``end=None`` reads to the end; a negative ``start`` is a suffix."""
        ...

    def presigned_get_url(
        self, bucket: str, key: str, version_id: str | None, expires_in: int, content_type: str | None = None
    ) -> str:
        """A GET URL; ``content_type`` makes S3 answer with that Content-Type (the sniffed one)."""
        ...

    def put(
        self,
        bucket: str,
        key: str,
        body: BinaryIO,
        content_type: str,
        metadata: dict[str, str],
        *,
        condition: WriteCondition | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Raises ``WriteConflict`` when ``condition`` does not hold."""
        ...


def _range_header(start: int, end: int | None) -> str:
    if start < 0:
        return f"bytes={start}"
    return f"bytes={start}-" if end is None else f"bytes={start}-{end}"


def _is_not_found(error: Exception) -> bool:
    response: dict[str, Any] = getattr(error, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in {"404", "NoSuchKey", "NoSuchVersion", "NotFound", "NoSuchBucket"} or status == 404


def _is_missing_key(error: Exception) -> bool:
    """404 on the key itself (never a missing bucket, which no retry heals)."""
    return _is_not_found(error) and _error_code(error) != "NoSuchBucket"


def _error_code(error: Exception) -> str:
    response: dict[str, Any] = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _is_access_denied(error: Exception) -> bool:
    response: dict[str, Any] = getattr(error, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in {"403", "AccessDenied", "Forbidden"} or status == 403


def _raise_as_failure(error: Exception, bucket: str, key: str) -> None:
    """Re-raise a not-found or access-denied S3 answer as the pipeline's failure; else return."""
    if _is_not_found(error):
        raise ObjectNotFound(f"s3://{bucket}/{key} does not exist") from None
    if _is_access_denied(error):
        raise ObjectAccessDenied(
            f"S3 denied access to s3://{bucket}/{key} (403): check the bucket policy, its KMS key and "
            "the function role's s3:GetObject / s3:ListBucket, then replay the record"
        ) from None


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
            _raise_as_failure(error, bucket, key)
            raise
        return ObjectHead(
            size=int(answer.get("ContentLength", 0)),
            etag=(answer.get("ETag") or "").strip('"') or None,
            version_id=answer.get("VersionId"),
            content_type=answer.get("ContentType"),
            metadata=dict(answer.get("Metadata", {})),
            last_modified=answer.get("LastModified"),
        )

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int | None) -> bytes:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "Range": _range_header(start, end)}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            answer = self._s3.get_object(**kwargs)
        except Exception as error:
            _raise_as_failure(error, bucket, key)
            raise
        with answer["Body"] as body:
            return body.read()

    def presigned_get_url(
        self, bucket: str, key: str, version_id: str | None, expires_in: int, content_type: str | None = None
    ) -> str:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        if content_type:
            # An uploader's Content-Type may be wrong (octet-stream, or a PNG named .jpg): in case
            # the API trusts the header, the URL makes S3 send the type validation sniffed.
            params["ResponseContentType"] = content_type
        return self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def put(
        self,
        bucket: str,
        key: str,
        body: BinaryIO,
        content_type: str,
        metadata: dict[str, str],
        *,
        condition: WriteCondition | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        # One PUT carries the bytes, the content type and the metadata: never a copy-in-place afterwards.
        # put_object streams the (seekable) body from where it is; upload_fileobj would switch to a
        # threaded multipart upload with 8 MB buffers past 8 MB, ten of them at once in a batch.
        kwargs: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
            "Metadata": metadata,
        }
        size = metadata_bytes(metadata)
        if size > METADATA_LIMIT_BYTES:  # S3 would refuse it: never send it (callers fit_metadata first)
            raise MetadataTooLarge(f"s3://{bucket}/{key}: {size} bytes of metadata, over S3's 2 KB")
        if tags:
            kwargs["Tagging"] = urlencode(tags)
        if condition is not None and condition.if_match:
            kwargs["IfMatch"] = f'"{condition.if_match.strip(chr(34))}"'
        elif condition is not None and condition.if_absent:
            kwargs["IfNoneMatch"] = "*"
        try:
            self._s3.put_object(**kwargs)
        except Exception as error:
            # 412: the precondition failed; 409: a concurrent conditional write to the key won.
            if _error_code(error) in {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}:
                raise WriteConflict(f"s3://{bucket}/{key} was written by someone else first") from None
            # An If-Match PUT on a key deleted since its HEAD: S3 answers 404 NoSuchKey, not 412.
            # The object we meant to replace is gone: the caller looks again, as after a 412.
            if condition is not None and condition.if_match and _is_missing_key(error):
                raise WriteConflict(f"s3://{bucket}/{key} was deleted since it was read") from None
            raise
