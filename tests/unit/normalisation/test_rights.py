"""Provenance kept, privacy kept: rights fields read from the source, written alone into the outputs."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, PngImagePlugin

from cutout.deliverables import Deliverables
from cutout.normalisation import normalise
from cutout.normalisation.rights import Rights, read_rights
from cutout.pixels import PixelBudget
from cutout.profiles import Profile
from tests.fakes import InMemoryObjectStore
from tests.rights_samples import (
    COPYRIGHT,
    CREATOR,
    CREDIT,
    EMAIL,
    GPS_LATITUDE_TEXT,
    SERIAL,
    SOURCE_TYPE,
    USAGE,
    WEB,
    iptc_app13,
    phone_jpeg,
    with_segment,
    xmp_png,
)

FULL = Rights(
    creators=(CREATOR,),
    copyright=COPYRIGHT,
    credit_line=CREDIT,
    usage_terms=USAGE,
    web_statement=WEB,
    digital_source_type=SOURCE_TYPE,
)
# What must never leave in an output or reach the vendor: the camera's serial, the GPS position (as
# EXIF's GPS IFD or XMP's exif:GPS*), the photographer's e-mail, the capture time, the phone model.
PRIVATE = (SERIAL.encode(), GPS_LATITUDE_TEXT.encode(), EMAIL.encode(), b"2026:11:30", b"Phone 15 Pro")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(phone_jpeg(), FULL, id="phone-jpeg-xmp"),
        pytest.param(xmp_png(), FULL, id="png-xmp"),
        pytest.param(
            with_segment(phone_jpeg(xmp=False), iptc_app13(CREATOR, CREDIT, COPYRIGHT)),
            Rights(creators=(CREATOR,), copyright=COPYRIGHT, credit_line=CREDIT),
            id="jpeg-iptc-iim-only",
        ),
    ],
)
def test_the_rights_fields_are_read_from_the_header(data: bytes, expected: Rights) -> None:
    # Given a real file carrying rights (and private data next to them)
    # When its first bytes are read for rights
    rights = read_rights(data[: 256 * 1024])
    # Then the rights fields are exactly the source's
    assert rights == expected


def test_exif_artist_and_copyright_are_the_last_resort() -> None:
    # Given a JPEG whose only rights are EXIF Artist and Copyright (ASCII, as cameras write them)
    image = Image.new("RGB", (300, 200))
    exif = image.getexif()
    exif[0x013B], exif[0x8298] = "Jo Smith; Lee Park", "(c) 2026 Jo Smith\0(c) Editor"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    # When its rights are read
    rights = read_rights(buffer.getvalue())
    # Then both creators and the photographer's copyright are kept
    assert rights == Rights(creators=("Jo Smith", "Lee Park"), copyright="(c) 2026 Jo Smith")


@pytest.mark.parametrize(
    "xmp",
    [
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><x:xmpmeta>&b;</x:xmpmeta>',
        b"<x:xmpmeta><rdf:RDF",  # cut off
        b"\xff\xfe not xml",
    ],
)
def test_hostile_or_broken_xmp_gives_no_rights_and_no_error(xmp: bytes) -> None:
    # Given a JPEG whose XMP declares entities, is cut off, or is not XML
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200)).save(buffer, "JPEG", xmp=xmp)
    # When its rights are read
    # Then there are none, and nothing is raised
    assert read_rights(buffer.getvalue()).empty


def test_overlong_fields_are_cut_so_the_packet_always_fits_a_jpeg() -> None:
    # Given XMP with 50 creators and a 60,000-character usage term full of characters XML escapes
    long_text = "&<" * 30_000
    creators = "".join(f"<rdf:li>{'&amp;' * 400}{index}</rdf:li>" for index in range(50))
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/">'
        f"<dc:creator><rdf:Seq>{creators}</rdf:Seq></dc:creator>"
        f"<xmpRights:UsageTerms>{long_text.replace('&', '&amp;').replace('<', '&lt;')}</xmpRights:UsageTerms>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, "PNG", pnginfo=_xmp_info(xmp))
    # When the rights are read and written into a JPEG
    rights = read_rights(buffer.getvalue())
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, "JPEG", xmp=rights.xmp())
    # Then they were cut (10 creators, 500 characters each) and the JPEG holds them
    assert len(rights.creators) == 10
    assert len(rights.usage_terms) == 500
    assert read_rights(out.getvalue()) == rights


def _xmp_info(xmp: bytes) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp.decode(), zip=False)
    return info


def test_an_unreadable_header_gives_no_rights() -> None:
    # Given bytes that are no image at all, and an empty read
    # When rights are read
    # Then there are none
    assert read_rights(b"not an image").empty
    assert read_rights(b"").empty


def test_the_written_packet_holds_the_rights_and_nothing_private() -> None:
    # Given the rights of a phone photo whose XMP also holds GPS, a serial and an e-mail
    rights = read_rights(phone_jpeg())
    # When they are written as XMP and read back
    packet = rights.xmp()
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, "JPEG", xmp=packet)
    # Then the packet reads back as the same rights, and carries nothing else
    assert read_rights(buffer.getvalue()) == rights
    assert not any(private in packet for private in PRIVATE)


def _master(size: tuple[int, int] = (400, 300)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((80, 40, 320, 260), fill=(180, 40, 40, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _deliver(
    source: bytes, *, keep_rights: bool = True, source_gone: bool = False
) -> tuple[InMemoryObjectStore, list[tuple[str, bytes, dict[str, str]]]]:
    store = InMemoryObjectStore()
    stored = store.add("in", "shoes/red.jpg", source, versioned=True)
    if source_gone:
        del store.objects[("in", "shoes/red.jpg")]
    profile = Profile.model_validate(
        {
            "name": "shop",
            "keep_rights": keep_rights,
            "variants": [
                {"preset": "amazon-main"},
                {"preset": "web-transparent"},
                {"preset": "listing-webp"},
            ],
        }
    )
    metadata = {
        "source-bucket": "in",
        "source-etag": stored.etag,
        "source-version-id": stored.version_id or "",
    }
    Deliverables(store, "out").deliver("shoes/red.jpg", _master(), profile, metadata, match=metadata)
    outputs = [
        (key, store.objects[(bucket, key)].data, store.objects[(bucket, key)].metadata)
        for bucket, key in store.objects
        if bucket == "out"
    ]
    return store, outputs


def test_every_output_carries_the_sources_rights_as_xmp_and_no_exif_gps_or_serial() -> None:
    # Given a phone JPEG with EXIF (GPS, serial, capture time), XMP rights and IPTC IIM, uploaded
    source = with_segment(phone_jpeg(), iptc_app13(CREATOR, CREDIT, COPYRIGHT))
    # When the deliverables of a profile (JPEG, PNG, WebP) are made from its master
    _, outputs = _deliver(source)
    # Then each output reads back (with Pillow) with the source's rights, no EXIF and nothing private
    assert len(outputs) == 3
    for key, data, metadata in outputs:
        with Image.open(io.BytesIO(data)) as image:
            assert read_rights(data) == FULL, key
            assert not image.info.get("exif"), key
            assert not image.getexif(), key
        assert not any(private in data for private in PRIVATE), key
        assert metadata["rights"] == "kept"


def test_keep_rights_false_leaves_every_output_without_any_metadata_but_srgb() -> None:
    # Given the same phone JPEG, and a profile with keep_rights = false
    # When its deliverables are made
    store, outputs = _deliver(phone_jpeg(), keep_rights=False)
    # Then no output has XMP or EXIF (only the sRGB profile), the source was not even read for it,
    # and the metadata says the rights were turned off
    for key, data, metadata in outputs:
        with Image.open(io.BytesIO(data)) as image:
            assert not image.info.get("xmp"), key
            assert not image.info.get("exif"), key
            assert image.info.get("icc_profile"), key
        assert metadata["rights"] == "off"
    assert store.bytes_read == 0


def test_a_source_without_rights_and_a_source_gone_give_outputs_without_xmp() -> None:
    # Given a source with no metadata, and one deleted after its master was made
    plain = io.BytesIO()
    Image.new("RGB", (400, 300)).save(plain, "JPEG")
    for source, gone in ((plain.getvalue(), False), (phone_jpeg(), True)):
        # When the deliverables are made
        _, outputs = _deliver(source, source_gone=gone)
        # Then they are all there, without XMP, saying there were no rights
        assert len(outputs) == 3
        for key, data, metadata in outputs:
            with Image.open(io.BytesIO(data)) as image:
                assert not image.info.get("xmp"), key
            assert metadata["rights"] == "none"


def test_a_replaced_source_in_an_unversioned_bucket_lends_no_rights() -> None:
    # Given a master made from one upload, and a different file now at the key (no version ids)
    store = InMemoryObjectStore()
    store.add("in", "red.jpg", phone_jpeg(), versioned=False)
    store.add("in", "red.jpg", xmp_png(), versioned=False)
    # When its rights are read with the first upload's ETag
    rights = Deliverables(store, "out").source_rights(
        "red.jpg", {"source-bucket": "in", "source-etag": "other"}
    )
    # Then there are none: the rights of another file are never lent
    assert rights.empty


def test_what_reaches_the_vendor_carries_no_metadata_at_all() -> None:
    # Given the phone JPEG with EXIF, XMP and IPTC
    source = with_segment(phone_jpeg(), iptc_app13(CREATOR, CREDIT, COPYRIGHT))
    # When it is normalised (the fast path refuses it: it carries metadata)
    sent = normalise(source, PixelBudget(64 * 1024 * 1024)).data
    # Then the bytes for the vendor have no EXIF, XMP or IPTC segment, and none of the private or rights text
    assert b"Exif\0" not in sent
    assert b"http://ns.adobe.com/xap/1.0/" not in sent
    assert b"Photoshop 3.0" not in sent
    assert not any(private in sent for private in (*PRIVATE, CREATOR.encode(), USAGE.encode()))
