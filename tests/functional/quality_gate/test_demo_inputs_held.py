"""The demo's doubtful inputs end held, through the studio engine and the shipped profiles (issue 26):
the linen mug (a patch of its shadow kept, score 0.77) and a tiny product (a 160x120 photo, 47x85 px)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from cutout.engine.port import CutoutOptions, ImageBytes
from cutout.profiles import load_profiles
from cutout.quality_gate import LOW_SCORE, UPSCALED, alpha_stats, judge
from cutout.variants.enlargement import enlargements, refuse_if_too_small
from cutout_tools.studio.engine import StudioEngine
from tests.unit.profiles.test_profiles import SHIPPED

pytestmark = pytest.mark.slow  # the studio engine on a 1600x1200 photo: seconds of CPU

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
STANDARD = load_profiles(SHIPPED).profiles["standard"]


def verdict_of(photo: bytes) -> tuple[tuple[str, ...], float]:
    """The gate's reasons for the studio engine's cut-out of ``photo`` under the standard profile."""
    cutout = StudioEngine().remove_background(ImageBytes(photo), CutoutOptions())
    with Image.open(io.BytesIO(cutout.body.read())) as master:
        master.load()
        scales = enlargements(master, STANDARD)
        return judge(alpha_stats(master), cutout.score, STANDARD.quality, scales).reasons, cutout.score or 0.0


def test_the_linen_mug_is_held_for_its_score() -> None:
    # Given the demo's linen mug (the engine keeps a patch of the shadow beside the handle)
    photo = (SAMPLES / "scenes" / "linen-grey-mug.jpg").read_bytes()
    # When it is cut out and judged
    reasons, score = verdict_of(photo)
    # Then its score is in the "look at this" band and it is held for that reason
    assert score < STANDARD.quality.min_score
    assert LOW_SCORE in reasons


def test_a_tiny_product_is_paid_for_then_held_as_upscaled() -> None:
    # Given a 160x120 photo on studio paper whose product is 47x85 px
    image = Image.new("RGB", (160, 120), (244, 243, 240))
    ImageDraw.Draw(image).rounded_rectangle((56, 17, 102, 101), radius=8, fill=(150, 30, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    # When it is checked before paying, then cut out and judged
    refuse_if_too_small(160, 120, STANDARD)  # web-transparent can use it: not refused
    reasons, _score = verdict_of(buffer.getvalue())
    # Then it is held: amazon-main would enlarge the product 20x
    assert UPSCALED in reasons
