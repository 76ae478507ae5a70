"""Facts about a master's alpha channel, computed once with cheap Pillow operations.

The alpha is reduced to at most ``ANALYSIS_SIDE`` pixels on its longer side (a box filter: the
shares it measures do not change) and thresholded at 50 %; everything below runs on that small
mask, so the cost hardly depends on the image's size. Decoding the master holds its working set in
the pixel budget (``cutout.pixels``; a 3000×3000 RGBA master is 36 MB of pixels); the deliverables
path decodes the master once for the gate and every variant (``Deliverables.decoded``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, BinaryIO

from PIL import Image

ANALYSIS_SIDE = 256
OPAQUE = 128  # alpha at or above this counts as opaque
MIN_FRAGMENT_SHARE = 0.001  # a piece smaller than 0.1 % of the frame is a speck, not a fragment
_EDGE_TOUCH_SHARE = 0.01  # a side counts as touched when >= 1 % of it (and >= 2 px) is opaque
_decode = threading.BoundedSemaphore(1)


@dataclass(frozen=True, slots=True)
class AlphaStats:
    """What the gate needs from a mask (shares are of the whole frame)."""

    width: int
    height: int
    opaque_share: float
    subject_share: float  # the bounding box of the opaque pixels
    edges_touched: tuple[str, ...]  # "top", "bottom", "left", "right"
    fragments: int


def alpha_stats_of(alpha: Image.Image) -> AlphaStats:
    """Stats of an ``L`` image that is an alpha channel."""
    width, height = alpha.size
    scale = max(1, -(-max(width, height) // ANALYSIS_SIDE))
    small = alpha.reduce(scale) if scale > 1 else alpha
    mask = small.point(lambda value: 255 if value >= OPAQUE else 0)
    w, h = mask.size
    pixels = mask.tobytes()
    total = w * h
    opaque = pixels.count(255)
    box = mask.getbbox()
    subject_share = 0.0 if box is None else (box[2] - box[0]) * (box[3] - box[1]) / total
    edges = _edges_touched(pixels, w, h)
    return AlphaStats(
        width=width,
        height=height,
        opaque_share=opaque / total,
        subject_share=subject_share,
        edges_touched=edges,
        fragments=_fragments(pixels, w, h, max(1, int(MIN_FRAGMENT_SHARE * total))),
    )


def alpha_stats(image: Image.Image) -> AlphaStats | None:
    """Stats of an image's alpha channel; ``None`` if it has none (a white-background JPEG)."""
    if "A" not in image.getbands() and image.mode != "P":
        return None
    if image.mode == "P" and "transparency" not in image.info:
        return None
    rgba = image if "A" in image.getbands() else image.convert("RGBA")
    return alpha_stats_of(rgba.getchannel("A"))


def alpha_stats_of_stream(
    body: BinaryIO, reserve: Callable[[int], AbstractContextManager[Any]] | None = None
) -> AlphaStats | None:
    """Decode an encoded master from ``body`` (rewound afterwards) and return its alpha's stats.

    ``reserve`` is the pixel budget's (``PixelBudget.reserve``): the decode holds its working set
    there, as every decode does; without one, decodes are serialised (one at a time per process).
    """
    body.seek(0)
    try:
        with Image.open(body) as image:
            width, height = image.size
            # the decoded image, and one RGBA conversion (a palette PNG) alive at once
            with reserve(2 * width * height * 4) if reserve is not None else _decode:
                image.load()
                return alpha_stats(image)
    finally:
        body.seek(0)


def _edges_touched(pixels: bytes, w: int, h: int) -> tuple[str, ...]:
    rows = {"top": pixels[:w], "bottom": pixels[(h - 1) * w :]}
    columns = {"left": pixels[0::w], "right": pixels[w - 1 :: w]}
    touched = []
    for name, line in (*rows.items(), *columns.items()):
        needed = max(2, int(_EDGE_TOUCH_SHARE * len(line)))
        if line.count(255) >= needed:
            touched.append(name)
    return tuple(touched)


def _fragments(pixels: bytes, w: int, h: int, min_size: int) -> int:
    """Connected pieces (4-neighbour) of at least ``min_size`` opaque pixels."""
    seen = bytearray(len(pixels))
    count = 0
    for start, value in enumerate(pixels):
        if value != 255 or seen[start]:
            continue
        seen[start] = 1
        size, queue = 0, deque([start])
        while queue:
            index = queue.popleft()
            size += 1
            x = index % w
            for neighbour, ok in (
                (index - w, index >= w),
                (index + w, index < len(pixels) - w),
                (index - 1, x > 0),
                (index + 1, x < w - 1),
            ):
                if ok and not seen[neighbour] and pixels[neighbour] == 255:
                    seen[neighbour] = 1
                    queue.append(neighbour)
        if size >= min_size:
            count += 1
    return count
