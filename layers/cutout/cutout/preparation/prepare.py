"""Prepare the source of the paid call: never pay for a bad input (rule 3).

inspect (reading as little as possible) → the fast path (the original itself, by presigned URL or
its bytes) or normalise (decode, orient, sRGB, size, inside the pixel budget) → stage the
normalised copy; or, when the input already is a cut-out, that image itself (nothing to pay).
Raises the validation step's ``ImageRejected`` failures (with their reason codes) before any money
is spent.
"""

from __future__ import annotations

from dataclasses import dataclass

from cutout import staging
from cutout.engine.port import Background, Cutout, ImageBytes, ImageSource, ImageUrl
from cutout.events import UploadedObject
from cutout.normalisation import (
    decide_fast_path,
    fast_path_metadata,
    is_already_cutout,
    normalise,
    normalised_metadata,
    passthrough_cutout,
)
from cutout.observability import logger
from cutout.pixels import PixelBudget
from cutout.storage import ObjectHead, ObjectStore, survives_url_normalisation
from cutout.timings import stage
from cutout.validation import ImageLimits, check_object_size, inspect_image, validate_bytes
from cutout.validation.inspection import ImageFacts


@dataclass(frozen=True, slots=True)
class PreparationSettings:
    """The part of the function's settings this step reads."""

    limits: ImageLimits
    as_url: bool  # SOURCE_MODE=url: the API fetches a presigned URL; else the bytes go in the body
    presigned_url_ttl_seconds: int
    staging_bucket: str
    normalise_gps_images: bool
    passthrough_cutouts: bool
    background: Background  # what a passed-through cut-out is delivered on
    resizes: bool  # the paid call asks for another size: an input cut-out cannot stand in for it


@dataclass(frozen=True, slots=True)
class PreparedSource:
    """What the paid call gets (``source``), or the cut-out itself when the input already is one."""

    source: ImageSource | None
    metadata: dict[str, str]
    passthrough: Cutout | None = None


class SourcePreparation:
    """``prepare``: the step's one verb; safe to share between threads."""

    def __init__(self, store: ObjectStore, pixels: PixelBudget, settings: PreparationSettings) -> None:
        self._store = store
        self._pixels = pixels
        self._settings = settings

    def prepare(self, upload: UploadedObject, head: ObjectHead) -> PreparedSource:
        """inspect → fast path (the original, by URL or bytes) or normalise → stage (or passthrough)."""
        bucket, key, version = upload.bucket, upload.key, upload.version_id or head.version_id
        limits = self._settings.limits
        data: bytes | None = None
        with stage("validation"):
            if self._settings.as_url:

                def read_range(start: int, end: int | None) -> bytes:
                    return self._store.read_range(bucket, key, version, start, end)

                facts = inspect_image(read_range, head.size, limits)
            else:
                check_object_size(head.size, limits)  # before reading it whole
                data = self._store.read_range(bucket, key, version, 0, None)
                facts = validate_bytes(data, limits)
            decision = decide_fast_path(
                facts, limits, normalise_gps_images=self._settings.normalise_gps_images
            )
            if decision.taken:
                return PreparedSource(
                    self._original(upload, head, data, facts.mime), fast_path_metadata(facts)
                )
        logger.info("normalising", reasons=list(decision.reasons), source_format=facts.format)
        with stage("normalisation"):
            return self._normalised(upload, head, facts, data)

    def _original(
        self, upload: UploadedObject, head: ObjectHead, data: bytes | None, mime: str | None = None
    ) -> ImageSource:
        """The original object as the source: a presigned URL, or its bytes (base64 mode).

        A key with ``.``/``..``/empty path segments does not survive the API's HTTP client (it
        normalises the URL's path, RFC 3986): the presigned URL would name another object. Send the bytes.
        """
        bucket, key, version = upload.bucket, upload.key, upload.version_id or head.version_id
        if data is None and not survives_url_normalisation(key):
            data = self._store.read_range(bucket, key, version, 0, None)
            validate_bytes(data, self._settings.limits)
        if data is not None:
            return ImageBytes(data)
        ttl = self._settings.presigned_url_ttl_seconds
        # ``mime``: S3 answers with the type validation sniffed, in case the API trusts the header.
        return ImageUrl(self._store.presigned_get_url(bucket, key, version, ttl, content_type=mime))

    def _normalised(
        self, upload: UploadedObject, head: ObjectHead, facts: ImageFacts, data: bytes | None
    ) -> PreparedSource:
        if data is None:
            version = upload.version_id or head.version_id
            data = self._store.read_range(upload.bucket, upload.key, version, 0, None)
        image = normalise(data, self._pixels, self._settings.limits)
        del data
        metadata = normalised_metadata(image.report)
        logger.info(
            "normalised", normalisation=metadata, steps=list(image.report.steps), bytes=len(image.data)
        )
        settings = self._settings
        if settings.passthrough_cutouts and not settings.resizes and is_already_cutout(image.alpha):
            logger.info("already a cut-out: passed through, no paid call")
            return PreparedSource(
                None, metadata, passthrough_cutout(image, settings.background, self._pixels)
            )
        source = staging.stage(
            image,
            store=self._store,
            bucket=settings.staging_bucket,
            identity=upload.identity,
            url_ttl_seconds=settings.presigned_url_ttl_seconds,
            as_url=settings.as_url,
        )
        return PreparedSource(source, metadata)
