"""inspect_image: every reason code, the facts of good images, and how little is read."""

from __future__ import annotations

import io
import random
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image

from cutout.engine.errors import PermanentEngineError
from cutout.validation import (
    ImageFacts,
    ImageLimits,
    ImageRejected,
    RejectionCode,
    inspect_image,
    validate_bytes,
)

MIB = 1024 * 1024
LIMITS = ImageLimits()


# -- builders ----------------------------------------------------------------------


def _image(
    image_format: str,
    size: tuple[int, int] = (200, 150),
    mode: str = "RGB",
    *,
    noisy: bool = False,
    **save: Any,
) -> bytes:
    """A real image file made by Pillow: a gradient (also in the alpha channel, if any), or noise
    when it must not compress well."""
    grey = Image.effect_noise(size, 64) if noisy else Image.linear_gradient("L").resize(size)
    image = grey.convert(mode)
    if mode in ("RGBA", "LA"):
        image.putalpha(grey)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **save)
    return buffer.getvalue()


def _animation(image_format: str) -> bytes:
    frames = [Image.new("RGB", (200, 200), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format=image_format, save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height``: a decompression bomb's shape."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_with_app_data(app_bytes: int) -> bytes:
    """A valid JPEG with ``app_bytes`` of APP15 segments between SOI and the frame header."""
    jpeg = _image("JPEG", (640, 480))
    segment_payload = 65533  # the most one APPn segment holds
    segments = bytearray()
    remaining = app_bytes
    while remaining > 0:
        size = min(segment_payload, remaining)
        segments += b"\xff\xef" + struct.pack(">H", size + 2) + bytes([0x41 + len(segments) % 26]) * size
        remaining -= size
    return jpeg[:2] + bytes(segments) + jpeg[2:]


def _padded(image: bytes, total: int) -> bytes:
    """The image's header, filler up to ``total`` bytes, then its real ending (a big upload, cheaply)."""
    ending = 64
    return image[:-ending] + b"\x55" * (total - len(image)) + image[-ending:]


@dataclass
class RecordingReader:
    """A fake ranged GET: serves slices of ``data`` and remembers every range asked for."""

    data: bytes
    calls: list[tuple[int, int | None]] = field(default_factory=list)
    served: int = 0

    def __call__(self, start: int, end: int | None) -> bytes:
        self.calls.append((start, end))
        chunk = self.data[start:] if start < 0 else self.data[start : None if end is None else end + 1]
        self.served += len(chunk)
        return chunk

    def largest_request(self) -> int:
        sizes = [
            -start if start < 0 else (len(self.data) if end is None else end + 1) - start
            for start, end in self.calls
        ]
        return max(sizes, default=0)


def _inspect(data: bytes, limits: ImageLimits = LIMITS) -> tuple[ImageFacts, RecordingReader]:
    reader = RecordingReader(data)
    return inspect_image(reader, len(data), limits), reader


def _rejection(data: bytes, limits: ImageLimits = LIMITS) -> tuple[ImageRejected, RecordingReader]:
    reader = RecordingReader(data)
    with pytest.raises(ImageRejected) as caught:
        inspect_image(reader, len(data), limits)
    return caught.value, reader


# -- images that pass ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(_image("JPEG"), ("JPEG", "image/jpeg", "RGB", False), id="jpeg"),
        pytest.param(_image("JPEG", mode="L"), ("JPEG", "image/jpeg", "L", False), id="jpeg-grey"),
        pytest.param(
            _image("JPEG", progressive=True), ("JPEG", "image/jpeg", "RGB", False), id="jpeg-progressive"
        ),
        pytest.param(_image("PNG"), ("PNG", "image/png", "RGB", False), id="png"),
        pytest.param(_image("PNG", mode="RGBA"), ("PNG", "image/png", "RGBA", True), id="png-rgba"),
        pytest.param(_image("PNG", mode="LA"), ("PNG", "image/png", "LA", True), id="png-grey-alpha"),
        pytest.param(
            _image("PNG", mode="P", transparency=0), ("PNG", "image/png", "P", True), id="png-palette-trns"
        ),
        pytest.param(_image("PNG", mode="I;16"), ("PNG", "image/png", "I;16", False), id="png-16-bit"),
        pytest.param(_image("WEBP"), ("WEBP", "image/webp", "RGB", False), id="webp-lossy"),
        pytest.param(_image("WEBP", lossless=True), ("WEBP", "image/webp", "RGB", False), id="webp-lossless"),
        pytest.param(_image("WEBP", mode="RGBA"), ("WEBP", "image/webp", "RGBA", True), id="webp-alpha"),
        pytest.param(
            _image("WEBP", mode="RGBA", lossless=True),
            ("WEBP", "image/webp", "RGBA", True),
            id="webp-lossless-alpha",
        ),
        pytest.param(
            _image("WEBP", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"),
            ("WEBP", "image/webp", "RGB", False),
            id="webp-extended",
        ),
        pytest.param(_image("BMP"), ("BMP", "image/bmp", "RGB", False), id="bmp"),
        pytest.param(_image("BMP", mode="P"), ("BMP", "image/bmp", "L", False), id="bmp-8-bit"),
    ],
)
def test_supported_images_pass_with_their_facts(data: bytes, expected: tuple[str, str, str, bool]) -> None:
    # Given a 200x150 image in a supported format
    # When it is inspected
    facts, _ = _inspect(data)

    # Then the facts are right
    assert (facts.format, facts.mime, facts.mode, facts.has_alpha) == expected
    assert (facts.width, facts.height, facts.is_animated) == (200, 150, False)


@pytest.mark.parametrize("size", [(100, 100), (3000, 100), (100, 3000)])
def test_the_size_limits_are_inclusive(size: tuple[int, int]) -> None:
    # Given an image exactly at the limits
    data = _image("PNG", size)

    # When it is inspected
    facts, _ = _inspect(data)

    # Then it passes
    assert (facts.width, facts.height) == size


def test_validate_bytes_gives_the_same_facts_as_inspect_image() -> None:
    # Given an image in memory (base64 mode)
    data = _image("PNG", mode="RGBA")

    # When it is validated from memory and through a reader
    from_memory = validate_bytes(data)
    through_reader, _ = _inspect(data)

    # Then the facts agree
    assert from_memory == through_reader


def test_a_jpeg_with_2_mb_of_app_data_before_its_frame_header_passes() -> None:
    # Given a JPEG whose frame header (SOF) comes after 2 MB of APP segments
    data = _jpeg_with_app_data(2 * MIB)

    # When it is inspected
    facts, reader = _inspect(data)

    # Then the header is found by growing the read, and the size is right
    assert (facts.format, facts.width, facts.height) == ("JPEG", 640, 480)
    assert 2 * MIB < facts.bytes_read <= LIMITS.max_header_bytes + LIMITS.tail_bytes
    assert reader.largest_request() <= LIMITS.max_header_bytes


def test_a_header_beyond_the_read_cap_is_corrupt_and_costs_only_the_cap() -> None:
    # Given a JPEG whose frame header comes after 5 MB of APP segments (beyond the 4 MiB cap)
    data = _jpeg_with_app_data(5 * MIB)

    # When it is inspected
    rejection, reader = _rejection(data)

    # Then it is refused having read no more than the cap
    assert rejection.code == "corrupt_header"
    assert "not found in the first 4.0 MiB" in rejection.message
    assert reader.served == LIMITS.max_header_bytes


# -- every reason code ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        pytest.param(_image("PNG", (99, 99)), "image_too_small", "99×99 pixels", id="99x99"),
        pytest.param(
            _image("JPEG", (99, 240)), "image_too_small", "The image is 99×240 pixels; each side", id="99x240"
        ),
        pytest.param(_image("PNG", (3001, 10)), "image_too_small", "3001×10 pixels", id="3001x10"),
        pytest.param(
            _image("WEBP", (6000, 150)),
            "image_too_small",
            "its short side would be under 100",
            id="webp-40-to-1",
        ),
        pytest.param(_png_declaring(8000, 7000), "image_too_large", "56.0 megapixels", id="over-50-mp"),
        pytest.param(_png_declaring(50_000, 50_000), "image_too_large", "50000×50000", id="png-bomb"),
        pytest.param(
            b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please log in</body></html>",
            "unsupported_format",
            "an HTML",
            id="html-named-jpg",
        ),
        pytest.param(
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"/>',
            "unsupported_format",
            "an SVG",
            id="svg",
        ),
        pytest.param(_image("PDF"), "unsupported_format", "a PDF", id="pdf"),
        pytest.param(
            b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 300 300\nshowpage\n",
            "unsupported_format",
            "an EPS",
            id="eps",
        ),
        pytest.param(
            b"\x00\x00\x00\x18ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 200,
            "unsupported_format",
            "ISO media",
            id="quicktime",
        ),
        pytest.param(b"8BPS\x00\x01" + b"\x00" * 200, "unsupported_format", "a PSD", id="psd"),
        pytest.param(b"product: mug\nprice: 9.90\n" * 20, "not_an_image", "not an image", id="text"),
        pytest.param(b"\x00" * 5000, "not_an_image", "not an image", id="zeros"),
        pytest.param(random.Random(3).randbytes(5000), "not_an_image", "not an image", id="random"),
        pytest.param(_image("JPEG")[:-100], "truncated_image", "end-of-image marker", id="truncated-jpeg"),
        pytest.param(_image("PNG")[:-20], "truncated_image", "IEND", id="truncated-png"),
        pytest.param(_image("WEBP")[:-30], "truncated_image", "declares", id="truncated-webp"),
        pytest.param(_image("BMP")[:-600], "truncated_image", "declares", id="truncated-bmp"),
        pytest.param(
            _image("BMP")[:2] + b"\x00" * 4 + _image("BMP")[6:-600],
            "truncated_image",
            "pixel rows need",
            id="truncated-bmp-without-size-field",
        ),
        pytest.param(_animation("WEBP"), "animated_image", "an animated WebP", id="animated-webp"),
        pytest.param(_animation("PNG"), "animated_image", "an animated PNG with 3 frames", id="apng"),
        pytest.param(
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "corrupt_header", "starts like a PNG", id="corrupt-png"
        ),
        pytest.param(
            b"RIFF\x00\x01\x00\x00WEBPJUNK" + b"\x00" * 100, "corrupt_header", "a WebP", id="corrupt-webp"
        ),
        pytest.param(b"\xff\xd8\xff\xe0\x00", "corrupt_header", "a JPEG", id="jpeg-cut-in-its-header"),
    ],
)
def test_each_bad_input_is_rejected_with_its_code_and_a_sentence(data: bytes, code: str, words: str) -> None:
    # Given a bad input
    # When it is inspected
    rejection, _ = _rejection(data)

    # Then the reason code is stable and the sentence says what is wrong, without raw bytes
    assert rejection.code == code
    assert words in rejection.message
    assert "\\x" not in rejection.message
    assert rejection.message.endswith(".")


def test_a_4_channel_ycck_jpeg_is_accepted_for_normalisation() -> None:
    # Given a 4-channel JPEG with Adobe's YCCK transform (APP14 transform flag 2)
    cmyk = _image("JPEG", mode="CMYK")
    adobe_ycck = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x02"
    data = cmyk[:2] + adobe_ycck + cmyk[2:]

    # When it is inspected
    facts, _ = _inspect(data)

    # Then it passes as CMYK (normalisation converts it to sRGB before the API sees it)
    assert (facts.format, facts.mode) == ("JPEG", "CMYK")


@pytest.mark.parametrize(
    ("data", "image_format"),
    [
        pytest.param(_image("GIF", mode="P"), "GIF", id="gif"),
        pytest.param(_image("TIFF"), "TIFF", id="tiff"),
        pytest.param(_image("AVIF"), "AVIF", id="avif"),
    ],
)
def test_formats_without_a_ranged_header_are_accepted_for_normalisation(
    data: bytes, image_format: str
) -> None:
    # Given a GIF, TIFF or AVIF (their headers are checked on the whole object by normalisation)
    # When it is inspected
    facts, _ = _inspect(data)

    # Then only the format is known: the fast path cannot take it
    assert (facts.format, facts.header_read, facts.width) == (image_format, False, 0)


def test_a_jpeg_with_trailing_zero_padding_passes() -> None:
    # Given a JPEG padded with zeros after its end marker (some cameras do this)
    data = _image("JPEG") + b"\x00" * 100

    # When it is inspected
    facts, _ = _inspect(data)

    # Then it passes
    assert facts.format == "JPEG"


def test_the_empty_object_is_refused_without_reading() -> None:
    # Given an empty object
    reader = RecordingReader(b"")

    # When it is inspected
    with pytest.raises(ImageRejected) as caught:
        inspect_image(reader, 0)

    # Then it is refused and nothing was read
    assert caught.value.code == "empty_object"
    assert reader.calls == []


def test_an_object_over_the_size_cap_is_refused_without_reading() -> None:
    # Given an object of 25 MiB against a 20 MiB cap
    reader = RecordingReader(b"")

    # When it is inspected
    with pytest.raises(ImageRejected) as caught:
        inspect_image(reader, 25 * MIB, ImageLimits(max_object_bytes=20 * MIB))

    # Then it is refused with both sizes in the sentence, and nothing was read
    assert caught.value.code == "object_too_large"
    assert "25.0 MiB" in caught.value.message
    assert "20.0 MiB" in caught.value.message
    assert reader.calls == []


def test_a_huge_declared_size_never_warns_about_decompression_bombs(recwarn: pytest.WarningsRecorder) -> None:
    # Given a tiny PNG declaring 10000x10000 pixels (Pillow's Image.open would warn about a bomb)
    data = _png_declaring(10_000, 10_000)

    # When it is inspected
    rejection, reader = _rejection(data)

    # Then it is simply too large: no warning, no decode, a few bytes read
    assert rejection.code == "image_too_large"
    assert [warning for warning in recwarn if "DecompressionBomb" in warning.category.__name__] == []
    assert reader.served == len(data) < 200


# -- the rejection itself ----------------------------------------------------------------------


def test_a_rejection_has_the_dlq_error_shape() -> None:
    # Given a rejection
    rejection, _ = _rejection(_image("PNG", (99, 240)))

    # When it is turned into a DLQ error
    error = rejection.to_dict()

    # Then it has the keys of an engine error, is permanent, and names no API
    assert set(error) == set(PermanentEngineError("x").to_dict())
    assert error == {
        "code": "image_too_small",
        "message": "The image is 99×240 pixels; each side must be at least 100 pixels.",
        "retryable": False,
        "api_code": None,
        "api_message": None,
        "request_id": None,
    }
    assert rejection.rejection is RejectionCode.IMAGE_TOO_SMALL


def test_every_reason_code_is_stable() -> None:
    # Given / When the reason codes
    codes = {code.value for code in RejectionCode}

    # Then they are the documented ones (DLQ records and dashboards use them)
    assert codes == {
        "empty_object",
        "object_too_large",
        "not_an_image",
        "unsupported_format",
        "corrupt_header",
        "image_too_small",
        "image_too_large",
        "truncated_image",
        "animated_image",
        "unsupported_color_mode",
        "corrupt_color_profile",
        "corrupt_image",
    }


# -- how little is read ----------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_a_large_upload_costs_one_head_read_and_one_tail_read(image_format: str) -> None:
    # Given a 15 MB upload (a real header and ending around filler)
    data = _padded(_image(image_format, (2000, 1500)), 15_000_000)

    # When it is inspected
    facts, reader = _inspect(data)

    # Then only the 64 KiB head and a 256-byte suffix were asked for
    assert (facts.width, facts.height) == (2000, 1500)
    assert reader.calls == [(0, LIMITS.head_bytes - 1), (-LIMITS.tail_bytes, None)]
    assert facts.bytes_read == reader.served == LIMITS.head_bytes + LIMITS.tail_bytes


@pytest.mark.parametrize("image_format", ["WEBP", "BMP"])
def test_formats_that_declare_their_length_need_no_tail_read(image_format: str) -> None:
    # Given a large WebP or BMP
    data = _image(image_format, (800, 600), noisy=True)
    assert len(data) > LIMITS.head_bytes

    # When it is inspected
    facts, reader = _inspect(data)

    # Then only the head was read
    assert facts.format == image_format
    assert reader.calls == [(0, LIMITS.head_bytes - 1)]


def test_a_small_file_is_read_once() -> None:
    # Given an image smaller than the head read
    data = _image("JPEG")

    # When it is inspected
    facts, reader = _inspect(data)

    # Then the single read covered the whole file, tail included
    assert reader.calls == [(0, len(data) - 1)]
    assert facts.bytes_read == len(data)


def test_a_reader_that_returns_too_much_is_trimmed_to_what_was_asked() -> None:
    # Given a reader that ignores the range and returns the whole 15 MB object
    data = _padded(_image("PNG", (400, 300)), 15_000_000)

    def careless_reader(start: int, end: int | None) -> bytes:
        return data

    # When an image is inspected through it
    facts = inspect_image(careless_reader, len(data))

    # Then the result is still right (the extra bytes are not parsed)
    assert (facts.width, facts.height) == (400, 300)


def test_a_corrupt_header_inside_the_head_is_not_read_further() -> None:
    # Given a large PNG whose first chunk is broken (a bad CRC) right at the start
    png = _image("PNG", (400, 300))
    data = _padded(png[:29] + b"\x00\x00\x00\x00" + png[33:], 10_000_000)

    # When it is inspected
    rejection, reader = _rejection(data)

    # Then it is corrupt, decided from the head alone
    assert rejection.code == "corrupt_header"
    assert reader.calls == [(0, LIMITS.head_bytes - 1)]


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param({"head_bytes": 8 * MIB}, id="head-over-cap"),
        pytest.param({"min_side": 0}, id="zero-min-side"),
        pytest.param({"min_side": 500, "max_side": 400}, id="min-over-max"),
        pytest.param({"tail_bytes": 4}, id="tail-too-small"),
        pytest.param({"max_object_bytes": 0}, id="no-size"),
    ],
)
def test_inconsistent_limits_are_refused(limits: dict[str, int]) -> None:
    # Given / When limits that contradict themselves / Then they are refused at once
    with pytest.raises(ValueError, match=r"must|need"):
        ImageLimits(**limits)


def test_a_heic_in_a_build_without_pillow_heif_is_refused_saying_how_to_enable_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a real HEIC (pillow-heif's encoder) and a layer built with CUTOUT_HEIC=0
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    data = _image("HEIF", (400, 300))
    from cutout.pixels import codecs

    monkeypatch.setattr(codecs, "_heif_state", [False])

    # When it is inspected
    rejection, _ = _rejection(data)

    # Then it is an unsupported format, and the sentence says how to enable HEIC
    assert rejection.code == "unsupported_format"
    assert "CUTOUT_HEIC=1" in rejection.message


def test_a_heic_is_accepted_for_normalisation_when_pillow_heif_is_there() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    facts, _ = _inspect(_image("HEIF", (400, 300)))
    assert (facts.format, facts.header_read) == ("HEIC", False)
