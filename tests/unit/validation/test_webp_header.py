"""The WebP header read from its first 30 bytes agrees with libwebp on every encoding, size and flag."""

from __future__ import annotations

import dataclasses
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cutout.validation import ImageRejected, validate_bytes
from cutout.validation.webp import WEBP_HEADER_BYTES, WebPHeaderError, read_webp_header

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENCODINGS = {
    "lossy": {"quality": 80},
    "lossless": {"lossless": True},
}


def _webp(size: tuple[int, int], mode: str, **save: object) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert(mode)
    if mode == "RGBA":
        image.putalpha(Image.new("L", size, 128))  # half transparent: an encoder cannot drop it
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", **save)
    return buffer.getvalue()


@PROPERTY
@given(
    width=st.integers(1, 400),
    height=st.integers(1, 400),
    encoding=st.sampled_from(sorted(ENCODINGS)),
    alpha=st.booleans(),
    exif=st.booleans(),
)
def test_the_header_says_what_libwebp_decodes(
    width: int, height: int, encoding: str, alpha: bool, exif: bool
) -> None:
    # Given a WebP of any size, lossy or lossless, with or without alpha and EXIF
    save: dict[str, object] = dict(ENCODINGS[encoding])
    if exif:
        save["exif"] = Image.Exif().tobytes() + b"\x00" * 8
    data = _webp((width, height), "RGBA" if alpha else "RGB", **save)
    # When its first 30 bytes are read (the documented contract: 30, whatever the constant says)
    assert WEBP_HEADER_BYTES == 30
    header = read_webp_header(data[:30])
    # Then size, alpha, animation, metadata and the declared length agree with the file and libwebp
    with Image.open(io.BytesIO(data)) as decoded:
        assert (header.width, header.height) == decoded.size == (width, height)
        assert header.has_alpha == (decoded.mode == "RGBA")
    assert header.has_alpha == alpha
    assert header.mode == ("RGBA" if alpha else "RGB")
    assert not header.is_animated
    assert header.has_metadata == exif
    assert not header.has_icc
    assert header.riff_size + 8 == len(data)
    # and a longer prefix (validation passes its 64 KiB head) reads the same header
    assert read_webp_header(data) == header


def test_an_icc_profile_and_an_animation_are_flagged() -> None:
    # Given a WebP with an ICC profile, and an animated one
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with_icc = _webp((120, 100), "RGB", quality=80, icc_profile=srgb)
    frames = [Image.new("RGB", (120, 100), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    # When their headers are read
    icc_header = read_webp_header(with_icc[:WEBP_HEADER_BYTES])
    animated_header = read_webp_header(buffer.getvalue()[:WEBP_HEADER_BYTES])
    # Then the flags say so
    assert (icc_header.has_icc, icc_header.is_animated, icc_header.has_metadata) == (True, False, False)
    assert (animated_header.is_animated, animated_header.width, animated_header.height) == (True, 120, 100)


@pytest.mark.parametrize(
    ("damage", "where"),
    [
        (lambda d: d[:29], "29 bytes"),
        (lambda d: b"RIFX" + d[4:], "not RIFF, above"),
        (lambda d: b"RIFA" + d[4:], "not RIFF, below"),
        (lambda d: d[:8] + b"WEBQ" + d[12:], "not WEBP, above"),
        (lambda d: d[:8] + b"WEBA" + d[12:], "not WEBP, below"),
        (lambda d: d[:12] + b"VP9 " + d[16:], "unknown chunk, above"),
        (lambda d: d[:12] + b"VP7 " + d[16:], "unknown chunk, below"),
        (lambda d: d[:12] + b"VP9L" + d[16:], "unknown chunk, a VP8L body"),
    ],
)
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_a_damaged_container_is_refused(damage: object, where: str, encoding: str) -> None:
    # Given a lossy or lossless WebP damaged in one place
    data = _webp((120, 100), "RGB", **ENCODINGS[encoding])
    # When its header is read
    # Then it is refused as malformed
    with pytest.raises(WebPHeaderError):
        read_webp_header(damage(data)[:WEBP_HEADER_BYTES])  # type: ignore[operator]


@pytest.mark.parametrize("value", [0x00, 0xFF])
@pytest.mark.parametrize(("encoding", "offset"), [("lossy", 23), ("lossless", 20)])
def test_a_bad_signature_is_refused(encoding: str, offset: int, value: int) -> None:
    # Given a VP8 key frame without its start code, or a VP8L without its signature byte (a byte
    # below or above the right one)
    data = bytearray(_webp((120, 100), "RGB", **ENCODINGS[encoding]))
    data[offset] = value
    # When its header is read
    # Then it is refused
    with pytest.raises(WebPHeaderError):
        read_webp_header(bytes(data[:WEBP_HEADER_BYTES]))


def test_xmp_alone_counts_as_metadata() -> None:
    # Given a WebP carrying XMP and no EXIF
    data = _webp((120, 100), "RGB", quality=80, xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    # When its header is read
    header = read_webp_header(data[:WEBP_HEADER_BYTES])
    # Then it is flagged as carrying metadata (it must not go to the vendor unchecked)
    assert header.has_metadata
    assert not header.has_icc


@pytest.mark.parametrize("scale", [1, 2, 3])
def test_a_lossy_frame_s_scaling_bits_are_not_part_of_its_size(scale: int) -> None:
    # Given a lossy (VP8) WebP whose frame header asks for upscaling (the top two bits of each
    # 16-bit dimension: decoders ignore them and decode the stored size)
    data = bytearray(_webp((120, 100), "RGB", quality=80))
    for offset in (27, 29):  # the high bytes of width and height
        data[offset] |= scale << 6
    # When its header is read
    header = read_webp_header(bytes(data[:WEBP_HEADER_BYTES]))
    # Then the size is the stored one
    assert (header.width, header.height) == (120, 100)


def test_reserved_vp8x_flag_bits_are_ignored() -> None:
    # Given an extended (VP8X) WebP with EXIF, whose reserved flag bits are set (RFC 9649: readers
    # ignore them)
    data = bytearray(_webp((120, 100), "RGB", quality=80, exif=Image.Exif().tobytes() + b"\x00" * 8))
    assert data[12:16] == b"VP8X"
    data[20] |= 0x01 | 0x40 | 0x80
    # When its header is read
    header = read_webp_header(bytes(data[:30]))
    # Then only the defined flags count: EXIF, no animation, no ICC, no alpha
    assert (header.has_metadata, header.is_animated, header.has_icc, header.has_alpha) == (
        True,
        False,
        False,
        False,
    )


def test_reserved_bits_do_not_make_an_icc_only_header_carry_metadata() -> None:
    # Given an extended WebP with only an ICC profile, whose reserved flag bits are set
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = bytearray(_webp((120, 100), "RGB", quality=80, icc_profile=srgb))
    data[20] |= 0x01 | 0x40 | 0x80
    # When its header is read
    header = read_webp_header(bytes(data[:30]))
    # Then it has an ICC profile and nothing else
    assert (header.has_icc, header.has_metadata, header.is_animated, header.has_alpha) == (
        True,
        False,
        False,
        False,
    )


def test_a_header_cannot_be_changed_once_read() -> None:
    # Given a header read from a file
    header = read_webp_header(_webp((120, 100), "RGB", quality=80)[:30])
    # When a field is assigned
    # Then it is refused: the facts validation checked are the ones normalisation uses
    with pytest.raises(dataclasses.FrozenInstanceError):
        header.width = 1  # type: ignore[misc]


def _extended() -> bytearray:
    data = bytearray(_webp((120, 100), "RGB", quality=80, exif=Image.Exif().tobytes() + b"\x00" * 8))
    assert data[12:16] == b"VP8X"
    return data


@pytest.mark.parametrize(
    ("width", "height"), [(70_000, 80_000), (16_777_216, 1), (1, 16_777_216), (65_536, 65_537)]
)
def test_an_extended_canvas_is_read_on_all_24_bits(width: int, height: int) -> None:
    # Given an extended (VP8X) header declaring a canvas far beyond 16 bits a side (a bomb's header)
    data = _extended()
    data[24:27] = (width - 1).to_bytes(3, "little")
    data[27:30] = (height - 1).to_bytes(3, "little")
    # When its header is read, and the file validated
    header = read_webp_header(bytes(data[:30]))
    with pytest.raises(ImageRejected) as rejected:
        validate_bytes(bytes(data))
    # Then the whole declared size is seen, and the image is refused before any decode
    assert (header.width, header.height) == (width, height)
    assert rejected.value.code in ("image_too_large", "image_too_small")


def test_the_declared_riff_size_is_read_on_all_32_bits() -> None:
    # Given a WebP whose RIFF header declares more than 16 MiB
    data = _extended()
    declared = 0x01000000 + len(data) - 8
    data[4:8] = declared.to_bytes(4, "little")
    # When its header is read, and the file validated
    header = read_webp_header(bytes(data[:30]))
    with pytest.raises(ImageRejected) as rejected:
        validate_bytes(bytes(data))
    # Then the declared size is the whole field, and the file is seen as cut off
    assert header.riff_size == declared
    assert rejected.value.code == "truncated_image"
