"""What one card of the review page shows, with the presigned URLs its images load from.

Images never pass through the page's server: the browser loads each from S3 through a presigned
GET that expires after ``PRESIGN_SECONDS`` (a reload signs anew). The original is the exact object
version the pipeline processed; the master is shown only when it is the one made from that version
(a newer upload of the key replaces it); each is checked with one HEAD, for the cards of one page.
Only the metadata a person judges by reaches the page: never a secret, never an Aidge URL.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cutout.storage.output import OutputKeyTooLong
from cutout.variants import master_key
from cutout_tools.review_decisions import HeldObject
from cutout_tools.review_page.held import HeldGroup
from cutout_tools.units import human_bytes

PRESIGN_SECONDS = 900
# A sentence for each of the gate's reason codes (cutout.quality_gate.judge); an unknown code shows as it is.
REASON_SENTENCES = {
    "low_score": "the engine's own score is under the gate's minimum",
    "empty_mask": "almost nothing was kept as subject",
    "whole_frame": "almost nothing was removed",
    "cut_by_frame": "the subject runs off the picture's edges",
    "too_small": "the subject is a small part of the picture",
    "fragmented": "the subject is in many separate pieces",
}
_MAY_BE_TRANSPARENT = {"png", "webp", "avif"}


@dataclass(frozen=True, slots=True)
class ImageView:
    """One image of a card: where the browser loads it from, or why there is none."""

    caption: str
    alt: str
    src: str = ""
    checker: bool = False
    reason: str = ""
    key: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class CardView:
    """One held upload, ready for the template."""

    anchor: str
    key: str  # the held key a decision is made for
    seen: str  # JSON: every held key and its ETag, as shown
    source_key: str
    reasons: tuple[tuple[str, str], ...]  # (code, sentence)
    details: tuple[tuple[str, str], ...]
    original: ImageView
    master: ImageView
    variants: tuple[ImageView, ...]

    @property
    def reason_codes(self) -> str:
        return " ".join(code for code, _ in self.reasons)


def _not_found(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


class CardMaker:
    """Builds the cards of one page: ``s3`` signs the URLs and checks the originals and masters."""

    def __init__(self, s3: Any, output_bucket: str, *, workers: int = 8) -> None:
        self._s3 = s3
        self._bucket = output_bucket
        self._workers = workers

    def cards(self, groups: Sequence[HeldGroup], first_index: int = 0) -> list[CardView]:
        if not groups:
            return []
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            return list(pool.map(self.card, groups, range(first_index + 1, first_index + len(groups) + 1)))

    def card(self, group: HeldGroup, number: int) -> CardView:
        upload = group.upload
        first = group.objects[0].metadata
        variants = [held for held in group.objects if held.metadata.get("variant")]
        shown_key = upload.key or group.key
        if variants:
            master = self._master(group)
            outputs = tuple(self._variant(held, shown_key) for held in variants)
        else:  # the single cut-out mode: the held object is the cut-out itself
            held = group.objects[0]
            master = ImageView(
                caption="cut-out",
                alt=f"cut-out of {shown_key}",
                src=self._sign(self._bucket, held.key),
                checker=_may_be_transparent(held),
                key=held.key,
            )
            outputs = ()
        details = (
            ("score", first.get("score", "")),
            ("profile", first.get("profile", "")),
            ("held", group.held_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
            ("engine", first.get("engine", "")),
            ("source version", upload.version_id or ""),
            ("request id", first.get("request-id", "")),
        )
        return CardView(
            anchor=f"card-{number}",
            key=group.key,
            seen=json.dumps(group.seen, separators=(",", ":")),
            source_key=shown_key,
            reasons=tuple((code, REASON_SENTENCES.get(code, code)) for code in group.reasons),
            details=tuple((label, value) for label, value in details if value),
            original=self._original(group),
            master=master,
            variants=outputs,
        )

    def _sign(self, bucket: str, key: str, version_id: str | None = None) -> str:
        params: dict[str, str] = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        url: str = self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=PRESIGN_SECONDS)
        return url

    def _head(self, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        params: dict[str, str] = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        try:
            head: dict[str, Any] = self._s3.head_object(**params)
        except ClientError as error:
            if _not_found(error) or error.response.get("Error", {}).get("Code") in {"400", "403"}:
                return None
            raise
        return head

    def _original(self, group: HeldGroup) -> ImageView:
        upload = group.upload
        caption, alt = "original", f"original of {upload.key}"
        if not upload.bucket or not upload.key:
            return ImageView(caption, alt, reason="its outputs do not name the upload whole")
        head = self._head(upload.bucket, upload.key, upload.version_id)
        if head is None:
            return ImageView(caption, alt, reason="no longer in the input bucket (or not readable)")
        if (
            not upload.version_id
            and upload.etag
            and head.get("ETag", "").strip('"') != upload.etag.strip('"')
        ):
            return ImageView(caption, alt, reason="replaced in the input bucket by a newer upload since")
        size = head.get("ContentLength")
        caption += f" · {human_bytes(int(size))}" if isinstance(size, int) else ""
        return ImageView(caption, alt, src=self._sign(upload.bucket, upload.key, upload.version_id))

    def _master(self, group: HeldGroup) -> ImageView:
        upload = group.upload
        caption, alt = "master", f"master of {upload.key}"
        try:
            key = master_key(upload.key)
        except OutputKeyTooLong:
            return ImageView(caption, alt, checker=True, reason="no master key for this upload")
        head = self._head(self._bucket, key)
        if head is None:
            return ImageView(caption, alt, reason="not in the output bucket", key=key)
        metadata = head.get("Metadata", {})
        if any(
            metadata.get(name, "") != group.objects[0].metadata.get(name, "")
            for name in ("source-version-id", "source-etag")
        ):
            return ImageView(caption, alt, reason="the master there is a newer upload's", key=key)
        width, height = metadata.get("width", ""), metadata.get("height", "")
        if width and height:
            caption += f" · {width} × {height}"
        return ImageView(caption, alt, src=self._sign(self._bucket, key), checker=True, key=key)

    def _variant(self, held: HeldObject, shown_key: str) -> ImageView:
        metadata = held.metadata
        name = metadata.get("variant", "") or "(unnamed)"
        width, height = metadata.get("width", ""), metadata.get("height", "")
        parts = [name]
        if width and height:
            parts.append(f"{width} × {height}")
        fmt = metadata.get("format", "") or posixpath.splitext(held.key)[1].lstrip(".")
        if fmt:
            parts.append(fmt.upper())
        parts.append(human_bytes(held.size))
        return ImageView(
            caption=" · ".join(parts),
            alt=f"{name} of {shown_key}",
            src=self._sign(self._bucket, held.key),
            checker=_may_be_transparent(held),
            key=held.published_key,
            name=name,
        )


def _may_be_transparent(held: HeldObject) -> bool:
    fmt = held.metadata.get("format", "") or posixpath.splitext(held.key)[1].lstrip(".")
    return fmt.lower() in _MAY_BE_TRANSPARENT
