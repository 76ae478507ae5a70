"""Newest version wins: reordered events for one key never leave the older cut-out as the output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cutout.engine.port import CutoutOptions, CutoutReceipt, ImageSource
from cutout.events import UploadedObject
from cutout.ordering import SUPERSEDED_CODE, SourceStamp, compare_sequencers
from cutout.pipeline.outcome import Outcome, Status
from tests.fakes import FakeEngine, image_bytes
from tests.unit.pipeline.harness import INPUT, Harness, build_harness

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "second", "order"),
    [
        ("0055AED6DCD90281E5", "0055AED6DCD90281E6", -1),
        ("0055aed6dcd90281e6", "0055AED6DCD90281E5", 1),
        ("00A", "A", 0),  # left-padded with zeros, as S3 documents
        ("F", "10", -1),  # 0F < 10: the shorter is the smaller once padded
        ("00B", "00A1FF", -1),
        ("0001", "00010000000001", -1),
        ("0055AED6DCD90281E6", "55AED6DCD90281E5", 1),  # two leading zeros do not make it older
    ],
)
def test_sequencers_compare_as_s3_documents(first: str, second: str, order: int) -> None:
    # Given two sequencers of one key, When they are compared, Then the greater hex value is the later event
    assert compare_sequencers(first, second) == order


def test_a_stamp_orders_by_sequencer_then_by_last_modified_and_never_against_itself() -> None:
    # Given stamps of two versions, with and without sequencers
    older = SourceStamp("0A", T0 + timedelta(seconds=9), "v1")
    newer = SourceStamp("0B", T0, "v2")
    unsequenced = SourceStamp(None, T0 + timedelta(seconds=5), "v3")
    # When they are compared, Then the sequencer decides when both have one, else the time; a version
    # is never older than itself, and a stamp survives the output metadata
    assert older.is_older_than(newer)
    assert not newer.is_older_than(older)
    assert newer.is_older_than(unsequenced)
    assert not older.is_older_than(replace(older, sequencer="09"))
    assert SourceStamp.from_metadata({**older.metadata(), "source-version-id": "v1"}) == older


def _two_versions(harness: Harness) -> tuple[UploadedObject, UploadedObject]:
    """Two uploads of one key: v1 then v2, with S3-like sequencers and last-modified times."""
    first = harness.upload("shoe.jpg", image_bytes(400, 300))
    harness.store.objects[(INPUT, "shoe.jpg")].last_modified = T0
    second = harness.upload("shoe.jpg", image_bytes(500, 300))
    harness.store.objects[(INPUT, "shoe.jpg")].last_modified = T0 + timedelta(seconds=3)
    return replace(first, sequencer="0062E99A88DC407460"), replace(second, sequencer="0062E99A88DC407461")


def test_the_older_version_arriving_last_is_superseded_without_paying() -> None:
    # Given two versions of one key whose events arrive newest first
    harness = build_harness()
    v1, v2 = _two_versions(harness)
    # When both are processed in that order
    outcomes = [harness.process(v2), harness.process(v1)]
    # Then the newer one's cut-out is the output, the older is superseded: no call, no DLQ record
    assert [outcome.status for outcome in outcomes] == [Status.DONE, Status.SUPERSEDED]
    assert outcomes[1].error_code == SUPERSEDED_CODE
    assert len(harness.engine.submits) == 1
    [(_, key, _, metadata)] = harness.outputs()
    assert (key, metadata["source-version-id"]) == ("shoe.jpg.png", v2.version_id)
    assert metadata["source-sequencer"] == v2.sequencer
    assert harness.dlq_records() == []
    assert ("processed", "superseded") in harness.metrics.events


def test_versions_in_order_each_write_and_the_newest_stays() -> None:
    # Given two versions processed in upload order (the first before the second existed)
    harness = build_harness()
    v1 = replace(harness.upload("shoe.jpg", image_bytes(400, 300)), sequencer="0A")
    first = harness.process(v1)
    v2 = replace(harness.upload("shoe.jpg", image_bytes(500, 300)), sequencer="0B")
    # When the second is processed
    second = harness.process(v2)
    # Then both wrote, the newest last
    assert (first.status, second.status) == (Status.DONE, Status.DONE)
    assert [put[3]["source-version-id"] for put in harness.outputs()] == [v1.version_id, v2.version_id]


class OvertakenEngine(FakeEngine):
    """While the first paid call runs, ``during_first_call`` runs (a newer version is processed)."""

    def __init__(self) -> None:
        super().__init__()
        self.during_first_call: Callable[[], Outcome] | None = None
        self.outcomes_during_first_call: list[Outcome] = []

    def submit(
        self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
    ) -> CutoutReceipt:
        receipt = super().submit(source, options, deadline=deadline)
        if len(self.submits) == 1 and self.during_first_call is not None:
            self.outcomes_during_first_call.append(self.during_first_call())
        return receipt


def test_an_older_version_overtaken_during_its_paid_call_does_not_overwrite_the_newer_output() -> None:
    # Given the older version, the key's current one when its paid call starts, and a newer version
    # uploaded and processed to the end during that call (both written within one second)
    engine = OvertakenEngine()
    harness = build_harness(engine)
    v1 = replace(harness.upload("shoe.jpg", image_bytes(400, 300)), sequencer="0062E99A88DC407460")
    harness.store.objects[(INPUT, "shoe.jpg")].last_modified = T0
    newer: list[UploadedObject] = []

    def newer_version_processed() -> Outcome:
        newer.append(
            replace(harness.upload("shoe.jpg", image_bytes(500, 300)), sequencer="0062E99A88DC407461")
        )
        harness.store.objects[(INPUT, "shoe.jpg")].last_modified = T0
        return harness.process(newer[0])

    engine.during_first_call = newer_version_processed
    # When the older version finishes its call and goes to write
    older = harness.process(v1)
    # Then the key's current version is no longer its own: it writes nothing, superseded (paid: it
    # was the newest when its call began); the newer version's output stays, no DLQ record
    assert [outcome.status for outcome in engine.outcomes_during_first_call] == [Status.DONE]
    assert older.status is Status.SUPERSEDED
    assert len(engine.submits) == 2
    assert [put[3]["source-version-id"] for put in harness.outputs()] == [newer[0].version_id]
    assert harness.dlq_records() == []


def test_on_an_unversioned_bucket_the_output_s_recorded_sequencer_stops_the_overtaken_write() -> None:
    # Given an unversioned key: the older write's paid call under way when a newer write of the key
    # is processed to the end, both written within the same second (the time cannot tell them apart)
    engine = OvertakenEngine()
    harness = build_harness(engine)
    # (S3's sequencers differ in length: the older one here has no leading zeros, the newer two)
    v1 = replace(
        harness.upload("shoe.jpg", image_bytes(400, 300), versioned=False), sequencer="62E99A88DC407460"
    )
    harness.store.objects[(INPUT, "shoe.jpg")].last_modified = T0
    newer: list[UploadedObject] = []

    def newer_write_processed() -> Outcome:
        upload = harness.upload("shoe.jpg", image_bytes(500, 300), versioned=False)
        newer.append(replace(upload, sequencer="0062E99A88DC407461"))  # compared left-padded
        harness.store.objects[(INPUT, "shoe.jpg")].last_modified = T0
        return harness.process(newer[0])

    engine.during_first_call = newer_write_processed
    # When the older write finishes its call and goes to write
    older = harness.process(v1)
    # Then it finds the newer output (by its recorded sequencer) and writes nothing: superseded
    assert [outcome.status for outcome in engine.outcomes_during_first_call] == [Status.DONE]
    assert older.status is Status.SUPERSEDED
    [(_, _, _, metadata)] = harness.outputs()
    assert metadata["source-sequencer"] == newer[0].sequencer
    assert harness.dlq_records() == []
