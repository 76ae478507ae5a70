"""The "prepare the source" step alone: the original when it can go as it is, else a normalised copy."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from PIL import Image, ImageDraw

from cutout.engine.port import Background, ImageBytes, ImageUrl
from cutout.events import UploadedObject
from cutout.pixels import PixelBudget
from cutout.preparation import PreparationSettings, SourcePreparation
from cutout.validation import ImageLimits, ImageRejected
from tests.fakes import InMemoryObjectStore, image_bytes

INPUT, STAGING = "in", "staging"
SETTINGS = PreparationSettings(
    limits=ImageLimits(),
    as_url=True,
    presigned_url_ttl_seconds=300,
    staging_bucket=STAGING,
    normalise_gps_images=False,
    passthrough_cutouts=True,
    background=Background.TRANSPARENT,
    resizes=False,
)


def cutout_png() -> bytes:
    """A transparent PNG of a product: already a cut-out."""
    image = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((100, 60, 300, 240), fill=(180, 40, 40, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def prepare(
    data: bytes, key: str = "shoe.jpg", settings: PreparationSettings = SETTINGS
) -> tuple[InMemoryObjectStore, object]:
    store = InMemoryObjectStore()
    stored = store.add(INPUT, key, data, True)
    upload = UploadedObject(
        bucket=INPUT, key=key, version_id=stored.version_id, etag=stored.etag, size=len(data)
    )
    step = SourcePreparation(store, PixelBudget(512 * 1024 * 1024), settings)
    return store, step.prepare(upload, store.head(INPUT, key, stored.version_id))


def test_an_api_ready_jpeg_goes_as_it_is_by_presigned_url_with_its_sniffed_type() -> None:
    # Given an sRGB JPEG the API accepts, in URL mode
    store, prepared = prepare(image_bytes(800, 600, "JPEG"))
    # When it is prepared, Then the original goes by URL (nothing staged), typed as validation saw it
    assert isinstance(prepared.source, ImageUrl)
    assert prepared.passthrough is None
    assert prepared.metadata["fast-path"] == "true"
    assert store.presigned_content_types == ["image/jpeg"]
    assert [put for put in store.puts if put[0] == STAGING] == []


def test_in_base64_mode_the_original_s_bytes_go_in_the_body() -> None:
    # Given base64 mode
    data = image_bytes(800, 600, "JPEG")
    _, prepared = prepare(data, settings=replace(SETTINGS, as_url=False))
    # Then the source is the object's bytes
    assert prepared.source == ImageBytes(data)


def test_a_cutout_input_is_passed_through_unless_the_call_would_resize_it() -> None:
    # Given a transparent product PNG
    _, kept = prepare(cutout_png(), "bag.png")
    _, resized = prepare(cutout_png(), "bag.png", replace(SETTINGS, resizes=True))
    # Then it stands in for the paid call, except when the call asks for another size (then staged)
    assert (kept.source, kept.passthrough is not None) == (None, True)
    assert (isinstance(resized.source, ImageUrl), resized.passthrough) == (True, None)


@pytest.mark.parametrize("as_url", [True, False])
def test_a_file_that_is_no_image_is_rejected_before_any_payment(as_url: bool) -> None:
    # Given bytes that are not an image, in either mode
    # When it is prepared, Then it is rejected with its reason code
    with pytest.raises(ImageRejected) as rejected:
        prepare(b"this is not an image at all" * 10, "notes.jpg", replace(SETTINGS, as_url=as_url))
    assert rejected.value.retryable is False
