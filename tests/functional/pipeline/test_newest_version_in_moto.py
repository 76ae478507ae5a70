"""Newest version wins, against moto: reordered events for one key, in one concurrent batch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cutout_tools.local_stack.s3_event_facts import s3_event_facts
from tests.functional.aidge_testkit import product_photo
from tests.functional.pipeline.world import World

SHIPPED_PROFILES = Path(__file__).parents[3] / "functions" / "process_upload" / "profiles.toml"


def _notification_of(version_id: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The notification naming ``version_id``, as S3 (and the local stack's moto) sends it."""
    for message in messages:
        body = json.loads(message["Body"])
        if body["Records"][0]["s3"]["object"].get("versionId") == version_id:
            return message
    raise AssertionError("no notification names that version")


def _two_versions(
    world: World, sizes: tuple[tuple[int, int], tuple[int, int]] = ((300, 200), (320, 200))
) -> tuple[str, str, list[dict[str, Any]]]:
    """Two versions of ``shoe.jpg`` written back to back (within the same second, as a rule), and the
    notifications they made: with the facts S3 gives them (``s3_event_facts``: moto alone has none)."""
    with s3_event_facts():
        older = world.upload("shoe.jpg", product_photo(*sizes[0]))
        newer = world.upload("shoe.jpg", product_photo(*sizes[1]))
    pending = [m for m in world.receive() if "Records" in json.loads(m["Body"])]
    return older, newer, pending


def test_reordered_events_for_one_key_leave_the_newest_version_s_cutout(world: World) -> None:
    # Given two versions of one key, written back to back
    older, newer, pending = _two_versions(world)
    first, second = _notification_of(older, pending), _notification_of(newer, pending)

    # When their events arrive newest first, in one batch (its records run concurrently)
    response = world.deliver([second, first])

    # Then both are settled: the output is the newer version's, the older is superseded unpaid, no DLQ record
    assert response == {"batchItemFailures": []}
    outputs = world.outputs()
    assert list(outputs) == ["shoe.jpg.png"]
    metadata = outputs["shoe.jpg.png"]["metadata"]
    assert metadata["source-version-id"] == newer
    assert metadata["source-last-modified"]
    assert world.emulator.stats()["billed"] == 1
    assert world.dlq_records() == []


def test_reordered_events_for_one_key_leave_the_newest_version_s_master_and_variants(
    make_world: Callable[..., World],
) -> None:
    # Given the shipped profiles (three variants) and two versions of one key, written back to back,
    # each large enough for amazon-main's 1,700 px product (the gate holds a product enlarged over 4×)
    world = make_world(PROFILES_FILE=str(SHIPPED_PROFILES))
    older, newer, pending = _two_versions(world, ((1000, 700), (1020, 700)))
    first, second = _notification_of(older, pending), _notification_of(newer, pending)

    # When their events arrive newest first, in one batch (its records run concurrently)
    response = world.deliver([second, first])

    # Then the master and every variant are the newer version's, one call was billed (the older
    # version is superseded before paying), and there is no DLQ record
    assert response == {"batchItemFailures": []}
    outputs = world.outputs()
    assert set(outputs) == {
        "masters/shoe.jpg.png",
        "web-transparent/shoe.jpg.png",
        "amazon-main/shoe.jpg.jpg",
        "listing-webp/shoe.jpg.webp",
    }
    assert {output["metadata"]["source-version-id"] for output in outputs.values()} == {newer}
    assert all(output["metadata"]["source-last-modified"] for output in outputs.values())
    assert world.emulator.stats()["billed"] == 1
    assert world.dlq_records() == []
