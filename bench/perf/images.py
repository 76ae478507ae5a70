"""Benchmark inputs: noisy JPEGs (realistically large, like camera photos) and cut-out-like PNGs.

A flat synthetic image compresses to almost nothing and would flatter every figure that depends on
bytes moved (memory, upload time). Noise makes a 3000×3000 JPEG weigh what a photo does (several
MB), and the fake engine's result weigh what a real cut-out PNG does.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache" / "perf"
JPEG_QUALITY = 90
INPUT_NOISE_SIGMA = 18.0
RESULT_NOISE_SIGMA = 6.0


def _gradient(side_w: int, side_h: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth colour field, different per seed (the 'photo' under the noise)."""
    ys = np.linspace(0.0, 1.0, side_h, dtype=np.float32)[:, None, None]
    xs = np.linspace(0.0, 1.0, side_w, dtype=np.float32)[None, :, None]
    start, across, down = (rng.uniform(40, 215, size=3).astype(np.float32) for _ in range(3))
    return start + (across - start) * xs + (down - start) * ys


def noisy_jpeg(width: int, height: int, seed: int) -> bytes:
    """A ``width``×``height`` JPEG of a colour gradient with Gaussian noise (quality 90)."""
    rng = np.random.default_rng(seed)
    pixels = _gradient(width, height, rng) + rng.normal(0.0, INPUT_NOISE_SIGMA, size=(height, width, 3))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(
        buffer, "JPEG", quality=JPEG_QUALITY
    )
    return buffer.getvalue()


def cutout_png(width: int, height: int, seed: int = 0) -> bytes:
    """An RGBA PNG like a cut-out: a noisy opaque subject (an ellipse) on a transparent field."""
    rng = np.random.default_rng(seed)
    rgb = _gradient(width, height, rng) + rng.normal(0.0, RESULT_NOISE_SIGMA, size=(height, width, 3))
    ys, xs = np.ogrid[:height, :width]
    inside = ((xs - width / 2) / (width * 0.4)) ** 2 + ((ys - height / 2) / (height * 0.4)) ** 2 <= 1.0
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., :3] = np.clip(rgb, 0, 255).astype(np.uint8)
    rgba[..., 3] = np.where(inside, 255, 0)
    rgba[~inside, :3] = 0
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def input_set(count: int, side: int) -> list[bytes]:
    """``count`` distinct ``side``×``side`` noisy JPEGs, cached under ``bench/.cache/perf``."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    images = []
    for seed in range(count):
        path = CACHE_DIR / f"input-{side}-{seed}.jpg"
        if not path.exists():
            path.write_bytes(noisy_jpeg(side, side, seed))
        images.append(path.read_bytes())
    return images
