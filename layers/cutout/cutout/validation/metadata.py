"""EXIF/XMP facts from a header: orientation, GPS, whether there is metadata at all. No pixels.

Pillow keeps a JPEG's APP1 EXIF (``info["exif"]``) and XMP (``info["xmp"]``) as it parses the
header; ``getexif()`` parses the EXIF block (bounded by the 64 KiB segment), never the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

ORIENTATION_TAG = 0x0112
GPS_IFD_TAG = 0x8825
_XMP_GPS_FIELDS = (b"GPSLatitude", b"GPSLongitude", b"exif:GPS")
# What Pillow raises on a malformed EXIF block (the image stays valid; the metadata is ignored).
_EXIF_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    KeyError,
    IndexError,
    TypeError,
    ZeroDivisionError,
)


@dataclass(frozen=True, slots=True)
class MetadataFacts:
    orientation: int  # 1..8 as tagged; 1 when absent; 0 when present but not one of 1..8
    has_gps: bool
    has_metadata: bool


def read_metadata_facts(image: Image.Image) -> MetadataFacts:
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    has_exif = bool(image.info.get("exif"))
    orientation, gps = 1, False
    if has_exif:
        try:
            exif = image.getexif()
            raw = exif.get(ORIENTATION_TAG, 1)
            orientation = int(raw) if isinstance(raw, int) and 1 <= raw <= 8 else 0
            gps = bool(exif.get_ifd(GPS_IFD_TAG))
        except _EXIF_ERRORS:
            orientation = 0  # unreadable EXIF: not provably upright, so never on the fast path
    gps = gps or any(field in xmp for field in _XMP_GPS_FIELDS)
    return MetadataFacts(orientation=orientation, has_gps=gps, has_metadata=has_exif or bool(xmp))
