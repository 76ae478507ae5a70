"""The emulator with its default engine: the real studio engine behind the real protocol."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cutout.engine.port import BackgroundRemover
from cutout_tools.emulator import AidgeEmulator
from tests.functional.aidge_testkit import KEY_NAME, KEY_SECRET, b64, open_image, product_photo, signed_params
from tests.functional.conftest import ResultHostOnLoopback


def studio_engine_problem() -> str | None:
    try:
        from cutout_tools.studio import StudioEngine

        engine = StudioEngine()
    except Exception as error:  # noqa: BLE001 - any failure means there is no engine to test yet
        return f"cutout_tools.studio.StudioEngine cannot be built yet: {error!r}"
    if not isinstance(engine, BackgroundRemover):
        return "cutout_tools.studio.StudioEngine does not implement the engine port yet"
    return None


pytestmark = pytest.mark.skipif(studio_engine_problem() is not None, reason=str(studio_engine_problem()))


@pytest.fixture(scope="module")
def studio_emulator() -> Iterator[AidgeEmulator]:
    """An emulator built with ``engine=None``: the studio engine."""
    with AidgeEmulator(key_name=KEY_NAME, key_secret=KEY_SECRET) as emulator:
        yield emulator


@pytest.mark.parametrize(
    ("background", "expected"),
    [("TRANSPARENT", ("image/png", "RGBA")), ("WHITE_BACKGROUND", ("image/jpeg", "RGB"))],
)
def test_the_studio_engine_cuts_out_a_product_photo(
    studio_emulator: AidgeEmulator, background: str, expected: tuple[str, str]
) -> None:
    content_type, mode = expected
    # Given a 480x360 product photo on a light studio backdrop
    body = {"imageBase64": b64(product_photo(480, 360)), "backGroundType": background}
    # When the default-engine emulator is called
    with httpx.Client(trust_env=False, timeout=120, transport=ResultHostOnLoopback()) as http:
        envelope = http.post(studio_emulator.api_url, params=signed_params(), json=body).json()
        result = http.get(envelope["data"]["imageUrl"])
    # Then the studio engine answered through the documented envelope, at the input's size
    assert studio_emulator.engine is not None
    assert studio_emulator.engine.engine_name == "studio"
    assert envelope["resCode"] == 200
    assert (envelope["data"]["width"], envelope["data"]["height"]) == (480, 360)
    # And the result has the real type: alpha for a transparent background, none for white
    assert result.headers["content-type"] == content_type
    image = open_image(result.content)
    assert (image.size, image.mode) == ((480, 360), mode)
    # And the backdrop corner is removed (transparent) or whitened, while the product stays
    corner = image.convert(mode).getpixel((5, 5))
    centre = image.convert(mode).getpixel((240, 180))
    assert isinstance(corner, tuple)
    assert isinstance(centre, tuple)
    if mode == "RGBA":
        assert (corner[3], centre[3]) == (0, 255)
    else:
        assert min(corner) >= 250
        assert centre[0] > centre[2] + 50  # still the dark red product
