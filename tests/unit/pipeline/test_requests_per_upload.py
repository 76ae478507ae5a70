"""S3 requests per upload with the shipped default profile (three variants): what an upload costs.

The store is wrapped so that every HEAD, GET (ranged read) and PUT the pipeline makes is counted,
including the conditional PUTs S3 refuses (412). A first-time upload makes at most four HEADs:
the input's (which also says whether it is the key's current version), the stored-master check,
the pre-pay ordering check of the master's key, and one check of the input before the writes.
The re-upload and duplicate paths keep their outcomes with these savings.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cutout.events import UploadedObject
from cutout.pipeline.outcome import Status
from cutout.profiles import load_profiles
from cutout.storage.objects import WriteConflict
from tests.fakes import image_bytes
from tests.unit.pipeline.harness import INPUT, OUTPUT, Harness, build_harness

SHIPPED = Path(__file__).parents[3] / "functions" / "process_upload" / "profiles.toml"
KEY = "shoes/red.jpg"
MAX_HEADS_FIRST_TIME = 4
# The fake engine's master is 400x300 (a 200x150 product), which amazon-main's 2000x2000 canvas
# enlarges past 3x: the gate holds every upload here for review (under review/), with the same
# requests as a published one.
HELD = Status.REVIEW


def _counting(harness: Harness) -> Counter[str]:
    """Counts the harness store's HEADs, GETs and PUTs (refused PUTs too, as S3 bills them)."""
    counts: Counter[str] = Counter()
    store = harness.store
    head, read_range, put = store.head, store.read_range, store.put

    def counted_head(*args: Any, **kwargs: Any) -> Any:
        counts["HEAD"] += 1
        return head(*args, **kwargs)

    def counted_read_range(*args: Any, **kwargs: Any) -> Any:
        counts["GET"] += 1
        return read_range(*args, **kwargs)

    def counted_put(*args: Any, **kwargs: Any) -> Any:
        counts["PUT"] += 1
        try:
            return put(*args, **kwargs)
        except WriteConflict:
            counts["PUT refused"] += 1
            raise

    store.head = counted_head  # type: ignore[method-assign]
    store.read_range = counted_read_range  # type: ignore[method-assign]
    store.put = counted_put  # type: ignore[method-assign]
    return counts


def _default_profile_harness() -> tuple[Harness, Counter[str]]:
    harness = build_harness(profiles=load_profiles(SHIPPED))
    return harness, _counting(harness)


def _variant_keys(harness: Harness) -> set[str]:
    return {key for (bucket, key) in harness.store.objects if bucket == OUTPUT}


@pytest.mark.parametrize("names_its_version", [True, False], ids=["event-with-version", "no-version-id"])
def test_a_first_time_upload_makes_at_most_four_heads(names_its_version: bool) -> None:
    # Given the shipped default profile (a master and three variants) and a new key, its message
    # naming the version (an S3 event on a versioned bucket) or not (a backfill row)
    harness, counts = _default_profile_harness()
    upload = harness.upload(KEY)
    if not names_its_version:
        upload = UploadedObject(bucket=INPUT, key=KEY, etag=upload.etag, size=upload.size)
    profile = load_profiles(SHIPPED).choose(KEY, {})
    # When it is processed once
    outcome = harness.process(upload)
    # Then it is stored (held for review, see HELD), paid once, the master and each variant by one PUT
    assert outcome.status is HELD
    assert len(harness.engine.submits) == 1
    assert counts["PUT"] == 1 + len(profile.variants) == 4
    assert counts["PUT refused"] == 0
    assert len(_variant_keys(harness)) == 4
    # And at most four HEADs were made, and two ranged GETs of the input (its head for validation,
    # then its first bytes for the rights the variants keep)
    assert counts["HEAD"] <= MAX_HEADS_FIRST_TIME, counts
    assert counts["GET"] == 2, counts


def test_a_duplicate_of_a_processed_upload_writes_nothing_and_pays_nothing() -> None:
    # Given an upload processed once with the default profile
    harness, counts = _default_profile_harness()
    upload = harness.upload(KEY)
    assert harness.process(upload).status is HELD
    counts.clear()
    # When its message is delivered again
    again = harness.process(upload, receive_count=2)
    # Then the stored outcome stands: no second call, no PUT, no HEAD (the message names its version)
    assert again.status is HELD
    assert len(harness.engine.submits) == 1
    assert counts["PUT"] == 0
    assert counts["HEAD"] == 0


def test_a_new_version_of_a_processed_key_replaces_every_output() -> None:
    # Given a key processed with the default profile, then uploaded again with other bytes
    harness, counts = _default_profile_harness()
    first = harness.upload(KEY)
    assert harness.process(first).status is HELD
    second = harness.upload(KEY, image_bytes(520, 400))
    counts.clear()
    # When the new version is processed
    outcome = harness.process(second)
    # Then it is paid once more and every output now comes from it (each If-Match the one it replaces)
    assert outcome.status is HELD
    assert len(harness.engine.submits) == 2
    keys = _variant_keys(harness)
    assert len(keys) == 4
    for key in keys:
        assert harness.store.objects[(OUTPUT, key)].metadata["source-version-id"] == second.version_id
    assert counts["PUT"] - counts["PUT refused"] == 4


def test_an_older_version_arriving_after_the_newer_one_is_superseded_without_paying_or_writing() -> None:
    # Given two versions of one key, the newer one processed first with the default profile
    harness, counts = _default_profile_harness()
    older = harness.upload(KEY)
    newer = harness.upload(KEY, image_bytes(520, 400))
    assert harness.process(newer).status is HELD
    counts.clear()
    # When the older version's event arrives late
    outcome = harness.process(older)
    # Then it is superseded before paying, and every output is still the newer version's
    assert outcome.status is Status.SUPERSEDED
    assert len(harness.engine.submits) == 1
    assert counts["PUT"] == 0
    for key in _variant_keys(harness):
        assert harness.store.objects[(OUTPUT, key)].metadata["source-version-id"] == newer.version_id


def test_a_redelivery_after_a_crash_between_variants_writes_only_the_missing_ones() -> None:
    # Given an upload whose master and first variant were stored before the environment crashed
    harness, counts = _default_profile_harness()
    upload = harness.upload(KEY)
    assert harness.process(upload).status is HELD
    keys = sorted(_variant_keys(harness))
    variants = [key for key in keys if not key.startswith("masters/")]
    del harness.store.objects[(OUTPUT, variants[1])]
    del harness.store.objects[(OUTPUT, variants[2])]
    harness.idempotency_table.clear()  # the outcome was never recorded: the crash came first
    counts.clear()
    # When the message is delivered again
    outcome = harness.process(upload, receive_count=2)
    # Then nothing is paid again, the master is reused, and only the two missing variants are written
    assert outcome.status is HELD
    assert len(harness.engine.submits) == 1
    assert counts["PUT"] == 2
    assert counts["PUT refused"] == 0
    assert _variant_keys(harness) == set(keys)


# The single cut-out mode (no profiles file): its built-in profile's one output is the master, so
# nothing goes under masters/. HEADs per upload with ``skip_unchanged`` (the default), measured on
# 0.3.0 before the mode ran through the profiles' flow: 6 (transparent) and 9 (white, two keys the
# result may take) for a first-time upload, 3 for a byte-identical re-upload. Now the stored-output
# check and the pre-pay ordering check share their HEADs: 4 and 5, then 2.
@pytest.mark.parametrize(
    ("background", "first_heads", "extension"),
    [("TRANSPARENT", 4, ".png"), ("WHITE_BACKGROUND", 5, ".jpg")],
    ids=["transparent", "white"],
)
def test_the_single_mode_makes_no_more_requests_than_its_own_flow_did(
    background: str, first_heads: int, extension: str
) -> None:
    # Given the single cut-out mode and a new key
    harness = build_harness(BACKGROUND_TYPE=background)
    counts = _counting(harness)
    data = image_bytes()
    # When it is uploaded, then the same bytes again as a new version
    first = harness.process(harness.upload(KEY, data))
    first_counts = dict(counts)
    counts.clear()
    again = harness.process(harness.upload(KEY, data))
    # Then the first is paid once and written by one PUT, nothing under masters/, with at most the
    # HEADs above; the re-upload pays, reads and writes nothing, with two HEADs (the input, the output)
    assert first.status is Status.DONE
    assert (first_counts["PUT"], first_counts["GET"]) == (1, 1)
    assert first_counts["HEAD"] <= first_heads, first_counts
    assert _variant_keys(harness) == {KEY + extension}
    assert again.status is Status.UNCHANGED
    assert len(harness.engine.submits) == 1
    assert (counts["PUT"], counts["GET"]) == (0, 0)  # the output found is not read
    assert counts["HEAD"] <= 2, counts
