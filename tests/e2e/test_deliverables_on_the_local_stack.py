"""Deliverables on the local stack: with the shipped profiles, every upload's variants from one paid call."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image

from cutout.profiles import load_profiles
from cutout_tools.cli import main
from cutout_tools.local_stack import LocalStack
from tests.e2e.support import product_photo
from tests.functional.aidge_testkit import FakeCutoutEngine
from tests.unit.profiles.test_profiles import SHIPPED

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:No application metrics to publish")]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(
        port=0,
        parameter_overrides={"ProfilesFile": "profiles.toml", "BatchSize": "5"},
        engine=FakeCutoutEngine(),
        log=lambda _line: None,
    ) as running:
        yield running


def test_each_upload_gets_every_variant_of_its_profile_from_one_paid_call(stack: LocalStack) -> None:
    # Given the shipped profiles and uploads for the default profile and the marketplaces prefix
    profiles = load_profiles(SHIPPED)
    facts = stack.describe()
    s3 = stack.client("s3")
    keys = ["shop/mug.jpg", "shop/mug.png", "marketplaces/lamp.jpg"]
    for key in keys:
        fmt = "PNG" if key.endswith(".png") else "JPEG"
        s3.put_object(Bucket=facts["input_bucket"], Key=key, Body=product_photo(1000, 800, fmt))
    # When the stack settles
    stack.wait_until_idle(timeout=120)
    # Then each upload was billed once, whatever the number of its variants
    billed = stack.emulator.stats()["billed"]
    assert billed == len(keys)
    # and each has its master and every variant of its profile, named from its whole key
    listed = {item["Key"] for item in s3.list_objects_v2(Bucket=facts["output_bucket"]).get("Contents", [])}
    for key in keys:
        profile = profiles.choose(key)
        expected = {f"masters/{key}.png"} | {
            f"{variant.name}/{key}{variant.format.extension}" for variant in profile.variants
        }
        assert expected <= listed, key
    # and a variant is what its spec says, with metadata naming its source, profile and master
    amazon = s3.get_object(Bucket=facts["output_bucket"], Key="amazon-main/marketplaces/lamp.jpg.jpg")
    image = Image.open(io.BytesIO(amazon["Body"].read()))
    assert (image.format, image.size) == ("JPEG", (2000, 2000))
    metadata = amazon["Metadata"]
    assert unquote(metadata["source-key"]) == "marketplaces/lamp.jpg"
    assert (metadata["profile"], metadata["variant"]) == ("marketplaces", "amazon-main")
    assert metadata["master-key"] == "masters/marketplaces/lamp.jpg.png"


def test_rerender_after_a_profile_change_makes_the_new_variant_without_paying(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a processed upload and a profiles file that adds a variant to the default profile
    facts = stack.describe()
    s3 = stack.client("s3")
    s3.put_object(Bucket=facts["input_bucket"], Key="again/cup.jpg", Body=product_photo(1000, 800))
    stack.wait_until_idle(timeout=120)
    billed_before = stack.emulator.stats()["billed"]
    changed = tmp_path / "profiles.toml"
    changed.write_text(
        SHIPPED.read_text().replace(
            '{ preset = "listing-webp" },',
            '{ preset = "listing-webp" },\n  { name = "tiny", format = "webp", canvas = "120x120", '
            'fill = 0.9, background = "white" },',
        )
    )
    # When the masters under again/ are re-rendered with it
    exit_code = main(
        [
            "rerender",
            "--prefix",
            "again/",
            "--profiles",
            str(changed),
            "--endpoint-url",
            facts["endpoint_url"],
        ]
    )
    # Then the new variant exists, the others were kept, and nothing was paid
    assert exit_code == 0
    assert stack.emulator.stats()["billed"] == billed_before
    tiny = s3.get_object(Bucket=facts["output_bucket"], Key="tiny/again/cup.jpg.webp")
    assert Image.open(io.BytesIO(tiny["Body"].read())).size == (120, 120)
    lines = capsys.readouterr().out.splitlines()
    summary = [line for line in lines if line.endswith(" s") and "masters" in line]
    assert summary
    assert summary[-1].startswith("1 masters, 1 variants made, 3 already up to date, 0 failed, 0 API calls")
