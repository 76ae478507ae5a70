"""The retry schedule against moto's SQS: a failed message comes back after its backoff, not before.

The schedule is set through configuration (a few seconds), never waited out in minutes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from cutout_tools.emulator import FaultPlan
from tests.functional.aidge_testkit import product_photo
from tests.functional.pipeline.world import World

BACKOFF_SECONDS = 4


def _receive_upload(world: World, wait_seconds: float) -> tuple[list[dict[str, Any]], float]:
    """The upload's notification (the s3:TestEvent dropped), and when it was received."""
    deadline = time.monotonic() + wait_seconds
    while True:
        messages = [m for m in world.receive() if "Records" in json.loads(m["Body"])]
        if messages or time.monotonic() >= deadline:
            return messages, time.monotonic()
        time.sleep(0.1)


def test_a_failed_message_is_visible_again_after_its_backoff_and_not_before(
    make_world: Callable[..., World],
) -> None:
    # Given a 4 s first backoff (the work queue's own visibility timeout is 1 s) and an API answering 500
    world = make_world(RETRY_BACKOFF_SECONDS=f"{BACKOFF_SECONDS},60", RETRY_JITTER="0")
    world.emulator.configure(faults=FaultPlan.parse(["500:1.0"]))
    world.upload("flaky.jpg", product_photo())
    [message], _ = _receive_upload(world, wait_seconds=10)

    # When the batch fails and reports it (the handler sets the message's visibility)
    invoked_at = time.monotonic()
    response = world.deliver([message])
    world.emulator.configure(faults=FaultPlan())

    # Then it is not received before its backoff has passed (the queue's 1 s is overridden)...
    assert response["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    early, checked_at = _receive_upload(world, wait_seconds=0)
    if checked_at - invoked_at < BACKOFF_SECONDS:  # a loaded machine may only look later
        assert early == []
    # ...it is received again once the backoff has passed, as the second receive
    [again], received_at = _receive_upload(world, wait_seconds=BACKOFF_SECONDS + 30)
    assert (
        received_at - invoked_at >= BACKOFF_SECONDS - 0.5
    )  # moto counts from the change, made after invoked_at
    assert again["MessageId"] == message["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    # ...and, the API healthy again, it is processed
    assert world.deliver([again]) == {"batchItemFailures": []}
    assert list(world.outputs()) == ["flaky.jpg.png"]
