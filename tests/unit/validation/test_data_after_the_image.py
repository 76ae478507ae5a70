"""Phones append data after a JPEG's end-of-image marker: Google's and Samsung's motion photos an
MP4 video (declared in the XMP), Samsung a trailer ending with ``SEFT``. Such a photo is whole:
it must not be refused as "cut off" (rule 4), and what follows the image must never go to the
vendor as it is (rule 5). A JPEG really cut short is still refused before anything is paid
(rule 3), by inspection, or by normalisation when its last bytes happen to look like a trailer.
"""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from cutout.normalisation.fast_path import decide_fast_path
from cutout.normalisation.normalise import normalise
from cutout.pixels import PixelBudget
from cutout.validation import ImageLimits, ImageRejected, validate_bytes

BUDGET = PixelBudget.for_memory(1024)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x10\x08mdat" + bytes(range(256)) * 16
TRAILER_REASON = "data after the image (a motion photo's video, a phone's trailer)"


def _xmp(attributes: str) -> bytes:
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" '
        + attributes.encode()
        + b"/></rdf:RDF></x:xmpmeta>"
    )


MICRO_VIDEO_XMP = _xmp(
    f'GCamera:MicroVideo="1" GCamera:MicroVideoVersion="1" GCamera:MicroVideoOffset="{len(MP4)}"'
)
MOTION_PHOTO_XMP = _xmp('GCamera:MotionPhoto="1" GCamera:MotionPhotoVersion="1"')


def _photo(**save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (30, 160, 60)).save(buffer, "JPEG", **save)
    return buffer.getvalue()


def _samsung_trailer() -> bytes:
    """Samsung's SEF blocks: a data block, the SEFH directory, its length and ``SEFT``."""
    block = b"\x00\x00\x01\x0aImage_UTC_Data1733565600000"
    directory = (
        b"SEFH"
        + struct.pack("<III", 106, 1, 0)
        + struct.pack("<HHII", 0, 0x0A01, len(block) + 12, len(block))
    )
    return block + directory + struct.pack("<I", len(directory)) + b"SEFT"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_photo(xmp=MICRO_VIDEO_XMP) + MP4, id="google-micro-video"),
        pytest.param(_photo(xmp=MOTION_PHOTO_XMP) + MP4, id="motion-photo-v1"),
        pytest.param(_photo() + _samsung_trailer(), id="samsung-trailer"),
        pytest.param(_photo(xmp=MOTION_PHOTO_XMP) + MP4 + _samsung_trailer(), id="samsung-motion-photo"),
    ],
)
def test_a_photo_with_data_after_its_image_is_accepted_but_never_sent_as_it_is(data: bytes) -> None:
    # Given a phone photo whose file goes on after the JPEG's end-of-image marker
    # When it is inspected
    facts = validate_bytes(data)
    decision = decide_fast_path(facts, ImageLimits())
    # Then it is whole, marked as carrying data after the image, and normalised rather than sent
    assert facts.trailing_data is True
    assert not decision.taken
    assert TRAILER_REASON in decision.reasons
    # And normalising it decodes the image alone
    result = normalise(data, BUDGET)
    assert (result.report.width, result.report.height, result.content_type) == (300, 200, "image/jpeg")


@pytest.mark.parametrize("padding", [b"", b"\x00" * 3])
def test_a_photo_that_ends_at_its_end_of_image_marker_has_no_trailing_data(padding: bytes) -> None:
    # Given a plain JPEG (with or without zero padding after its end marker)
    facts = validate_bytes(_photo() + padding)
    # Then nothing follows its image, and it may take the fast path
    assert facts.trailing_data is False
    assert decide_fast_path(facts, ImageLimits()).taken


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_photo() + MP4, id="video-without-xmp"),  # nothing declares it: a damaged file
        pytest.param(_photo()[:-300], id="cut-short"),
        pytest.param(_photo()[:-2], id="end-marker-missing"),
        pytest.param(_photo() + b"SEF", id="almost-a-trailer"),
    ],
)
def test_a_jpeg_that_does_not_end_as_a_jpeg_or_a_declared_trailer_is_refused_as_cut_off(data: bytes) -> None:
    # Given a JPEG cut short, or followed by bytes nothing declares
    # When it is inspected
    with pytest.raises(ImageRejected) as raised:
        validate_bytes(data)
    # Then it is refused as incomplete, before anything is paid
    assert raised.value.code == "truncated_image"


def test_a_cut_jpeg_whose_last_bytes_look_like_a_trailer_is_refused_when_decoded() -> None:
    # Given a JPEG cut short whose last four bytes happen to spell Samsung's trailer tag
    data = _photo(quality=95)[:-400] + b"SEFT"
    # When it is inspected, it passes as a photo with a trailer
    assert validate_bytes(data).trailing_data is True
    # Then normalisation, which decodes it, refuses it as cut off (before any paid call)
    with pytest.raises(ImageRejected) as raised:
        normalise(data, BUDGET)
    assert raised.value.code == "truncated_image"
