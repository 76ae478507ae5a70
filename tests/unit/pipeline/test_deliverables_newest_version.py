"""Newest version wins for deliverables: no PUT of a master or variant over a newer version's."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cutout.engine.port import Cutout, CutoutReceipt
from cutout.events import UploadedObject
from cutout.ordering import SUPERSEDED_CODE
from cutout.pipeline.outcome import Outcome, Status
from tests.fakes import image_bytes
from tests.unit.pipeline.harness import INPUT, OUTPUT, Harness, build_harness
from tests.unit.pipeline.test_deliverables_flow import PROFILES

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
KEYS = {
    "masters/shoe.jpg.png",
    "web-transparent/shoe.jpg.png",
    "white/shoe.jpg.jpg",
    "thumb/shoe.jpg.webp",
}


def _version(harness: Harness, data: bytes, seconds: int, sequencer: str) -> UploadedObject:
    """A new version of ``shoe.jpg``, uploaded ``seconds`` after T0, with an S3-like sequencer."""
    upload = harness.upload("shoe.jpg", data)
    harness.store.objects[(INPUT, "shoe.jpg")].last_modified = T0 + timedelta(seconds=seconds)
    return replace(upload, sequencer=sequencer)


def _outputs_by_version(harness: Harness) -> dict[str, str]:
    """The source version every stored output of ``shoe.jpg`` was made from, by output key."""
    return {
        key: stored.metadata.get("source-version-id", "")
        for (bucket, key), stored in harness.store.objects.items()
        if bucket == OUTPUT
    }


def _while_paying(harness: Harness, action: Any) -> None:
    """Run ``action`` (in another thread, as a batch's other record would) after the next paid call."""
    real_fetch = harness.engine.fetch
    done = {"once": False}

    def fetch(receipt: CutoutReceipt, *, deadline: float | None = None) -> Cutout:
        if not done["once"]:
            done["once"] = True
            worker = threading.Thread(target=action)
            worker.start()
            worker.join()
        return real_fetch(receipt, deadline=deadline)

    harness.engine.fetch = fetch  # type: ignore[method-assign]


def test_the_older_version_arriving_last_is_superseded_before_paying() -> None:
    # Given two versions of one key whose events arrive newest first
    harness = build_harness(profiles=PROFILES)
    v1 = _version(harness, image_bytes(400, 300), 0, "0062E99A88DC407460")
    v2 = _version(harness, image_bytes(500, 300), 3, "0062E99A88DC407461")
    # When both are processed in that order
    outcomes = [harness.process(v2), harness.process(v1)]
    # Then the newer one's master and variants are the outputs; the older is superseded, unpaid
    assert [outcome.status for outcome in outcomes] == [Status.DONE, Status.SUPERSEDED]
    assert outcomes[1].error_code == SUPERSEDED_CODE
    assert len(harness.engine.submits) == 1
    assert _outputs_by_version(harness) == dict.fromkeys(KEYS, v2.version_id)
    assert harness.dlq_records() == []


def test_a_newer_version_landing_during_the_paid_call_keeps_the_older_master_out() -> None:
    # Given an older version whose paid call is under way when a newer version is uploaded and done
    harness = build_harness(profiles=PROFILES)
    v1 = _version(harness, image_bytes(400, 300), 0, "0A")
    newer: list[Outcome] = []

    def newer_version_arrives_and_finishes() -> None:
        v2 = _version(harness, image_bytes(500, 300), 3, "0B")
        newer.append(harness.process(v2))

    _while_paying(harness, newer_version_arrives_and_finishes)
    # When the older one comes to store its master
    older = harness.process(v1)
    # Then both calls were paid (two versions), but every output is still the newer version's and
    # the older one's outcome is superseded, with no DLQ record
    assert [outcome.status for outcome in newer] == [Status.DONE]
    assert older.status is Status.SUPERSEDED
    assert len(harness.engine.submits) == 2
    assert _outputs_by_version(harness) == dict.fromkeys(KEYS, "v2")
    assert harness.dlq_records() == []


def test_a_variant_made_from_a_newer_version_is_never_overwritten() -> None:
    # Given the older version's master stored, then a newer version processed (its variants stored),
    # and the newer version deleted from the input bucket (so only the outputs' stamps tell)
    harness = build_harness(profiles=PROFILES)
    v1 = _version(harness, image_bytes(400, 300), 0, "0A")

    def newer_version_arrives_finishes_and_is_deleted() -> None:
        v2 = _version(harness, image_bytes(500, 300), 3, "0B")
        harness.process(v2)
        harness.store.objects[(INPUT, "shoe.jpg")] = harness.store.versions[(INPUT, "shoe.jpg", "v1")]

    _while_paying(harness, newer_version_arrives_finishes_and_is_deleted)
    # When the older version stores its outputs
    older = harness.process(v1)
    # Then the conditional writes saw the newer stamps: nothing of v1 replaced v2's outputs
    assert older.status is Status.SUPERSEDED
    assert _outputs_by_version(harness) == dict.fromkeys(KEYS, "v2")
    writes_of_v1 = [
        key for (bucket, key, _, metadata) in harness.store.puts if metadata.get("source-version-id") == "v1"
    ]
    assert writes_of_v1 == []
