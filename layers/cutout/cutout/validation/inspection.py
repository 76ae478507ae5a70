"""Check an image before paying for it, reading as little of it as possible.

In order, cheapest first: the object's size (no read), the type by magic bytes and the header
(a 64 KiB prefix, grown to at most 4 MiB only when the header is longer), then the end marker (one
small suffix read). Nothing here decodes pixels: Pillow only parses headers (its plugins' lazy
``open``; ``load()`` is never called), and WebP headers are read directly (see ``webp.py``), so a
tiny file declaring 50000 x 50000 pixels costs a few bytes of reading and no memory.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from PIL import BmpImagePlugin, Image, ImageFile, JpegImagePlugin, PngImagePlugin

from cutout.pixels.codecs import heif_available
from cutout.validation.formats import MIME_BY_FORMAT, SUPPORTED_FORMATS, sniff_format
from cutout.validation.icc_profile import ProfileKind, profile_kind
from cutout.validation.limits import MIB, ImageLimits, megapixels
from cutout.validation.metadata import png_metadata_in_tail, read_metadata_facts
from cutout.validation.reading import BoundedReader, EndTrackingStream, RangeReader, bytes_reader
from cutout.validation.rejection import ImageRejected, RejectionCode
from cutout.validation.webp import RIFF_HEADER_BYTES, WebPHeaderError, read_webp_header

SUPPORTED_NAMES = "JPEG, PNG, WebP, AVIF, HEIC, TIFF, BMP or GIF"
# Modes no conversion to sRGB makes sense of (32-bit integer and float samples: scientific data).
UNSUPPORTED_COLOR_MODES = frozenset({"I", "F"})
# Formats whose header is read here by ranged GETs; the others (TIFF, GIF, AVIF, HEIC) keep their
# header where a prefix cannot promise to hold it, so normalisation checks it on the whole object.
HEADER_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "BMP"})
ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
PNG_IEND_CHUNK = b"\x00\x00\x00\x00IEND\xaeB`\x82"
JPEG_END_OF_IMAGE = b"\xff\xd9"
# Samsung phones append a trailer after a JPEG's end-of-image marker (its "SEF" blocks: motion
# photo video, capture details); it ends with a directory length and this tag.
SAMSUNG_TRAILER_END = b"SEFT"
TIMES = "\N{MULTIPLICATION SIGN}"  # as in "99 TIMES 240 pixels"

DEFAULT_LIMITS = ImageLimits()

# Header parsers for the supported formats Pillow reads lazily. Calling the plugin class (not
# ``Image.open``) restricts parsing to the sniffed format and leaves the size limits to us.
_PILLOW_OPENERS: dict[str, Callable[[EndTrackingStream], ImageFile.ImageFile]] = {
    "JPEG": JpegImagePlugin.JpegImageFile,
    "PNG": PngImagePlugin.PngImageFile,
    "BMP": BmpImagePlugin.BmpImageFile,
}
# What Pillow raises on a header it cannot parse (its own wrappers and plain struct reads).
_HEADER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError, KeyError)


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What validation learnt about an accepted image."""

    format: str  # JPEG | PNG | WEBP | BMP
    mime: str
    width: int
    height: int
    mode: str  # Pillow's mode: RGB, RGBA, L, LA, P, I;16, ...
    has_alpha: bool
    is_animated: bool
    bytes_read: int
    # Facts the fast path needs (see cutout.normalisation.fast_path), all from the header.
    bits: int = 8  # bits per sample as stored (a 16-bit PNG is 16 even where Pillow reads it as RGB)
    orientation: int = 1  # the EXIF orientation tag (1 = upright or no tag)
    colour_profile: ProfileKind = "none"
    has_gps: bool = False  # EXIF GPS IFD with entries, or GPS fields in XMP
    has_metadata: bool = False  # any EXIF, XMP, comment, IPTC or PNG text (validation.metadata)
    # Data after the image's end (a JPEG motion photo's video, a Samsung trailer): decoders ignore
    # it, but it never goes to the vendor as it is.
    trailing_data: bool = False
    # False for formats whose header normalisation reads (TIFF, GIF, AVIF, HEIC): width and
    # height are then 0 and nothing beyond the format is known yet.
    header_read: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Header:
    width: int
    height: int
    mode: str
    has_alpha: bool
    frames: int
    raw_pixel_end: int | None = None  # uncompressed BMP: where its pixel array ends
    bits: int = 8
    orientation: int = 1
    colour_profile: ProfileKind = "none"
    has_gps: bool = False
    has_metadata: bool = False
    appends_video: bool = False


def inspect_image(
    read_range: RangeReader, object_size: int, limits: ImageLimits = DEFAULT_LIMITS
) -> ImageFacts:
    """The facts of an acceptable image, or ``ImageRejected`` with the reason.

    ``read_range(start, end_inclusive)`` returns those bytes of the object; ``read_range(-n, None)``
    its last n bytes. At most ``limits.max_header_bytes + limits.tail_bytes`` bytes are asked for.
    """
    if object_size < 0:
        raise ValueError("object_size cannot be negative")
    check_object_size(object_size, limits)
    reader = BoundedReader(read_range, object_size)
    head = reader.prefix(limits.head_bytes)
    image_format = supported_format(head)
    if image_format not in HEADER_FORMATS:
        return ImageFacts(
            format=image_format,
            mime=MIME_BY_FORMAT[image_format],
            width=0,
            height=0,
            mode="",
            has_alpha=False,
            is_animated=False,
            bytes_read=reader.bytes_read,
            header_read=False,
        )
    header = _webp_header(head) if image_format == "WEBP" else _pillow_header(image_format, reader, limits)
    _check_header(image_format, header, limits)
    tail = _check_complete(image_format, header, reader, limits)
    has_metadata = header.has_metadata or (image_format == "PNG" and png_metadata_in_tail(tail))
    trailing_data = image_format == "JPEG" and not _ends_with_end_of_image(tail)
    return ImageFacts(
        format=image_format,
        mime=MIME_BY_FORMAT[image_format],
        width=header.width,
        height=header.height,
        mode=header.mode,
        has_alpha=header.has_alpha,
        is_animated=header.frames > 1,
        bytes_read=reader.bytes_read,
        bits=header.bits,
        orientation=header.orientation,
        colour_profile=header.colour_profile,
        has_gps=header.has_gps,
        has_metadata=has_metadata,
        trailing_data=trailing_data,
    )


def validate_bytes(data: bytes, limits: ImageLimits = DEFAULT_LIMITS) -> ImageFacts:
    """The same checks on an image already in memory (base64 mode)."""
    return inspect_image(bytes_reader(data), len(data), limits)


def check_object_size(object_size: int, limits: ImageLimits = DEFAULT_LIMITS) -> None:
    if object_size == 0:
        raise ImageRejected(RejectionCode.EMPTY_OBJECT, "The file is empty (0 bytes).")
    if object_size > limits.max_object_bytes:
        raise ImageRejected(
            RejectionCode.OBJECT_TOO_LARGE,
            f"The file is {_describe_size(object_size)}; the largest accepted is "
            f"{_describe_size(limits.max_object_bytes)}.",
        )


def supported_format(head: bytes) -> str:
    """The supported format the bytes start like, or ``ImageRejected`` (``not_an_image``, or
    ``unsupported_format`` naming what the file is)."""
    detected = sniff_format(head)
    if detected is None:
        raise ImageRejected(
            RejectionCode.NOT_AN_IMAGE,
            f"The file is not an image: its first bytes match no image format ({SUPPORTED_NAMES} expected).",
        )
    if detected == "HEIC" and not heif_available():
        raise ImageRejected(
            RejectionCode.UNSUPPORTED_FORMAT,
            "The file is a HEIC/HEIF image, and this deployment was built without HEIC support; "
            "rebuild the layer with HEIC enabled (`make build-CutoutLayer` with CUTOUT_HEIC=1, the "
            "default; see docs/inputs.md, 'HEIC and the GPL') or upload a JPEG or PNG.",
        )
    if detected not in SUPPORTED_FORMATS:
        raise ImageRejected(
            RejectionCode.UNSUPPORTED_FORMAT,
            f"The file is {with_article(detected)}, which is not supported; "
            f"upload a {SUPPORTED_NAMES} image.",
        )
    return detected


def _webp_header(head: bytes) -> _Header:
    try:
        webp = read_webp_header(head)
    except WebPHeaderError as error:
        raise _corrupt("WEBP") from error
    frames = 2 if webp.is_animated else 1  # the VP8X animation flag; the frame count is not needed
    # A WebP with an ICC or EXIF/XMP chunk is not sent as-is: its profile would need reading
    # (normalisation does), and its metadata must not reach the vendor unchecked.
    profile: ProfileKind = "other" if webp.has_icc else "none"
    return _Header(
        webp.width,
        webp.height,
        webp.mode,
        webp.has_alpha,
        frames,
        colour_profile=profile,
        has_metadata=webp.has_metadata,
        orientation=0 if webp.has_metadata else 1,
    )


def _pillow_header(image_format: str, reader: BoundedReader, limits: ImageLimits) -> _Header:
    """Parse the header from a prefix, growing it only if the parser ran off its end."""
    opener = _PILLOW_OPENERS[image_format]
    for length in limits.header_read_sizes():
        stream = EndTrackingStream(reader.prefix(length))
        try:
            with opener(stream) as image:
                return _header_of(image)
        except Image.DecompressionBombError as error:
            raise ImageRejected(
                RejectionCode.IMAGE_TOO_LARGE,
                f"The image declares far more pixels than can be handled safely; the largest accepted "
                f"is {megapixels(limits.max_source_pixels)} megapixels.",
            ) from error
        except _HEADER_ERRORS as error:
            if not stream.ran_out or reader.has_whole_object:
                raise _corrupt(image_format) from error
    raise _corrupt(
        image_format, f"its header was not found in the first {_describe_size(limits.max_header_bytes)}"
    )


def _header_of(image: ImageFile.ImageFile) -> _Header:
    mode = image.mode
    has_alpha = mode in ALPHA_MODES or "transparency" in image.info
    frames = int(getattr(image, "n_frames", 1))
    metadata = read_metadata_facts(image)
    return _Header(
        image.width,
        image.height,
        mode,
        has_alpha,
        frames,
        _raw_bmp_pixel_end(image),
        bits=_bits(image),
        orientation=metadata.orientation,
        colour_profile=profile_kind(image.info.get("icc_profile")),
        has_gps=metadata.has_gps,
        has_metadata=metadata.has_metadata,
        appends_video=metadata.appends_video,
    )


def _bits(image: ImageFile.ImageFile) -> int:
    """Bits per sample as stored: JPEG's frame header, PNG's IHDR (Pillow reads 16-bit RGB as RGB)."""
    if image.format == "JPEG":
        return int(getattr(image, "bits", 8))
    if image.format == "PNG" and image.tile:
        rawmode = str(image.tile[0].args[0] if image.tile[0].args else "")
        return 16 if "16" in rawmode or image.mode.startswith("I;16") else 8
    return 8


def _raw_bmp_pixel_end(image: ImageFile.ImageFile) -> int | None:
    """Where an uncompressed BMP's pixel rows end: its offset plus stride x height (from Pillow's tile)."""
    if image.format != "BMP" or not image.tile or image.tile[0].codec_name != "raw":
        return None
    tile = image.tile[0]
    stride = tile.args[1] if tile.args and len(tile.args) > 1 else None
    if not isinstance(stride, int):
        return None
    return int(tile.offset) + stride * image.height


def _check_header(image_format: str, header: _Header, limits: ImageLimits) -> None:
    check_dimensions(image_format, header.width, header.height, limits)
    if header.frames > 1:
        raise animated(image_format, None if image_format == "WEBP" else header.frames)
    if header.mode in UNSUPPORTED_COLOR_MODES:
        raise unsupported_mode(image_format, header.mode)


def check_dimensions(image_format: str, width: int, height: int, limits: ImageLimits) -> None:
    """The declared size, before any decode: the pixel ceiling, and what the API will take once
    the long side is scaled to ``max_side``."""
    if width <= 0 or height <= 0:
        raise _corrupt(image_format, f"it declares a size of {width}{TIMES}{height} pixels")
    if width * height > limits.max_source_pixels:
        raise ImageRejected(
            RejectionCode.IMAGE_TOO_LARGE,
            f"The image is {width}{TIMES}{height} pixels ({width * height / 1e6:.1f} megapixels); "
            f"the largest accepted is {megapixels(limits.max_source_pixels)} megapixels.",
        )
    short, long = min(width, height), max(width, height)
    if short < limits.min_side:
        raise ImageRejected(
            RejectionCode.IMAGE_TOO_SMALL,
            f"The image is {width}{TIMES}{height} pixels; "
            f"each side must be at least {limits.min_side} pixels.",
        )
    if long > limits.max_side and round(short * limits.max_side / long) < limits.min_side:
        raise ImageRejected(
            RejectionCode.IMAGE_TOO_SMALL,
            f"The image is {width}{TIMES}{height} pixels: scaled to {limits.max_side} pixels on its long "
            f"side, its short side would be under {limits.min_side} pixels (the API's minimum).",
        )


def animated(image_format: str, frames: int | None) -> ImageRejected:
    with_frames = "" if frames is None else f" with {frames} frames"
    return ImageRejected(
        RejectionCode.ANIMATED_IMAGE,
        f"The image is an animated {_display(image_format)}{with_frames}; only still images are supported.",
    )


def unsupported_mode(image_format: str, mode: str) -> ImageRejected:
    return ImageRejected(
        RejectionCode.UNSUPPORTED_COLOR_MODE,
        f"The {_display(image_format)} stores {mode} samples (32-bit integer or floating point), which "
        "have no standard mapping to sRGB colours; save it as 8- or 16-bit RGB and upload it again.",
    )


def _check_complete(image_format: str, header: _Header, reader: BoundedReader, limits: ImageLimits) -> bytes:
    """The end marker or declared length: a cut-off upload is refused before it is paid for.

    JPEG must end with EOI (``FFD9``; trailing zero padding allowed), unless what follows its
    image is declared: a motion photo's video (its XMP says so) or a Samsung trailer (it ends
    with ``SEFT``); normalisation then decodes the image and would still find it cut off. PNG
    must end with its IEND chunk. Both are read from the tail. WebP and BMP declare their length
    in the header: a file shorter than declared is cut off (a longer one only carries trailing
    bytes, which decoders ignore). Returns the tail it read (empty when it read none).
    """
    size = reader.object_size
    tail = b""
    if image_format == "JPEG":
        tail = reader.suffix(limits.tail_bytes)
        followed = header.appends_video or tail.endswith(SAMSUNG_TRAILER_END)
        if not _ends_with_end_of_image(tail) and not followed:
            raise _truncated("JPEG", "it does not end with the JPEG end-of-image marker")
    elif image_format == "PNG":
        tail = reader.suffix(limits.tail_bytes)
        if not tail.endswith(PNG_IEND_CHUNK):
            raise _truncated("PNG", "it does not end with the PNG IEND chunk")
    elif image_format == "WEBP":
        riff_size = int.from_bytes(reader.prefix_bytes[4:8], "little")
        declared = riff_size + RIFF_HEADER_BYTES
        if declared > size:
            raise _truncated("WEBP", f"it declares {declared:,} bytes but is {size:,} bytes long")
    elif image_format == "BMP":
        declared = int.from_bytes(reader.prefix_bytes[2:6], "little")
        if declared > size:
            raise _truncated("BMP", f"it declares {declared:,} bytes but is {size:,} bytes long")
        if header.raw_pixel_end is not None and header.raw_pixel_end > size:
            raise _truncated(
                "BMP", f"its pixel rows need {header.raw_pixel_end:,} bytes but it is {size:,} long"
            )
    return tail


def _ends_with_end_of_image(tail: bytes) -> bool:
    return tail.rstrip(b"\x00").endswith(JPEG_END_OF_IMAGE)


def _corrupt(image_format: str, why: str = "its header could not be read") -> ImageRejected:
    return ImageRejected(
        RejectionCode.CORRUPT_HEADER, f"The file starts like {with_article(image_format)} but {why}."
    )


def _truncated(image_format: str, why: str) -> ImageRejected:
    return ImageRejected(
        RejectionCode.TRUNCATED_IMAGE,
        f"The {_display(image_format)} file is incomplete: {why}; the upload was probably cut off.",
    )


def _describe_size(size: int) -> str:
    if size < MIB:
        return f"{size:,} bytes"
    return f"{size / MIB:.1f} MiB ({size:,} bytes)"


def _display(image_format: str) -> str:
    return "WebP" if image_format == "WEBP" else image_format


def with_article(name: str) -> str:
    """The name with its indefinite article, as it is said aloud ("an SVG", "a PNG")."""
    article = "an" if name[:1] in "AEIOU" or name.startswith(("HTML", "SVG", "XML")) else "a"
    return f"{article} {_display(name)}"
