"""The conductor with profiles: one paid call, a stored master, every variant; checkpoints on redelivery."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from PIL import Image

from cutout.engine.port import ImageBytes
from cutout.normalisation.rights import read_rights
from cutout.pipeline.outcome import Status
from cutout.profiles import parse_profiles
from tests.fakes import image_bytes
from tests.rights_samples import CREATOR, SERIAL, USAGE, phone_jpeg
from tests.unit.pipeline.harness import OUTPUT, Harness, build_harness

PROFILES = parse_profiles(
    """
default = "shop"

[profiles.shop]
variants = [
  { preset = "web-transparent" },
  { name = "white", format = "jpeg", background = "white", canvas = "square", margin = "5%" },
  { name = "thumb", format = "webp", background = "white", canvas = "200x200", fill = 0.9 },
]

[profiles.marketplace]
prefixes = ["amazon/"]
variants = [{ preset = "amazon-main" }]

[profiles.site-and-amazon]
prefixes = ["both/"]
variants = [{ preset = "web-transparent" }, { preset = "amazon-main" }]
"""
)


@pytest.fixture
def harness() -> Harness:
    return build_harness(profiles=PROFILES)


def output_keys(harness: Harness) -> list[str]:
    return [key for (bucket, key, _, _) in harness.store.puts if bucket == OUTPUT]


def test_one_paid_call_yields_the_master_and_every_variant_with_their_metadata(harness: Harness) -> None:
    # Given a photo and a profile of three variants
    upload = harness.upload("shoes/red.jpg")
    # When it is processed
    outcome = harness.process(upload)
    # Then one call was paid, for a transparent master at the input's size
    assert len(harness.engine.submits) == 1
    # and the master and the three variants are stored at their documented keys
    assert output_keys(harness) == [
        "masters/shoes/red.jpg.png",
        "web-transparent/shoes/red.jpg.png",
        "white/shoes/red.jpg.jpg",
        "thumb/shoes/red.jpg.webp",
    ]
    assert outcome.status is Status.DONE
    assert outcome.profile == "shop"
    assert outcome.master_key == "masters/shoes/red.jpg.png"
    assert [output["variant"] for output in outcome.outputs] == ["web-transparent", "white", "thumb"]
    # and each variant carries the source's metadata plus its profile, variant and master
    metadata = harness.store.objects[(OUTPUT, "thumb/shoes/red.jpg.webp")].metadata
    assert unquote(metadata["source-key"]) == "shoes/red.jpg"
    assert metadata["source-version-id"] == upload.version_id
    assert (metadata["profile"], metadata["variant"], metadata["format"]) == ("shop", "thumb", "webp")
    assert metadata["master-key"] == "masters/shoes/red.jpg.png"
    assert (metadata["width"], metadata["height"]) == ("200", "200")
    assert metadata["request-id"] == "req-1"
    thumb = Image.open(io.BytesIO(harness.store.objects[(OUTPUT, "thumb/shoes/red.jpg.webp")].data))
    assert (thumb.format, thumb.size) == ("WEBP", (200, 200))


def test_the_longest_prefix_or_the_uploaders_metadata_chooses_the_profile(harness: Harness) -> None:
    # Given an upload under amazon/ and one that names the marketplace profile in its metadata, both
    # photos large enough for amazon-main (its product at most 3× enlarged: see the quality gate)
    harness.engine.actual_size = (1200, 900)
    under_prefix = harness.upload("amazon/mug.jpg", image_bytes(1200, 900))
    named = harness.upload("misc/mug.jpg", image_bytes(1200, 900))
    harness.store.objects[("cutout-input-test", "misc/mug.jpg")].metadata["cutout-profile"] = "marketplace"
    # When both are processed
    first, second = harness.process(under_prefix), harness.process(named)
    # Then both get the marketplace profile's one variant
    assert first.profile == second.profile == "marketplace"
    assert "amazon-main/amazon/mug.jpg.jpg" in output_keys(harness)
    assert "amazon-main/misc/mug.jpg.jpg" in output_keys(harness)


def test_an_unknown_profile_is_refused_before_paying_with_its_reason(harness: Harness) -> None:
    # Given an upload naming a profile the stack does not have
    upload = harness.upload("misc/cup.jpg")
    harness.store.objects[("cutout-input-test", "misc/cup.jpg")].metadata["cutout-profile"] = "nope"
    # When it is processed
    outcome = harness.process(upload)
    # Then nothing is paid and the DLQ record says why
    assert harness.engine.submits == []
    assert outcome.status is Status.FAILED
    assert outcome.error_code == "unknown_profile"
    [record] = harness.dlq_records()
    assert "'nope'" in record["error"]["message"]


def test_a_crash_after_two_variants_finishes_the_third_on_redelivery_without_paying_again(
    harness: Harness,
) -> None:
    # Given an upload whose processing crashes while storing its third variant
    upload = harness.upload("shoes/blue.jpg")
    real_put = harness.store.put
    calls = {"n": 0}

    def crashing_put(bucket, key, body, content_type, metadata, **options):  # type: ignore[no-untyped-def]
        if key.startswith("thumb/"):
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("simulated crash before the third variant")
        real_put(bucket, key, body, content_type, metadata, **options)

    harness.store.put = crashing_put  # type: ignore[method-assign]
    # When it is delivered, fails, and is delivered again
    with pytest.raises(RuntimeError):
        harness.process(upload, receive_count=1)
    written_before = len(output_keys(harness))
    outcome = harness.process(upload, receive_count=2)
    # Then one call was paid in all, the master and the first two variants were not written again,
    # and the third now exists
    assert len(harness.engine.submits) == 1
    assert written_before == 3  # master, web-transparent, white
    assert output_keys(harness)[written_before:] == ["thumb/shoes/blue.jpg.webp"]
    assert outcome.status is Status.DONE


def test_a_duplicate_event_writes_nothing_again(harness: Harness) -> None:
    # Given a processed upload
    upload = harness.upload("shoes/green.jpg")
    harness.process(upload)
    writes = len(harness.store.puts)
    # When the same event arrives again
    again = harness.process(upload)
    # Then the stored outcome answers: no call, no write
    assert len(harness.engine.submits) == 1
    assert len(harness.store.puts) == writes
    assert again.status is Status.DONE


def test_a_new_variant_is_made_from_the_stored_master_without_paying() -> None:
    # Given an upload processed with one profile
    first = build_harness(profiles=parse_profiles('default = "a"\n[profiles.a]\nvariants = [{ name = "x" }]'))
    upload = first.upload("shoes/grey.jpg")
    first.process(upload)
    # When a stack with one more variant sees a byte-identical re-upload of that key
    second = build_harness(
        profiles=parse_profiles(
            'default = "a"\n[profiles.a]\nvariants = [{ name = "x" }, { name = "y", format = "webp" }]'
        )
    )
    second.store.objects = first.store.objects  # the same buckets
    reupload = second.upload(
        "shoes/grey.jpg", first.store.objects[("cutout-input-test", "shoes/grey.jpg")].data
    )
    outcome = second.process(reupload)
    # Then the new variant comes from the stored master: no call, the old variant kept
    assert second.engine.submits == []
    assert [key for (bucket, key, _, _) in second.store.puts if bucket == OUTPUT] == ["y/shoes/grey.jpg.webp"]
    assert outcome.status is Status.DONE
    assert [output["variant"] for output in outcome.outputs] == ["x", "y"]


def test_an_output_key_that_cannot_be_written_is_refused_before_paying(harness: Harness) -> None:
    # Given a key so long that its variant key would pass S3's 1024-byte limit
    upload = harness.upload("k" * 1010 + ".jpg")
    # When it is processed
    outcome = harness.process(upload)
    # Then nothing is paid and the reason says why
    assert harness.engine.submits == []
    assert outcome.error_code == "output_key_too_long"


def test_a_phone_photos_rights_reach_every_variant_and_no_metadata_reaches_the_vendor(
    harness: Harness,
) -> None:
    # Given a phone JPEG with EXIF (GPS, camera serial), XMP rights and private XMP fields
    upload = harness.upload("shoes/phone.jpg", phone_jpeg(size=(1200, 900)))
    # When it is processed with the three-variant profile
    outcome = harness.process(upload)
    # Then the vendor was not given the original: the image it got carries no metadata at all
    assert outcome.status is Status.DONE
    [source] = harness.engine.submits  # the normalised bytes (no staging bucket here: sent as they are)
    assert isinstance(source, ImageBytes)
    staged = source.data
    with Image.open(io.BytesIO(staged)) as sent:
        assert not sent.info.get("exif")
        assert not sent.info.get("xmp")
    assert SERIAL.encode() not in staged
    assert CREATOR.encode() not in staged
    # and every variant carries the photographer's rights as XMP, and none of the private data
    for key in (
        "web-transparent/shoes/phone.jpg.png",
        "white/shoes/phone.jpg.jpg",
        "thumb/shoes/phone.jpg.webp",
    ):
        stored = harness.store.objects[(OUTPUT, key)]
        assert read_rights(stored.data).creators == (CREATOR,), key
        assert read_rights(stored.data).usage_terms == USAGE, key
        assert SERIAL.encode() not in stored.data, key
        assert stored.metadata["rights"] == "kept"


def test_a_photo_too_small_for_every_variant_is_refused_before_paying(harness: Harness) -> None:
    # Given a 300x200 photo for the marketplace profile (amazon-main alone: 1,700 px product, limit 4x)
    upload = harness.upload("amazon/thumb.jpg", image_bytes(300, 200))
    # When it is processed
    outcome = harness.process(upload)
    # Then nothing is paid, nothing is written, and the DLQ record says why
    assert harness.engine.submits == []
    assert output_keys(harness) == []
    assert outcome.status is Status.FAILED
    assert outcome.error_code == "product_too_small"
    [record] = harness.dlq_records()
    assert "300×200" in record["error"]["message"]


def test_a_small_photo_one_variant_can_use_is_paid_once_and_held_as_upscaled(harness: Harness) -> None:
    # Given a 160x120 photo for a profile of web-transparent (made at the product's own size) and
    # amazon-main (1,700 px: its 80x60 product would be enlarged 21x)
    harness.engine.actual_size = (160, 120)
    upload = harness.upload("both/tiny.jpg", image_bytes(160, 120))
    # When it is processed
    outcome = harness.process(upload)
    # Then the one call is paid (not refused: one variant can be made) and every output is held
    # under review/ as upscaled
    assert len(harness.engine.submits) == 1
    assert outcome.status is Status.REVIEW
    assert output_keys(harness)[1:] == [
        "review/web-transparent/both/tiny.jpg.png",
        "review/amazon-main/both/tiny.jpg.jpg",
    ]
    metadata = harness.store.objects[(OUTPUT, "review/amazon-main/both/tiny.jpg.jpg")].metadata
    assert metadata["review-reasons"] == "upscaled"
