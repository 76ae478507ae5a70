"""The local stack's events queue (the template's example consumer, EventsQueue "true"): `cutout events
tail` prints each outcome's event from it, and `cutout review approve|reject` announce their decisions."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from cutout.announcements import FAILED, NEEDS_REVIEW, PROCESSED
from cutout_tools.cli import main as cutout
from cutout_tools.local_stack import LocalStack
from tests.e2e.support import product_photo, wait_for
from tests.event_schemas import validation_errors

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
    pytest.mark.filterwarnings("ignore:Tried to parse AWS::"),
]


def blank_photo(width: int = 480, height: int = 360) -> bytes:
    """An empty studio shot: nothing to cut out (the quality gate holds its empty mask)."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (246, 246, 244)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, retry_delay_seconds=1, log=lambda _: None) as running:  # the studio engine
        yield running


def tail(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], seconds: float
) -> tuple[list[dict[str, Any]], str]:
    """`cutout events tail --json --seconds N` on the local stack: the events it printed, its stderr."""
    capsys.readouterr()
    assert (
        cutout(["events", "tail", "--json", "--seconds", str(seconds), "--endpoint-url", stack.endpoint_url])
        == 0
    )
    captured = capsys.readouterr()
    return [json.loads(line) for line in captured.out.splitlines() if line.strip()], captured.err


def output_keys(stack: LocalStack) -> list[str]:
    answer = stack.client("s3").list_objects_v2(Bucket=stack.describe()["output_bucket"])
    return sorted(item["Key"] for item in answer.get("Contents", []))


def test_tail_prints_each_outcome_from_the_stacks_events_queue_and_review_decisions_are_announced(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the local stack, deployed with the template's events queue, and three uploads: a product
    # photo, an empty shot (held by the gate) and a file that is no image (failed)
    facts = stack.describe()
    assert facts["events_queue_url"]
    s3 = stack.client("s3")
    # (large enough for amazon-main: the gate holds a product enlarged more than 4×)
    s3.put_object(Bucket=facts["input_bucket"], Key="shoes/red.jpg", Body=product_photo(1000, 750))
    s3.put_object(Bucket=facts["input_bucket"], Key="shoes/empty.jpg", Body=blank_photo())
    s3.put_object(Bucket=facts["input_bucket"], Key="shoes/notes.jpg", Body=b"not an image at all")
    stack.wait_until_idle(timeout=120)
    # When `cutout events tail` follows the stack for a few seconds
    events, stderr = tail(stack, capsys, seconds=3)
    # Then it read the stack's own events queue and printed one schema-valid event per outcome
    assert "through the stack's events queue" in stderr
    by_key = {event["detail"]["source"]["key"]: event for event in events}
    assert {key: event["detail-type"] for key, event in by_key.items()} == {
        "shoes/red.jpg": PROCESSED,
        "shoes/empty.jpg": NEEDS_REVIEW,
        "shoes/notes.jpg": FAILED,
    }
    for event in events:
        assert validation_errors(event["detail-type"], event["detail"]) == []
    held = by_key["shoes/empty.jpg"]["detail"]
    assert "empty_mask" in held["review"]["reasons"]
    # (the template's default profiles: every variant of the held upload is held, under review/)
    assert [output["key"] for output in held["outputs"]] == [
        "review/web-transparent/shoes/empty.jpg.png",
        "review/amazon-main/shoes/empty.jpg.jpg",
        "review/listing-webp/shoes/empty.jpg.webp",
    ]
    held_output = held["outputs"][0]

    # When the held cut-out is approved with `cutout review approve`
    assert cutout(["review", "approve", held_output["key"], "--endpoint-url", stack.endpoint_url]) == 0
    approved, _ = tail(stack, capsys, seconds=2)
    # Then the upload's held outputs (every variant) are at their published keys, and a "Processed"
    # event names them, for the same source, nothing paid
    published = [output["key"].removeprefix("review/") for output in held["outputs"]]
    assert held_output["key"].removeprefix("review/") in published
    assert set(published) <= set(output_keys(stack))
    assert not {output["key"] for output in held["outputs"]} & set(output_keys(stack))
    (event,) = approved
    assert event["detail-type"] == PROCESSED
    assert validation_errors(PROCESSED, event["detail"]) == []
    assert [output["key"] for output in event["detail"]["outputs"]] == published
    assert event["detail"]["source"] == held["source"]
    assert event["detail"]["usage"] == 0


def test_a_rejected_cut_out_is_deleted_and_announced_as_failed(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given another empty shot, held by the gate
    facts = stack.describe()
    stack.client("s3").put_object(
        Bucket=facts["input_bucket"], Key="bags/empty.jpg", Body=blank_photo(400, 400)
    )
    held = "review/web-transparent/bags/empty.jpg.png"  # one of its held variants
    wait_for(lambda: held in output_keys(stack), what="a held cut-out")
    stack.wait_until_idle(timeout=60)
    tail(stack, capsys, seconds=1)  # its "Needs Review" event
    # When it is rejected with `cutout review reject`
    published = held.removeprefix("review/")
    assert cutout(["review", "reject", published, "--endpoint-url", stack.endpoint_url]) == 0
    events, _ = tail(stack, capsys, seconds=2)
    # Then it is gone (every held variant of the upload), and one "Failed" event says it was rejected
    left = [key for key in output_keys(stack) if "bags/empty.jpg" in key]
    assert left == ["masters/bags/empty.jpg.png"]  # the master stays: a re-render needs no call
    (event,) = events
    assert event["detail-type"] == FAILED
    assert event["detail"]["error"]["code"] == "rejected_in_review"
    assert validation_errors(FAILED, event["detail"]) == []
