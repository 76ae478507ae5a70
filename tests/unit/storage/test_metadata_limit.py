"""S3's 2 KB user-metadata limit, in one place (issue 24, item 7).

moto accepts 5 KB, so no moto test could see a breach: the in-memory store keeps S3's documented
contract (over 2 KB of keys + values in UTF-8 is refused), and the rule is tested here alone and
through the conductor with the shipped profiles (the master and every variant) and a 1,000-byte key.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from cutout.pipeline.outcome import Status
from cutout.profiles import load_profiles
from cutout.storage.metadata_limit import (
    METADATA_LIMIT_BYTES,
    MIN_SOURCE_KEY_BYTES,
    MetadataTooLarge,
    check_metadata_room,
    fit_metadata,
    metadata_bytes,
)
from tests.fakes import image_bytes
from tests.unit.pipeline.harness import OUTPUT, build_harness

SHIPPED = Path(__file__).parents[3] / "functions" / "process_upload" / "profiles.toml"
LIMIT = METADATA_LIMIT_BYTES


def test_metadata_within_the_limit_is_left_as_it_is() -> None:
    # Given metadata of exactly 2,048 bytes
    metadata = {"source-key": "k" * (LIMIT - len("source-key"))}
    assert metadata_bytes(metadata) == LIMIT
    # Then nothing is shortened; one byte more and it is
    assert fit_metadata(metadata) == metadata
    longer = {"source-key": "k" * (LIMIT - len("source-key") + 1)}
    assert fit_metadata(longer) != longer
    assert metadata_bytes(fit_metadata(longer)) <= LIMIT


def test_the_master_key_goes_first_then_the_source_key_is_cut_and_flagged() -> None:
    # Given metadata just over the limit with a master-key and a long source key
    key = "a/" * 510
    metadata = {"source-key": key, "master-key": "masters/" + key + ".png", "width": "800"}
    # When fitted
    fitted = fit_metadata(metadata)
    # Then the master key went first, and that was enough: the source key is whole, not flagged
    assert "master-key" not in fitted
    assert fitted["source-key"] == key
    assert "source-key-truncated" not in fitted
    # And with a source key too long on its own, it is cut to what is left, and flagged
    fitted = fit_metadata({"source-key": "b" * 3000, "width": "800"})
    assert fitted["source-key-truncated"] == "true"
    assert fitted["width"] == "800"
    assert metadata_bytes(fitted) == LIMIT
    assert "b" * 100 in fitted["source-key"]


def test_a_cut_never_splits_a_percent_escape() -> None:
    # Given a percent-encoded key of multi-byte characters, far too long
    encoded = quote("é" * 2000, safe="/")
    # When fitted at every offset a cut could fall on
    for pad in range(3):
        fitted = fit_metadata({"x" * pad: "", "source-key": encoded})
        # Then what is kept decodes (whole %XX escapes, whole UTF-8 characters)
        assert set(unquote(fitted["source-key"], errors="strict")) == {"é"}


def test_the_extras_go_last_and_a_metadata_that_cannot_fit_is_refused() -> None:
    # Given fields that cannot be shortened filling almost everything, and the extras
    fixed = {"source-etag": "e" * 1900}
    metadata = {
        **fixed,
        "source-key": "k" * 500,
        "colour-conversion": "c" * 80,
        "result-size-mismatch": "r" * 40,
    }
    # When fitted: the extras are dropped, and the key keeps what is left (at least the minimum)
    fitted = fit_metadata(metadata)
    assert "result-size-mismatch" not in fitted
    assert metadata_bytes(fitted) <= LIMIT
    assert len(fitted["source-key"]) >= MIN_SOURCE_KEY_BYTES
    # And when even that cannot fit, it is refused (before paying: see check_metadata_room)
    with pytest.raises(MetadataTooLarge):
        fit_metadata({"source-etag": "e" * 2100, "source-key": "k"})


@pytest.mark.parametrize("length", [1, 200, 900, 1000, 1024])
def test_before_paying_the_worst_case_of_any_key_s3_allows_fits(length: int) -> None:
    # Given a key of this many bytes (S3 allows 1,024), of three-byte characters the worst
    key = ("€" * (length // 3) + "k" * (length % 3))[:length]
    assert len(key.encode()) == length
    # When its worst-case metadata is checked before the paid call
    worst = check_metadata_room(bucket="b" * 63, key=key, etag="0" * 34, version_id="v" * 32)
    # Then it fits S3's limit after the rule
    assert worst <= LIMIT


def test_a_1000_byte_key_is_processed_with_every_output_s_metadata_within_2kb() -> None:
    # Given the shipped profiles (a master and three variants) and an upload with a 1,000-byte key
    # of multi-byte characters (percent-encoded, 3,000 characters), which the in-memory store
    # refuses to store with over 2 KB of metadata, as S3 does
    key = "shoes/" + "ü" * 497
    assert len(key.encode()) == 1000
    harness = build_harness(profiles=load_profiles(SHIPPED))
    # (a photo, and its cut-out, large enough that no variant enlarges the product past the quality
    # gate's limit: the fake engine answers at the size the photo has)
    harness.engine.actual_size = (1600, 1200)
    upload = harness.upload(key, image_bytes(1600, 1200))
    # When it is processed
    outcome = harness.process(upload)
    # Then it is done, paid once, nothing on the DLQ, and every output's metadata fits, with its
    # source key cut and flagged, and every field the pipeline reads back kept whole
    assert outcome.status is Status.DONE
    assert len(harness.engine.submits) == 1
    assert harness.dlq_records() == []
    outputs = harness.outputs()
    assert len(outputs) == 4  # the master and three variants
    for _, _, _, metadata in outputs:
        assert metadata_bytes(metadata) <= LIMIT
        assert metadata["source-key-truncated"] == "true"
        assert key.startswith(unquote(metadata["source-key"]))
        assert metadata["source-etag"] == upload.etag
        assert metadata["source-bucket"] == upload.bucket
    # And a second delivery finds the stored outputs (they are its own): nothing paid again
    harness.process(upload)
    assert len(harness.engine.submits) == 1
    assert all(bucket == OUTPUT for bucket, *_ in outputs)
