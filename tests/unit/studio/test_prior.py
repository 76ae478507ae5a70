"""The studio engine's learned prior: its committed weights, its numpy runtime, its inputs."""

from __future__ import annotations

import numpy as np

from cutout_tools.studio import prior, segmentation
from tests.unit.studio import scenes


def test_committed_weights_fit_the_network_the_runtime_builds() -> None:
    # Given the weights committed beside the runtime
    assert prior.available()
    weights = prior._weights()

    # When their layers are listed against the U-Net's levels
    expected = {"head.weight": (1, prior.WIDTHS[0], 1, 1), "head.bias": (1,)}
    for level, width in enumerate(prior.WIDTHS):
        into = len(prior.FEATURE_NAMES) if level == 0 else prior.WIDTHS[level - 1]
        expected |= {
            f"down{level}.0.weight": (width, into, 3, 3),
            f"down{level}.1.weight": (width, width, 3, 3),
            f"down{level}.0.bias": (width,),
            f"down{level}.1.bias": (width,),
        }
    for level, width in enumerate(prior.WIDTHS[:-1]):
        into = prior.WIDTHS[level + 1] + width
        expected |= {
            f"up{level}.0.weight": (width, into, 3, 3),
            f"up{level}.1.weight": (width, width, 3, 3),
            f"up{level}.0.bias": (width,),
            f"up{level}.1.bias": (width,),
        }

    # Then every layer is there with its shape, and nothing else, all finite
    assert {name: array.shape for name, array in weights.items()} == expected
    assert all(np.isfinite(array).all() for array in weights.values())


def test_convolution_matches_a_direct_sum() -> None:
    # Given a small random input and a random 3x3 convolution
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 5, 6)).astype(np.float32)
    weight = rng.normal(size=(3, 2, 3, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)

    # When the runtime convolves it
    out = prior._conv(x, weight, bias)

    # Then each output is the zero-padded weighted sum of its 3x3 neighbourhood, plus the bias
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    direct = np.empty((3, 5, 6), np.float32)
    for o in range(3):
        for y in range(5):
            for x_ in range(6):
                direct[o, y, x_] = np.sum(weight[o] * padded[:, y : y + 3, x_ : x_ + 3]) + bias[o]
    np.testing.assert_allclose(out, direct, rtol=1e-5, atol=1e-5)


def test_resampling_keeps_a_constant_and_the_shapes() -> None:
    # Given a constant 3-channel image whose sides do not divide by the network's multiple
    image = np.full((3, 50, 37), 0.25, np.float32)

    # When it is padded, box-downscaled and bilinearly upscaled again
    padded = prior.pad_to_multiple(image)
    small = prior.downscale(padded)
    up = prior._bilinear_up(small[0], prior.DOWNSCALE)

    # Then the sides divide, the values stay, and the round trip returns the padded size
    assert padded.shape[1] % prior._MULTIPLE == 0
    assert padded.shape[2] % prior._MULTIPLE == 0
    assert small.shape == (3, padded.shape[1] // 2, padded.shape[2] // 2)
    np.testing.assert_allclose(up, 0.25)
    assert up.shape == padded.shape[1:]


def test_features_are_one_bounded_channel_per_name_at_the_working_size() -> None:
    # Given a grey disc on white with its shadow, through the rules
    rgb, _truth = scenes.scene(scenes.disc, (110, 110, 110), "white")
    small, _scale = segmentation._working_image(rgb)
    edges = segmentation.sharp_edges(rgb, small.shape[:2])
    coarse = segmentation.coarse_mask(small, edges)

    # When the prior's inputs are computed, and its probability
    x = prior.features(small, coarse, edges)
    likely = prior.probability(small, coarse, edges)

    # Then there is one channel per name, bounded, and a probability per working pixel
    assert x.shape == (len(prior.FEATURE_NAMES), *small.shape[:2])
    assert np.abs(x).max() <= 4.0
    assert likely.shape == small.shape[:2]
    assert float(likely.min()) >= 0.0
    assert float(likely.max()) <= 1.0
    assert likely[130, 160] > 0.5, "the disc's centre"
    assert likely[5, 5] < 0.5, "the paper's corner"


def _ring(size: int = 80) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ring's outline (two circles), its hole, and its body with the hole filled in."""
    y, x = np.mgrid[0:size, 0:size]
    radius = np.hypot(y - size / 2, x - size / 2)
    edges = (np.abs(radius - 30) < 0.8) | (np.abs(radius - 15) < 0.8)
    return edges, radius < 14, radius < 31


def test_a_walled_off_region_the_prior_calls_background_is_cut_out_though_the_rules_filled_it() -> None:
    # Given a ring whose hole the rules filled in, and a prior that calls the hole background on the
    # whole but a light blob in it subject (the headphone band's inside, seen at half the resolution)
    edges, hole, filled = _ring()
    likely = np.where(filled & ~hole, 0.99, 0.02).astype(np.float32)
    likely[hole & (np.arange(80)[None, :] < 36)] = 0.7
    paper = ~filled

    # When the prior and the rules are fused
    fused = segmentation._fused(filled, likely, paper, edges)

    # Then the hole is transparent, blob and all, and the body stays
    assert not fused[hole].any()
    assert fused[filled & ~hole & ~edges].all()


def test_a_pixel_the_prior_is_all_but_certain_of_stays_in_a_region_it_calls_background() -> None:
    # Given the same filled-in hole, but the prior all but certain of a small part of it
    edges, hole, filled = _ring()
    likely = np.where(filled & ~hole, 0.99, 0.02).astype(np.float32)
    sure = hole & (np.arange(80)[None, :] < 36)
    likely[sure] = 0.97

    # When the prior and the rules are fused
    fused = segmentation._fused(filled, likely, ~filled, edges)

    # Then that part is kept and the rest of the hole goes
    assert fused[sure].all()
    assert not fused[hole & ~sure].any()
