"""The studio segmentation on small synthetic photos: holes, shadows, gradients, soft edges."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cutout_tools.studio import estimate_alpha, segment
from tests.unit.studio import scenes


def _decoded(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(scenes.jpeg(rgb))).convert("RGB"))


def test_mug_hole_and_shadow_are_transparent_and_body_is_opaque() -> None:
    # Given a teal mug with a ring handle over a soft shadow on grey paper with a vertical gradient
    rgb, _truth = scenes.scene(scenes.mug, (30, 120, 150), "grey_gradient")

    # When its alpha is estimated from the JPEG
    alpha = estimate_alpha(_decoded(rgb))

    # Then the handle's hole and the shadow are background, the body and the handle are subject
    assert alpha[140, 175] < 0.1, "the hole inside the handle"
    assert alpha[205, 125] < 0.1, "the contact shadow under the body"
    assert alpha[140, 125] > 0.9, "the body"
    assert alpha[140, 203] > 0.9, "the handle"
    assert alpha[10, 10] == 0.0


def test_grey_product_on_white_stays_while_its_shadow_goes() -> None:
    # Given a dark-grey disc (shadow-coloured: a neutral darkening of white) on white, over a soft shadow
    # (not exactly the shadow's grey where they meet: then there is no outline to see, a known limit)
    rgb, _truth = scenes.scene(scenes.disc, (110, 110, 110), "white")

    # When its alpha is estimated
    alpha = estimate_alpha(_decoded(rgb))

    # Then the disc is opaque (its sharp outline tells it from a shadow) and the shadow is not
    assert alpha[130, 160] > 0.9
    assert alpha[197, 160] < 0.1


@pytest.mark.parametrize(
    ("shape", "colour", "kind", "floor"),
    [
        (scenes.mug, (200, 60, 40), "white", 0.95),
        # JPEG's colour bleeding into the shadow right under a small coloured object is forgiven next to
        # its outline (these two floors were 0.95 and 0.93 while that fringe was kept as subject)
        (scenes.disc, (40, 90, 200), "grey_gradient", 0.97),
        (scenes.ring, (230, 170, 30), "pastel", 0.95),
        (scenes.ring, (90, 90, 95), "white", 0.95),
    ],
    ids=["mug-on-white", "disc-on-gradient", "ring-on-pastel", "grey-ring-on-white"],
)
def test_iou_on_synthetic_shapes_is_above_a_floor(
    shape: scenes.Shape, colour: tuple[int, int, int], kind: str, floor: float
) -> None:
    # Given a synthetic product photo with its exact alpha
    rgb, truth = scenes.scene(shape, colour, kind)

    # When its alpha is estimated
    alpha = estimate_alpha(_decoded(rgb))

    # Then the mask overlaps the truth well and the alpha is a float in [0, 1]
    assert scenes.iou(alpha, truth) >= floor
    assert alpha.dtype == np.float32
    assert 0.0 <= float(alpha.min()) <= float(alpha.max()) <= 1.0


@pytest.mark.parametrize("shape", [scenes.disc, scenes.mug, scenes.ring], ids=["disc", "mug", "ring"])
def test_a_light_grey_product_whose_outline_fades_into_white_paper_is_kept(shape: scenes.Shape) -> None:
    # Given a light product on white, near-white where it is lit (its outline fades out there) and
    # shaded to a neutral grey elsewhere, which is exactly the colour of a shadow on white
    rgb, truth = scenes.shaded_scene(shape, (250, 250, 250), (170, 170, 175), "white")

    # When its alpha is estimated from the JPEG
    alpha = estimate_alpha(_decoded(rgb))

    # Then the faint outline, continuing the sharp one, still stops the flood: the product is whole
    assert scenes.iou(alpha, truth) >= 0.95


def test_a_tinted_shaded_product_is_not_taken_for_its_shadow() -> None:
    # Given a light lavender product shaded like a shadow on white, over its own contact shadow
    rgb, truth = scenes.shaded_scene(scenes.disc, (252, 252, 254), (196, 192, 210), "white")

    # When its alpha is estimated
    alpha = estimate_alpha(_decoded(rgb))

    # Then the product is kept (a shadow keeps the paper's chroma; the tint does not) and the shadow goes
    assert scenes.iou(alpha, truth) >= 0.95
    assert alpha[197, 160] < 0.1, "the contact shadow under the disc"


SHADOW_SCALE = 3  # the scenes drawn 3x larger: like a real photo, bigger than the working resolution


def _large_mug(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return scenes.mug(y / SHADOW_SCALE, x / SHADOW_SCALE)


def _large_plugged_mug(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The mug with its handle's hole filled in: a solid part, no hole."""
    y, x = y / SHADOW_SCALE, x / SHADOW_SCALE
    return scenes.mug(y, x) | (((x - 172) ** 2 + (y - 140) ** 2 < 38**2) & (x > 165))


@pytest.mark.parametrize(
    ("colour", "kind"),
    [((30, 120, 150), "white"), ((200, 160, 60), "pastel"), ((200, 60, 40), "grey_gradient")],
    ids=["teal-on-white", "brass-on-pastel", "red-on-grey"],
)
def test_a_hole_lying_wholly_in_a_cast_shadow_is_transparent(colour: tuple[int, int, int], kind: str) -> None:
    # Given a mug whose handle's hole lies wholly inside a soft cast shadow (no plain paper shows there)
    s = SHADOW_SCALE
    rgb, truth = scenes.scene(
        _large_mug, colour, kind, cast=(140.0 * s, 185.0 * s, 45.0 * s), size=(240 * s, 320 * s)
    )

    # When its alpha is estimated from the JPEG
    alpha = estimate_alpha(_decoded(rgb))

    # Then the hole is background (it keeps the chroma of the shadow beside the mug), the mug is whole
    assert alpha[140 * s, 180 * s] < 0.1, "the hole inside the handle, in the cast shadow"
    assert alpha[140 * s, 203 * s] > 0.9, "the handle"
    assert scenes.iou(alpha, truth) >= 0.97


@pytest.mark.parametrize("colour", [(150, 150, 165), (165, 150, 140)], ids=["blue-grey", "warm-grey"])
def test_a_tinted_grey_part_in_a_cast_shadow_is_not_taken_for_a_hole(colour: tuple[int, int, int]) -> None:
    # Given a tinted grey mug on white whose handle is solid (no hole), under the same soft cast shadow
    s = SHADOW_SCALE
    rgb, truth = scenes.scene(
        _large_plugged_mug, colour, "white", cast=(140.0 * s, 185.0 * s, 45.0 * s), size=(240 * s, 320 * s)
    )

    # When its alpha is estimated from the JPEG
    alpha = estimate_alpha(_decoded(rgb))

    # Then the solid handle stays opaque: its grey is not the paper's darkened colour
    assert alpha[140 * s, 180 * s] > 0.9, "the solid part where a hole could have been"
    assert scenes.iou(alpha, truth) >= 0.97


def test_a_grey_panel_whose_shading_crosses_the_papers_grey_is_not_taken_for_a_hole() -> None:
    # Given a two-panel grey product on grey paper, one panel shaded through the paper's own grey,
    # walled in by the product's dark frame (so its paper-coloured band is ringed by sharp edges)
    rgb, truth = scenes.panelled_scene(top=150.0, bottom=240.0)

    # When its alpha is estimated from the JPEG
    alpha = estimate_alpha(_decoded(rgb))

    # Then the panel stays opaque: a hole shows the paper itself, this band only passes through its
    # colour on the way from darker to lighter (the engine cut it out as a hole before: IoU 0.51)
    assert alpha[125, 200] > 0.9, "the shaded panel where it matches the paper"
    assert scenes.iou(alpha, truth) >= 0.9


@pytest.mark.xfail(
    strict=True,
    reason="known: the prior retrained on 2,800 photos punches four small holes into these flat"
    " synthetic panels (IoU 0.941; 0.98 with the first prior); kept to say when it is mended",
)
def test_a_flat_grey_panelled_product_comes_out_whole() -> None:
    # Given the same two-panel grey product on grey paper
    rgb, truth = scenes.panelled_scene(top=150.0, bottom=240.0)

    # When its alpha is estimated from the JPEG
    alpha = estimate_alpha(_decoded(rgb))

    # Then all of it is there, to within the outline's pixels
    assert scenes.iou(alpha, truth) >= 0.97


def test_the_edge_is_soft() -> None:
    # Given a disc whose outline is anti-aliased in the truth
    rgb, _truth = scenes.scene(scenes.disc, (40, 90, 200), "white", shadow=False)

    # When its alpha is estimated
    alpha = estimate_alpha(rgb)

    # Then some outline pixels are partly transparent, not all 0 or 1
    partial = (alpha > 0.1) & (alpha < 0.9)
    assert partial.sum() > 50


def test_a_plain_background_has_no_subject_and_no_confidence() -> None:
    # Given grey paper with nothing on it
    rgb = scenes.background("grey_gradient", 120, 160).astype(np.uint8)

    # When it is segmented
    result = segment(rgb)

    # Then nothing is kept and the engine says it is not confident
    assert float(result.alpha.max()) < 0.5
    assert result.confidence < 0.2


def test_a_clear_subject_gives_a_high_confidence() -> None:
    # Given a strongly coloured product on white
    rgb, _truth = scenes.scene(scenes.mug, (30, 120, 150), "white")

    # When it is segmented
    result = segment(rgb)

    # Then the confidence is high
    assert result.confidence > 0.7


def test_a_non_rgb_array_is_refused() -> None:
    # Given a 2-D array / When it is segmented / Then it is a ValueError naming the shape
    with pytest.raises(ValueError, match="H x W x 3"):
        estimate_alpha(np.zeros((10, 10), np.uint8))
