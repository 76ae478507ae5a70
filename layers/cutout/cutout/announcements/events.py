"""What cutout announces: one EventBridge event per outcome, and when the pipeline pauses or resumes.

Every event has source ``cutout`` and one of the detail-types below; its detail carries
``version`` (the schema version, ``schemas/events/*.json``) and ``id``, a stable identifier a
consumer deduplicates on: events are delivered at least once (a redelivered upload announces its
stored outcome again, with the same detail, the same ``id``). EventBridge's own envelope ``id``
differs between the two deliveries; ``detail.id`` does not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SOURCE = "cutout"
SCHEMA_VERSION = "1"

PROCESSED = "Cutout Image Processed"
FAILED = "Cutout Image Failed"
NEEDS_REVIEW = "Cutout Image Needs Review"
PAUSED = "Cutout Paused"
RESUMED = "Cutout Resumed"
DETAIL_TYPES = (PROCESSED, FAILED, NEEDS_REVIEW, PAUSED, RESUMED)


@dataclass(frozen=True, slots=True)
class Announcement:
    """One event to put: its detail-type, its detail, and the ARNs it is about."""

    detail_type: str
    detail: dict[str, Any]
    resources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"detail_type": self.detail_type, "detail": self.detail, "resources": list(self.resources)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Announcement:
        return cls(
            detail_type=str(data["detail_type"]),
            detail=dict(data["detail"]),
            resources=tuple(data.get("resources") or ()),
        )


@dataclass(frozen=True, slots=True)
class OutputFacts:
    """One object cutout wrote for an upload (a variant, or the cut-out itself)."""

    variant: str
    bucket: str
    key: str
    format: str
    width: int
    height: int
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "bucket": self.bucket,
            "key": self.key,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "bytes": self.bytes,
        }


@dataclass(frozen=True, slots=True)
class SourceFacts:
    bucket: str
    key: str
    version_id: str | None
    etag: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "key": self.key, "version_id": self.version_id, "etag": self.etag}


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """Everything an image event tells about one upload's outcome."""

    identity: str
    source: SourceFacts
    replay: str | None = None
    outputs: Sequence[OutputFacts] = ()
    profile: str | None = None
    score: float | None = None
    engine: str | None = None
    request_id: str | None = None
    usage: int = 0
    unchanged: bool = False
    review_reasons: Sequence[str] = ()
    error: dict[str, Any] | None = field(default=None)


def stable_id(*parts: str | None) -> str:
    """The same upload, replay and kind of outcome → the same id, whoever publishes it, how often."""
    text = "\x1f".join(part or "" for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _now(moment: datetime | None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def image_announcement(detail_type: str, facts: ImageFacts, at: datetime | None = None) -> Announcement:
    """The event of an upload's outcome (processed, needs review, or failed)."""
    if detail_type not in (PROCESSED, FAILED, NEEDS_REVIEW):
        raise ValueError(f"not an image detail-type: {detail_type!r}")
    detail: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "id": stable_id(facts.identity, facts.replay, detail_type),
        "occurred_at": _now(at),
        "source": facts.source.to_dict(),
        "outputs": [output.to_dict() for output in facts.outputs],
        "profile": facts.profile,
        "score": facts.score,
        "engine": facts.engine,
        "request_id": facts.request_id,
        "usage": facts.usage,
    }
    if detail_type == PROCESSED:
        detail["unchanged"] = facts.unchanged
    if detail_type == NEEDS_REVIEW:
        detail["review"] = {"reasons": list(facts.review_reasons)}
    if detail_type == FAILED:
        if facts.error is None:
            raise ValueError("a failure event needs its error")
        detail["error"] = {
            "code": str(facts.error.get("code")),
            "message": str(facts.error.get("message")),
            "retryable": bool(facts.error.get("retryable")),
        }
    resources = (f"arn:aws:s3:::{facts.source.bucket}/{facts.source.key}",)
    return Announcement(detail_type=detail_type, detail=detail, resources=resources)


def pause_announcement(
    detail_type: str, *, reason_code: str, message: str, at: datetime | None = None, by: str = "function"
) -> Announcement:
    """``Cutout Paused`` (with why) or ``Cutout Resumed`` (with who resumed it)."""
    if detail_type not in (PAUSED, RESUMED):
        raise ValueError(f"not a pause detail-type: {detail_type!r}")
    occurred_at = _now(at)
    detail = {
        "version": SCHEMA_VERSION,
        "id": stable_id(detail_type, occurred_at, reason_code),
        "occurred_at": occurred_at,
        "reason": {"code": reason_code, "message": message},
        "by": by,
    }
    return Announcement(detail_type=detail_type, detail=detail)
