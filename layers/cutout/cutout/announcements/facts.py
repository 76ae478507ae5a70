"""Building an outcome's event from what the conductor has at hand (upload, HEAD, cut-out, key)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cutout.announcements.events import (
    FAILED,
    NEEDS_REVIEW,
    PROCESSED,
    Announcement,
    ImageFacts,
    OutputFacts,
    SourceFacts,
    image_announcement,
)
from cutout.engine.port import Cutout
from cutout.events import UploadedObject
from cutout.failures import FailureReason
from cutout.storage.objects import ObjectHead

_FORMAT_BY_CONTENT_TYPE = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/webp": "webp",
    "image/avif": "avif",
}
_FORMAT_BY_EXTENSION = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp", ".avif": "avif"}


def source_facts(upload: UploadedObject, head: ObjectHead | None = None) -> SourceFacts:
    version = upload.version_id or (head.version_id if head else None)
    return SourceFacts(
        bucket=upload.bucket,
        key=upload.key,
        version_id=None if version == "null" else version,
        etag=(head.etag if head else None) or upload.etag,
    )


def stored_announcement(
    upload: UploadedObject,
    head: ObjectHead,
    cutout: Cutout,
    *,
    bucket: str,
    key: str,
    review_reasons: tuple[str, ...] = (),
    profile: str | None = None,
    variant: str = "cutout",
) -> Announcement:
    """``Cutout Image Processed`` (or ``Needs Review`` when held) for one stored cut-out."""
    output = OutputFacts(
        variant=variant,
        bucket=bucket,
        key=key,
        format=_FORMAT_BY_CONTENT_TYPE.get(cutout.content_type, "unknown"),
        width=cutout.width,
        height=cutout.height,
        bytes=cutout.size,
    )
    facts = ImageFacts(
        identity=upload.identity,
        replay=upload.replay_marker,
        source=source_facts(upload, head),
        outputs=(output,),
        profile=profile,
        score=cutout.score,
        engine=cutout.engine,
        request_id=cutout.request_id,
        usage=cutout.usage,
        review_reasons=review_reasons,
    )
    return image_announcement(NEEDS_REVIEW if review_reasons else PROCESSED, facts)


def deliverables_announcement(
    upload: UploadedObject,
    head: ObjectHead,
    outputs: Sequence[Any],  # deliverables.StoredOutput
    *,
    bucket: str,
    profile: str,
    metadata: Mapping[str, str],
    review_reasons: tuple[str, ...] = (),
) -> Announcement:
    """``Processed`` (or ``Needs Review``) for every variant of a profile made from one master."""
    facts = ImageFacts(
        identity=upload.identity,
        replay=upload.replay_marker,
        source=source_facts(upload, head),
        outputs=tuple(
            OutputFacts(
                variant=output.variant,
                bucket=bucket,
                key=output.key,
                format=output.format,
                width=output.width,
                height=output.height,
                bytes=output.bytes,
            )
            for output in outputs
        ),
        profile=profile,
        score=float(metadata["score"]) if metadata.get("score") else None,
        engine=metadata.get("engine"),
        request_id=metadata.get("request-id") or None,
        usage=_int(metadata.get("usage")),
        review_reasons=review_reasons,
    )
    return image_announcement(NEEDS_REVIEW if review_reasons else PROCESSED, facts)


def unchanged_announcement(
    upload: UploadedObject, head: ObjectHead, existing: ObjectHead, *, bucket: str, key: str
) -> Announcement:
    """``Cutout Image Processed`` with ``unchanged: true``: the existing output, nothing paid."""
    extension = key[key.rfind(".") :].lower() if "." in key else ""
    metadata = existing.metadata
    output = OutputFacts(
        variant="cutout",
        bucket=bucket,
        key=key,
        format=_FORMAT_BY_EXTENSION.get(extension, "unknown"),
        width=_int(metadata.get("width")),
        height=_int(metadata.get("height")),
        bytes=existing.size,
    )
    score = metadata.get("score")
    facts = ImageFacts(
        identity=upload.identity,
        replay=upload.replay_marker,
        source=source_facts(upload, head),
        outputs=(output,),
        score=float(score) if score else None,
        engine=metadata.get("engine"),
        request_id=metadata.get("request-id"),
        usage=0,
        unchanged=True,
    )
    return image_announcement(PROCESSED, facts)


def failed_announcement(
    upload: UploadedObject, failure: FailureReason, *, engine: str | None
) -> Announcement:
    """``Cutout Image Failed``: the reason code and sentence of the DLQ record."""
    facts = ImageFacts(
        identity=upload.identity,
        replay=upload.replay_marker,
        source=source_facts(upload),
        engine=engine,
        request_id=failure.request_id,
        error=failure.to_dict(),
    )
    return image_announcement(FAILED, facts)


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0
