"""The WebP header, read from the first 30 bytes.

Why not Pillow here? Pillow's WebP ``open`` reads the whole file and creates libwebp's
animation decoder, which allocates the full canvas up front: that is a decode, memory-sized by
the header, before any limit of ours applies. The RIFF container states the canvas size and the
animation and alpha flags in fixed places (RFC 9649), so we read them directly.
"""

from __future__ import annotations

from dataclasses import dataclass

WEBP_HEADER_BYTES = 30
RIFF_HEADER_BYTES = 8

_VP8X_ANIMATION = 0x02
_VP8X_ALPHA = 0x10
_VP8X_ICC = 0x20
_VP8X_EXIF = 0x08
_VP8X_XMP = 0x04
_VP8L_SIGNATURE = 0x2F
_VP8_START_CODE = b"\x9d\x01\x2a"


class WebPHeaderError(ValueError):
    """The RIFF/WEBP container is there but its first chunk is not a valid image header."""


@dataclass(frozen=True, slots=True)
class WebPHeader:
    width: int
    height: int
    has_alpha: bool
    is_animated: bool
    riff_size: int  # the RIFF chunk's declared size: the file is ``riff_size + 8`` bytes
    has_icc: bool = False  # VP8X flags: an ICCP chunk follows
    has_metadata: bool = False  # VP8X flags: EXIF or XMP chunks

    @property
    def mode(self) -> str:
        return "RGBA" if self.has_alpha else "RGB"


def read_webp_header(head: bytes) -> WebPHeader:
    """Parse the canvas of a ``RIFF....WEBP`` file; raises ``WebPHeaderError`` if malformed."""
    if len(head) < WEBP_HEADER_BYTES or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        raise WebPHeaderError("shorter than a WebP header")
    riff_size = int.from_bytes(head[4:8], "little")
    chunk = head[12:16]
    if chunk == b"VP8X":
        flags = head[20]
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return WebPHeader(
            width,
            height,
            bool(flags & _VP8X_ALPHA),
            bool(flags & _VP8X_ANIMATION),
            riff_size,
            has_icc=bool(flags & _VP8X_ICC),
            has_metadata=bool(flags & (_VP8X_EXIF | _VP8X_XMP)),
        )
    if chunk == b"VP8L":
        if head[20] != _VP8L_SIGNATURE:
            raise WebPHeaderError("bad VP8L signature")
        bits = int.from_bytes(head[21:25], "little")
        width = (bits & 0x3FFF) + 1
        height = ((bits >> 14) & 0x3FFF) + 1
        has_alpha = bool((bits >> 28) & 0x1)
        return WebPHeader(width, height, has_alpha, False, riff_size)
    if chunk == b"VP8 ":
        if head[23:26] != _VP8_START_CODE:
            raise WebPHeaderError("bad VP8 key frame start code")
        width = int.from_bytes(head[26:28], "little") & 0x3FFF
        height = int.from_bytes(head[28:30], "little") & 0x3FFF
        return WebPHeader(width, height, False, False, riff_size)
    raise WebPHeaderError("unknown first chunk")
