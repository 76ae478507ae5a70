"""``cutout profiles check`` and ``preview`` with the second round's fields: shadows, presets, rights."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from cutout.normalisation.rights import read_rights
from cutout_tools.cli import main
from tests.rights_samples import CREATOR, SERIAL, phone_jpeg

PROFILES = """
default = "shop"

[profiles.shop]
variants = [
  { preset = "amazon-main", shadow = "contact" },
  { preset = "zalando", shadow = { mode = "drop", direction = 160 } },
  { preset = "web-transparent", shadow = "reflection", decontaminate = false },
]

[profiles.private]
prefixes = ["private/"]
keep_rights = false
variants = [{ preset = "ebay" }]
"""


@pytest.fixture
def profiles_file(tmp_path: Path) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text(PROFILES, encoding="utf-8")
    return path


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A phone photo (EXIF with GPS and a serial, XMP rights) of a dark product on a light table."""
    with Image.open(io.BytesIO(phone_jpeg(size=(480, 360)))) as source:
        exif, xmp, icc = source.getexif(), source.info["xmp"], source.info["icc_profile"]
    image = Image.new("RGB", (480, 360), (235, 232, 228))
    ImageDraw.Draw(image).rounded_rectangle((150, 60, 330, 300), radius=30, fill=(40, 60, 150))
    path = tmp_path / "mug.jpg"
    image.save(path, "JPEG", quality=92, exif=exif, xmp=xmp, icc_profile=icc)
    return path


def test_check_prints_the_shadows_the_switches_and_each_presets_rule(
    profiles_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a profiles file with shadows, a decontamination switch and keep_rights = false
    # When it is checked
    code = main(["profiles", "check", str(profiles_file)])
    # Then each new field is described, with the presets' sources and Google's pending change
    out = capsys.readouterr().out
    assert code == 0
    assert "contact shadow (opacity 0.55, softness 1.5%), clear margins" in out
    assert "drop shadow (toward 160°, 2.5% away" in out
    assert "no edge decontamination" in out
    assert "source's rights dropped (keep_rights = false)" in out
    assert "partner.zalando.com" in out


def test_preview_renders_every_new_field_offline_and_keeps_the_photos_rights(
    profiles_file: Path, photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the profiles file and a phone photo carrying rights, GPS and a serial
    out_dir = tmp_path / "preview"
    # When the default profile is previewed
    code = main(["profiles", "preview", str(profiles_file), str(photo), "--out", str(out_dir)])
    # Then every variant is written, at its preset's size, with the photo's rights and nothing private
    printed = capsys.readouterr().out
    assert code == 0
    assert f"creator {CREATOR!r}" in printed
    written = {path.parent.name: path for path in out_dir.glob("*/*")}
    assert set(written) == {"amazon-main", "zalando", "web-transparent"}
    with Image.open(written["zalando"]) as zalando:
        assert zalando.size == (1801, 2600)
    for path in written.values():
        data = path.read_bytes()
        assert read_rights(data).creators == (CREATOR,)
        assert SERIAL.encode() not in data
        with Image.open(path) as image:
            assert not image.getexif()


def test_preview_with_keep_rights_false_writes_no_rights(
    profiles_file: Path, photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the profile that drops rights
    out_dir = tmp_path / "preview"
    # When it is previewed
    code = main(
        ["profiles", "preview", str(profiles_file), str(photo), "--out", str(out_dir), "--profile", "private"]
    )
    # Then its variant has no XMP, and the output says the rights were dropped
    assert code == 0
    assert "dropped (keep_rights = false)" in capsys.readouterr().out
    [path] = out_dir.glob("*/*")
    with Image.open(path) as image:
        assert not image.info.get("xmp")
