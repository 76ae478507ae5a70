"""The committed ``samples/uploads/``: each is normalised (or passed through) as its README says."""

from __future__ import annotations

import pytest

from cutout.normalisation import decide_fast_path, is_already_cutout, normalise
from cutout.pixels import PixelBudget
from cutout.validation import ImageLimits, validate_bytes
from cutout_tools.upload_samples import DEFAULT_SAMPLES_DIR, UPLOADS, UploadSample, readme


@pytest.mark.parametrize("sample", UPLOADS, ids=lambda sample: sample.path)
def test_each_upload_sample_takes_the_normalised_path(sample: UploadSample) -> None:
    # Given a committed upload sample
    data = (DEFAULT_SAMPLES_DIR / sample.path).read_bytes()
    # When it is inspected and normalised
    facts = validate_bytes(data)
    image = normalise(data, PixelBudget.for_memory(1024))
    # Then it is not on the fast path, comes out API-ready, and only the cut-out is passed through
    assert not decide_fast_path(facts, ImageLimits()).taken
    assert max(image.report.width, image.report.height) <= 3000
    assert is_already_cutout(image.alpha) == ("already-cut-out" in sample.path)
    if "sideways" in sample.path:
        assert image.report.orientation_applied == 6


def test_the_uploads_readme_is_the_generated_one() -> None:
    assert (DEFAULT_SAMPLES_DIR / "uploads" / "README.md").read_text(encoding="utf-8") == readme()
