"""is_already_cutout: the precise definition of "already a cut-out", edge by edge."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from cutout.normalisation import alpha_facts, is_already_cutout


def _subject(size: tuple[int, int], box: tuple[int, int, int, int], alpha: int = 255) -> Image.Image:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse(box, fill=(200, 40, 40, alpha))
    return image


def _with_alpha(alpha: Image.Image) -> Image.Image:
    image = Image.new("RGBA", alpha.size, (90, 90, 90, 255))
    image.putalpha(alpha)
    return image


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        pytest.param(_subject((400, 300), (50, 40, 350, 260)), True, id="product-on-transparent"),
        pytest.param(_subject((400, 300), (50, 40, 350, 300)), True, id="touching-the-bottom-edge"),
        pytest.param(Image.new("RGBA", (400, 300), (1, 2, 3, 255)), False, id="fully-opaque"),
        pytest.param(Image.new("RGBA", (400, 300), (1, 2, 3, 0)), False, id="fully-transparent"),
        pytest.param(_subject((400, 300), (195, 145, 205, 155)), False, id="a-speck-of-subject"),
        pytest.param(_subject((400, 300), (50, 40, 350, 260), alpha=128), False, id="ghosted-subject"),
        pytest.param(
            _with_alpha(Image.linear_gradient("L").resize((400, 300))), False, id="gradient-alpha-fade"
        ),
        pytest.param(_subject((400, 300), (-60, -60, 460, 360)), False, id="photo-with-rounded-corners"),
    ],
)
def test_what_counts_as_already_a_cutout(image: Image.Image, expected: bool) -> None:
    # Given an RGBA image
    # When its alpha is judged
    verdict = is_already_cutout(alpha_facts(image))
    # Then only a subject on a surrounding transparent background counts
    assert verdict is expected


def test_an_image_without_alpha_is_never_a_cutout() -> None:
    assert alpha_facts(Image.new("RGB", (100, 100))) is None
    assert not is_already_cutout(None)
