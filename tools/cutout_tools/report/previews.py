"""Small inline previews of the run's images, for a report a person can open on its own.

A report holds one original and one cut-out per input; inlining them at full size would make a
15-image run weigh tens of megabytes. Each image is decoded once, turned upright, shrunk to a
preview (``PREVIEW_MAX_SIDE`` pixels on its long side: sharp at half that size on a high-density
screen) and re-encoded in full colour, never palette-quantised (a preview must not show bands or
fringes the real file does not have, making the engine look worse than it is): WebP with its alpha
channel kept losslessly when it has transparency (the point of a cut-out), JPEG otherwise, both at
a quality where compression is invisible at preview size.

A report must never fail because of one input: the inputs that fail validation are exactly the
ones Pillow cannot read (a text file named ``.jpg``, a truncated JPEG), so reading them is expected
to fail, and the preview is then ``None`` with a short reason the page shows instead.
"""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

PREVIEW_MAX_SIDE = 480
JPEG_QUALITY = 90
WEBP_QUALITY = 90  # the colour planes; the alpha plane is kept losslessly (Pillow's default)
MAX_DECODED_PIXELS = 64_000_000  # far above any product photo; a decompression bomb gets a placeholder


@dataclass(frozen=True, slots=True)
class Preview:
    """An image ready to inline: its data URI and what the page says about the original."""

    data_uri: str
    width: int  # of the original image, not of the preview
    height: int
    has_alpha: bool
    format: str  # Pillow's name of the original's format: "JPEG", "PNG", "WEBP"


@dataclass(frozen=True, slots=True)
class NoPreview:
    """Why an image cannot be shown (the page shows the reason in a placeholder)."""

    reason: str


def preview(path: Path, max_side: int = PREVIEW_MAX_SIDE) -> Preview | NoPreview:
    """A downscaled, inlinable copy of the image at ``path``, or why there is none. Never raises."""
    if not path.is_file():
        return NoPreview("file not found")
    try:
        return _preview(path, max_side)
    except Exception as error:  # noqa: BLE001 - Pillow's decoders raise many kinds on broken files; none may stop a report
        return NoPreview(_reason(error))


def _preview(path: Path, max_side: int) -> Preview:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as opened:
            if opened.width * opened.height > MAX_DECODED_PIXELS:
                raise Image.DecompressionBombError("too many pixels to preview")
            source_format = opened.format or "unknown"
            width, height = (opened.height, opened.width) if _rotated(opened) else opened.size
            opened.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale, much faster
            image = ImageOps.exif_transpose(opened)
            image.load()
    has_alpha = _has_transparency(image)
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    buffer = io.BytesIO()
    if has_alpha:
        # exact=True keeps the colour under transparent pixels, so soft edges blend as in the file.
        image.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=4, exact=True)
        mime = "image/webp"
    else:
        image.save(
            buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, subsampling=0
        )
        mime = "image/jpeg"
    data_uri = f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"
    return Preview(data_uri=data_uri, width=width, height=height, has_alpha=has_alpha, format=source_format)


def _rotated(image: Image.Image) -> bool:
    """Whether the EXIF orientation swaps width and height (orientations 5 to 8)."""
    return image.getexif().get(0x0112, 1) in {5, 6, 7, 8}


def _has_transparency(image: Image.Image) -> bool:
    """Whether any pixel is not fully opaque (an opaque PNG with an alpha channel shows as opaque)."""
    if image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info:
        low, _ = image.convert("RGBA").getchannel("A").getextrema()
        return isinstance(low, int | float) and low < 255
    return False


def _reason(error: Exception) -> str:
    """A short, safe sentence for the placeholder (never file bytes)."""
    if isinstance(error, UnidentifiedImageError):
        return "not an image Pillow can read"
    if isinstance(error, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return "too many pixels to preview"
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"cannot be previewed: {text[:120]}"
