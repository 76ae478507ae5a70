"""The committed ``samples/``: what the generator says, accepted or rejected as promised, documented."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutout.engine.port import CutoutOptions, ImageBytes
from cutout.validation import ImageRejected, validate_bytes
from cutout_tools.samples import (
    BROKEN,
    DEFAULT_SAMPLES_DIR,
    GENERATED_FOLDERS,
    PRODUCTS,
    BrokenSample,
    ProductSample,
    generate,
)
from cutout_tools.studio import StudioEngine
from cutout_tools.upload_samples import UPLOADS

MAX_TOTAL_BYTES = 4 * 1024 * 1024


def test_the_generated_folders_hold_exactly_the_generated_files() -> None:
    # Given the generator's list of samples
    expected = {sample.path for sample in (*PRODUCTS, *BROKEN)}
    theirs = {sample.path for sample in UPLOADS} | {"uploads/README.md"}  # issue 11's uploads

    # When the committed folder is listed (other folders, e.g. uploads/, are not the generator's)
    files = {
        path.relative_to(DEFAULT_SAMPLES_DIR).as_posix()
        for path in DEFAULT_SAMPLES_DIR.rglob("*")
        if path.is_file() and path.relative_to(DEFAULT_SAMPLES_DIR).parts[0] in GENERATED_FOLDERS
    }

    everything = {
        p.relative_to(DEFAULT_SAMPLES_DIR).as_posix() for p in DEFAULT_SAMPLES_DIR.rglob("*") if p.is_file()
    }

    # Then they hold those files, small enough to commit, with a key with a space among them, and the
    # folder holds nothing else than them, the uploads of issue 11 and the READMEs
    assert files == expected
    assert everything == expected | theirs | {"README.md"}
    assert sum((DEFAULT_SAMPLES_DIR / name).stat().st_size for name in files) < MAX_TOTAL_BYTES
    assert any(" " in name for name in files)


def test_regenerating_never_deletes_a_file_it_did_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a samples folder holding someone else's upload, in a generated folder and in its own
    theirs = [tmp_path / "uploads" / "mine.jpg", tmp_path / "kitchen" / "my-own-mug.jpg"]
    for path in theirs:
        path.parent.mkdir(parents=True)
        path.write_bytes(b"not the generator's")
    monkeypatch.setattr("cutout_tools.samples.PRODUCTS", PRODUCTS[:1])
    monkeypatch.setattr("cutout_tools.samples.BROKEN", BROKEN[1:2])  # the text file: no npm needed
    monkeypatch.setattr(
        "cutout_tools.samples.compose", lambda sample, icons, rng: np.zeros((120, 120, 3), np.uint8)
    )
    monkeypatch.setattr("cutout_tools.samples.evalset_generator", _NoIcons)

    # When the samples are regenerated there
    written = generate(tmp_path)

    # Then the generator's files are written and the others are untouched
    assert {path.relative_to(tmp_path).as_posix() for path in written} == {PRODUCTS[0].path, BROKEN[1].path}
    assert all(path.read_bytes() == b"not the generator's" for path in theirs)


class _NoIcons:
    @staticmethod
    def emoji_dir() -> Path:
        return Path("/nonexistent")


def test_the_readme_documents_every_sample() -> None:
    # Given the samples' README
    readme = (DEFAULT_SAMPLES_DIR / "README.md").read_text(encoding="utf-8")

    # When each sample is looked for in it
    missing = [sample.path for sample in (*PRODUCTS, *BROKEN) if f"`{sample.path}`" not in readme]

    # Then none is missing, and the emoji license is quoted
    assert missing == []
    assert "Copyright (c) 2022 Mohammad Abu Mattar" in readme


@pytest.mark.parametrize("sample", PRODUCTS, ids=lambda sample: sample.path)
def test_each_product_photo_passes_validation_at_its_size(sample: ProductSample) -> None:
    # Given a product photo
    data = (DEFAULT_SAMPLES_DIR / sample.path).read_bytes()

    # When the pipeline's validation inspects it
    facts = validate_bytes(data)

    # Then it is accepted, with the size and format the generator gave it
    assert (facts.width, facts.height) == (sample.width, sample.height)
    assert facts.format == {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP"}[Path(sample.path).suffix]


@pytest.mark.parametrize("sample", BROKEN, ids=lambda sample: sample.path)
def test_each_broken_input_is_rejected_with_its_reason(sample: BrokenSample) -> None:
    # Given a broken input
    path, expected_code = sample.path, sample.expected_code

    # When the pipeline's validation inspects it
    with pytest.raises(ImageRejected) as rejected:
        validate_bytes((DEFAULT_SAMPLES_DIR / path).read_bytes())

    # Then the reason code is the one the README promises
    assert rejected.value.code == expected_code


@pytest.mark.slow
@pytest.mark.parametrize("sample", PRODUCTS, ids=lambda sample: sample.path)
def test_the_studio_engine_cuts_each_product_out(sample: ProductSample) -> None:
    # Given a product photo
    data = (DEFAULT_SAMPLES_DIR / sample.path).read_bytes()

    # When the local engine removes its background
    cutout = StudioEngine().remove_background(ImageBytes(data), CutoutOptions())

    # Then the corners are transparent, the centre is opaque, and the subject covers a plausible share
    alpha = np.asarray(Image.open(io.BytesIO(cutout.read())).getchannel("A"), dtype=np.float32) / 255
    height, width = alpha.shape
    assert max(alpha[0, 0], alpha[0, -1], alpha[-1, 0], alpha[-1, -1]) < 0.05
    assert 0.03 < float((alpha > 0.5).mean()) < 0.6
    assert cutout.score is not None
    if sample.trusted:  # the others are beyond the engine, and its score need not vouch for them
        assert cutout.score > 0.7
    assert (width, height) == (sample.width, sample.height)


def test_the_readme_counts_the_files_the_demo_uploads() -> None:
    # Given the samples' README and the files `cutout local run samples/` uploads
    import re

    from cutout_tools.local_stack.local_run import input_files

    readme = (DEFAULT_SAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    uploaded, _skipped = input_files(DEFAULT_SAMPLES_DIR)
    # Then the count it states is the demo's
    stated = re.search(r"\*\*(\d+) files\*\* in all", readme)
    assert stated is not None
    assert int(stated.group(1)) == len(uploaded) == 30
