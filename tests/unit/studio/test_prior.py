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
