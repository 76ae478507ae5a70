"""Small synthetic studio photos with exact alpha, drawn in the test (no npm, no files)."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import ndimage

SUPERSAMPLE = 4
Shape = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (y, x) in pixels -> inside?


def mug(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A mug: a rounded body and a ring handle on the right, with a see-through hole."""
    body = (x > 80) & (x < 170) & (y > 90) & (y < 200)
    handle_ring = ((x - 172) ** 2 + (y - 140) ** 2 < 38**2) & ((x - 172) ** 2 + (y - 140) ** 2 > 20**2)
    return body | (handle_ring & (x > 165))


def disc(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (x - 160) ** 2 + (y - 130) ** 2 < 60**2


def ring(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    r2 = (x - 160) ** 2 + (y - 125) ** 2
    return (r2 < 70**2) & (r2 > 35**2)


def coverage(shape: Shape, height: int, width: int) -> np.ndarray:
    """Exact-enough alpha: the shape sampled 4 x 4 per pixel."""
    step = 1.0 / SUPERSAMPLE
    offsets = np.arange(SUPERSAMPLE) * step + step / 2
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    alpha = np.zeros((height, width))
    for dy in offsets:
        for dx in offsets:
            alpha += shape(y + dy, x + dx)
    return (alpha / SUPERSAMPLE**2).astype(np.float32)


def background(kind: str, height: int, width: int) -> np.ndarray:
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    if kind == "grey_gradient":
        return np.broadcast_to(150.0 + 80.0 * y, (height, width, 3)).astype(np.float32)
    if kind == "white":
        return np.full((height, width, 3), 255.0, np.float32)
    if kind == "pastel":
        return (np.array([236.0, 214.0, 226.0], np.float32) * (0.95 + 0.05 * y)).astype(np.float32)
    raise ValueError(kind)


def scene(
    shape: Shape,
    colour: tuple[int, int, int],
    kind: str,
    *,
    shadow: bool = True,
    cast: tuple[float, float, float] | None = None,
    size: tuple[int, int] = (240, 320),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """An RGB uint8 photo and its alpha: the shape over a soft contact shadow on a studio background.

    ``cast`` = (centre y, centre x, radius) adds a soft round cast shadow there (40 % darker at its
    core), wide enough to hold a whole see-through hole, so no plain paper shows through it.
    """
    height, width = size
    alpha = coverage(shape, height, width)
    photo = background(kind, height, width)
    if shadow:
        rows = np.flatnonzero(alpha.max(axis=1) > 0.5)
        cols = np.flatnonzero(alpha.max(axis=0) > 0.5)
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        centre_x, half_w = (cols[0] + cols[-1]) / 2, (cols[-1] - cols[0]) * 0.6
        ellipse = ((x - centre_x) / half_w) ** 2 + ((y - rows[-1]) / 9.0) ** 2 <= 1
        darkness = ndimage.gaussian_filter(ellipse.astype(np.float32), 8.0)
        photo = photo * (1.0 - 0.4 * darkness / darkness.max())[..., None]
    if cast is not None:
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        blob = (y - cast[0]) ** 2 + (x - cast[1]) ** 2 <= cast[2] ** 2
        darkness = ndimage.gaussian_filter(blob.astype(np.float32), 8.0)
        photo = photo * (1.0 - 0.4 * darkness / darkness.max())[..., None]
    photo = np.asarray(colour, np.float32) * alpha[..., None] + photo * (1 - alpha[..., None])
    photo += np.random.default_rng(seed).normal(0.0, 1.5, photo.shape)
    return np.clip(photo + 0.5, 0, 255).astype(np.uint8), alpha


def jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    predicted, actual = alpha > 0.5, truth > 0.5
    return float((predicted & actual).sum() / max(1, (predicted | actual).sum()))


def shaded_scene(
    shape: Shape,
    lit: tuple[int, int, int],
    shaded: tuple[int, int, int],
    kind: str,
    *,
    size: tuple[int, int] = (240, 320),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Like ``scene``, but the product is shaded diagonally from ``lit`` (top right) to ``shaded``.

    A light product lit from the top right is almost paper-white there: its outline fades out where it
    meets white paper, and the rest of it is a tinted grey, the colour of a shadow (the hard case).
    """
    height, width = size
    flat, alpha = scene(shape, (0, 0, 0), kind, size=size, seed=seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = np.clip((x / width - y / height + 1.0) / 2.0, 0.0, 1.0)[..., None] ** 2  # 1 at the top right
    colour = (
        np.asarray(shaded, np.float32) + (np.asarray(lit, np.float32) - np.asarray(shaded, np.float32)) * ramp
    )
    photo = flat.astype(np.float32) + colour * alpha[..., None]  # flat holds the background times 1 - alpha
    return np.clip(photo + 0.5, 0, 255).astype(np.uint8), alpha


def panelled_scene(
    *, top: float, bottom: float, seed: int = 0, size: tuple[int, int] = (240, 320)
) -> tuple[np.ndarray, np.ndarray]:
    """A grey product of two panels on grey seamless paper (lighter towards the bottom), outlined dark.

    The left panel is a flat light grey; the right one is shaded from ``top`` to ``bottom`` grey, so
    part of it crosses the paper's own grey (a silver shoe's side, a steel kettle's flank), walled in
    by the product's dark frame and the seam between the panels.
    """
    height, width = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    inside = (x >= 90) & (x < 230) & (y >= 50) & (y < 200)
    frame = inside & ~((x >= 96) & (x < 224) & (y >= 56) & (y < 194))
    seam = inside & (np.abs(x - 160) < 2)
    photo = background("grey_gradient", height, width).copy()
    shading = top + (bottom - top) * (y - 50) / 150
    photo[inside] = np.where(x[inside] > 160, shading[inside], 205.0)[:, None]
    photo[frame | seam] = 110.0
    photo += np.random.default_rng(seed).normal(0.0, 1.5, photo.shape)
    return np.clip(photo + 0.5, 0, 255).astype(np.uint8), inside.astype(np.float32)
