"""A small learned prior for the studio engine: where the subject is, from what the rules measured.

The rules of ``segmentation`` see a product by its difference from the paper and by its sharp outline.
That is enough for a coloured product; for a neutral one (white, grey, steel, black goods: the paper's
own colours, darkened as a shadow darkens it) it is not, because telling a grey body from a grey shadow
needs the *shape*: a body is bounded by its outline, a shadow lies under it and fades out. A small
convolutional network (a U-Net of about 60k weights, ``WEIGHTS_PATH``) looks at the rules' own
measurements over the whole frame and says, per pixel, how likely it is subject.

* **Inputs** (``features``): the photo's luma, its difference from the fitted paper surface, the light it
  keeps of the paper (the shadow model's gain), the colour it adds, the strict paper test, the sharp
  outline, the rays that meet it, and the rules' own mask: at half the working resolution.
* **Trained** (``bench/train_prior.py``, PyTorch, dev-only and not needed to run it) on studio photos
  generated as the evaluation set is, but of *other* emoji than the 53 products the set is made of, on
  seeds the set never uses: every figure of ``bench/engine_quality.py`` is on objects it never saw.
* **Run** here in numpy alone (``forward``): a few convolutions as matrix products, about 0.1 CPU second
  for a working image. Nothing of it ships to Lambda: the studio engine is a local tool.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

WEIGHTS_PATH = Path(__file__).with_name("prior-weights.npz")
FEATURE_NAMES = (
    "luma",
    "red_minus_paper",
    "green_minus_paper",
    "blue_minus_paper",
    "gain",
    "chroma_residual",
    "paper_distance",
    "sharp_edges",
    "rays",
    "rules_mask",
)
WIDTHS = (8, 12, 16, 24, 32)  # channels per level of the U-Net, level k at 1 / 2^k of the input
DOWNSCALE = 2  # the network sees half the working resolution
_MULTIPLE = DOWNSCALE * 2 ** (len(WIDTHS) - 1)

FloatArray = np.ndarray


class RuleTests(Protocol):
    """The per-pixel tests of the rules the network reads (``segmentation._PixelTests``)."""

    @property
    def gain(self) -> FloatArray: ...
    @property
    def chroma_residual(self) -> FloatArray: ...
    @property
    def delta_e(self) -> FloatArray: ...
    @property
    def strict_threshold(self) -> float: ...


class CoarseMask(Protocol):
    """What the rules decided that the network reads (``segmentation.CoarseMask``).

    A protocol, so the prior does not import the segmentation that calls it (no import cycle).
    """

    @property
    def subject(self) -> np.ndarray: ...
    @property
    def surface(self) -> FloatArray: ...
    @property
    def tests(self) -> RuleTests: ...
    @property
    def rays(self) -> np.ndarray: ...


def features(small: FloatArray, coarse: CoarseMask, edges: np.ndarray) -> FloatArray:
    """The network's input (C x H x W, float32) at the working resolution, each channel about unit scale."""
    tests = coarse.tests
    difference = (small - coarse.surface) / np.float32(32.0)
    luma = small @ np.array([0.299, 0.587, 0.114], dtype=np.float32) / np.float32(255.0)
    channels = [
        luma,
        *(difference[..., c] for c in range(3)),
        (tests.gain - np.float32(1.0)) * np.float32(4.0),
        np.minimum(tests.chroma_residual / np.float32(16.0), np.float32(4.0)),
        np.minimum(tests.delta_e / np.float32(4.0 * tests.strict_threshold), np.float32(4.0)),
        edges.astype(np.float32),
        coarse.rays.astype(np.float32) / np.float32(8.0),
        coarse.subject.astype(np.float32),
    ]
    return np.clip(np.stack(channels).astype(np.float32), -4.0, 4.0)


def pad_to_multiple(image: FloatArray, multiple: int = _MULTIPLE) -> FloatArray:
    """Edge-padded (C x H x W) so both sides divide by ``multiple``."""
    _, height, width = image.shape
    pad_h, pad_w = -height % multiple, -width % multiple
    return np.pad(image, ((0, 0), (0, pad_h), (0, pad_w)), mode="edge")


def downscale(image: FloatArray, factor: int = DOWNSCALE) -> FloatArray:
    """Box average (C x H x W, sides divisible by ``factor``)."""
    channels, height, width = image.shape
    blocks = image.reshape(channels, height // factor, factor, width // factor, factor)
    return np.asarray(blocks.mean(axis=(2, 4)), dtype=np.float32)


@cache
def _weights() -> dict[str, FloatArray]:
    with np.load(WEIGHTS_PATH) as stored:
        return {name: np.asarray(stored[name], dtype=np.float32) for name in stored.files}


def available() -> bool:
    """Whether the trained weights are there (a checkout without them runs on the rules alone)."""
    return WEIGHTS_PATH.is_file()


def _conv(x: FloatArray, weight: FloatArray, bias: FloatArray) -> FloatArray:
    """A 3x3 (or 1x1) convolution with zero padding: x is C x H x W, weight O x C x k x k."""
    out_channels, in_channels, size, _ = weight.shape
    _, height, width = x.shape
    if size == 1:
        flat = weight.reshape(out_channels, in_channels) @ x.reshape(in_channels, -1)
    else:
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
        windows = sliding_window_view(padded, (size, size), axis=(1, 2))  # C x H x W x k x k
        columns = np.ascontiguousarray(windows.transpose(0, 3, 4, 1, 2)).reshape(
            in_channels * size * size, -1
        )
        flat = weight.reshape(out_channels, -1) @ columns
    flat += bias[:, None]
    return np.asarray(flat.reshape(out_channels, height, width), dtype=np.float32)


def _relu(x: FloatArray) -> FloatArray:
    return np.asarray(np.maximum(x, np.float32(0.0), out=x))


def _block(x: FloatArray, weights: dict[str, FloatArray], name: str) -> FloatArray:
    for index in (0, 1):
        x = _relu(_conv(x, weights[f"{name}.{index}.weight"], weights[f"{name}.{index}.bias"]))
    return x


def _pool(x: FloatArray) -> FloatArray:
    channels, height, width = x.shape
    return np.asarray(x.reshape(channels, height // 2, 2, width // 2, 2).max(axis=(2, 4)))


def _up(x: FloatArray) -> FloatArray:
    return np.asarray(x.repeat(2, axis=1).repeat(2, axis=2))


def forward(x: FloatArray, weights: dict[str, FloatArray] | None = None) -> FloatArray:
    """The U-Net's logits (H x W) for an input of C x H x W, sides divisible by 2^(levels - 1)."""
    weights = _weights() if weights is None else weights
    skips = []
    for level in range(len(WIDTHS)):
        if level:
            x = _pool(x)
        x = _block(x, weights, f"down{level}")
        skips.append(x)
    for level in reversed(range(len(WIDTHS) - 1)):
        x = np.concatenate([_up(x), skips[level]], axis=0)
        x = _block(x, weights, f"up{level}")
    logits = _conv(x, weights["head.weight"], weights["head.bias"])
    return np.asarray(logits[0], dtype=np.float32)


def network_input(small: FloatArray, coarse: CoarseMask, edges: np.ndarray) -> FloatArray:
    """The network's input as it runs: the features padded and at its (half) resolution."""
    return downscale(pad_to_multiple(features(small, coarse, edges)))


def probability(small: FloatArray, coarse: CoarseMask, edges: np.ndarray) -> FloatArray:
    """How likely each working-resolution pixel is subject (float32, H x W, in [0, 1])."""
    height, width = coarse.subject.shape
    logits = forward(network_input(small, coarse, edges))
    # back to the working resolution: bilinear on the logits, then the padding cut off
    up = _bilinear_up(logits, DOWNSCALE)[:height, :width]
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(up, -30.0, 30.0))), dtype=np.float32)


def _bilinear_up(image: FloatArray, factor: int) -> FloatArray:
    """Bilinear upsampling by an integer factor, pixel centres aligned (as torch's align_corners=False)."""
    height, width = image.shape

    def coordinates(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        position = np.clip((np.arange(size * factor) + 0.5) / factor - 0.5, 0, size - 1)
        low = np.floor(position).astype(np.intp)
        high = np.minimum(low + 1, size - 1)
        return low, high, (position - low).astype(np.float32)

    y0, y1, wy = coordinates(height)
    x0, x1, wx = coordinates(width)
    rows = image[y0] * (1 - wy)[:, None] + image[y1] * wy[:, None]
    return np.asarray(rows[:, x0] * (1 - wx)[None, :] + rows[:, x1] * wx[None, :], dtype=np.float32)
