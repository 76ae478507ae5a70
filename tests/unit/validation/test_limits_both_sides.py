"""Every numeric input limit, tested at the boundary from both sides, and held over its range.

The limits: the object's size, the pixel ceiling, each side's minimum, the short side once the
long side is scaled to the API's 3000 pixels, and a file cut short by one byte, in every format
whose end validation checks (JPEG, PNG, WebP in its three encodings, BMP).
"""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from cutout.validation import ImageLimits, ImageRejected, validate_bytes
from cutout.validation.inspection import check_dimensions, check_object_size

LIMITS = ImageLimits()
# No timing in these properties: the machine running them may be loaded.
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _code(call: object, *args: object) -> str | None:
    try:
        call(*args)  # type: ignore[operator]
    except ImageRejected as rejected:
        return rejected.code
    return None


# --- sizes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "code"),
    [
        ((100, 100), None),
        ((99, 100), "image_too_small"),
        ((100, 99), "image_too_small"),
        ((3000, 100), None),  # the long side at the API's maximum: nothing scaled
        ((3000, 99), "image_too_small"),
        ((3001, 100), None),  # 100 x 3000 / 3001 = 99.97: 100 once scaled
        # the short side once the long side is scaled to 3000: 99 is refused, 100 passes
        ((9000, 299), None),  # 99.67 -> 100
        ((9000, 298), "image_too_small"),  # 99.33 -> 99
        ((299, 9000), None),
        ((298, 9000), "image_too_small"),
        ((6000, 200), None),  # exactly 100
        ((6000, 198), "image_too_small"),  # exactly 99
        ((10_000, 5_000), None),  # exactly 50 megapixels
        ((10_000, 5_001), "image_too_large"),
        ((5_001, 10_000), "image_too_large"),
    ],
)
def test_each_size_limit_from_both_sides(size: tuple[int, int], code: str | None) -> None:
    # Given a declared size at one side of a limit
    # When it is checked against the default limits
    # Then it is accepted, or refused with the limit's own code
    assert _code(check_dimensions, "PNG", *size, LIMITS) == code


@PROPERTY
@given(width=st.integers(1, 20_000), height=st.integers(1, 20_000))
@example(width=9000, height=298)
@example(width=10_000, height=5_001)
def test_a_size_is_accepted_exactly_when_the_api_will_take_it_once_scaled(width: int, height: int) -> None:
    # Given any declared size
    short, long = sorted((width, height))
    scaled_short = short if long <= 3000 else round(short * 3000 / long)
    fits = width * height <= 50_000_000 and short >= 100 and scaled_short >= 100
    # When it is checked
    code = _code(check_dimensions, "JPEG", width, height, LIMITS)
    # Then it passes exactly when the API takes it (each side 100..3000 after scaling) under 50 MP
    assert (code is None) == fits
    if width * height > 50_000_000:
        assert code == "image_too_large"


@PROPERTY
@given(limit=st.integers(1, 10**9), delta=st.integers(-3, 3))
def test_the_object_size_cap_is_inclusive(limit: int, delta: int) -> None:
    # Given a size cap and an object near it
    size = max(1, limit + delta)
    limits = ImageLimits(max_object_bytes=limit)
    # When its size is checked
    code = _code(check_object_size, size, limits)
    # Then it passes up to the cap and is refused one byte over
    assert code == (None if size <= limit else "object_too_large")


def test_the_empty_object_and_the_one_byte_object() -> None:
    # Given objects of 0 and 1 byte
    # When their sizes are checked
    # Then only the empty one is refused for its size
    assert _code(check_object_size, 0, LIMITS) == "empty_object"
    assert _code(check_object_size, 1, LIMITS) is None


@PROPERTY
@given(width=st.integers(100, 3000), height=st.integers(100, 3000))
def test_the_pixel_ceiling_is_inclusive(width: int, height: int) -> None:
    # Given an image within the API's sides, and ceilings at its pixel count and one under it
    at_ceiling = ImageLimits(max_source_pixels=width * height)
    one_under = ImageLimits(max_source_pixels=width * height - 1)
    # When it is checked against each
    # Then it passes at the ceiling and is refused one pixel over
    assert _code(check_dimensions, "PNG", width, height, at_ceiling) is None
    assert _code(check_dimensions, "PNG", width, height, one_under) == "image_too_large"


# --- cut short by one byte ------------------------------------------------------------------------


def _encoded(image_format: str, **save: object) -> bytes:
    image = Image.linear_gradient("L").resize((160, 120)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, image_format, **save)
    return buffer.getvalue()


WHOLE_FILES = {
    "JPEG": _encoded("JPEG", quality=90),
    "PNG": _encoded("PNG"),
    "WEBP lossy (VP8)": _encoded("WEBP", quality=80),
    "WEBP lossless (VP8L)": _encoded("WEBP", lossless=True),
    "WEBP extended (VP8X)": _encoded("WEBP", quality=80, exif=Image.Exif().tobytes() + b"\x00" * 8),
    "BMP": _encoded("BMP"),
}


@pytest.mark.parametrize("name", WHOLE_FILES)
def test_a_whole_file_passes_and_one_byte_less_is_truncated(name: str) -> None:
    # Given a whole file, and the same file one byte short
    whole = WHOLE_FILES[name]
    # When both are validated
    facts = validate_bytes(whole)
    with pytest.raises(ImageRejected) as cut:
        validate_bytes(whole[:-1])
    # Then the whole one passes and the cut one is refused as cut off, before any payment
    assert (facts.width, facts.height) == (160, 120)
    assert cut.value.code == "truncated_image"


@pytest.mark.parametrize("name", [name for name in WHOLE_FILES if name.startswith(("WEBP", "BMP"))])
def test_a_file_one_byte_longer_than_declared_passes(name: str) -> None:
    # Given a WebP or BMP (which declare their length) with one trailing byte
    # When it is validated
    facts = validate_bytes(WHOLE_FILES[name] + b"\x00")
    # Then it passes: decoders ignore trailing bytes, only a shorter file is cut off
    assert (facts.width, facts.height) == (160, 120)


@pytest.mark.parametrize("name", WHOLE_FILES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_file_cut_anywhere_is_refused(name: str, data: st.DataObject) -> None:
    # Given a file cut short anywhere (one byte to all but one byte removed)
    whole = WHOLE_FILES[name]
    keep = data.draw(st.integers(1, len(whole) - 1), label="bytes kept")
    # When it is validated
    # Then it is refused (cut off, or too short to have a header at all): never paid for
    with pytest.raises(ImageRejected) as rejected:
        validate_bytes(whole[:keep])
    assert rejected.value.code in ("truncated_image", "corrupt_header", "not_an_image")
