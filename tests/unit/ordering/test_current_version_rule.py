"""The exact rule on a versioned bucket: an event whose version is not the key's current one is
superseded before paying, whatever the times say; and S3's sequencer order, over the whole range.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.events import UploadedObject
from cutout.ordering import NewestVersionWins, SourceStamp, compare_sequencers
from cutout.pipeline.outcome import Status
from cutout.storage import ObjectHead
from tests.fakes import InMemoryObjectStore, image_bytes
from tests.unit.pipeline.harness import INPUT, OUTPUT, build_harness

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
KEY = "shoe.jpg"


def _head(store: InMemoryObjectStore, version_id: str | None = None) -> ObjectHead:
    return store.head(INPUT, KEY, version_id)


def _event(version_id: str | None, sequencer: str | None = None) -> UploadedObject:
    return UploadedObject(bucket=INPUT, key=KEY, version_id=version_id, sequencer=sequencer)


# --- the rule, branch by branch (NewestVersionWins alone, on the in-memory store) ------------------


@pytest.mark.parametrize(
    "seconds_between", [-5, 0, 5], ids=["newer-looks-older", "same-second", "newer-looks-newer"]
)
def test_a_version_that_is_not_the_current_one_is_superseded_whatever_the_times(seconds_between: int) -> None:
    # Given two versions of one key, the second current, written before, with or after the first (by
    # Last-Modified)
    store = InMemoryObjectStore()
    first = store.add(INPUT, KEY, image_bytes(400, 300))
    first.last_modified = T0
    second = store.add(INPUT, KEY, image_bytes(500, 300))
    second.last_modified = T0 + timedelta(seconds=seconds_between)
    step = NewestVersionWins(store, OUTPUT)
    # When the first version's event is checked (its own HEAD made, as the conductor makes it)
    superseded = step.superseded(_event(first.version_id), _head(store, first.version_id), [])
    # Then it is superseded by the current version, named; the times were never the question
    assert superseded is not None
    assert superseded.by == f"version {second.version_id} of s3://{INPUT}/{KEY}"


def test_the_current_version_is_not_superseded_by_itself() -> None:
    # Given two versions of one key
    store = InMemoryObjectStore()
    store.add(INPUT, KEY, image_bytes(400, 300))
    second = store.add(INPUT, KEY, image_bytes(500, 300))
    # When the current (second) version's event is checked
    superseded = NewestVersionWins(store, OUTPUT).superseded(_event(second.version_id), _head(store), [])
    # Then it goes ahead
    assert superseded is None


def test_a_version_id_taken_from_the_head_counts_like_one_from_the_event() -> None:
    # Given an event without a version id (a backfill message) resolved from the HEAD of version 1,
    # and a version 2 written since
    store = InMemoryObjectStore()
    first = store.add(INPUT, KEY, image_bytes(400, 300))
    head_then = _head(store)
    second = store.add(INPUT, KEY, image_bytes(500, 300))
    # When it is checked
    superseded = NewestVersionWins(store, OUTPUT).superseded(_event(None), head_then, [])
    # Then the version its HEAD named is not the current one: superseded
    assert first.version_id != second.version_id
    assert superseded is not None
    assert str(second.version_id) in superseded.by


def test_a_null_version_written_after_ours_supersedes_it() -> None:
    # Given version v1, then versioning suspended and the key written again (S3 names it "null")
    store = InMemoryObjectStore()
    first = store.add(INPUT, KEY, image_bytes(400, 300))
    store.add(INPUT, KEY, image_bytes(500, 300), version_id="null")
    # When v1's event is checked
    superseded = NewestVersionWins(store, OUTPUT).superseded(
        _event(first.version_id), _head(store, first.version_id), []
    )
    # Then the null version is the current one, not v1: superseded
    assert superseded is not None
    assert "version null" in superseded.by


@pytest.mark.parametrize("version_id", [None, "null"], ids=["unversioned", "suspended"])
def test_without_a_version_of_its_own_the_rule_does_not_apply_and_no_head_is_made(
    version_id: str | None,
) -> None:
    # Given an object on an unversioned bucket (or a "null" version), overwritten since
    store = InMemoryObjectStore()
    store.add(INPUT, KEY, image_bytes(400, 300), versioned=False)
    head_then = replace(_head(store), version_id=version_id)
    store.add(INPUT, KEY, image_bytes(500, 300), versioned=False)
    heads_before = store.heads
    # When its event is checked
    superseded = NewestVersionWins(store, OUTPUT).superseded(_event(None), head_then, [])
    # Then there is no version to compare: not superseded by the input (the outputs' stamps decide), no HEAD
    assert superseded is None
    assert store.heads == heads_before


def test_a_deleted_key_supersedes_nothing() -> None:
    # Given a version whose key is gone from the bucket by the time of the check
    store = InMemoryObjectStore()
    first = store.add(INPUT, KEY, image_bytes(400, 300))
    head = _head(store, first.version_id)
    del store.objects[(INPUT, KEY)]
    # When its event is checked
    superseded = NewestVersionWins(store, OUTPUT).superseded(_event(first.version_id), head, [])
    # Then nothing newer exists to defer to
    assert superseded is None


def test_a_store_that_names_no_current_version_supersedes_nothing() -> None:
    # Given a version, and a HEAD of the key that names no version (not S3 on a versioned bucket)
    store = InMemoryObjectStore()
    first = store.add(INPUT, KEY, image_bytes(400, 300))
    head = _head(store, first.version_id)
    store.add(INPUT, KEY, image_bytes(500, 300), versioned=False)
    # When its event is checked
    superseded = NewestVersionWins(store, OUTPUT).superseded(_event(first.version_id), head, [])
    # Then the rule has nothing to go on, and the version goes ahead
    assert superseded is None


# --- through the conductor: no paid call for a version that is not current ----------------------


@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest-first", "newest-first"])
def test_five_versions_pay_only_for_the_current_one_in_either_order(newest_first: bool) -> None:
    # Given five versions of one key written within the same second, all before any is processed,
    # their events without sequencers (as a backfill's are: nothing but the versions to go on)
    harness = build_harness()
    uploads = []
    for n in range(5):
        upload = harness.upload(KEY, image_bytes(400 + 10 * n, 300))
        harness.store.objects[(INPUT, KEY)].last_modified = T0
        uploads.append(upload)
    for stored in harness.store.versions.values():
        stored.last_modified = T0
    # When their events are processed in that order
    order = list(reversed(uploads)) if newest_first else uploads
    outcomes = {upload.version_id: harness.process(upload) for upload in order}
    # Then the four older ones are superseded before paying, and the current one is the only output
    assert [outcomes[upload.version_id].status for upload in uploads] == [Status.SUPERSEDED] * 4 + [
        Status.DONE
    ]
    assert len(harness.engine.submits) == 1
    [(_, _, _, metadata)] = harness.outputs()
    assert metadata["source-version-id"] == uploads[-1].version_id
    assert harness.dlq_records() == []


# --- S3's sequencer order, over the range --------------------------------------------------------

SPELLINGS = st.tuples(st.integers(min_value=0, max_value=4), st.sampled_from([str.upper, str.lower]))


def _spelled(value: int, spelling: tuple[int, object] = (0, str.upper)) -> str:
    """``value`` in hex, with ``spelling[0]`` leading zeros, in the case ``spelling[1]`` gives."""
    zeros, case = spelling
    return case("0" * zeros + f"{value:x}")  # type: ignore[operator, no-any-return]


@settings(deadline=None, max_examples=300)
@given(
    first=st.integers(min_value=0, max_value=2**80),
    second=st.integers(min_value=0, max_value=2**80),
    spellings=st.tuples(SPELLINGS, SPELLINGS),
)
def test_sequencers_order_as_the_hex_values_they_spell(
    first: int, second: int, spellings: tuple[tuple[int, object], tuple[int, object]]
) -> None:
    # Given two sequencers of one key, of any length (leading zeros or not) and either case
    a, b = _spelled(first, spellings[0]), _spelled(second, spellings[1])
    # When they are compared as S3 documents (left-pad the shorter with zeros, compare as strings)
    order = compare_sequencers(a, b)
    # Then the later event is the one with the greater hex value, and the order is antisymmetric
    assert order == (first > second) - (first < second)
    assert compare_sequencers(b, a) == -order


@settings(deadline=None, max_examples=100)
@given(
    older=st.integers(min_value=0, max_value=2**72 - 2),
    step=st.integers(min_value=1, max_value=2**20),
    zeros=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    seconds=st.integers(min_value=-3, max_value=3),
)
def test_on_one_key_the_smaller_sequencer_is_older_whatever_the_times(
    older: int, step: int, zeros: tuple[int, int], seconds: int
) -> None:
    # Given the stamps of two versions of one key (different versions), any times a few seconds apart
    first = SourceStamp(_spelled(older, (zeros[0], str.upper)), T0, "v1")
    second = SourceStamp(_spelled(older + step, (zeros[1], str.upper)), T0 + timedelta(seconds=seconds), "v2")
    # When they are compared, Then the sequencer decides, never the time
    assert first.is_older_than(second)
    assert not second.is_older_than(first)
