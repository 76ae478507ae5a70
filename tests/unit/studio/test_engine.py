"""The studio engine as an adapter of the engine port: formats, sizes, errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cutout.engine.errors import PermanentEngineError
from cutout.engine.port import Background, BackgroundRemover, CutoutOptions, ImageBytes, ImageUrl
from cutout_tools.studio import StudioEngine
from tests.unit.studio import scenes


@pytest.fixture(scope="module")
def mug_jpeg() -> bytes:
    rgb, _truth = scenes.scene(scenes.mug, (30, 120, 150), "grey_gradient")
    return scenes.jpeg(rgb)


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_transparent_gives_a_png_with_alpha_at_the_input_size(mug_jpeg: bytes) -> None:
    # Given the studio engine and a product photo
    engine = StudioEngine()

    # When the background is removed to transparent
    cutout = engine.remove_background(ImageBytes(mug_jpeg), CutoutOptions(background=Background.TRANSPARENT))

    # Then it is an RGBA PNG of the input's size, with the facts of the port
    image = _open(cutout.read())
    assert isinstance(engine, BackgroundRemover)
    assert engine.engine_name == "studio"
    assert (cutout.content_type, cutout.extension, image.format, image.mode) == (
        "image/png",
        ".png",
        "PNG",
        "RGBA",
    )
    assert (cutout.width, cutout.height) == image.size == (320, 240)
    assert cutout.engine == "studio"
    assert cutout.usage == 1
    assert cutout.score is not None
    assert 0.0 <= cutout.score <= 1.0
    assert cutout.request_id is not None
    assert len(cutout.request_id) == 32
    assert cutout.size == len(cutout.read())
    alpha = np.asarray(image.getchannel("A"))
    assert alpha[0, 0] == 0
    assert alpha[140, 125] == 255


def test_white_gives_a_jpeg_with_white_corners(mug_jpeg: bytes) -> None:
    # Given the studio engine and a product photo on grey paper
    engine = StudioEngine()

    # When the background is replaced with white
    cutout = engine.remove_background(ImageBytes(mug_jpeg), CutoutOptions(background=Background.WHITE))

    # Then it is a JPEG whose corners are white and whose subject keeps its colour
    image = _open(cutout.read())
    pixels = np.asarray(image.convert("RGB")).astype(int)
    assert (cutout.content_type, image.format) == ("image/jpeg", "JPEG")
    for corner in (pixels[0, 0], pixels[0, -1], pixels[-1, 0], pixels[-1, -1]):
        assert corner.min() >= 250
    assert pixels[140, 175].min() >= 240, "the hole shows white"
    assert abs(pixels[140, 125] - np.array([30, 120, 150])).max() < 20


@pytest.mark.parametrize(
    ("target_width", "target_height", "expected_size"),
    [(300, 300, (300, 300)), (400, 200, (400, 200)), (150, 500, (150, 500))],
)
def test_target_size_is_exact_with_the_subject_centred(
    mug_jpeg: bytes, target_width: int, target_height: int, expected_size: tuple[int, int]
) -> None:
    # Given a product photo whose subject is off-centre with margins
    engine = StudioEngine()

    # When a target size is asked
    options = CutoutOptions(target_width=target_width, target_height=target_height)
    cutout = engine.remove_background(ImageBytes(mug_jpeg), options)

    # Then the canvas has exactly that size, the subject fills it on one axis and is centred
    image = _open(cutout.read())
    assert image.size == (cutout.width, cutout.height) == expected_size
    alpha = np.asarray(image.getchannel("A")) >= 8  # the engine's "visible subject"
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    assert (rows[0] <= 2 and rows[-1] >= image.height - 3) or (cols[0] <= 2 and cols[-1] >= image.width - 3)
    assert abs((rows[0] + rows[-1]) / 2 - (image.height - 1) / 2) <= 2
    assert abs((cols[0] + cols[-1]) / 2 - (image.width - 1) / 2) <= 2


def test_one_target_side_gives_the_other_from_the_subject_aspect(mug_jpeg: bytes) -> None:
    # Given a subject about 130 x 110 pixels (the mug and its handle)
    engine = StudioEngine()

    # When only the width is given
    cutout = engine.remove_background(ImageBytes(mug_jpeg), CutoutOptions(target_width=260))

    # Then the height follows the cropped subject's aspect ratio
    assert cutout.width == 260
    assert 200 <= cutout.height <= 240


def test_an_url_source_is_refused_with_a_typed_error() -> None:
    # Given the studio engine / When it is given a URL
    with pytest.raises(PermanentEngineError) as raised:
        StudioEngine().remove_background(ImageUrl("https://example.invalid/a.jpg"), CutoutOptions())

    # Then it says it needs bytes
    assert raised.value.code == "studio_needs_bytes"
    assert raised.value.retryable is False


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_undecodable_bytes_raise_not_an_image(data: bytes) -> None:
    # Given bytes Pillow cannot read / When the background is removed
    with pytest.raises(PermanentEngineError) as raised:
        StudioEngine().remove_background(ImageBytes(data), CutoutOptions())

    # Then it is a permanent, typed error
    assert raised.value.code == "not_an_image"


def _encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _variants() -> list[tuple[str, bytes, tuple[int, int]]]:
    rgb, _truth = scenes.scene(scenes.disc, (40, 90, 200), "white")
    photo = Image.fromarray(rgb)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    grey16 = Image.fromarray((np.asarray(photo.convert("L"), np.uint16) * 257).astype(np.uint16))
    return [
        ("grayscale", _encoded(photo.convert("L"), "PNG"), (320, 240)),
        ("palette", _encoded(photo.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"), (320, 240)),
        ("rgba", _encoded(photo.convert("RGBA"), "PNG"), (320, 240)),
        ("16-bit", _encoded(grey16, "PNG"), (320, 240)),
        ("webp", _encoded(photo, "WEBP", quality=90), (320, 240)),
        ("bmp", _encoded(photo, "BMP"), (320, 240)),
        ("exif-rotated", _encoded(photo, "JPEG", exif=exif), (240, 320)),
    ]


@pytest.mark.parametrize(("name", "data", "expected_size"), _variants(), ids=[v[0] for v in _variants()])
def test_any_pillow_readable_input_is_accepted(
    name: str, data: bytes, expected_size: tuple[int, int]
) -> None:
    # Given the same photo encoded as `name`
    engine = StudioEngine()

    # When the background is removed
    cutout = engine.remove_background(ImageBytes(data), CutoutOptions())

    # Then the result has the upright size, an opaque subject and transparent corners
    image = _open(cutout.read())
    assert image.size == expected_size, name
    alpha = np.asarray(image.getchannel("A"))
    assert (alpha == 255).sum() > 8000
    assert alpha[0, 0] == alpha[-1, -1] == 0
