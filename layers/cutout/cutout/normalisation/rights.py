"""Provenance kept, privacy kept: the source's rights fields, read from its header, for the outputs.

Normalisation strips every tag from what goes to the vendor (and the fast path is refused to any
input carrying EXIF or XMP, ``fast_path.py``). The deliverables, though, keep the photographer's
credit: ``read_rights`` takes the first bytes of the source (no pixel decoded) and keeps only

- the creator (XMP ``dc:creator``, else IPTC IIM 2:80 By-line, else EXIF Artist),
- the copyright notice (``dc:rights``, else IIM 2:116, else EXIF Copyright),
- the credit line (``photoshop:Credit``, else IIM 2:110),
- the usage terms (``xmpRights:UsageTerms``) and web statement (``xmpRights:WebStatement``),
- the IPTC digital source type (``Iptc4xmpExt:DigitalSourceType``; Google Merchant Center forbids
  removing it),

and ``Rights.xmp()`` writes them, and nothing else, as a fresh XMP packet: never the source's own
packet, which may hold GPS (``exif:GPSLatitude``), a camera serial (``aux:SerialNumber``), a
contact's address or phone (``Iptc4xmpCore:CreatorContactInfo``) or an edit history. No EXIF is
ever written to an output. The XMP is parsed with the standard library, refused if it declares a
DTD or entities (no entity expansion, no external fetch), and bounded in size.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from PIL import Image, ImageFile, IptcImagePlugin, UnidentifiedImageError

from cutout.pixels import open_header

# The first bytes of a source that carry its metadata: a JPEG's APP segments (64 KiB each at most:
# EXIF with its thumbnail, XMP, IPTC), a PNG's or WebP's chunks before the pixels.
RIGHTS_HEAD_BYTES = 256 * 1024
MAX_XMP_BYTES = 1024 * 1024
# Kept fields are bounded so the packet always fits a JPEG APP1 segment (65,533 bytes): at most
# 10 creators and 5 other fields of 500 characters, 5 bytes each at worst (``&amp;``), is 37.5 kB.
MAX_FIELD_CHARS = 500
MAX_CREATORS = 10
_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EXIF_ARTIST, _EXIF_COPYRIGHT = 0x013B, 0x8298
_IIM_BYLINE, _IIM_CREDIT, _IIM_COPYRIGHT, _IIM_CHARSET = (2, 80), (2, 110), (2, 116), (1, 90)
_HEADER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError, KeyError)


@dataclass(frozen=True, slots=True)
class Rights:
    """The source's rights fields; empty strings (and no creators) when it declared none."""

    creators: tuple[str, ...] = ()
    copyright: str = ""
    credit_line: str = ""
    usage_terms: str = ""
    web_statement: str = ""
    digital_source_type: str = ""

    @property
    def empty(self) -> bool:
        return not (
            self.creators
            or self.copyright
            or self.credit_line
            or self.usage_terms
            or self.web_statement
            or self.digital_source_type
        )

    def xmp(self) -> bytes:
        """These fields as an XMP packet (UTF-8), the only metadata an output carries besides sRGB."""
        fields: list[str] = []
        if self.creators:
            items = "".join(f"<rdf:li>{escape(name)}</rdf:li>" for name in self.creators)
            fields.append(f"<dc:creator><rdf:Seq>{items}</rdf:Seq></dc:creator>")
        if self.copyright:
            fields.append(f"<dc:rights>{_alt(self.copyright)}</dc:rights>")
        if self.credit_line:
            fields.append(f"<photoshop:Credit>{escape(self.credit_line)}</photoshop:Credit>")
        if self.usage_terms:
            fields.append(f"<xmpRights:UsageTerms>{_alt(self.usage_terms)}</xmpRights:UsageTerms>")
        if self.web_statement:
            fields.append(f"<xmpRights:WebStatement>{escape(self.web_statement)}</xmpRights:WebStatement>")
        if self.digital_source_type:
            fields.append(
                f"<Iptc4xmpExt:DigitalSourceType>{escape(self.digital_source_type)}"
                "</Iptc4xmpExt:DigitalSourceType>"
            )
        namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in _NS.items() if prefix != "rdf")
        packet = (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
            f'<rdf:RDF xmlns:rdf="{_NS["rdf"]}"><rdf:Description rdf:about="" {namespaces}>'
            + "".join(fields)
            + '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
        )
        return packet.encode("utf-8")


def _alt(text: str) -> str:
    return f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li></rdf:Alt>'


def read_rights(head: bytes) -> Rights:
    """The rights fields in the header of an image file (its first ``RIGHTS_HEAD_BYTES`` suffice).

    Nothing is decoded. A header that cannot be read, or XMP that cannot be parsed, gives what the
    other sources give (possibly nothing): a damaged tag never fails a deliverable.
    """
    try:
        image = open_header(io.BytesIO(head))
    except (UnidentifiedImageError, Image.DecompressionBombError, *_HEADER_ERRORS):
        return Rights()
    with image:
        xmp = _xmp_fields(image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b"")
        iim = _iim_fields(image)
        exif = _exif_fields(image)
    creators = xmp.get("creator") or iim.get("creator") or exif.get("creator") or ()
    return Rights(
        creators=tuple(_clean(name) for name in creators if _clean(name))[:MAX_CREATORS],
        copyright=_first(xmp, iim, exif, field="copyright"),
        credit_line=_first(xmp, iim, field="credit"),
        usage_terms=_first(xmp, field="usage"),
        web_statement=_first(xmp, field="web"),
        digital_source_type=_first(xmp, field="source_type"),
    )


Fields = dict[str, tuple[str, ...]]


def _first(*sources: Fields, field: str) -> str:
    for source in sources:
        for value in source.get(field, ()):
            if _clean(value):
                return _clean(value)
    return ""


def _clean(text: str) -> str:
    return _CONTROL.sub("", text).strip()[:MAX_FIELD_CHARS]


def _xmp_fields(raw: bytes | str) -> Fields:
    data = raw.encode("utf-8", "replace") if isinstance(raw, str) else bytes(raw)
    if not data or len(data) > MAX_XMP_BYTES or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return {}
    try:
        # No DTD or entity reaches the parser (refused above), and expat fetches nothing external:
        # the attacks defusedxml guards against have nothing to work with here.
        root = ElementTree.fromstring(data.strip(b"\x00").decode("utf-8", "replace"))  # noqa: S314
    except ElementTree.ParseError:
        return {}
    wanted = {
        "creator": f"{{{_NS['dc']}}}creator",
        "copyright": f"{{{_NS['dc']}}}rights",
        "credit": f"{{{_NS['photoshop']}}}Credit",
        "usage": f"{{{_NS['xmpRights']}}}UsageTerms",
        "web": f"{{{_NS['xmpRights']}}}WebStatement",
        "source_type": f"{{{_NS['Iptc4xmpExt']}}}DigitalSourceType",
    }
    found: Fields = {}
    for description in root.iter(f"{{{_NS['rdf']}}}Description"):
        for field, tag in wanted.items():
            if field in found:
                continue
            if tag in description.attrib:  # the shorthand form: photoshop:Credit="..."
                found[field] = (description.attrib[tag],)
                continue
            element = description.find(tag)
            if element is not None:
                values = _values(element)
                if values:
                    found[field] = values
    return found


def _values(element: ElementTree.Element) -> tuple[str, ...]:
    """A property's value(s): its text, its rdf:resource, or its Seq/Bag/Alt items (x-default first)."""
    resource = element.attrib.get(f"{{{_NS['rdf']}}}resource")
    if resource:
        return (resource,)
    items = element.findall(f"./*/{{{_NS['rdf']}}}li")
    if items:
        items.sort(key=lambda item: item.attrib.get(_XML_LANG, "") != "x-default")
        return tuple("".join(item.itertext()) for item in items)
    text = "".join(element.itertext()).strip()
    return (text,) if text else ()


def _iim_fields(image: ImageFile.ImageFile) -> Fields:
    """IPTC IIM (a JPEG's APP13 Photoshop block): by-line, credit, copyright notice."""
    if image.format != "JPEG":
        return {}
    try:
        iim = IptcImagePlugin.getiptcinfo(image)
    except _HEADER_ERRORS:
        return {}
    if not iim:
        return {}
    charset = iim.get(_IIM_CHARSET)
    encoding = "utf-8" if isinstance(charset, bytes) and charset == b"\x1b%G" else "latin-1"

    def texts(key: tuple[int, int]) -> tuple[str, ...]:
        value = iim.get(key)
        values = value if isinstance(value, list) else [value] if isinstance(value, bytes) else []
        return tuple(item.decode(encoding, "replace") for item in values)

    return {"creator": texts(_IIM_BYLINE), "credit": texts(_IIM_CREDIT), "copyright": texts(_IIM_COPYRIGHT)}


def _exif_fields(image: Image.Image) -> Fields:
    """EXIF Artist and Copyright (read only as the last resort; no EXIF is ever written)."""
    if not image.info.get("exif"):
        return {}
    try:
        exif = image.getexif()
        artist, notice = exif.get(_EXIF_ARTIST), exif.get(_EXIF_COPYRIGHT)
    except _HEADER_ERRORS:
        return {}
    found: Fields = {}
    if isinstance(artist, str) and artist.strip():
        found["creator"] = tuple(part.strip() for part in artist.split(";") if part.strip())
    if isinstance(notice, str) and notice.strip():
        found["copyright"] = (notice.split("\x00")[0],)  # photographer\0editor: the photographer's
    return found
