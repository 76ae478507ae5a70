"""Newest version wins, against moto: reordered events for one key, in one concurrent batch."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from tests.functional.aidge_testkit import product_photo
from tests.functional.pipeline.world import World


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
    assert list(outputs) == ["shoe.png"]
    metadata = outputs["shoe.png"]["metadata"]
    assert metadata["source-version-id"] == newer
    assert metadata["source-last-modified"]
    assert world.emulator.stats()["billed"] == 1
    assert world.dlq_records() == []
