"""The ordering rule of two stamps, branch by branch and over ranges (rule 1: the newest version wins).

``SourceStamp.is_older_than`` is true only when it is *known*: a version is never older than
itself, whatever the order of its id; two sequencers that differ decide; else two last-modified
times that differ decide, compared as instants whatever their UTC offsets; equal times, or no
facts, decide nothing (the version goes ahead). The check of the outputs looks at every output key,
not the first one only.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.events import UploadedObject
from cutout.ordering import NewestVersionWins, SourceStamp
from tests.fakes import InMemoryObjectStore, image_bytes

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
PROPERTY = settings(max_examples=80, deadline=None)

version_ids = st.text(
    alphabet="0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._", min_size=1, max_size=12
)
sequencers = st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=18)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@PROPERTY
@given(older_id=version_ids, newer_id=version_ids, first=sequencers, second=sequencers)
def test_two_versions_are_ordered_by_their_sequencers_whatever_their_ids(
    older_id: str, newer_id: str, first: str, second: str
) -> None:
    # Given two different versions of one key with different sequencers (ids in any order)
    if older_id == newer_id or first.lstrip("0") == second.lstrip("0"):
        return
    low, high = sorted((first, second), key=lambda s: int(s, 16))
    older = SourceStamp(low, T0 + timedelta(seconds=30), older_id)
    newer = SourceStamp(high, T0, newer_id)
    # When they are compared
    # Then the smaller sequencer is older, and only it (the times and the ids' order say nothing)
    assert older.is_older_than(newer)
    assert not newer.is_older_than(older)


@PROPERTY
@given(version_id=version_ids, first=sequencers, second=sequencers, seconds=st.integers(-100, 100))
def test_a_version_is_never_older_than_itself(version_id: str, first: str, second: str, seconds: int) -> None:
    # Given two stamps of the same version (one from the event, one recorded in an output)
    ours = SourceStamp(first, T0, version_id)
    recorded = SourceStamp(second, T0 + timedelta(seconds=seconds), version_id)
    # When they are compared, either way
    # Then neither is older: a version never supersedes itself
    assert not ours.is_older_than(recorded)
    assert not recorded.is_older_than(ours)


@PROPERTY
@given(
    seconds=st.integers(min_value=1, max_value=10**6),
    ours_offset=offsets,
    theirs_offset=offsets,
    ids=st.sampled_from([("v1", "v2"), ("v2", "v1"), (None, None), ("b", "a")]),
)
def test_without_sequencers_the_earlier_instant_is_older_whatever_the_offsets(
    seconds: int, ours_offset: timezone, theirs_offset: timezone, ids: tuple[str | None, str | None]
) -> None:
    # Given two versions without sequencers, the first written `seconds` before the second, each
    # time written with its own UTC offset
    earlier = SourceStamp(None, T0.astimezone(ours_offset), ids[0])
    later = SourceStamp(None, (T0 + timedelta(seconds=seconds)).astimezone(theirs_offset), ids[1])
    # When they are compared
    # Then the earlier instant is older, and only it
    assert earlier.is_older_than(later)
    assert not later.is_older_than(earlier)


@pytest.mark.parametrize("ids", [("v1", "v2"), ("v2", "v1"), (None, None)])
@pytest.mark.parametrize("sequencers", [(None, None), ("0A", None), (None, "0A"), ("0A", "0A")])
def test_equal_times_and_equal_or_missing_sequencers_decide_nothing(
    ids: tuple[str | None, str | None], sequencers: tuple[str | None, str | None]
) -> None:
    # Given two versions written within the same second, with no sequencer that tells them apart
    one = SourceStamp(sequencers[0], T0, ids[0])
    other = SourceStamp(sequencers[1], T0.astimezone(timezone(timedelta(hours=5))), ids[1])
    # When they are compared
    # Then neither is older: the version goes ahead (the conditional PUT settles a real race)
    assert not one.is_older_than(other)
    assert not other.is_older_than(one)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (SourceStamp(None, None, "v1"), SourceStamp(None, None, "v2")),
        (SourceStamp(None, None, "v1"), SourceStamp(None, T0, "v2")),
        (SourceStamp(None, T0, "v1"), SourceStamp(None, None, "v2")),
        (SourceStamp("0A", None, "v1"), SourceStamp(None, T0, "v2")),
        (SourceStamp(None, T0, "v1"), SourceStamp("0B", None, "v2")),
    ],
)
def test_without_a_fact_on_both_sides_nothing_is_older(ours: SourceStamp, theirs: SourceStamp) -> None:
    # Given two stamps that share no fact (no sequencer on both sides, no time on both sides)
    # When they are compared, Then neither is older: nothing known, nothing superseded
    assert not ours.is_older_than(theirs)
    assert not theirs.is_older_than(ours)


@pytest.mark.parametrize("hours", [-8, -1, 1, 2, 14])
def test_a_time_with_an_offset_is_recorded_and_read_back_as_the_same_instant(hours: int) -> None:
    # Given the stamp of a version whose last-modified time carries a UTC offset
    moment = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=hours)))
    stamp = SourceStamp("0A", moment, "v1")
    # When it is recorded in an output's metadata and read back
    recorded = stamp.metadata()
    read = SourceStamp.from_metadata({**recorded, "source-version-id": "v1"})
    # Then it is written in UTC and names the same instant
    assert recorded["source-last-modified"] == moment.astimezone(UTC).isoformat(timespec="microseconds")
    assert read.last_modified == moment


def test_a_time_without_an_offset_is_taken_as_utc() -> None:
    # Given a recorded time without an offset (an older output) and a version one second later in UTC
    recorded = SourceStamp.from_metadata({"source-last-modified": "2026-12-01T12:00:00"})
    ours = SourceStamp(None, T0 + timedelta(seconds=1), "v2")
    # When they are compared, Then the recorded one is the older: its naive time was read as UTC
    assert recorded.is_older_than(ours)
    assert not ours.is_older_than(recorded)
    assert recorded.metadata() == {"source-last-modified": "2026-12-01T12:00:00.000000+00:00"}


def test_a_stamp_cannot_be_changed_in_place() -> None:
    # Given a stamp, When something tries to change its sequencer, Then it refuses (it is hashable too)
    stamp = SourceStamp("0A", T0, "v1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        stamp.sequencer = "0B"  # type: ignore[misc]
    assert hash(stamp) == hash(SourceStamp("0A", T0, "v1"))


@pytest.mark.parametrize("newer_at", [0, 1, 2])
def test_an_output_of_a_newer_version_under_any_of_the_output_keys_supersedes(newer_at: int) -> None:
    # Given three output keys (variants) of one source, one of which was made from a newer version
    store = InMemoryObjectStore()
    store.add("in", "shoe.jpg", image_bytes(40, 30), versioned=False)
    keys = ["shoe/a.png", "shoe/b.png", "shoe/c.png"]
    for index, key in enumerate(keys):
        sequencer = "0B" if index == newer_at else "09"
        output = store.add("out", key, b"png", versioned=False)
        output.metadata = {"source-bucket": "in", "source-sequencer": sequencer}
    upload = UploadedObject(bucket="in", key="shoe.jpg", sequencer="0A")
    head = store.head("in", "shoe.jpg")
    # When our version (sequencer 0A) is checked against the outputs
    superseded = NewestVersionWins(store, "out").superseded(upload, head, keys)
    # Then it is superseded, by the output that was newer, wherever it is in the list
    assert superseded is not None
    assert keys[newer_at] in superseded.by


@pytest.mark.parametrize("written", ["", "yesterday", "2026-13-01T00:00:00", "2026-12-01T25:00:00+00:00"])
def test_a_recorded_time_that_is_not_a_time_is_no_fact(written: str) -> None:
    # Given an output whose recorded last-modified time is empty or not a time (hand-edited, truncated)
    recorded = SourceStamp.from_metadata({"source-last-modified": written, "source-sequencer": ""})
    # When it is read, Then it holds no time and no sequencer, and orders nothing
    assert (recorded.sequencer, recorded.last_modified) == (None, None)
    assert not recorded.is_older_than(SourceStamp(None, T0, "v2"))
    assert not SourceStamp(None, T0, "v2").is_older_than(recorded)


def test_a_superseded_verdict_cannot_be_changed_in_place() -> None:
    # Given the verdict that a version lost to a newer one
    store = InMemoryObjectStore()
    store.add("in", "shoe.jpg", image_bytes(40, 30))
    first_head = store.head("in", "shoe.jpg")
    store.add("in", "shoe.jpg", image_bytes(50, 30))
    upload = UploadedObject(bucket="in", key="shoe.jpg", version_id=first_head.version_id)
    verdict = NewestVersionWins(store, "out").superseded(upload, first_head, [])
    assert verdict is not None
    # When something tries to change what it names, Then it refuses
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.by = "nothing"  # type: ignore[misc]
    assert verdict.code == "superseded_by_newer_version"
