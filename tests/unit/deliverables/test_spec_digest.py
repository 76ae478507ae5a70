"""A variant's digest: what makes it again. New fields at their neutral value make nothing again."""

from __future__ import annotations

import pytest

from cutout.deliverables import spec_digest
from cutout.deliverables.store import working_set
from cutout.profiles import Profile, VariantSpec

# The digests of the shipped presets as stored before shadows, clear margins and the decontamination
# switch existed (issue 27): outputs already in buckets carry these, and must not be made again.
STORED_BEFORE = {
    "amazon-main": "530c4df5fedd180b",
    "shopify": "45b021001a2c512b",
    "walmart": "ec63da4ce8eaab81",
    "google-shopping": "64be9b6f7cc4a446",
    "web-transparent": "245a4bf9bfa75145",
    "listing-webp": "19f3748e9dce4239",
}


@pytest.mark.parametrize(("preset", "digest"), sorted(STORED_BEFORE.items()))
def test_a_preset_without_the_new_fields_keeps_the_digest_its_outputs_were_stored_with(
    preset: str, digest: str
) -> None:
    # Given a preset as a profile names it, without a shadow
    spec = VariantSpec.model_validate({"preset": preset})
    # When its digest is computed
    # Then it is the one its stored variants carry
    assert spec_digest(spec) == digest


@pytest.mark.parametrize("change", [{"shadow": "contact"}, {"shadow": "drop"}, {"decontaminate": False}])
def test_a_shadow_or_no_decontamination_is_a_new_variant(change: dict[str, object]) -> None:
    # Given Amazon's preset, and the same with a shadow or without decontamination
    before = VariantSpec.model_validate({"preset": "amazon-main"})
    after = VariantSpec.model_validate({"preset": "amazon-main", **change})
    # When both digests are computed
    # Then they differ: the changed variant is made again
    assert spec_digest(after) != spec_digest(before)


def test_clear_margins_counts_only_with_a_shadow() -> None:
    # Given a variant with and without clear margins, first without a shadow, then with one
    plain = {"name": "v", "format": "jpeg", "background": "white", "canvas": "800x800", "fill": 0.9}
    # When the digests are computed
    # Then clear margins alone change nothing, with a shadow they do
    assert spec_digest(VariantSpec.model_validate({**plain, "clear_margins": True})) == spec_digest(
        VariantSpec.model_validate(plain)
    )
    assert spec_digest(VariantSpec.model_validate({**plain, "clear_margins": True, "shadow": "drop"})) != (
        spec_digest(VariantSpec.model_validate({**plain, "shadow": "drop"}))
    )


def test_a_shadow_reserves_more_of_the_pixel_budget() -> None:
    # Given one profile with a 2000 x 2000 variant and the same with a drop shadow
    plain = Profile.model_validate({"name": "p", "variants": [{"preset": "amazon-main"}]})
    shadowed = Profile.model_validate(
        {"name": "p", "variants": [{"preset": "amazon-main", "shadow": "drop"}]}
    )
    # When their working sets for a 3000 x 3000 master are estimated
    # Then the shadow's layers are reserved too
    assert working_set(3000, 3000, shadowed) > working_set(3000, 3000, plain)
