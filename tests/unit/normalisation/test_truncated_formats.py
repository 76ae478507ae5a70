"""Formats whose end validation cannot check from a range (TIFF, GIF, HEIC, AVIF) are checked by
normalisation on the whole object: cut short by one byte, they are refused before any payment."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cutout.normalisation import normalise
from cutout.pixels import PixelBudget
from cutout.pixels.codecs import heif_available
from cutout.validation import ImageRejected

BUDGET = PixelBudget.for_memory(1024)
REFUSED = ("truncated_image", "corrupt_header", "corrupt_image")


def _encoded(image_format: str, **save: object) -> bytes:
    image = Image.linear_gradient("L").resize((160, 120)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, image_format, **save)
    return buffer.getvalue()


WHOLE = {
    "TIFF": _encoded("TIFF"),
    "TIFF LZW": _encoded("TIFF", compression="tiff_lzw"),
    "AVIF": _encoded("AVIF", quality=80),
    **({"HEIC": _encoded("HEIF", quality=80)} if heif_available() else {}),
}


@pytest.mark.filterwarnings("ignore:Truncated File Read")
@pytest.mark.parametrize("name", WHOLE)
def test_whole_passes_and_one_byte_less_is_refused(name: str) -> None:
    # Given a whole file and the same file one byte short
    whole = WHOLE[name]
    # When both are normalised
    result = normalise(whole, BUDGET)
    with pytest.raises(ImageRejected) as cut:
        normalise(whole[:-1], BUDGET)
    # Then the whole one is an API-ready image and the cut one is refused
    assert (result.report.width, result.report.height) == (160, 120)
    assert cut.value.code in REFUSED


@pytest.mark.filterwarnings("ignore:Truncated File Read")
@pytest.mark.parametrize("name", WHOLE)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_cut_anywhere_is_refused(name: str, data: st.DataObject) -> None:
    # Given a file cut short anywhere
    whole = WHOLE[name]
    keep = data.draw(st.integers(1, len(whole) - 1), label="bytes kept")
    # When it is normalised
    # Then it is refused with a reason, never an unexpected exception
    with pytest.raises(ImageRejected) as rejected:
        normalise(whole[:keep], BUDGET)
    assert rejected.value.code in (*REFUSED, "not_an_image", "unsupported_format")


def test_a_gif_missing_only_its_trailer_is_whole_but_cut_into_its_pixels_is_refused() -> None:
    # Given a GIF, the same without its last two bytes (block terminator and trailer, no pixel
    # data), and the same cut ten bytes short (inside its LZW data)
    whole = _encoded("GIF")
    # When each is normalised
    reference = normalise(whole, BUDGET)
    without_trailer = normalise(whole[:-2], BUDGET)
    with pytest.raises(ImageRejected) as cut:
        normalise(whole[:-10], BUDGET)
    # Then the one without its trailer gives exactly the whole one's pixels; the cut one is refused
    assert without_trailer.data == reference.data
    assert cut.value.code in REFUSED
