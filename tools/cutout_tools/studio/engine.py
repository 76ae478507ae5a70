"""``StudioEngine``: the engine port's local adapter, a real background remover that downloads nothing.

Used by the Aidge-compatible emulator, the local stack and the demo. It takes image bytes (the emulator
fetches URLs itself), finds the subject with ``segmentation.segment`` and answers like the Aidge API:
a PNG with alpha for ``TRANSPARENT``, a JPEG on pure white for ``WHITE``, and, when a target size is
asked, the subject cropped to its bounding box, scaled to fit and centred on a canvas of that size.
"""

from __future__ import annotations

import io
import uuid
import warnings

import numpy as np
from PIL import Image, ImageOps

from cutout.engine.errors import PermanentEngineError
from cutout.engine.port import Background, Cutout, CutoutOptions, ImageBytes, ImageSource
from cutout_tools.studio.segmentation import segment

ENGINE_NAME = "studio"
JPEG_QUALITY = 92
PNG_COMPRESS_LEVEL = 3  # fast: the emulator answers quickly; the size difference to level 9 is small
SUBJECT_ALPHA_MIN = 8  # alpha (0-255) below which a pixel is blank margin for cropping
MAX_PIXELS = 40_000_000  # bigger than any product photo; refuses decompression bombs


class StudioEngine:
    """Background removal for product photos on studio backgrounds; cheap to construct, stateless."""

    @property
    def engine_name(self) -> str:
        return ENGINE_NAME

    def remove_background(self, source: ImageSource, options: CutoutOptions) -> Cutout:
        if not isinstance(source, ImageBytes):
            raise PermanentEngineError(
                "the studio engine works on image bytes; fetch the URL first", code="studio_needs_bytes"
            )
        rgb = decode_rgb(source.data)
        result = segment(rgb)
        rgba = np.dstack([rgb, np.round(result.alpha * 255.0).astype(np.uint8)])
        image = Image.fromarray(rgba)
        if options.target_width is not None or options.target_height is not None:
            image = fit_to_target(image, options.target_width, options.target_height)
        data, content_type = encode(image, options.background)
        return Cutout.from_bytes(
            data,
            content_type=content_type,
            width=image.width,
            height=image.height,
            score=round(result.confidence, 4),
            usage=1,
            request_id=uuid.uuid4().hex,
            engine=ENGINE_NAME,
        )


def decode_rgb(data: bytes) -> np.ndarray:
    """Any Pillow-readable image as upright 8-bit RGB (EXIF orientation, palette, 16-bit, alpha)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                _refuse_huge(opened)
                image = ImageOps.exif_transpose(opened)
                image.load()
    except PermanentEngineError:
        raise
    except (
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as error:
        raise PermanentEngineError(
            "the bytes are not an image Pillow can read", code="not_an_image"
        ) from error
    return to_rgb(image)


def _refuse_huge(image: Image.Image) -> None:
    if image.width * image.height > MAX_PIXELS:
        raise PermanentEngineError("the image is too large for the studio engine", code="too_large")


def to_rgb(image: Image.Image) -> np.ndarray:
    """8-bit RGB; transparent pixels become white (a product PNG with alpha is a product on nothing)."""
    if image.mode in {"I;16", "I;16B", "I;16L", "I"}:  # 16-bit grey: scale down, do not clip
        grey = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if grey.max() > 255 else 255.0
        image = Image.fromarray(np.round(grey * (255.0 / peak)).astype(np.uint8))
    if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def subject_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The bounding box of the visible subject (blank margin removed), or None if there is none."""
    alpha = np.asarray(image.getchannel("A"))
    rows = np.flatnonzero((alpha >= SUBJECT_ALPHA_MIN).any(axis=1))
    cols = np.flatnonzero((alpha >= SUBJECT_ALPHA_MIN).any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def fit_to_target(image: Image.Image, target_width: int | None, target_height: int | None) -> Image.Image:
    """Crop to the subject, scale it to fit the target box (aspect kept), centre it on that canvas.

    With only one side given, the other follows the cropped subject's aspect ratio.
    """
    box = subject_box(image)
    subject = image.crop(box) if box is not None else image
    aspect = subject.width / subject.height
    width = target_width if target_width is not None else max(1, round(int(target_height or 0) * aspect))
    height = target_height if target_height is not None else max(1, round(width / aspect))
    scale = min(width / subject.width, height / subject.height)
    size = (
        max(1, min(width, round(subject.width * scale))),
        max(1, min(height, round(subject.height * scale))),
    )
    # scale premultiplied colours so transparent pixels do not bleed dark fringes into the edge
    scaled = subject.convert("RGBa").resize(size, Image.Resampling.LANCZOS).convert("RGBA")
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    canvas.paste(scaled, ((width - size[0]) // 2, (height - size[1]) // 2))
    return canvas


def encode(image: Image.Image, background: Background) -> tuple[bytes, str]:
    """PNG with alpha for TRANSPARENT; JPEG on pure white for WHITE (like the Aidge sample)."""
    buffer = io.BytesIO()
    if background is Background.WHITE:
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        Image.alpha_composite(white, image).convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
        return buffer.getvalue(), "image/jpeg"
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue(), "image/png"
