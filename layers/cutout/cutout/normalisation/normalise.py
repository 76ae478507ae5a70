"""Normalise: any accepted input → an API-ready image (JPEG, or PNG with alpha; sRGB; 8-bit;
upright; long side <= 3000; no EXIF, XMP, GPS or ICC), from the original object's bytes.

Decode → orient → sRGB → size → encode, all inside one ``PixelJob`` of the process's
``PixelBudget``, whose reservation is estimated from the header before a byte is decoded. The
header is checked first (pixel ceiling, sides, animation, colour mode, profile), so a bomb costs
a header parse. JPEGs are reduced by the decoder's DCT scaling before orientation (which loads the
pixels), so a 45 MP JPEG never exists full-size in memory.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageFile

from cutout.normalisation.alpha import AlphaFacts, alpha_facts
from cutout.normalisation.colour import corrupt_profile, to_srgb
from cutout.pixels import PixelBudget, PixelJob, jpeg_reduction, open_header, working_set
from cutout.validation import ImageLimits, ImageRejected, RejectionCode
from cutout.validation.icc_profile import profile_kind
from cutout.validation.inspection import (
    animated,
    check_dimensions,
    supported_format,
    unsupported_mode,
    with_article,
)
from cutout.validation.limits import megapixels

DEFAULT_JPEG_QUALITY = 92
# Well inside what the API takes: a 3000x3000 JPEG at q92 is 2-4 MB; base64 adds a third.
MAX_ENCODED_BYTES = 8 * 1024 * 1024
_FALLBACK_QUALITIES = (85, 75)
# Formats where several frames mean an animation; a multi-page TIFF is a document: page 1 is used.
_ANIMATED_FORMATS = frozenset({"GIF", "PNG", "WEBP", "AVIF", "HEIF"})
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError, KeyError)
_DISPLAY = {"HEIF": "HEIC", "WEBP": "WebP"}


@dataclass(frozen=True, slots=True)
class NormalisationReport:
    """What normalisation did: it goes into the output's metadata and the log line."""

    source_format: str
    source_width: int
    source_height: int
    orientation_applied: int  # the EXIF orientation undone (1: none)
    colour_conversion: str  # "none", "Display P3 -> sRGB", "16-bit grey → 8-bit", ...
    scale_factor: float  # output long side / upright source long side
    decoder_reduction: int  # JPEG DCT scale used (1, 2, 4, 8)
    width: int
    height: int
    reserved_bytes: int
    steps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NormalisedImage:
    data: bytes = field(repr=False)
    content_type: str  # image/jpeg or image/png
    report: NormalisationReport
    alpha: AlphaFacts | None  # the alpha channel's facts when the output keeps one

    @property
    def extension(self) -> str:
        return ".png" if self.content_type == "image/png" else ".jpg"


def normalise(
    data: bytes,
    budget: PixelBudget,
    limits: ImageLimits | None = None,
    *,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
) -> NormalisedImage:
    """The API-ready image, or ``ImageRejected`` with the reason (``corrupt_color_profile``,
    ``animated_image``, ``image_too_large``, ``truncated_image``, ``corrupt_image``, ...)."""
    limits = limits or ImageLimits()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        header = _header(data, limits)
        image_format = _DISPLAY.get(str(header.format), str(header.format))
        source_size = header.size
        reduction = jpeg_reduction(*source_size, limits.max_side) if header.format == "JPEG" else 1
        estimate = working_set(
            *source_size,
            compressed=len(data),
            reduction=reduction,
            output_side=limits.max_side,
            progressive=bool(header.info.get("progressive")),  # Pillow also sets "progression" with it
        )
        with budget.job(estimate, "normalise") as job:
            try:
                icc = header.info.get("icc_profile")
                image, reduction = job.decode(header, limits.max_side)
                image, orientation = job.orient(image)
                image, conversion = to_srgb(image, icc if isinstance(icc, bytes) else None)
                upright_long = max(image.size) * reduction
                image = job.resize_to_fit(image, limits.max_side)
            except ImageRejected:
                raise
            except Image.DecompressionBombError as error:
                raise _too_large(source_size, limits) from error
            except _DECODE_ERRORS as error:
                raise _undecodable(image_format, error) from error
            alpha = alpha_facts(image)
            if alpha is not None and alpha.fully_opaque:
                image, alpha = image.convert("RGB"), None
                conversion = conversion if conversion != "none" else "opaque alpha dropped"
            # the image as sent: a PNG over the size cap is shrunk by _encode
            encoded, content_type, image = _encode(job, image, alpha is not None, jpeg_quality)
            report = NormalisationReport(
                source_format=image_format,
                source_width=source_size[0],
                source_height=source_size[1],
                orientation_applied=orientation,
                colour_conversion=conversion,
                scale_factor=round(max(image.size) / upright_long, 4),
                decoder_reduction=reduction,
                width=image.width,
                height=image.height,
                reserved_bytes=job.reserved_bytes,
                steps=tuple(job.steps),
            )
    return NormalisedImage(encoded, content_type, report, alpha)


def _header(data: bytes, limits: ImageLimits) -> ImageFile.ImageFile:
    try:
        header = open_header(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise _too_large(None, limits) from error
    except _DECODE_ERRORS as error:  # Pillow's UnidentifiedImageError is an OSError
        # not an image, or an unsupported one, says so; a supported one no decoder reads is damaged
        detected = supported_format(data)  # it reads the first kilobyte at most
        raise ImageRejected(
            RejectionCode.CORRUPT_HEADER,
            f"The file starts like {with_article(detected)} but no decoder could read its header "
            "(damaged or cut off).",
        ) from error
    image_format = _DISPLAY.get(str(header.format), str(header.format))
    check_dimensions(image_format, header.width, header.height, limits)
    if header.format == "TIFF" and tiff_ifds_loop(data):
        raise ImageRejected(
            RejectionCode.CORRUPT_HEADER,
            "The file starts like a TIFF but its chain of page directories (IFDs) loops back on itself.",
        )
    if header.format in _ANIMATED_FORMATS:
        try:
            is_animated = bool(getattr(header, "is_animated", False))
        except _DECODE_ERRORS:
            is_animated = False  # a damaged second frame: the first is what is decoded
        if is_animated:
            raise animated(image_format, None)
    if header.mode in ("I", "F") and header.format != "PNG":
        raise unsupported_mode(image_format, header.mode)
    icc = header.info.get("icc_profile")
    if isinstance(icc, bytes) and icc and profile_kind(icc) == "corrupt":
        raise corrupt_profile("cannot be read")
    return header


def _encode(
    job: PixelJob, image: Image.Image, keep_alpha: bool, quality: int
) -> tuple[bytes, str, Image.Image]:
    """The encoded bytes, their content type, and the image they encode (a PNG may be shrunk)."""
    if keep_alpha:
        encoded = job.encode_png(image)
        while len(encoded) > MAX_ENCODED_BYTES and max(image.size) > 200:
            image = job.resize_to_fit(image, int(max(image.size) * 0.8))
            encoded = job.encode_png(image)
        return encoded, "image/png", image
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    encoded = job.encode_jpeg(image, quality)
    for fallback in _FALLBACK_QUALITIES:
        if len(encoded) <= MAX_ENCODED_BYTES:
            break
        encoded = job.encode_jpeg(image, fallback)
    return encoded, "image/jpeg", image


def tiff_ifds_loop(data: bytes, max_pages: int = 10_000) -> bool:
    """Whether a (classic) TIFF's chain of IFD offsets comes back to an IFD it already visited.
    Pillow stops at such a loop silently; we refuse the file, as it is malformed."""
    if len(data) < 8 or data[:4] not in (b"II*\x00", b"MM\x00*"):
        return False  # BigTIFF and anything else: Pillow's own checks apply
    order = "<" if data[:2] == b"II" else ">"
    offset: int = struct.unpack(order + "I", data[4:8])[0]
    seen: set[int] = set()
    while offset and len(seen) < max_pages:
        if offset in seen:
            return True
        seen.add(offset)
        if offset + 2 > len(data):
            return False
        entries = struct.unpack(order + "H", data[offset : offset + 2])[0]
        next_at = offset + 2 + 12 * entries
        if next_at + 4 > len(data):
            return False
        offset = struct.unpack(order + "I", data[next_at : next_at + 4])[0]
    return False


def _too_large(size: tuple[int, int] | None, limits: ImageLimits) -> ImageRejected:
    declared = f" ({size[0]}×{size[1]} pixels)" if size else ""
    return ImageRejected(
        RejectionCode.IMAGE_TOO_LARGE,
        f"The image declares more pixels than can be decoded safely{declared}; the largest accepted "
        f"is {megapixels(limits.max_source_pixels)} megapixels.",
    )


def _undecodable(image_format: str, error: BaseException) -> ImageRejected:
    text = str(error).lower()
    if isinstance(error, EOFError) or any(
        word in text for word in ("truncated", "end of file", "end of data")
    ):
        return ImageRejected(
            RejectionCode.TRUNCATED_IMAGE,
            f"The {image_format} file is incomplete: its pixel data ends early; "
            "the upload was probably cut off.",
        )
    return ImageRejected(
        RejectionCode.CORRUPT_IMAGE,
        f"The {image_format} file's header is valid but its pixel data could not be decoded (damaged file).",
    )
