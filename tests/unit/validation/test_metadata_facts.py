"""What the header says about metadata (rule 5: nothing personal goes to the vendor as it is).

An input goes to the vendor untouched only when it carries no metadata at all, so every place a
file can hold a name, a place, a device or a time must count: EXIF and XMP, a JPEG's or GIF's
comment, a JPEG's IPTC block, a PNG's text chunks (ImageMagick keeps a whole EXIF block in one,
and writes its dates after the image data). The orientation must be an integer 1-8 to count as
known; anything else is "not provably upright".
"""

from __future__ import annotations

import dataclasses
import io
import struct
import warnings
from collections.abc import Iterator

import pytest
from PIL import Image, PngImagePlugin
from tests.fakes import exif_with_one_entry, png_chunk

from cutout.normalisation.fast_path import decide_fast_path
from cutout.normalisation.normalise import normalise
from cutout.pixels import PixelBudget
from cutout.validation import ImageLimits, validate_bytes
from cutout.validation.metadata import PNG_METADATA_CHUNKS, png_metadata_in_tail, read_metadata_facts

ORIENTATION = 0x0112
GPS_IFD = 0x8825
SIZE = (300, 200)


@pytest.fixture(autouse=True)
def _quiet_pillow() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow warns on the damaged EXIF built here
        yield


def _jpeg(**save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", SIZE, (90, 90, 90)).save(buffer, "JPEG", **save)
    return buffer.getvalue()


def _png(info: PngImagePlugin.PngInfo | None = None, **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", SIZE, (90, 90, 90)).save(buffer, "PNG", pnginfo=info, **save)
    return buffer.getvalue()


def _facts(data: bytes) -> tuple[int, bool, bool]:
    facts = read_metadata_facts(Image.open(io.BytesIO(data)))
    return facts.orientation, facts.has_gps, facts.has_metadata


def _exif(**tags: object) -> bytes:
    exif = Image.Exif()
    for name, value in tags.items():
        exif[{"orientation": ORIENTATION, "gps": GPS_IFD}[name]] = value
    return exif.tobytes()


def _raw_exif_profile(exif: bytes) -> str:
    """ImageMagick's PNG text chunk for an EXIF block: a header line, the length, then hex."""
    body = exif[6:]  # without "Exif\0\0"
    return f"\nexif\n{len(body):8d}\n{body.hex()}\n"


@pytest.mark.parametrize(
    ("exif", "orientation"),
    [
        pytest.param(_exif(), 1, id="no-tag"),
        *[pytest.param(_exif(orientation=value), value, id=f"tag-{value}") for value in range(1, 9)],
        pytest.param(_exif(orientation=0), 0, id="tag-0"),
        pytest.param(_exif(orientation=9), 0, id="tag-9"),
        pytest.param(_exif(orientation=65535), 0, id="tag-65535"),
        pytest.param(exif_with_one_entry(ORIENTATION, 2, 2, b"6\x00"), 0, id="ascii-6"),
        pytest.param(exif_with_one_entry(ORIENTATION, 5, 1, struct.pack("<I", 8)), 0, id="rational"),
        pytest.param(exif_with_one_entry(ORIENTATION, 4, 1, struct.pack("<I", 6)), 6, id="long-6"),
    ],
)
def test_only_an_integer_orientation_from_1_to_8_is_known(exif: bytes, orientation: int) -> None:
    # Given a JPEG whose EXIF has no orientation, one of 1-8, or a value outside the specification
    # When its header's metadata is read
    # Then 1-8 is kept, absence is 1 (upright), anything else 0 (not provably upright)
    assert _facts(_jpeg(exif=exif)) == (orientation, False, True)


@pytest.mark.parametrize(
    ("data", "has_gps"),
    [
        pytest.param(_jpeg(exif=_exif(gps={2: (51.0, 30.0, 0.0)})), True, id="exif-gps-ifd"),
        pytest.param(_jpeg(exif=_exif(gps={})), False, id="exif-empty-gps-ifd"),
        pytest.param(
            _jpeg(xmp=b"<x:xmpmeta><exif:GPSLatitude>51</exif:GPSLatitude></x:xmpmeta>"), True, id="xmp-lat"
        ),
        pytest.param(
            _jpeg(xmp=b"<x:xmpmeta><exif:GPSLongitude>0</exif:GPSLongitude></x:xmpmeta>"), True, id="xmp-lon"
        ),
        pytest.param(
            _jpeg(xmp=b"<x:xmpmeta><exif:GPSAltitude>9</exif:GPSAltitude></x:xmpmeta>"),
            True,
            id="xmp-exif-gps",
        ),
        pytest.param(_jpeg(xmp=b"<x:xmpmeta><dc:title>Mug</dc:title></x:xmpmeta>"), False, id="xmp-no-gps"),
    ],
)
def test_gps_is_found_in_exif_or_xmp(data: bytes, has_gps: bool) -> None:
    # Given a JPEG with GPS in its EXIF GPS directory or its XMP, or metadata without GPS
    # When its header's metadata is read
    # Then GPS is found where it is, and either way the file has metadata
    assert _facts(data)[1:] == (has_gps, True)


def test_xmp_under_the_png_keyword_is_read_as_text() -> None:
    # Given an image whose XMP Pillow gave only under PNG's iTXt keyword, as text
    image = Image.new("RGB", SIZE)
    image.info["XML:com.adobe.xmp"] = "<x:xmpmeta><exif:GPSLatitude>51</exif:GPSLatitude></x:xmpmeta>"
    # When its metadata is read
    facts = read_metadata_facts(image)
    # Then the XMP counts, GPS included
    assert (facts.has_gps, facts.has_metadata) == (True, True)


def _png_text(keyword: str, text: str, *, kind: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    if kind == "iTXt":
        info.add_itxt(keyword, text)
    else:
        info.add_text(keyword, text, zip=kind == "zTXt")
    return info


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_jpeg(comment=b"Shot in Jane Doe's kitchen"), id="jpeg-comment"),
        pytest.param(
            _jpeg()[:2]
            + b"\xff\xed"
            + struct.pack(">H", 2 + 14 + 12 + 16)
            + b"Photoshop 3.0\x00"
            + b"8BIM\x04\x04\x00\x00"
            + struct.pack(">I", 16)
            + b"\x1c\x02\x50\x00\x08Jane Doe\x1c\x02\x00\x00\x00"[:16]
            + _jpeg()[2:],
            id="jpeg-iptc",
        ),
        *[
            pytest.param(_png(_png_text("Author", "Jane Doe", kind=kind)), id=f"png-{kind}")
            for kind in ("tEXt", "zTXt", "iTXt")
        ],
        pytest.param(_png(_png_text("Comment", "", kind="tEXt")), id="png-empty-comment"),
    ],
)
def test_comments_iptc_and_png_text_are_metadata(data: bytes) -> None:
    # Given a file whose only metadata is a comment, an IPTC block or a PNG text chunk
    # When its header's metadata is read
    orientation, has_gps, has_metadata = _facts(data)
    # Then it has metadata (it may name a person, a place, a device or a time)
    assert (orientation, has_gps, has_metadata) == (1, False, True)


def test_a_gif_comment_is_metadata() -> None:
    # Given a GIF with a comment block
    buffer = io.BytesIO()
    Image.new("P", SIZE).save(buffer, "GIF", comment=b"Jane Doe")
    # When its header's metadata is read, Then it has metadata
    assert _facts(buffer.getvalue()) == (1, False, True)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_jpeg(), id="jpeg"),
        pytest.param(_png(), id="png"),
        pytest.param(_png(dpi=(300, 300)), id="png-phys"),
        pytest.param(_png(icc_profile=b""), id="png-empty-profile"),
        pytest.param(_png(transparency=(1, 2, 3)), id="png-trns"),
    ],
)
def test_technical_chunks_are_not_metadata(data: bytes) -> None:
    # Given a file with only technical header fields (density, transparency)
    # When its header's metadata is read
    # Then it has none
    assert _facts(data) == (1, False, False)


@pytest.mark.parametrize("kind", ["tEXt", "zTXt"])
def test_imagemagicks_raw_exif_text_is_read_as_exif(kind: str) -> None:
    # Given a PNG whose EXIF (GPS, orientation 6) is in ImageMagick's "Raw profile type exif" chunk
    exif = _exif(orientation=6, gps={2: (51.0, 30.0, 0.0)})
    data = _png(_png_text("Raw profile type exif", _raw_exif_profile(exif), kind=kind))
    # When its header's metadata is read
    # Then the EXIF inside counts as EXIF: its orientation and its GPS
    assert _facts(data) == (6, True, True)


@pytest.mark.parametrize("profile", ["\nexif\n      10\nzzzz\n", "\nexif\n       4\n00\n"])
def test_an_unreadable_raw_exif_text_is_metadata_of_unknown_orientation(profile: str) -> None:
    # Given a PNG whose "Raw profile type exif" is not hex, or holds no TIFF structure
    data = _png(_png_text("Raw profile type exif", profile, kind="tEXt"))
    # When its header's metadata is read
    # Then it is metadata, and the orientation is unknown (0: never sent as it is)
    assert _facts(data) == (0, False, True)
    # And normalising it still works: the pixels are fine, and no orientation is applied
    result = normalise(data, PixelBudget.for_memory(1024))
    assert (result.report.width, result.report.orientation_applied) == (300, 1)


@pytest.mark.parametrize("kind", PNG_METADATA_CHUNKS)
def test_a_text_or_exif_chunk_in_a_pngs_tail_is_found(kind: bytes) -> None:
    # Given the last bytes of a PNG with a text or EXIF chunk after its image data
    tail = png_chunk(kind, b"date:create\x002026-12-07T10:00:00+00:00") + png_chunk(b"IEND", b"")
    # When they are searched, Then the chunk is found; a tail of pixels and IEND alone is clean
    assert png_metadata_in_tail(tail)
    assert not png_metadata_in_tail(b"\x00" * 200 + png_chunk(b"IEND", b""))


def _after_image_data(data: bytes, chunk: bytes) -> bytes:
    return data[:-12] + chunk + data[-12:]  # before IEND (12 bytes)


@pytest.mark.parametrize(
    ("data", "taken"),
    [
        pytest.param(_png(), True, id="clean-png"),
        pytest.param(_jpeg(), True, id="clean-jpeg"),
        pytest.param(
            _after_image_data(_png(), png_chunk(b"tEXt", b"date:create\x002026-12-07T10:00:00+00:00")),
            False,
            id="png-date-after-image-data",
        ),
        pytest.param(_png(_png_text("Author", "Jane Doe", kind="tEXt")), False, id="png-author"),
        pytest.param(_jpeg(comment=b"Jane Doe"), False, id="jpeg-comment"),
    ],
)
def test_only_a_file_with_no_metadata_goes_to_the_vendor_as_it_is(data: bytes, taken: bool) -> None:
    # Given an upload that meets every other fast-path condition
    # When it is inspected (header and tail reads) and the fast path decided
    decision = decide_fast_path(validate_bytes(data), ImageLimits())
    # Then only the one without any metadata is sent as it is
    assert decision.taken is taken
    if not taken:
        assert decision.reasons == ("metadata (EXIF, XMP, IPTC, comments, text) the vendor must not get",)


def test_the_facts_read_cannot_be_altered() -> None:
    # Given the metadata facts of a header
    facts = read_metadata_facts(Image.open(io.BytesIO(_jpeg(comment=b"Jane Doe"))))
    # When one is changed afterwards, Then that is refused (the fast path decides on what was read)
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.has_metadata = False  # type: ignore[misc]
