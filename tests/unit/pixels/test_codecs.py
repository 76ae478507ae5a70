"""Each pixel operation of a ``PixelJob`` at its edges: the JPEG decoder's reduction on both sides
of each scale, the EXIF orientations that are applied and those that are not, the resize that
stops at its target, compositing on pure white, and encodings that carry nothing of the source
(no EXIF, no colour profile, 4:4:4 at the quality asked).

Orientation is checked pixel by pixel from the EXIF specification in
``tests/unit/normalisation/test_orientation_and_privacy.py``; here, which tag values count.
"""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageCms, JpegImagePlugin, PngImagePlugin

from cutout.pixels import codecs
from cutout.pixels.codecs import PixelJob, jpeg_reduction, open_header
from tests.fakes import exif_with_one_entry

SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
ORIENTATION_TAG = 0x0112
GPS_IFD = 0x8825


def _job() -> PixelJob:
    return PixelJob("test", reserved_bytes=1)


def _jpeg(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 60, 30)).save(buffer, "JPEG", quality=50)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("long_side", "reduction"),
    [
        (24_000, 8),
        (23_999, 4),
        (12_000, 4),
        (11_999, 2),
        (6_000, 2),
        (5_999, 1),
        (3_000, 1),
        (2_999, 1),  # already under the target: never reduced
        (100, 1),
    ],
)
def test_the_jpeg_reduction_is_the_largest_that_keeps_the_long_side(long_side: int, reduction: int) -> None:
    # Given a JPEG's long side on each side of 8, 4 and 2 times the target (3000)
    # When the decoder's reduction is chosen, in either orientation
    # Then it is the largest scale that keeps at least 3000 pixels on the long side
    assert jpeg_reduction(long_side, 10, 3000) == reduction
    assert jpeg_reduction(10, long_side, 3000) == reduction


@given(
    width=st.integers(min_value=1, max_value=60_000),
    height=st.integers(min_value=1, max_value=60_000),
    longest=st.integers(min_value=1, max_value=10_000),
)
def test_a_reduced_jpeg_is_never_smaller_than_the_target(width: int, height: int, longest: int) -> None:
    # Given any JPEG size and target
    reduction = jpeg_reduction(width, height, longest)
    # Then the reduction is a DCT scale, keeps the target, and the next scale up would not
    assert reduction in (1, 2, 4, 8)
    if reduction > 1:
        assert max(width, height) // reduction >= longest
    if reduction < 8:
        assert max(width, height) // (reduction * 2) < longest


@pytest.mark.parametrize(
    ("size", "decoded", "step"),
    [
        ((6_000, 400), (3_000, 200), "decode JPEG 1/2"),
        ((5_999, 400), (5_999, 400), "decode JPEG 1/1"),
        ((400, 6_000), (200, 3_000), "decode JPEG 1/2"),  # the long side decides, in either direction
    ],
)
def test_a_large_jpeg_is_decoded_reduced_by_the_decoder(
    size: tuple[int, int], decoded: tuple[int, int], step: str
) -> None:
    # Given a JPEG over or just under twice the target
    job = _job()
    header = open_header(io.BytesIO(_jpeg(size)))
    # When it is decoded for a 3000-pixel long side
    image, reduction = job.decode(header, 3000)
    # Then the decoder's own reduction gives the smaller image, and the step says so
    assert image.size == decoded
    assert reduction == size[0] // decoded[0]
    assert job.steps == [step]


def test_a_png_is_decoded_whole() -> None:
    # Given a PNG (no decoder reduction) larger than twice the target
    buffer = io.BytesIO()
    Image.new("L", (700, 10)).save(buffer, "PNG")
    job = _job()
    # When it is decoded for a 300-pixel long side
    image, reduction = job.decode(open_header(buffer), 300)
    # Then it is decoded at full size
    assert (image.size, reduction, job.steps) == ((700, 10), 1, ["decode PNG 1/1"])


def _tagged(orientation: int | None) -> Image.Image:
    """A 3x2 image whose EXIF carries ``orientation`` (None: no tag at all)."""
    image = Image.new("RGB", (3, 2))
    image.putpixel((0, 0), (255, 0, 0))
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION_TAG] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif.tobytes())
    loaded = Image.open(io.BytesIO(buffer.getvalue()))
    loaded.load()
    return loaded


@pytest.mark.parametrize("orientation", range(2, 9))
def test_each_orientation_2_to_8_is_applied_and_reported(orientation: int) -> None:
    # Given an image tagged with an orientation that needs a turn or a mirror
    job = _job()
    # When it is oriented
    upright, applied = job.orient(_tagged(orientation))
    # Then the orientation is reported and recorded, and a quarter turn swaps the sides
    assert applied == orientation
    assert job.steps == [f"orient {orientation}"]
    assert upright.size == ((2, 3) if orientation in (5, 6, 7, 8) else (3, 2))


@pytest.mark.parametrize("orientation", [None, 0, 1, 9, 255])
def test_no_tag_tag_1_and_values_outside_1_to_8_leave_the_image_as_it_is(orientation: int | None) -> None:
    # Given no orientation tag, the upright tag, or a value the EXIF specification does not define
    job = _job()
    image = _tagged(orientation)
    # When it is oriented
    upright, applied = job.orient(image)
    # Then nothing is applied: the same pixels, "1" reported, no step
    assert applied == 1
    assert upright is image
    assert job.steps == []


@pytest.mark.parametrize(
    ("size", "longest", "resized"),
    [
        ((3_000, 2_000), 3_000, None),  # at the target: untouched
        ((2_999, 10), 3_000, None),
        ((3_001, 2_000), 3_000, (3_000, 1_999)),
        ((2_000, 3_001), 3_000, (1_999, 3_000)),
        ((6_000, 1), 3_000, (3_000, 1)),  # a side rounded to 0 is kept at 1 pixel
        ((1, 6_000), 3_000, (1, 3_000)),
        ((400, 300), 200, (200, 150)),
    ],
)
def test_a_resize_fits_the_long_side_and_only_when_over_it(
    size: tuple[int, int], longest: int, resized: tuple[int, int] | None
) -> None:
    # Given an image at, under or over the target long side
    job = _job()
    image = Image.new("L", size)
    # When it is resized to fit
    result = job.resize_to_fit(image, longest)
    # Then only one over the target is scaled (aspect kept, no side under 1), with its step
    if resized is None:
        assert result is image
        assert job.steps == []
    else:
        assert result.size == resized
        assert job.steps == [f"resize {size[0]}x{size[1]}->{resized[0]}x{resized[1]}"]


@pytest.mark.parametrize(
    ("pixel", "on_white"),
    [
        ((10, 20, 30, 0), (255, 255, 255)),  # transparent: pure white
        ((10, 20, 30, 255), (10, 20, 30)),  # opaque: itself
        ((0, 0, 0, 128), (127, 127, 127)),  # half: between
    ],
)
def test_compositing_on_white_blends_by_alpha(
    pixel: tuple[int, int, int, int], on_white: tuple[int, int, int]
) -> None:
    # Given one RGBA pixel
    job = _job()
    # When it is composited on white
    result = job.on_white(Image.new("RGBA", (1, 1), pixel))
    # Then the result is RGB, the background pure white where the pixel is transparent
    assert result.mode == "RGB"
    if pixel[3] in (0, 255):
        assert result.getpixel((0, 0)) == on_white  # exactly: pure white, or the pixel itself
    else:
        assert result.getpixel((0, 0)) == pytest.approx(on_white, abs=1)
    assert job.steps == ["composite on white"]


def _with_metadata(mode: str) -> Image.Image:
    """An image whose ``info`` carries what a photo brings: EXIF with GPS, and a colour profile."""
    image = Image.new(mode, (64, 48), (200, 10, 10) if mode == "RGB" else (200, 10, 10, 128))
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6
    exif[GPS_IFD] = {2: (51.0, 30.0, 0.0)}
    image.info["exif"] = exif.tobytes()
    image.info["icc_profile"] = SRGB_PROFILE
    return image


@pytest.mark.parametrize("quality", [75, 92])
def test_a_jpeg_is_encoded_444_at_the_quality_asked_with_no_metadata(quality: int) -> None:
    # Given an image that carries EXIF (GPS) and a colour profile
    job = _job()
    # When it is encoded as JPEG
    data = job.encode_jpeg(_with_metadata("RGB"), quality)
    # Then it has no EXIF and no profile, no chroma subsampling, the quality's tables, and a step
    encoded = Image.open(io.BytesIO(data))
    assert "exif" not in encoded.info
    assert "icc_profile" not in encoded.info
    assert JpegImagePlugin.get_sampling(encoded) == 0  # 4:4:4
    reference = io.BytesIO()
    Image.new("RGB", (64, 48)).save(reference, "JPEG", quality=quality, subsampling=0)
    assert encoded.quantization == Image.open(reference).quantization
    assert job.steps == [f"encode JPEG q{quality}"]


def test_a_png_is_encoded_with_no_metadata_chunk() -> None:
    # Given an image with alpha that carries EXIF (GPS) and a colour profile
    job = _job()
    # When it is encoded as PNG
    data = job.encode_png(_with_metadata("RGBA"))
    # Then only the pixels are in it: no eXIf, iCCP, tEXt or iTXt chunk
    encoded = Image.open(io.BytesIO(data))
    assert encoded.info == {}
    assert b"iCCP" not in data
    assert b"eXIf" not in data
    assert encoded.mode == "RGBA"
    assert job.steps == ["encode PNG"]


def _png_with_raw_exif(profile: str) -> Image.Image:
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", profile)
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2)).save(buffer, "PNG", pnginfo=info)
    return Image.open(io.BytesIO(buffer.getvalue()))


@pytest.mark.parametrize("profile", ["\nexif\n      10\nzzzz\n", "\nexif\n       4\n00\n"])
def test_an_unreadable_exif_block_leaves_the_image_as_it_is(profile: str) -> None:
    # Given a PNG whose EXIF (ImageMagick's hex text chunk) Pillow cannot parse
    job = _job()
    image = _png_with_raw_exif(profile)
    # When it is oriented
    upright, applied = job.orient(image)
    # Then the pixels are kept as they are, with no orientation applied (not a damaged image)
    assert (upright, applied, job.steps) == (image, 1, [])


def test_an_orientation_written_as_text_is_not_applied() -> None:
    # Given EXIF whose orientation entry is the ASCII text "6" (Pillow turns integers only)
    exif = exif_with_one_entry(ORIENTATION_TAG, 2, 2, b"6\x00")
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2)).save(buffer, "PNG", exif=exif)
    image = Image.open(io.BytesIO(buffer.getvalue()))
    job = _job()
    # When it is oriented
    upright, applied = job.orient(image)
    # Then nothing is applied, and nothing is claimed (the report must say what was done)
    assert (upright.size, applied, job.steps) == ((3, 2), 1, [])


def test_a_jpeg_is_encoded_at_quality_92_by_default() -> None:
    # Given an image encoded with no quality asked (the passed-through cut-out on white)
    job = _job()
    data = job.encode_jpeg(Image.new("RGB", (64, 48), (200, 10, 10)))
    # Then it is quality 92, as documented (docs/inputs.md)
    reference = io.BytesIO()
    Image.new("RGB", (64, 48)).save(reference, "JPEG", quality=92, subsampling=0)
    assert Image.open(io.BytesIO(data)).quantization == Image.open(reference).quantization
    assert job.steps == ["encode JPEG q92"]


def test_without_pillow_heif_heic_is_not_offered_and_the_other_formats_still_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a layer built without the optional HEIC decoder (pillow-heif cannot be imported)
    monkeypatch.setattr(codecs, "_heif_state", [])
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    # When the decoders are asked for
    available = codecs.heif_available()
    # Then HEIC is not offered, and every other format still opens
    assert available is False
    for image_format in ("GIF", "BMP", "PNG", "JPEG"):
        buffer = io.BytesIO()
        Image.new("RGB", (120, 100)).save(buffer, image_format)
        assert open_header(io.BytesIO(buffer.getvalue())).format == image_format
    assert codecs.heif_available() is False  # decided once for the process
