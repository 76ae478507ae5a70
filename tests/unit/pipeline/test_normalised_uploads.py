"""The conductor with normalisation: fast path unchanged, others normalised → staged → paid for
once, already-cut-out images passed through for free, and the metadata says what happened."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from cutout.engine.port import ImageBytes, ImageUrl
from cutout.pipeline.outcome import Status
from cutout.staging import STAGING_PREFIX
from tests.unit.pipeline.harness import OUTPUT, build_harness

STAGING = "cutout-staging-test"


def _encoded(image: Image.Image, image_format: str, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **save)
    return buffer.getvalue()


def _cutout_png(size: tuple[int, int] = (600, 400)) -> bytes:
    """A product on a transparent background: an opaque ellipse, transparent around it."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((100, 80, size[0] - 100, size[1] - 60), fill=(200, 40, 40, 255))
    return _encoded(image, "PNG")


def test_a_fast_path_jpeg_still_goes_by_presigned_url_with_nothing_decoded_or_staged() -> None:
    # Given an API-ready 800x600 JPEG
    harness = build_harness(STAGING_BUCKET=STAGING)
    upload = harness.upload("mug.jpg", _encoded(Image.new("RGB", (800, 600), (9, 90, 200)), "JPEG"))
    # When it is processed
    harness.process(upload)
    # Then the engine got the original's presigned URL, nothing was staged, and the metadata says so
    [source] = harness.engine.submits
    assert isinstance(source, ImageUrl)
    assert "mug.jpg" in source.url
    assert [put for put in harness.store.puts if put[0] == STAGING] == []
    [(_, _, _, metadata)] = harness.outputs()
    assert metadata["fast-path"] == "true"
    assert (metadata["source-format"], metadata["source-width"], metadata["source-height"]) == (
        "JPEG",
        "800",
        "600",
    )


def test_a_camera_jpeg_is_normalised_staged_and_sent_by_url_of_the_staged_copy() -> None:
    # Given a 6000x4000 camera JPEG tagged orientation 8
    image = Image.new("RGB", (6000, 4000), (120, 130, 140))
    exif = image.getexif()
    exif[0x0112] = 8
    harness = build_harness(STAGING_BUCKET=STAGING)
    upload = harness.upload("camera/DSC_0001.JPG", _encoded(image, "JPEG", exif=exif, quality=80))
    # When it is processed
    outcome = harness.process(upload)
    # Then one upright 2000x3000 JPEG was staged under staged/ (no trace of the key), the engine got
    # its URL, and the output's metadata tells the story
    assert outcome.status is Status.DONE
    [(bucket, key, content_type, _)] = [put for put in harness.store.puts if put[0] == STAGING]
    assert key.startswith(STAGING_PREFIX)
    assert "DSC" not in key
    assert content_type == "image/jpeg"
    staged = Image.open(io.BytesIO(harness.store.objects[(bucket, key)].data))
    assert staged.size == (2000, 3000)
    [source] = harness.engine.submits
    assert isinstance(source, ImageUrl)
    assert key in source.url
    [(_, _, _, metadata)] = harness.outputs()
    assert metadata["fast-path"] == "false"
    assert metadata["orientation-applied"] == "8"
    assert metadata["scale-factor"] == "0.5"
    assert (metadata["source-width"], metadata["source-height"]) == ("6000", "4000")


def test_base64_mode_sends_the_normalised_bytes() -> None:
    # Given base64 mode and a CMYK JPEG
    harness = build_harness(SOURCE_MODE="base64", STAGING_BUCKET=STAGING)
    upload = harness.upload("print.jpg", _encoded(Image.new("CMYK", (800, 600), (0, 200, 200, 0)), "JPEG"))
    # When it is processed
    harness.process(upload)
    # Then the engine got RGB JPEG bytes, nothing was staged
    [source] = harness.engine.submits
    assert isinstance(source, ImageBytes)
    assert Image.open(io.BytesIO(source.data)).mode == "RGB"
    assert [put for put in harness.store.puts if put[0] == STAGING] == []


def test_an_image_that_already_is_a_cutout_is_passed_through_for_free() -> None:
    # Given a transparent PNG of a product (a cut-out already)
    harness = build_harness(STAGING_BUCKET=STAGING)
    upload = harness.upload("done/bag.png", _cutout_png())
    # When it is processed
    outcome = harness.process(upload)
    # Then no paid call was made, and the output is that PNG, engine passthrough, billed 0
    assert outcome.status is Status.DONE
    assert harness.engine.submits == []
    [(bucket, key, content_type, metadata)] = harness.outputs()
    assert (bucket, key, content_type) == (OUTPUT, "done/bag.png.png", "image/png")
    assert (metadata["engine"], metadata["usage"]) == ("passthrough", "0")
    assert Image.open(io.BytesIO(harness.store.objects[(bucket, key)].data)).mode == "RGBA"


def test_a_passed_through_cutout_on_white_is_composited_over_pure_white() -> None:
    # Given a white-background deployment and a transparent PNG of a product
    harness = build_harness(STAGING_BUCKET=STAGING, BACKGROUND_TYPE="WHITE_BACKGROUND")
    upload = harness.upload("done/bag.png", _cutout_png())
    # When it is processed
    harness.process(upload)
    # Then the output is a JPEG with a pure white background, with no call
    [(bucket, key, content_type, _)] = harness.outputs()
    assert content_type == "image/jpeg"
    assert harness.engine.submits == []
    output = Image.open(io.BytesIO(harness.store.objects[(bucket, key)].data))
    assert output.getpixel((2, 2)) == (255, 255, 255)


def test_passthrough_can_be_switched_off() -> None:
    # Given the switch off
    harness = build_harness(STAGING_BUCKET=STAGING, PASSTHROUGH_CUTOUTS="false")
    upload = harness.upload("done/bag.png", _cutout_png())
    # When it is processed
    harness.process(upload)
    # Then it is paid for like any other image
    assert len(harness.engine.submits) == 1


def test_a_refused_normalisation_costs_no_call() -> None:
    # Given an animated GIF
    frames = [Image.new("RGB", (300, 300), colour) for colour in ("red", "blue")]
    harness = build_harness(STAGING_BUCKET=STAGING)
    upload = harness.upload("anim.gif", _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:]))
    # When it is processed
    outcome = harness.process(upload)
    # Then it is refused with its reason, before any call
    assert (outcome.status, outcome.error_code) == (Status.FAILED, "animated_image")
    assert harness.engine.submits == []
