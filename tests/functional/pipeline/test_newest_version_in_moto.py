"""Newest version wins, against moto: reordered events for one key, in one concurrent batch."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.functional.aidge_testkit import product_photo
from tests.functional.pipeline.world import World

SHIPPED_PROFILES = Path(__file__).parents[3] / "functions" / "process_upload" / "profiles.toml"


def _notification_for(data: bytes, version_id: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The notification of the upload of ``data``, with the versionId real S3 sends (moto leaves it out)."""
    etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
    for message in messages:
        body = json.loads(message["Body"])
        s3_object = body["Records"][0]["s3"]["object"]
        if s3_object["eTag"].strip('"') == etag:
            s3_object["versionId"] = version_id
            return {**message, "Body": json.dumps(body)}
    raise AssertionError("no notification for that upload")


def test_reordered_events_for_one_key_leave_the_newest_version_s_cutout(world: World) -> None:
    # Given two versions of one key (a second apart: moto's sequencer is a constant, S3's is not)
    older_data, newer_data = product_photo(300, 200), product_photo(320, 200)
    older = world.upload("shoe.jpg", older_data)
    time.sleep(1.1)
    newer = world.upload("shoe.jpg", newer_data)
    pending = [m for m in world.receive() if "Records" in json.loads(m["Body"])]
    first, second = (
        _notification_for(older_data, older, pending),
        _notification_for(newer_data, newer, pending),
    )

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
    # Given the shipped profiles (three variants) and two versions of one key, a second apart
    world = make_world(PROFILES_FILE=str(SHIPPED_PROFILES))
    older_data, newer_data = product_photo(300, 200), product_photo(320, 200)
    older = world.upload("shoe.jpg", older_data)
    time.sleep(1.1)
    newer = world.upload("shoe.jpg", newer_data)
    pending = [m for m in world.receive() if "Records" in json.loads(m["Body"])]
    first, second = (
        _notification_for(older_data, older, pending),
        _notification_for(newer_data, newer, pending),
    )

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
