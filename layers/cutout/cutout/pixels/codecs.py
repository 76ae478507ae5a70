"""Decode, reduce, resize, composite and encode: the pixel operations, each on a ``PixelJob``.

A ``PixelJob`` is only handed out by ``PixelBudget.job`` (``budget.py``), so whoever holds one
holds its share of the function's memory. It remembers what it did (``steps``) for the log line.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from typing import IO

from PIL import Image, ImageFile, ImageOps

# Formats Pillow may be asked to open here: never its whole plugin list (no EPS/PDF/PSD/FITS...).
DECODABLE_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "TIFF", "BMP", "GIF", "HEIF")
JPEG_REDUCTIONS = (8, 4, 2, 1)
_heif_lock = threading.Lock()
_heif_state: list[bool] = []  # [] unknown, [True] registered, [False] pillow-heif not installed


def register_heif() -> bool:
    """Register pillow-heif's opener if it is installed (an optional dependency); True if HEIC decodes."""
    with _heif_lock:
        if not _heif_state:
            try:
                import pillow_heif
            except ImportError:
                _heif_state.append(False)
            else:
                pillow_heif.register_heif_opener(thumbnails=False)
                _heif_state.append(True)
        return _heif_state[0]


def heif_available() -> bool:
    return register_heif()


# What Pillow may raise on a malformed EXIF block (a PNG's hex "Raw profile type exif" that is not
# hex, a TIFF structure cut short): the image stays valid, only its metadata is unreadable.
EXIF_ERRORS = (OSError, SyntaxError, ValueError, EOFError, KeyError, IndexError, TypeError, ZeroDivisionError)

HEIF_MODULE = "pillow_heif"  # the optional HEIC/HEIF decoder (docs/inputs.md, "HEIC and the GPL")


def jpeg_reduction(width: int, height: int, longest: int) -> int:
    """The largest DCT scale (8, 4, 2, 1) that keeps the reduced image at least ``longest`` on its
    long side, the aspect ratio kept (so 6000x4000 → 3000 x 2000 is 1/2, not 1/1)."""
    long_side = max(width, height)
    for reduction in JPEG_REDUCTIONS:
        if long_side // reduction >= longest:
            return reduction
    return 1


def open_header(stream: IO[bytes]) -> ImageFile.ImageFile:
    """The image's header (Pillow's lazy open: nothing decoded, no budget needed), among the
    decodable formats only."""
    formats = [name for name in DECODABLE_FORMATS if name != "HEIF" or register_heif()]
    image = Image.open(stream, formats=formats)
    if not isinstance(image, ImageFile.ImageFile):  # pragma: no cover  (every plugin's class is one)
        raise TypeError("not a file image")
    return image


@dataclass
class PixelJob:
    """Pixel work under a reservation of ``reserved_bytes`` of the budget."""

    purpose: str
    reserved_bytes: int
    steps: list[str] = field(default_factory=list)

    def open(self, stream: IO[bytes]) -> ImageFile.ImageFile:
        """The image's header (nothing decoded yet), among the decodable formats only."""
        return open_header(stream)

    def decode(self, image: ImageFile.ImageFile, longest: int) -> tuple[Image.Image, int]:
        """Load the pixels, with the decoder's own reduction first where it has one (JPEG DCT
        scaling), so the reduced image is still at least ``longest`` on its long side. Returns the
        loaded image and the reduction (1 when none)."""
        reduction = 1
        if image.format == "JPEG":
            reduction = jpeg_reduction(image.width, image.height, longest)
            if reduction > 1:
                # draft() takes a requested size and picks scale = min(w // rw, h // rh): ask for the
                # aspect-correct size so the long side decides.
                image.draft(image.mode, (image.width // reduction, image.height // reduction))
        image.load()
        self.steps.append(f"decode {image.format} 1/{reduction}")
        return image, reduction

    def orient(self, image: Image.Image) -> tuple[Image.Image, int]:
        """Apply the EXIF orientation (2-8); returns the upright image and the orientation applied.

        HEIC/HEIF: libheif applies the normative irot/imir boxes while decoding and pillow-heif
        resets the (descriptive, per the HEIF standard) EXIF tag, so nothing is applied twice here."""
        try:
            tagged = image.getexif().get(0x0112, 1)
        except EXIF_ERRORS:
            return image, 1  # an unreadable EXIF block: the pixels are fine, no orientation is known
        # Pillow turns only an integer 2-8 (an ASCII "6" or a rational is left as it is)
        orientation = tagged if isinstance(tagged, int) else 1
        if orientation not in range(2, 9):
            return image, 1
        upright = ImageOps.exif_transpose(image)
        self.steps.append(f"orient {orientation}")
        return upright, orientation

    def resize_to_fit(self, image: Image.Image, longest: int) -> Image.Image:
        """Downscale (Lanczos, with Pillow's reducing gap) so the long side is at most ``longest``."""
        if max(image.size) <= longest:
            return image
        scale = longest / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        self.steps.append(f"resize {image.width}x{image.height}->{size[0]}x{size[1]}")
        return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)

    def on_white(self, image: Image.Image) -> Image.Image:
        """An RGBA image composited over pure white (255, 255, 255), as RGB."""
        canvas = Image.new("RGB", image.size, (255, 255, 255))
        canvas.paste(image, mask=image.getchannel("A"))
        self.steps.append("composite on white")
        return canvas

    def encode_jpeg(self, image: Image.Image, quality: int = 92) -> bytes:
        """Baseline JPEG, 4:4:4 at high quality, no metadata at all (no EXIF, XMP, ICC: it is sRGB)."""
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, subsampling=0, optimize=False, icc_profile=None)
        self.steps.append(f"encode JPEG q{quality}")
        return buffer.getvalue()

    def encode_png(self, image: Image.Image) -> bytes:
        """PNG (zlib level 6), no metadata chunks (Pillow would copy a profile the source image
        carried into an iCCP chunk unless told not to)."""
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=6, icc_profile=None)
        self.steps.append("encode PNG")
        return buffer.getvalue()
