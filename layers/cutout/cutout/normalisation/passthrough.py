"""Already a cut-out: an input whose alpha channel already separates a subject from a transparent
background needs no paid call (engine ``passthrough``, billed 0).

Precisely, with ``AlphaFacts`` of the normalised image (``alpha.py``):

- a background: at least 5 % of the pixels are transparent (alpha <= 8);
- a subject: at least 5 % of the pixels are opaque (alpha >= 247);
- a clean matte: at most 20 % are partly transparent (a faded or ghosted image is no cut-out;
  a cut-out's soft edge is a thin band);
- a background that surrounds: at least half of the 1-pixel border is transparent (a photo with
  transparent rounded corners or a transparent frame is not a cut-out; a product touching one or
  two edges still is).

All four must hold. Fully opaque alpha is no transparency at all (the image is treated as RGB),
and target sizes (TARGET_WIDTH/HEIGHT, which ask the API to crop and scale) turn passthrough off.
"""

from __future__ import annotations

import io
from typing import Any

from cutout.engine.port import Background, Cutout
from cutout.normalisation.alpha import AlphaFacts
from cutout.normalisation.normalise import NormalisedImage
from cutout.pixels import PixelBudget, working_set

MIN_TRANSPARENT = 0.05
MIN_OPAQUE = 0.05
MAX_PARTIAL = 0.20
MIN_BORDER_TRANSPARENT = 0.5


def is_already_cutout(alpha: AlphaFacts | None) -> bool:
    if alpha is None:
        return False
    return (
        alpha.transparent >= MIN_TRANSPARENT
        and alpha.opaque >= MIN_OPAQUE
        and alpha.partial <= MAX_PARTIAL
        and alpha.border_transparent >= MIN_BORDER_TRANSPARENT
    )


PASSTHROUGH_ENGINE = "passthrough"


def passthrough_cutout(image: NormalisedImage, background: Background, budget: PixelBudget) -> Cutout:
    """The input itself as the cut-out: its PNG for a transparent background, or composited over
    pure white as a JPEG for a white one. Billed 0, no request id, no score."""
    facts: dict[str, Any] = {
        "width": image.report.width,
        "height": image.report.height,
        "score": None,
        "usage": 0,
        "request_id": None,
        "engine": PASSTHROUGH_ENGINE,
    }
    if background is Background.TRANSPARENT:
        return Cutout.from_bytes(image.data, content_type="image/png", **facts)
    estimate = working_set(image.report.width, image.report.height, compressed=len(image.data))
    with budget.job(estimate, "passthrough") as job:
        decoded, _ = job.decode(
            job.open(io.BytesIO(image.data)), max(image.report.width, image.report.height)
        )
        data = job.encode_jpeg(job.on_white(decoded.convert("RGBA")))
    return Cutout.from_bytes(data, content_type="image/jpeg", **facts)
