"""``cutout review approve|reject``: a person's decision on an upload the quality gate held, announced.

The gate judges an upload's master, not one variant, so a decision covers **every held output of
that upload** (``review/<published key>`` objects whose ``source-*`` metadata names the same source
object version), whichever of its keys was given. Each decision is announced like the pipeline's own
outcomes, with the same stable ``detail.id`` scheme (the upload's identity and the detail-type), so
a consumer deduplicates a repeated decision as it does a redelivered outcome:

- **approve**: the held outputs are copied to their published keys (an S3 copy, no API call), then
  ``Cutout Image Processed`` lists them (``usage`` 0: nothing was paid for the approval; the one
  paid call is in the ``Cutout Image Needs Review`` event), then the held copies are deleted. A
  failure to announce leaves the held copies in place: approving again repeats the copy and the event.
- **reject**: ``Cutout Image Failed`` with ``error.code`` ``rejected_in_review`` (not retryable; no
  outputs: they are deleted; the upload stays in the input bucket) is announced, then the held
  outputs are deleted. No DLQ record is written: nothing failed in the pipeline, and replaying the
  upload would only make the same cut-out again.

A person who decided by looking at a page (``cutout review serve``) passes what they saw (``seen``:
each held key and its ETag): when the held outputs are no longer exactly those (decided elsewhere
meanwhile, or held anew from a newer upload), ``StaleDecision`` says so and nothing is done.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from cutout.announcements import (
    FAILED,
    PROCESSED,
    Announcement,
    EventPublisher,
    ImageFacts,
    OutputFacts,
    SourceFacts,
    image_announcement,
)
from cutout.events import UploadedObject
from cutout.events.identity import written_at
from cutout.ordering.newest import LAST_MODIFIED_METADATA
from cutout.quality_gate.review import REVIEW_METADATA, REVIEW_PREFIX, published_key
from cutout_tools.operations.stack import OperationsError

REJECTED_IN_REVIEW = "rejected_in_review"
_FORMAT_BY_EXTENSION = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp", ".avif": "avif"}
_SOURCE_FIELDS = ("source-bucket", "source-key", "source-version-id", "source-etag")


@dataclass(frozen=True, slots=True)
class HeldObject:
    key: str  # review/<published key>
    metadata: dict[str, str]
    content_type: str
    size: int
    etag: str = ""

    @property
    def published_key(self) -> str:
        return published_key(self.key)


@dataclass(frozen=True, slots=True)
class HeldUpload:
    """Every held output of one upload, and the facts of the upload they came from."""

    upload: UploadedObject
    objects: tuple[HeldObject, ...]
    reasons: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Decision:
    """What a decision did: the keys it published or deleted, and the event it announced."""

    keys: tuple[str, ...]
    announcement: Announcement
    announced: bool


class StaleDecision(Exception):  # noqa: N818 - a decision refused, named for what the person meets
    """The held outputs are not the ones the person decided on: nothing was done (the message says why)."""


def held_key_of(key: str) -> str:
    return key if key.startswith(REVIEW_PREFIX) else REVIEW_PREFIX + key


def read_held(s3: Any, bucket: str, key: str, head: dict[str, Any] | None = None) -> HeldObject:
    head = head or s3.head_object(Bucket=bucket, Key=key)
    return HeldObject(
        key=key,
        metadata=dict(head.get("Metadata", {})),
        content_type=str(head.get("ContentType", "application/octet-stream")),
        size=int(head.get("ContentLength", 0)),
        etag=str(head.get("ETag", "")),
    )


def _source_of(metadata: dict[str, str]) -> tuple[str, ...]:
    return tuple(metadata.get(name, "") for name in _SOURCE_FIELDS)


def upload_of(metadata: dict[str, str]) -> UploadedObject:
    """The upload an output was made from, as its ``source-*`` metadata records it (its identity is
    the one the pipeline announced it under)."""
    when = metadata.get(LAST_MODIFIED_METADATA)
    try:
        last_modified = written_at(datetime.fromisoformat(when)) if when else None
    except ValueError:
        last_modified = None
    return UploadedObject(
        bucket=metadata.get("source-bucket", ""),
        key=unquote(metadata.get("source-key", "")),
        version_id=metadata.get("source-version-id") or None,
        etag=metadata.get("source-etag") or None,
        last_modified=last_modified,
    )


def _siblings(s3: Any, bucket: str, first: HeldObject) -> Iterator[HeldObject]:
    """The other held outputs of ``first``'s upload: under review/, named after the same source key
    (``<variant>/<source key><ext>``, or ``<source stem><ext>``), with the same source metadata."""
    if first.metadata.get("source-key-truncated") == "true" or not first.metadata.get("source-key"):
        return  # the source key is not known whole: only the key given
    stem = posixpath.splitext(unquote(first.metadata["source-key"]))[0]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=REVIEW_PREFIX):
        for item in page.get("Contents", []):
            if item["Key"] == first.key or stem not in item["Key"]:
                continue
            candidate = read_held(s3, bucket, item["Key"])
            if _source_of(candidate.metadata) == _source_of(first.metadata):
                yield candidate


def _held_by_upload_key(s3: Any, bucket: str, key: str) -> HeldObject | None:
    """A held output made from the upload ``key`` (its ``source-key``), or ``None``."""
    source_key = key.removeprefix(REVIEW_PREFIX)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=REVIEW_PREFIX):
        for item in page.get("Contents", []):
            if source_key not in item["Key"]:
                continue
            candidate = read_held(s3, bucket, item["Key"])
            if unquote(candidate.metadata.get("source-key", "")) == source_key:
                return candidate
    return None


def _not_found(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}


def held_upload(s3: Any, bucket: str, key: str) -> HeldUpload:
    """The upload a held output belongs to, with all of its held outputs. ``key`` is the upload's
    own key (``kitchen/mug.jpg``), a held output's (``review/amazon-main/kitchen/mug.jpg.jpg``) or
    its published key; nothing held for it raises ``OperationsError`` saying so."""
    try:
        first = read_held(s3, bucket, held_key_of(key))
    except ClientError as error:
        if not _not_found(error):
            raise
        found = _held_by_upload_key(s3, bucket, key)
        if found is None:
            raise OperationsError(
                f"nothing held for {key!r} in s3://{bucket}: give the upload's key, a held output's "
                "key (review/...) or its published key (`cutout review list` shows what is held)"
            ) from None
        first = found
    objects = (first, *sorted(_siblings(s3, bucket, first), key=lambda held: held.key))
    reasons = tuple(filter(None, first.metadata.get(REVIEW_METADATA, "").split(",")))
    return HeldUpload(upload=upload_of(first.metadata), objects=objects, reasons=reasons)


def held_as_seen(s3: Any, bucket: str, key: str, seen: Mapping[str, str] | None) -> HeldUpload:
    """``held_upload``, refused with ``StaleDecision`` unless its held outputs are exactly ``seen``
    (held key → ETag) when given: a decision is made on what the person looked at, or not at all."""
    try:
        held = held_upload(s3, bucket, key)
    except (ClientError, OperationsError) as error:
        if seen is None or (isinstance(error, ClientError) and not _not_found(error)):
            raise
        raise StaleDecision(
            "Already decided elsewhere: its held outputs are gone (approved or rejected meanwhile). "
            "Nothing was done."
        ) from None
    if seen is not None and {item.key: item.etag for item in held.objects} != dict(seen):
        raise StaleDecision(
            "Changed since this page was loaded: its held outputs are not the ones shown (decided in "
            "part elsewhere, or held anew from a newer upload). Nothing was done; reload to see them."
        )
    return held


def _format(held: HeldObject) -> str:
    declared = held.metadata.get("format", "")
    if declared in _FORMAT_BY_EXTENSION.values():
        return declared
    extension = posixpath.splitext(held.key)[1].lower()
    return _FORMAT_BY_EXTENSION.get(extension, "unknown")


def _int(text: str | None) -> int:
    try:
        return max(0, int(text or 0))
    except ValueError:
        return 0


def _score(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _facts(held: HeldUpload, bucket: str, outputs: tuple[OutputFacts, ...], **extra: Any) -> ImageFacts:
    metadata = held.objects[0].metadata
    upload = held.upload
    return ImageFacts(
        identity=upload.identity,
        source=SourceFacts(upload.bucket, upload.key, upload.version_id, upload.etag),
        outputs=outputs,
        profile=metadata.get("profile") or None,
        score=_score(metadata.get("score")),
        engine=metadata.get("engine") or None,
        request_id=metadata.get("request-id") or None,
        usage=0,  # a decision pays nothing; the paid call's usage was in the Needs Review event
        **extra,
    )


def approval_announcement(held: HeldUpload, bucket: str) -> Announcement:
    """``Cutout Image Processed`` for the held outputs at their published keys."""
    outputs = tuple(
        OutputFacts(
            variant=item.metadata.get("variant") or "cutout",
            bucket=bucket,
            key=item.published_key,
            format=_format(item),
            width=_int(item.metadata.get("width")),
            height=_int(item.metadata.get("height")),
            bytes=item.size,
        )
        for item in held.objects
    )
    return image_announcement(PROCESSED, _facts(held, bucket, outputs))


def rejection_announcement(held: HeldUpload, bucket: str) -> Announcement:
    """``Cutout Image Failed`` with ``rejected_in_review``: no outputs (they are deleted)."""
    reasons = ", ".join(held.reasons) or "no reason recorded"
    error = {
        "code": REJECTED_IN_REVIEW,
        "message": (
            f"The cut-out was rejected in review (the quality gate held it: {reasons}); its held "
            "outputs were deleted. Upload a better photo to make a new one."
        ),
        "retryable": False,
    }
    return image_announcement(FAILED, _facts(held, bucket, (), error=error))


def publish_copy(s3: Any, bucket: str, held: HeldObject) -> str:
    """Copy a held output to its published key: metadata kept, review marks dropped, no tag."""
    metadata = {name: value for name, value in held.metadata.items() if name != REVIEW_METADATA}
    metadata["reviewed"] = "approved"
    s3.copy_object(
        Bucket=bucket,
        Key=held.published_key,
        CopySource={"Bucket": bucket, "Key": held.key},
        MetadataDirective="REPLACE",
        Metadata=metadata,
        ContentType=held.content_type,
        TaggingDirective="REPLACE",
        Tagging="",
    )
    return held.published_key


def _announce(publisher: EventPublisher | None, announcement: Announcement) -> bool:
    if publisher is None:
        return False
    publisher.publish([announcement])
    return True


def approve_upload(
    s3: Any,
    bucket: str,
    key: str,
    publisher: EventPublisher | None,
    *,
    seen: Mapping[str, str] | None = None,
) -> Decision:
    """Publish every held output of ``key``'s upload, announce it, then delete the held copies
    (``seen``: refuse with ``StaleDecision`` unless the held outputs are exactly these)."""
    held = held_as_seen(s3, bucket, key, seen)
    published = tuple(publish_copy(s3, bucket, item) for item in held.objects)
    announcement = approval_announcement(held, bucket)
    announced = _announce(publisher, announcement)  # raises EventsNotPublished: held copies kept
    for item in held.objects:
        s3.delete_object(Bucket=bucket, Key=item.key)
    return Decision(published, announcement, announced)


def reject_upload(
    s3: Any,
    bucket: str,
    key: str,
    publisher: EventPublisher | None,
    *,
    seen: Mapping[str, str] | None = None,
) -> Decision:
    """Announce the rejection of ``key``'s upload, then delete every held output of it (``seen``:
    refuse with ``StaleDecision`` unless the held outputs are exactly these)."""
    held = held_as_seen(s3, bucket, key, seen)
    announcement = rejection_announcement(held, bucket)
    announced = _announce(publisher, announcement)
    for item in held.objects:
        s3.delete_object(Bucket=bucket, Key=item.key)
    return Decision(tuple(item.key for item in held.objects), announcement, announced)
