"""The committed ``samples/``: what the generator says, accepted or rejected as promised, documented."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutout.engine.port import CutoutOptions, ImageBytes
from cutout.validation import ImageRejected, validate_bytes
from cutout_tools.samples import BROKEN, DEFAULT_SAMPLES_DIR, PRODUCTS, BrokenSample, ProductSample
from cutout_tools.studio import StudioEngine
from cutout_tools.upload_samples import UPLOADS

MAX_TOTAL_BYTES = 4 * 1024 * 1024


def test_the_folder_holds_exactly_the_generated_files_and_the_readme() -> None:
    # Given the generator's list of samples
    expected = {sample.path for sample in (*PRODUCTS, *BROKEN)} | {"README.md"}
    expected |= {sample.path for sample in UPLOADS} | {"uploads/README.md"}  # issue 11's uploads

    # When the committed folder is listed
    files = {
        path.relative_to(DEFAULT_SAMPLES_DIR).as_posix()
        for path in DEFAULT_SAMPLES_DIR.rglob("*")
        if path.is_file()
    }

    # Then it holds those files, small enough to commit, with a key with a space among them
    assert files == expected
    assert sum((DEFAULT_SAMPLES_DIR / name).stat().st_size for name in files) < MAX_TOTAL_BYTES
    assert any(" " in name for name in files)


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
    assert cutout.score > 0.7
    assert (width, height) == (sample.width, sample.height)
