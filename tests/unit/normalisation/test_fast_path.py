"""decide_fast_path: exactly which inputs go to the API as they are (no decode, presigned URL)."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image, ImageCms

from cutout.normalisation import decide_fast_path
from cutout.validation import ImageFacts, ImageLimits, validate_bytes
from tests.icc_profiles import DISPLAY_P3, rgb_profile
from tests.rights_samples import phone_jpeg, xmp_png

LIMITS = ImageLimits()
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _facts(**changes: object) -> ImageFacts:
    base = ImageFacts(
        format="JPEG", mime="image/jpeg", width=1200, height=900, mode="RGB", has_alpha=False,
        is_animated=False, bytes_read=1000,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _encoded(image: Image.Image, image_format: str, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **save)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "facts",
    [
        pytest.param(_facts(), id="jpeg-rgb"),
        pytest.param(_facts(mode="L"), id="jpeg-grey"),
        pytest.param(_facts(format="PNG"), id="png"),
        pytest.param(_facts(format="WEBP"), id="webp"),
        pytest.param(_facts(width=100, height=3000), id="at-the-limits"),
        pytest.param(_facts(colour_profile="srgb"), id="srgb-profile"),
    ],
)
def test_api_ready_inputs_take_the_fast_path(facts: ImageFacts) -> None:
    # Given the header facts of an API-ready input
    # When the fast path is decided
    decision = decide_fast_path(facts, LIMITS)
    # Then it is taken, with no reason to normalise
    assert decision.taken
    assert decision.reasons == ()


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        pytest.param(_facts(format="BMP"), "format BMP", id="bmp"),
        pytest.param(_facts(format="TIFF", header_read=False), "format TIFF", id="tiff"),
        pytest.param(_facts(format="HEIC", header_read=False), "format HEIC", id="heic"),
        pytest.param(_facts(width=3001), "size 3001x900", id="3001-wide"),
        pytest.param(_facts(width=6000, height=4000), "size 6000x4000", id="camera"),
        pytest.param(_facts(format="PNG", bits=16), "16-bit", id="16-bit"),
        pytest.param(_facts(mode="CMYK"), "mode CMYK", id="cmyk"),
        pytest.param(_facts(format="PNG", mode="P"), "mode P", id="palette"),
        pytest.param(_facts(format="PNG", mode="RGBA", has_alpha=True), "with transparency", id="alpha"),
        pytest.param(_facts(format="PNG", mode="RGB", has_alpha=True), "with transparency", id="trns"),
        pytest.param(_facts(colour_profile="other"), "colour profile other", id="display-p3"),
        pytest.param(_facts(colour_profile="corrupt"), "colour profile corrupt", id="corrupt-profile"),
        pytest.param(_facts(orientation=6), "orientation 6", id="rotated"),
        pytest.param(_facts(orientation=0), "orientation 0", id="unreadable-orientation"),
        pytest.param(_facts(has_metadata=True), "metadata", id="exif-or-xmp"),
        pytest.param(_facts(has_gps=True, has_metadata=True), "metadata", id="gps-without-the-option"),
    ],
)
def test_anything_else_is_normalised_with_the_reason(facts: ImageFacts, reason: str) -> None:
    # Given the facts of an input the API should not get as it is
    # When the fast path is decided
    decision = decide_fast_path(facts, LIMITS)
    # Then it is not taken, and the reason names what is wrong
    assert not decision.taken
    assert any(reason in text for text in decision.reasons), decision.reasons


def test_gps_data_forces_normalisation_when_asked() -> None:
    # Given a fast-path JPEG carrying GPS data, and the option set
    decision = decide_fast_path(_facts(has_gps=True), LIMITS, normalise_gps_images=True)
    # Then it is normalised (which strips every tag)
    assert decision.reasons == ("GPS data",)


@pytest.mark.parametrize(
    ("data", "taken"),
    [
        pytest.param(_encoded(Image.new("RGB", (800, 600)), "JPEG"), True, id="plain-jpeg"),
        pytest.param(_encoded(Image.new("RGB", (800, 600)), "JPEG", icc_profile=SRGB), True, id="srgb"),
        pytest.param(
            _encoded(Image.new("RGB", (800, 600)), "JPEG", icc_profile=rgb_profile("Display P3", DISPLAY_P3)),
            False,
            id="display-p3",
        ),
        pytest.param(_encoded(Image.new("RGB", (800, 600)), "PNG"), True, id="png"),
        pytest.param(_encoded(Image.new("RGBA", (800, 600)), "PNG"), False, id="png-rgba"),
        pytest.param(_encoded(Image.new("RGB", (800, 600)), "WEBP"), True, id="webp"),
        pytest.param(_encoded(Image.new("CMYK", (800, 600)), "JPEG"), False, id="cmyk"),
        pytest.param(_encoded(Image.new("I;16", (800, 600)), "PNG"), False, id="png-16-bit-grey"),
        pytest.param(phone_jpeg(size=(800, 600)), False, id="phone-jpeg-exif-xmp"),
        pytest.param(phone_jpeg(xmp=False, size=(800, 600)), False, id="jpeg-exif-only"),
        pytest.param(xmp_png(), False, id="png-with-xmp"),
    ],
)
def test_the_decision_on_real_files_reads_only_their_headers(data: bytes, taken: bool) -> None:
    # Given a real file made by Pillow
    # When its header is inspected and the fast path decided
    decision = decide_fast_path(validate_bytes(data), LIMITS)
    # Then the decision is the expected one
    assert decision.taken is taken


def test_an_exif_orientation_is_read_from_the_header() -> None:
    # Given a JPEG tagged orientation 6 with GPS data
    image = Image.new("RGB", (800, 600))
    exif = image.getexif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[1] = "N"
    facts = validate_bytes(_encoded(image, "JPEG", exif=exif))
    # Then the facts have both
    assert (facts.orientation, facts.has_gps, facts.has_metadata) == (6, True, True)
