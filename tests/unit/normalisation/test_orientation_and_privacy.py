"""Every EXIF orientation comes out upright, and no photo metadata reaches the vendor.

Orientations 1-8 (the mirrored 2, 4, 5 and 7 too) on every format that carries one: JPEG (APP1),
PNG (eXIf), WebP (EXIF chunk) and HEIC (pillow-heif). The stored pixels are made from an upright
picture by the inverse of what the tag says, written out here from the EXIF specification (not
from Pillow's ``exif_transpose``), so the test and the code under test cannot share a mistake.

Privacy: the inputs people really upload (an sRGB phone JPEG, a HEIC, a PNG with eXIf, a WebP),
each with GPS, a camera serial and XMP; nothing of it is in what normalisation produces (the bytes
sent to the vendor) or in an already-cut-out input passed through to the outputs.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from cutout.engine.port import Background
from cutout.normalisation import normalise
from cutout.normalisation.passthrough import passthrough_cutout
from cutout.pixels import PixelBudget
from cutout.pixels.codecs import heif_available

BUDGET = PixelBudget.for_memory(1024)
ORIENTATION_TAG = 0x0112
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
BODY_SERIAL = 0xA431
T = Image.Transpose
# What a viewer does to the stored pixels to show tag N upright (EXIF 2.32, tag 0x0112).
TO_UPRIGHT: dict[int, T | None] = {
    1: None,
    2: T.FLIP_LEFT_RIGHT,
    3: T.ROTATE_180,
    4: T.FLIP_TOP_BOTTOM,
    5: T.TRANSPOSE,
    6: T.ROTATE_270,  # 90 degrees clockwise
    7: T.TRANSVERSE,
    8: T.ROTATE_90,  # 90 degrees counter-clockwise
}
# Its inverse: what the camera did to the upright picture before storing it.
TO_STORED: dict[int, T | None] = {**TO_UPRIGHT, 6: T.ROTATE_90, 8: T.ROTATE_270}
QUADRANT_COLOURS = ((220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 230, 40))  # TL, TR, BL, BR
UPRIGHT_SIZE = (240, 160)
FORMATS = ["JPEG", "PNG", "WEBP"] + (["HEIF"] if heif_available() else [])
SECRET_MARKERS = (b"GPSLatitude", b"SN-4711-CAMERA", b"xmpmeta", b"51,30N", b"Exif\x00\x00")


def _upright() -> Image.Image:
    """Four differently coloured quadrants: any rotation or mirror moves them."""
    width, height = UPRIGHT_SIZE
    image = Image.new("RGB", UPRIGHT_SIZE)
    for index, colour in enumerate(QUADRANT_COLOURS):
        left, top = (index % 2) * width // 2, (index // 2) * height // 2
        image.paste(colour, (left, top, left + width // 2, top + height // 2))
    return image


def _exif(orientation: int | None = None, *, gps: bool = False) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION_TAG] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif.get_ifd(EXIF_IFD)[BODY_SERIAL] = "SN-4711-CAMERA"
    if gps:
        gps_ifd = exif.get_ifd(GPS_IFD)
        gps_ifd[1] = "N"
        gps_ifd[2] = (51.0, 30.0, 12.5)
        gps_ifd[3] = "W"
        gps_ifd[4] = (0.0, 7.0, 39.0)
    return exif


def _encoded(image: Image.Image, image_format: str, exif: Image.Exif, *, xmp: bool = False) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, object] = {"exif": exif.tobytes()}
    if image_format in ("JPEG", "WEBP", "HEIF"):
        options["quality"] = 95
    if xmp and image_format in ("JPEG", "PNG", "WEBP"):
        options["xmp"] = (
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
            b'exif:GPSLatitude="51,30N" exif:GPSLongitude="0,7W"/></rdf:RDF></x:xmpmeta>'
        )
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def _quadrant_colours(image: Image.Image) -> list[tuple[int, ...]]:
    """The colour at the centre of each quadrant (TL, TR, BL, BR), of an upright-sized image."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    centres = [(width // 4, height // 4), (3 * width // 4, height // 4), (width // 4, 3 * height // 4)]
    centres.append((3 * width // 4, 3 * height // 4))
    return [tuple(rgb.getpixel(centre)) for centre in centres]  # type: ignore[arg-type]


def _close(actual: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return all(abs(a - e) <= 40 for a, e in zip(actual, expected, strict=True))


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("image_format", FORMATS)
def test_every_orientation_comes_out_upright(image_format: str, orientation: int) -> None:
    # Given an upright picture stored as the camera would for this orientation tag
    operation = TO_STORED[orientation]
    stored = _upright() if operation is None else _upright().transpose(operation)
    data = _encoded(stored, image_format, _exif(orientation))
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then the picture sent is upright: the upright size, each quadrant's colour in its place
    output = Image.open(io.BytesIO(result.data))
    assert output.size == UPRIGHT_SIZE
    colours = _quadrant_colours(output)
    assert all(_close(c, e) for c, e in zip(colours, QUADRANT_COLOURS, strict=True)), colours
    # and the report names the orientation undone (HEIC's decoder applies it itself)
    if image_format != "HEIF":
        assert result.report.orientation_applied == orientation


@pytest.mark.parametrize("orientation", [1, 6, 5])
@pytest.mark.parametrize("image_format", FORMATS)
def test_no_exif_xmp_or_gps_of_a_phone_photo_reaches_the_vendor(image_format: str, orientation: int) -> None:
    # Given an ordinary sRGB photo (no ICC conversion to hide the bug) with GPS, a camera serial and XMP
    operation = TO_STORED[orientation]
    stored = _upright() if operation is None else _upright().transpose(operation)
    data = _encoded(stored, image_format, _exif(orientation, gps=True), xmp=True)
    assert b"SN-4711-CAMERA" in data  # the fixture really carries what must not leave
    # When it is normalised (what the vendor is sent)
    result = normalise(data, BUDGET)
    # Then none of the metadata is in the bytes, and the decoded image carries no EXIF or XMP
    for marker in SECRET_MARKERS:
        assert marker not in result.data, marker
    sent = Image.open(io.BytesIO(result.data))
    assert not sent.info.get("exif")
    assert not sent.getexif()
    assert not sent.info.get("xmp")
    assert not sent.info.get("XML:com.adobe.xmp")


def test_an_already_cut_out_png_with_exif_gps_is_passed_through_without_it() -> None:
    # Given a transparent cut-out PNG carrying eXIf with GPS and XMP
    image = Image.new("RGBA", UPRIGHT_SIZE, (0, 0, 0, 0))
    image.paste((200, 40, 40, 255), (60, 40, 180, 120))
    data = _encoded(image, "PNG", _exif(1, gps=True), xmp=True)
    normalised = normalise(data, BUDGET)
    # When it is passed through to the outputs as the cut-out itself
    cutout = passthrough_cutout(normalised, Background.TRANSPARENT, BUDGET)
    body = cutout.body.read()
    cutout.body.close()
    # Then the output bytes hold none of the photo's metadata
    for marker in SECRET_MARKERS:
        assert marker not in body, marker
    assert not Image.open(io.BytesIO(body)).getexif()


@pytest.mark.parametrize("background", [Background.TRANSPARENT, Background.WHITE])
def test_a_cut_out_png_tagged_srgb_is_sent_and_passed_through_without_its_profile(
    background: Background,
) -> None:
    # Given a transparent cut-out PNG that carries an sRGB colour profile (an iCCP chunk, whose
    # description may name the device or person that made it)
    image = Image.new("RGBA", UPRIGHT_SIZE, (0, 0, 0, 0))
    image.paste((200, 40, 40, 255), (60, 40, 180, 120))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    # When it is normalised, then passed through as the cut-out itself
    normalised = normalise(buffer.getvalue(), BUDGET)
    cutout = passthrough_cutout(normalised, background, BUDGET)
    body = cutout.body.read()
    cutout.body.close()
    # Then neither what would go to the vendor nor the output carries a profile (sRGB is implied)
    for data in (normalised.data, body):
        assert b"iCCP" not in data
        assert "icc_profile" not in Image.open(io.BytesIO(data)).info


def _phone_photo_facts(image_format: str) -> object:
    from cutout.validation import validate_bytes

    data = _encoded(_upright(), image_format, _exif(1, gps=True), xmp=True)
    return validate_bytes(data)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_with_normalise_gps_images_a_photo_with_gps_never_goes_to_the_vendor_as_it_is(
    image_format: str,
) -> None:
    # Given an upright sRGB photo with GPS, small enough for the fast path
    from cutout.normalisation import decide_fast_path
    from cutout.validation import ImageFacts, ImageLimits

    facts = _phone_photo_facts(image_format)
    assert isinstance(facts, ImageFacts)
    # When the fast path is decided with NORMALISE_GPS_IMAGES on
    decision = decide_fast_path(facts, ImageLimits(), normalise_gps_images=True)
    # Then it is normalised (which strips every tag), never sent as uploaded
    assert not decision.taken


def test_by_default_a_photo_with_gps_or_a_camera_serial_never_goes_to_the_vendor_as_it_is() -> None:
    # Given an upright sRGB phone JPEG with GPS and a camera serial, small enough for the fast path
    from cutout.normalisation import decide_fast_path
    from cutout.validation import ImageFacts, ImageLimits

    facts = _phone_photo_facts("JPEG")
    assert isinstance(facts, ImageFacts)
    # When the fast path is decided with the default settings
    decision = decide_fast_path(facts, ImageLimits())
    # Then it is normalised: no GPS or camera serial reaches the vendor on any path
    assert not decision.taken
