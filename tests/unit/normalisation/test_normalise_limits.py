"""normalise's limits and reasons from both sides: the TIFF page-directory chain, the reason a
damaged file gets, the sentence of a too-large one, and the encoded size cap with its fallbacks.

A TIFF whose page directories (IFDs) loop is refused (rule 4: a clear reason; Pillow would stop at
the loop silently); every step of the walk is checked at its edge, in both byte orders.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import random
import struct
from pathlib import Path

import pytest
from PIL import Image

from cutout.normalisation.normalise import (
    MAX_ENCODED_BYTES,
    NormalisationReport,
    NormalisedImage,
    _too_large,
    _undecodable,
    normalise,
    tiff_ifds_loop,
)
from cutout.pixels import PixelBudget, working_set
from cutout.validation import ImageLimits, ImageRejected
from tests.fakes import png_declaring, tiff_with_an_ifd_loop
from tests.icc_profiles import DISPLAY_P3, rgb_profile

BUDGET = PixelBudget.for_memory(1024)
# the module (the package exports its function under the same name)
normalise_module = importlib.import_module("cutout.normalisation.normalise")


def _tiff(order: str, ifds: list[tuple[int, int | None]], *, first: int | None = None) -> bytes:
    """A classic TIFF header then one IFD per ``(entries, next)``: ``next`` is the index of the
    IFD it points to (``None``: the chain ends), each IFD laid right after the previous one."""
    mark = b"II*\x00" if order == "<" else b"MM\x00*"
    offsets, at = [], 8
    for entries, _ in ifds:
        offsets.append(at)
        at += 2 + 12 * entries + 4
    body = b""
    for entries, target in ifds:
        pointer = 0 if target is None else offsets[target]
        body += (
            struct.pack(order + "H", entries) + b"\x00" * (12 * entries) + struct.pack(order + "I", pointer)
        )
    start = offsets[0] if first is None else first
    return mark + struct.pack(order + "I", start) + body


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize(
    ("ifds", "loops"),
    [
        ([(0, None)], False),
        ([(1, None)], False),
        ([(0, 0)], True),  # one page pointing at itself
        ([(1, 0)], True),
        ([(2, 1), (3, 0)], True),  # the second page points back to the first
        ([(2, 1), (3, 1)], True),  # ... or to itself
        ([(2, 1), (3, 2), (1, None)], False),  # a three-page chain that ends
        ([(2, 1), (3, 2), (1, 0)], True),
    ],
)
def test_a_tiff_whose_page_directories_loop_is_found_in_either_byte_order(
    order: str, ifds: list[tuple[int, int | None]], loops: bool
) -> None:
    # Given a TIFF whose chain of page directories ends, or comes back to one it visited
    data = _tiff(order, ifds)
    # When its chain is walked
    # Then a loop is found, and only a loop
    assert tiff_ifds_loop(data) is loops


@pytest.mark.parametrize(("max_pages", "found"), [(2, False), (3, False), (4, True), (10_000, True)])
def test_the_walk_stops_after_max_pages_directories(max_pages: int, found: bool) -> None:
    # Given three pages, the third pointing back to the first (the loop is seen at the 4th step)
    data = _tiff("<", [(0, 1), (0, 2), (0, 0)])
    # When it is walked with a page cap
    # Then the loop is found only if the cap lets the walk reach it
    assert tiff_ifds_loop(data, max_pages=max_pages) is found


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("cut", [0, 1, 3, 4])
def test_a_directory_cut_off_by_the_end_of_the_file_is_no_loop(order: str, cut: int) -> None:
    # Given a one-page loop whose last `cut` bytes (its pointer back) are missing
    whole = _tiff(order, [(1, 0)])
    data = whole[: len(whole) - cut]
    # When it is walked
    # Then only the whole file loops; a cut one is left to Pillow's own checks, without an error here
    assert tiff_ifds_loop(data) is (cut == 0)


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize(("first", "found"), [(0, False), (7, False), (8, True), (100, False)])
def test_the_first_directory_is_where_the_header_points(order: str, first: int, found: bool) -> None:
    # Given a one-page loop, the header pointing at it (8), nowhere (0), at its last byte (7:
    # one byte left to read a two-byte count) or past the end (100)
    ifd = _tiff(order, [(0, 0)])[8:]
    data = _tiff(order, [(0, 0)], first=first)[:8] + ifd
    if first == 7:  # the IFD's count would start at the very last byte
        data = data[:8]
    # When it is walked
    # Then only a pointer into the file can start a loop, and a short read is no error
    assert tiff_ifds_loop(data) is found


@pytest.mark.parametrize(
    ("data", "loops"),
    [
        (b"", False),
        (b"II*\x00\x08\x00\x00", False),  # 7 bytes: no room for the first pointer
        (b"II*\x00\x00\x00\x00\x00", False),  # 8 bytes, no directory
        (b"II+\x00\x08\x00\x00\x00" + b"\x00\x00\x08\x00\x00\x00", False),  # BigTIFF: Pillow checks it
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, False),
        (b"IM*\x00\x08\x00\x00\x00\x00\x00\x08\x00\x00\x00", False),  # a mixed byte-order mark
    ],
)
def test_only_a_classic_tiff_is_walked(data: bytes, loops: bool) -> None:
    # Given bytes too short for a TIFF header, or another format's
    # When they are checked for a loop
    # Then nothing is found and nothing is raised
    assert tiff_ifds_loop(data) is loops


def test_a_last_byte_pointer_is_read_without_an_error() -> None:
    # Given a directory pointer to the file's very last byte (one byte where a count needs two)
    data = b"II*\x00" + struct.pack("<I", 9) + b"\x00\x00"
    # When it is walked
    # Then it is no loop (and no struct error escapes)
    assert tiff_ifds_loop(data) is False
    assert tiff_ifds_loop(data[:9] + b"\x00" * 0) is False


def test_a_tiff_whose_pages_loop_is_refused_with_its_reason() -> None:
    # Given a real two-page TIFF, and the same whose second page points back to the first
    whole, looped = tiff_with_an_ifd_loop(128)
    # When each is normalised
    fine = normalise(whole, BUDGET)
    with pytest.raises(ImageRejected) as raised:
        normalise(looped, BUDGET)
    # Then the looping one is refused as a damaged header, the other gives its first page
    assert (fine.report.source_format, fine.report.width) == ("TIFF", 128)
    assert raised.value.code == "corrupt_header"
    assert "loops back on itself" in raised.value.message


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (EOFError(), "truncated_image"),
        (EOFError("whatever it says"), "truncated_image"),
        (OSError("image file is truncated (3 bytes not processed)"), "truncated_image"),
        (OSError("Truncated File Read"), "truncated_image"),
        (ValueError("unexpected end of file"), "truncated_image"),
        (SyntaxError("premature end of data segment"), "truncated_image"),
        (OSError("broken data stream when reading image file"), "corrupt_image"),
        (ValueError("end of something"), "corrupt_image"),
        (struct.error("unpack requires a buffer of 4 bytes"), "corrupt_image"),
    ],
)
def test_a_damaged_files_reason_says_cut_off_or_damaged(error: BaseException, code: str) -> None:
    # Given the error a decoder raised for a file whose header was valid
    # When it is turned into a reason
    rejected = _undecodable("PNG", error)
    # Then a file that ends early is "truncated" (the upload was cut off), anything else "corrupt",
    # and the sentence names the format
    assert rejected.code == code
    assert "The PNG file" in rejected.message
    assert rejected.message.endswith(".")


@pytest.mark.parametrize(
    ("data", "code", "sentence"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "corrupt_header", "The file starts like a PNG but no decoder"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "corrupt_header", "The file starts like a JPEG but no decoder"),
        (b"\x00\x00\x00\x1cftypavif" + b"\x00" * 64, "corrupt_header", "The file starts like an AVIF but no"),
        (b"II*\x00" + b"\x00" * 64, "corrupt_header", "The file starts like a TIFF but no decoder"),
        (b"GIF89a" + b"\x00" * 64, "corrupt_header", "The file starts like a GIF but no decoder"),
        # a header a decoder starts on and then chokes on (not "unidentified"): the same reason
        (
            b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64,
            "corrupt_header",
            "The file starts like a WebP but no",
        ),
        # what is no image, or no supported one, is named as such, never "a damaged image"
        (b"hello world" * 8, "not_an_image", "The file is not an image"),
        (b"%PDF-1.4\n" + b"\x00" * 64, "unsupported_format", "The file is a PDF, which is not supported"),
    ],
)
def test_an_unreadable_header_names_what_the_file_starts_like(data: bytes, code: str, sentence: str) -> None:
    # Given bytes no decoder can read: the start of an image, of no image, of an unsupported format
    # When they are normalised
    with pytest.raises(ImageRejected) as raised:
        normalise(data, BUDGET)
    # Then the reason says what the file looked like, with its article
    assert raised.value.code == code
    assert raised.value.message.startswith(sentence)
    assert raised.value.message.endswith(".")


def _noise(size: tuple[int, int], mode: str) -> Image.Image:
    return Image.frombytes(
        mode, size, bytes((i * 7919 + (i >> 3) * 104729) % 251 for i in range(size[0] * size[1] * len(mode)))
    )


@pytest.mark.parametrize(
    ("cap", "qualities"),
    [
        (10**9, ["q92"]),  # fits at once
        (1, ["q92", "q85", "q75"]),  # never fits: the last fallback is sent
    ],
)
def test_a_jpeg_over_the_size_cap_is_encoded_again_at_each_fallback_quality(
    monkeypatch: pytest.MonkeyPatch, cap: int, qualities: list[str]
) -> None:
    # Given an opaque photo and an encoded-size cap
    monkeypatch.setattr(normalise_module, "MAX_ENCODED_BYTES", cap)
    buffer = io.BytesIO()
    _noise((300, 200), "RGB").save(buffer, "PNG")
    # When it is normalised
    result = normalise(buffer.getvalue(), BUDGET)
    # Then it is re-encoded at 85 then 75 only while over the cap
    encodes = [step.rsplit(" ", 1)[1] for step in result.report.steps if step.startswith("encode JPEG")]
    assert encodes == qualities
    assert result.content_type == "image/jpeg"


@pytest.mark.parametrize(("over", "qualities"), [(0, ["q92", "q85"]), (1, ["q92", "q85", "q75"])])
def test_a_jpeg_that_fits_at_the_first_fallback_stops_there(
    monkeypatch: pytest.MonkeyPatch, over: int, qualities: list[str]
) -> None:
    # Given a photo whose quality-85 encoding is exactly at the cap, or one byte over it
    buffer = io.BytesIO()
    _noise((300, 200), "RGB").save(buffer, "PNG")
    at_85 = len(normalise(buffer.getvalue(), BUDGET, jpeg_quality=85).data)
    assert len(normalise(buffer.getvalue(), BUDGET).data) > at_85
    monkeypatch.setattr(normalise_module, "MAX_ENCODED_BYTES", at_85 - over)
    # When it is normalised
    result = normalise(buffer.getvalue(), BUDGET)
    # Then at the cap the 85 encoding is sent and 75 never tried; one byte over, 75 is
    encodes = [step.rsplit(" ", 1)[1] for step in result.report.steps if step.startswith("encode JPEG")]
    assert encodes == qualities


@pytest.mark.parametrize(("cap", "side"), [(10**9, 400), (1, 163)])
def test_a_png_over_the_size_cap_shrinks_by_a_fifth_until_it_fits_or_reaches_200(
    monkeypatch: pytest.MonkeyPatch, cap: int, side: int
) -> None:
    # Given a cut-out (transparent) 400 x 400 image and an encoded-size cap
    monkeypatch.setattr(normalise_module, "MAX_ENCODED_BYTES", cap)
    image = _noise((400, 400), "RGBA")
    alpha = Image.new("L", (400, 400), 255)
    alpha.paste(0, (0, 0, 100, 100))
    image.putalpha(alpha)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    # When it is normalised
    result = normalise(buffer.getvalue(), BUDGET)
    # Then it stays a PNG, shrunk 400 -> 320 -> 256 -> 204 -> 163 (the first side not over 200
    # stops it), and its report gives the size that is sent
    sent = Image.open(io.BytesIO(result.data))
    assert result.content_type == "image/png"
    assert sent.size == (side, side)
    assert sent.mode == "RGBA"
    assert (result.report.width, result.report.height) == (side, side)
    assert result.report.scale_factor == round(side / 400, 4)
    assert result.extension == ".png"


def test_the_file_extension_follows_the_content_type() -> None:
    # Given a PNG and a JPEG result
    report = NormalisationReport("PNG", 1, 1, 1, "none", 1.0, 1, 1, 1, 0)
    # When their extension is read
    # Then it matches what the bytes are
    assert NormalisedImage(b"", "image/png", report, None).extension == ".png"
    assert NormalisedImage(b"", "image/jpeg", report, None).extension == ".jpg"


@pytest.mark.parametrize(("side", "sent"), [(250, 200), (201, 160), (200, 200), (199, 199)])
def test_a_png_that_never_fits_stops_shrinking_at_200_pixels(
    monkeypatch: pytest.MonkeyPatch, side: int, sent: int
) -> None:
    # Given a cut-out whose PNG can never fit the cap, on each side of the 200-pixel floor
    monkeypatch.setattr(normalise_module, "MAX_ENCODED_BYTES", 1)
    # When it is normalised
    result = normalise(_cutout_png(side), BUDGET)
    # Then it is shrunk by a fifth only while its long side is over 200 (250 -> 200 stops; 201 -> 160)
    assert Image.open(io.BytesIO(result.data)).size == (sent, sent)
    assert result.report.width == sent


@pytest.mark.parametrize(("below_cap", "sent"), [(0, 400), (-1, 320)])
def test_a_png_exactly_at_the_size_cap_is_sent_as_it_is(
    monkeypatch: pytest.MonkeyPatch, below_cap: int, sent: int
) -> None:
    # Given a cut-out whose PNG is exactly at the cap, or one byte over it
    data = _cutout_png(400)
    size = len(normalise(data, BUDGET).data)
    monkeypatch.setattr(normalise_module, "MAX_ENCODED_BYTES", size + below_cap)
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then at the cap it is sent whole; one byte over, it is shrunk by a fifth
    assert (result.report.width, result.report.height) == (sent, sent)


def _cutout_png(side: int) -> bytes:
    """A cut-out of random pixels (whose PNG shrinks with its side) with a transparent corner."""
    image = Image.frombytes("RGBA", (side, side), random.Random(side).randbytes(side * side * 4))
    alpha = Image.new("L", (side, side), 255)
    alpha.paste(0, (0, 0, side // 4, side // 4))
    image.putalpha(alpha)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("profile", ["Display P3", "wide gamut RGB"])  # sorting before and after "none"
def test_an_opaque_alpha_channel_dropped_with_a_colour_conversion_reports_the_conversion(
    profile: str,
) -> None:
    # Given an RGBA PNG whose alpha is opaque everywhere, in a wide-gamut colour space
    buffer = io.BytesIO()
    _noise((160, 120), "RGB").convert("RGBA").save(
        buffer, "PNG", icc_profile=rgb_profile(profile, DISPLAY_P3)
    )
    # When it is normalised
    result = normalise(buffer.getvalue(), BUDGET)
    # Then it is an opaque JPEG, and the report keeps the conversion (the more telling of the two)
    assert (result.content_type, result.alpha) == ("image/jpeg", None)
    assert result.report.colour_conversion == f"{profile} -> sRGB"


def test_an_opaque_alpha_channel_dropped_is_reported() -> None:
    # Given an RGBA PNG whose alpha is opaque everywhere, with no colour profile
    buffer = io.BytesIO()
    _noise((160, 120), "RGB").convert("RGBA").save(buffer, "PNG")
    # When it is normalised
    result = normalise(buffer.getvalue(), BUDGET)
    # Then it is sent as an opaque JPEG, and the report says the alpha was dropped
    assert result.content_type == "image/jpeg"
    assert result.alpha is None
    assert result.report.colour_conversion == "opaque alpha dropped"


@pytest.mark.parametrize(
    ("max_pixels", "said"), [(50_000_000, "is 50 megapixels."), (1_500_000, "is 1.5 megapixels.")]
)
def test_a_decompression_bomb_is_refused_with_the_ceiling_in_megapixels(max_pixels: int, said: str) -> None:
    # Given a PNG whose header declares 200 MP (Pillow refuses to open it) and a pixel ceiling
    data = png_declaring(20_000, 10_000)
    # When it is normalised
    with pytest.raises(ImageRejected) as raised:
        normalise(data, BUDGET, ImageLimits(max_source_pixels=max_pixels))
    # Then it is too large, and the sentence gives the ceiling in megapixels
    assert raised.value.code == "image_too_large"
    assert raised.value.message.endswith(f"the largest accepted {said}")


def test_a_bomb_found_while_decoding_names_its_declared_size() -> None:
    # Given the size a header declared, found too large only when its pixels were decoded
    # When the reason is written
    rejected = _too_large((20_000, 10_000), ImageLimits())
    # Then it names that size and the ceiling
    assert rejected.code == "image_too_large"
    assert "safely (20000×10000 pixels); the largest accepted is 50 megapixels." in rejected.message


@pytest.mark.parametrize(
    "damaged_tail",
    [
        pytest.param(b",\x00\x00\x00\x00\x78", id="second-frame-descriptor-cut-off"),
        pytest.param(b"!\xf9\x04", id="second-frame-extension-cut-off"),
    ],
)
def test_a_gif_whose_second_frame_is_damaged_is_sent_from_its_first(damaged_tail: bytes) -> None:
    # Given a one-frame GIF followed by the damaged start of a second frame (Pillow raises while
    # counting its frames)
    buffer = io.BytesIO()
    Image.new("P", (120, 120), 3).save(buffer, "GIF")
    data = buffer.getvalue()[:-1] + damaged_tail
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then it is no animation: its first frame is what is sent
    assert (result.report.source_format, result.report.width, result.report.height) == ("GIF", 120, 120)
    assert result.content_type == "image/jpeg"


@pytest.mark.parametrize(("pages", "found"), [(9_999, True), (10_000, False)])
def test_a_loop_is_looked_for_through_10000_pages(pages: int, found: bool) -> None:
    # Given a chain of empty page directories whose last points back to the first
    data = _tiff("<", [(0, index + 1) for index in range(pages - 1)] + [(0, 0)])
    # When it is walked with the default cap
    # Then a loop closing within 10,000 pages is found; a longer chain is left to Pillow
    assert tiff_ifds_loop(data) is found


def test_the_encoded_size_cap_is_the_documented_8_mib() -> None:
    # Given the size cap of what is sent to the vendor, and the inputs page that states it
    inputs = (Path(__file__).resolve().parents[3] / "docs" / "inputs.md").read_text(encoding="utf-8")
    # Then they say the same: 8 MiB
    assert MAX_ENCODED_BYTES == 8 * 1024 * 1024
    assert "at most 8 MiB" in inputs


@pytest.mark.parametrize(("image_format", "reduction"), [("JPEG", 2), ("PNG", 1), ("GIF", 1)])
def test_the_memory_reserved_counts_the_jpeg_decoders_reduction_only_for_a_jpeg(
    image_format: str, reduction: int
) -> None:
    # Given a 6000 x 400 image: a JPEG is decoded at half size, any other format whole
    buffer = io.BytesIO()
    Image.new("RGB" if image_format == "JPEG" else "L", (6_000, 400), 128).save(buffer, image_format)
    data = buffer.getvalue()
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then the budget held the working set of that decode (a JPEG's reduced, the others' not)
    assert result.report.reserved_bytes == working_set(6_000, 400, compressed=len(data), reduction=reduction)
    assert result.report.decoder_reduction == reduction


@pytest.mark.parametrize(
    ("mode", "image_format", "refused"),
    [
        ("F", "TIFF", True),  # 32-bit float samples: no mapping to sRGB
        ("I", "TIFF", True),  # 32-bit integer samples
        ("I;16", "TIFF", False),  # 16-bit grey: scaled to 8 bits
        ("I;16", "PNG", False),
        ("L", "TIFF", False),
    ],
)
def test_32_bit_samples_are_refused_before_decoding_and_16_bit_ones_are_scaled(
    mode: str, image_format: str, refused: bool
) -> None:
    # Given a grey image stored with 32-bit, 16-bit or 8-bit samples
    buffer = io.BytesIO()
    Image.new(mode, (200, 150), 7).save(buffer, image_format)
    # When it is normalised
    if refused:
        with pytest.raises(ImageRejected) as raised:
            normalise(buffer.getvalue(), BUDGET)
        # Then 32-bit samples are refused with their reason
        assert raised.value.code == "unsupported_color_mode"
        assert f"stores {mode} samples" in raised.value.message
    else:
        # Then the others become 8-bit grey
        result = normalise(buffer.getvalue(), BUDGET)
        assert Image.open(io.BytesIO(result.data)).mode == "L"


@pytest.mark.parametrize("progressive", [False, True])
def test_a_progressive_jpeg_reserves_its_full_size_coefficients(progressive: bool) -> None:
    # Given a 6000 x 400 JPEG, baseline or progressive (whose decoder keeps every coefficient)
    buffer = io.BytesIO()
    Image.new("RGB", (6_000, 400), 128).save(buffer, "JPEG", progressive=progressive)
    data = buffer.getvalue()
    # When it is normalised
    result = normalise(data, BUDGET)
    # Then the reservation counts the coefficients only for the progressive one
    expected = working_set(6_000, 400, compressed=len(data), reduction=2, progressive=progressive)
    assert result.report.reserved_bytes == expected
    baseline = working_set(6_000, 400, compressed=len(data), reduction=2)
    assert (expected > baseline) is progressive


@pytest.mark.parametrize(
    ("long_side", "scale"), [(3_001, 0.9997), (7_001, 0.4285), (3_000, 1.0), (2_000, 1.0)]
)
def test_the_scale_factor_is_rounded_to_four_decimals(long_side: int, scale: float) -> None:
    # Given an image whose long side is scaled to 3000 pixels (or kept)
    buffer = io.BytesIO()
    Image.new("L", (long_side, 300), 90).save(buffer, "PNG")
    # When it is normalised
    result = normalise(buffer.getvalue(), BUDGET)
    # Then its report gives the scale to four decimals (what goes into the output's metadata)
    assert result.report.scale_factor == scale


def test_the_image_bytes_never_appear_in_a_repr() -> None:
    # Given a normalised image (a repr may end up in a log line)
    buffer = io.BytesIO()
    Image.new("RGB", (200, 150), 90).save(buffer, "PNG")
    result = normalise(buffer.getvalue(), BUDGET)
    # When it is written out with repr()
    text = repr(result)
    # Then its bytes are not in it, only what it is
    assert "\\xff\\xd8" not in text
    assert "data=" not in text
    assert "content_type='image/jpeg'" in text


@pytest.mark.parametrize(
    ("profile", "refused"),
    [
        (b"\x00\x00\x02\x00lcms" + b"\x07" * 500, True),  # not a readable ICC profile
        (None, False),
    ],
)
def test_a_corrupt_colour_profile_is_refused_from_the_header_before_any_decode(
    profile: bytes | None, refused: bool
) -> None:
    # Given a JPEG whose embedded colour profile cannot be read, and one with none
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), 90).save(buffer, "JPEG", **({"icc_profile": profile} if profile else {}))
    budget = PixelBudget(64 * 1024 * 1024)
    # When it is normalised
    if refused:
        with pytest.raises(ImageRejected) as raised:
            normalise(buffer.getvalue(), budget)
        # Then it is refused with its reason, and no pixel job ever ran (a header parse, no decode)
        assert raised.value.code == "corrupt_color_profile"
        assert "cannot be read" in raised.value.message
        assert budget.usage().jobs == 0
    else:
        normalise(buffer.getvalue(), budget)
        assert budget.usage().jobs == 1


def test_a_normalised_image_cannot_be_altered() -> None:
    # Given an image normalised for the vendor
    buffer = io.BytesIO()
    Image.new("RGB", (200, 150), 90).save(buffer, "PNG")
    result = normalise(buffer.getvalue(), BUDGET)
    # When its bytes or report are replaced afterwards, Then that is refused (what was checked is sent)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.data = b"other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.report.width = 1  # type: ignore[misc]


def test_the_jpeg_quality_is_passed_by_name_only() -> None:
    # Given an image and a quality, When the quality is passed by position (where limits go),
    # Then it is refused: a quality is never taken for the limits, or the other way round
    buffer = io.BytesIO()
    Image.new("RGB", (200, 150), 90).save(buffer, "PNG")
    with pytest.raises(TypeError):
        normalise(buffer.getvalue(), BUDGET, None, 80)  # type: ignore[misc]
