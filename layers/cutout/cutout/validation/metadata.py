"""EXIF/XMP facts from a header: orientation, GPS, whether there is metadata at all. No pixels.

Pillow keeps a JPEG's APP1 EXIF (``info["exif"]``) and XMP (``info["xmp"]``) as it parses the
header; ``getexif()`` parses the EXIF block (bounded by the 64 KiB segment), never the pixels.

"Metadata" is anything that may name a person, a place, a device or a time, not only EXIF and
XMP: a JPEG's or GIF's comment, a JPEG's Photoshop block (IPTC: creator, city, caption), and a
PNG's text chunks (Author, Comment, ImageMagick's ``Raw profile type exif`` holding a whole EXIF
block with its GPS, its ``date:create``). An input with any of it never goes to the vendor as it
is (``normalisation.fast_path``).
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from cutout.pixels.codecs import EXIF_ERRORS

ORIENTATION_TAG = 0x0112
GPS_IFD_TAG = 0x8825
_XMP_GPS_FIELDS = (b"GPSLatitude", b"GPSLongitude", b"exif:GPS")
# ImageMagick (and exiftool on request) keep a PNG's EXIF as hex in this text chunk; Pillow's
# getexif() reads it when there is no eXIf chunk.
RAW_EXIF_PROFILE = "Raw profile type exif"
# Header entries other than EXIF and XMP that carry what a person wrote or a camera recorded.
_OTHER_METADATA = ("comment", "photoshop")
# A PNG's text and EXIF chunk types: they may also follow the image data (ImageMagick writes its
# dates there), out of the header's reach; ``png_metadata_in_tail`` looks for them in the tail.
PNG_METADATA_CHUNKS = (b"tEXt", b"zTXt", b"iTXt", b"eXIf")
# A motion photo (Google's, and Samsung's since 2021) is a JPEG with an MP4 video appended after
# its end-of-image marker, declared in its XMP: GCamera:MicroVideoOffset (the first format) or
# GCamera:MotionPhoto with a Container:Directory item whose semantic is "MotionPhoto".
_MOTION_PHOTO_XMP = (b"MicroVideoOffset", b"MotionPhoto")


@dataclass(frozen=True, slots=True)
class MetadataFacts:
    orientation: int  # 1..8 as tagged; 1 when absent; 0 when present but not one of 1..8
    has_gps: bool
    has_metadata: bool
    appends_video: bool  # a motion photo: its XMP declares a video after the image


def read_metadata_facts(image: Image.Image) -> MetadataFacts:
    xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    has_exif = bool(image.info.get("exif") or image.info.get(RAW_EXIF_PROFILE))
    orientation, gps = 1, False
    if has_exif:
        try:
            exif = image.getexif()
            raw = exif.get(ORIENTATION_TAG, 1)
            orientation = int(raw) if isinstance(raw, int) and 1 <= raw <= 8 else 0
            gps = bool(exif.get_ifd(GPS_IFD_TAG))
        except EXIF_ERRORS:
            orientation = 0  # unreadable EXIF: not provably upright, so never on the fast path
    gps = gps or any(field in xmp for field in _XMP_GPS_FIELDS)
    other = any(image.info.get(key) for key in _OTHER_METADATA) or _png_text(image)
    return MetadataFacts(
        orientation=orientation,
        has_gps=gps,
        has_metadata=has_exif or bool(xmp) or other,
        appends_video=any(marker in xmp for marker in _MOTION_PHOTO_XMP),
    )


def _png_text(image: Image.Image) -> bool:
    """Whether a PNG header holds a text chunk (Pillow gives each as a ``str`` entry of ``info``;
    every technical chunk it reads, gAMA, pHYs, sRGB, iCCP..., is a number, tuple or bytes)."""
    return image.format == "PNG" and any(isinstance(value, str) for value in image.info.values())


def png_metadata_in_tail(tail: bytes) -> bool:
    """Whether a PNG's last bytes hold a text or EXIF chunk (after the image data, before IEND).

    Only chunks that end within the tail are seen; four bytes of compressed pixels that happen to
    spell a chunk type only send the image through normalisation, the safe side."""
    return any(kind in tail for kind in PNG_METADATA_CHUNKS)
