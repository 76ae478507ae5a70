"""What a file is, from its first bytes: never from its name or its Content-Type.

``sniff_format`` names supported formats (JPEG, PNG, WEBP, BMP, TIFF, GIF, AVIF, HEIC) and recognises common
unsupported ones, so a rejection can say "this is a PDF" instead of "this is not an image".
"""

from __future__ import annotations

SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "AVIF", "HEIC"})
MIME_BY_FORMAT = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "GIF": "image/gif",
    "AVIF": "image/avif",
    "HEIC": "image/heic",
}

# Fixed signatures at offset 0: (prefix, name). Longest first where prefixes overlap.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),  # BigTIFF
    (b"MM\x00+", "TIFF"),
    (b"%!PS-Adobe-3.0 EPSF", "EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),  # DOS EPS binary header
    (b"%!", "PostScript"),
    (b"8BPS", "PSD"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),  # raw codestream
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (b"\xff\x0a", "JPEG XL"),  # raw codestream
    (b"qoif", "QOI"),
    (b"v/1\x01", "OpenEXR"),
    (b"DDS ", "DDS"),
)

# ISO base media (``ftyp`` box at offset 4): the major brand says which format.
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS = frozenset({b"avif", b"avis"})

# BITMAPINFOHEADER sizes a real BMP has (``BM`` alone also starts plain text).
_BMP_DIB_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})

_TEXT_WINDOW = 1024
_UTF8_BOM = b"\xef\xbb\xbf"


def sniff_format(head: bytes) -> str | None:
    """The format the bytes start like (``"JPEG"``, ``"PDF"``, ...), or ``None`` for no image.

    Supported formats are named as Pillow names them: JPEG, PNG, WEBP, BMP.
    """
    for signature, name in _SIGNATURES:
        if head.startswith(signature):
            return name
    return (
        _sniff_riff(head)
        or _sniff_bmp(head)
        or _sniff_iso_media(head)
        or _sniff_icon(head)
        or _sniff_markup_or_pdf(head)
    )


def _sniff_riff(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _sniff_bmp(head: bytes) -> str | None:
    dib_header_size = int.from_bytes(head[14:18], "little")
    if head[:2] == b"BM" and len(head) >= 18 and dib_header_size in _BMP_DIB_HEADER_SIZES:
        return "BMP"
    return None


def _sniff_iso_media(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[0:4], "big")
    brands = [head[8:12]] + [head[offset : offset + 4] for offset in range(16, min(box_size, 64), 4)]
    if any(brand in _AVIF_BRANDS for brand in brands):
        return "AVIF"
    if any(brand in _HEIF_BRANDS for brand in brands):
        return "HEIC"
    return "ISO media (MP4/MOV)"


def _sniff_icon(head: bytes) -> str | None:
    icon_count = int.from_bytes(head[4:6], "little")
    if len(head) >= 6 and head[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00") and icon_count > 0:
        return "ICO"
    return None


def _sniff_markup_or_pdf(head: bytes) -> str | None:
    """PDF (whose signature may follow some junk), SVG, HTML and other XML."""
    window = head[:_TEXT_WINDOW]
    if b"%PDF-" in window:
        return "PDF"
    text = window.removeprefix(_UTF8_BOM).lstrip().lower()
    if not text.startswith(b"<"):
        return None
    if b"<svg" in text:
        return "SVG"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text:
        return "HTML"
    if text.startswith((b"<?xml", b"<!doctype", b"<!--")):
        return "XML"
    return None
