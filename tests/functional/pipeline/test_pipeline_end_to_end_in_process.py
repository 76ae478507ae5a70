"""The handler in-process against moto over HTTP and the Aidge emulator: real S3 notifications,
presigned URLs fetched by the emulator, DynamoDB idempotency, the DLQ."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from urllib.parse import unquote

import pytest
from PIL import Image

from cutout_tools.emulator import FaultPlan
from tests.functional.aidge_testkit import product_photo
from tests.functional.pipeline.world import KEY_SECRET, World


def test_an_upload_becomes_a_cutout_with_metadata_and_one_billed_call(world: World) -> None:
    # Given a product photo uploaded to the input bucket (S3 notifies the work queue)
    version_id = world.upload("catalogue/red box.jpg", product_photo(400, 300))

    # When the event source mapping delivers the queue's messages (the s3:TestEvent first)
    world.drain()

    # Then the cut-out is in the output bucket as a transparent PNG, with metadata, billed once
    outputs = world.outputs()
    assert list(outputs) == ["catalogue/red box.jpg.png"]
    output = outputs["catalogue/red box.jpg.png"]
    assert output["content_type"] == "image/png"
    image = Image.open(io.BytesIO(output["body"]))
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (400, 300))
    metadata = output["metadata"]
    assert metadata["source-bucket"] == world.input_bucket
    assert unquote(metadata["source-key"]) == "catalogue/red box.jpg"
    assert metadata["source-version-id"] == version_id
    assert metadata["engine"] == "aidge"
    assert metadata["background"] == "TRANSPARENT"
    assert (metadata["width"], metadata["height"], metadata["usage"]) == ("400", "300", "1")
    assert metadata["request-id"]
    assert world.emulator.stats()["billed"] == 1
    assert world.dlq_records() == []


@pytest.mark.parametrize("key", ["summer sale/Tasse+Henkel ü.jpg", "a+b/c d%2B.png", "日本/商品 1.webp"])
def test_keys_with_spaces_plus_signs_and_unicode_arrive_intact(world: World, key: str) -> None:
    # Given an upload under a key S3 must encode in its event
    fmt = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[key.rsplit(".", 1)[1]]
    world.upload(key, product_photo(300, 200, fmt))

    # When it is processed
    world.drain()

    # Then the output sits under the same key (the result's extension appended) and names its source exactly
    expected = key + ".png"
    outputs = world.outputs()
    assert list(outputs) == [expected]
    assert unquote(outputs[expected]["metadata"]["source-key"]) == key


def test_base64_mode_sends_the_bytes(make_world: Callable[..., World]) -> None:
    # Given the function in base64 mode
    world = make_world(SOURCE_MODE="base64", BACKGROUND_TYPE="WHITE_BACKGROUND")
    world.upload("b64.png", product_photo(300, 300, "PNG"))

    # When it is processed
    world.drain()

    # Then the emulator was sent the image itself and a white JPEG came back
    stats = world.emulator.stats()
    assert stats["billed"] == 1
    assert all(object_id.startswith("sha256:") for object_id in stats["by_object"])
    assert world.outputs()["b64.png.jpg"]["content_type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (product_photo(99, 300), "image_too_small"),
        (product_photo(6000, 150), "image_too_small"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "unsupported_format"),
        (b"plain words, not a picture at all", "not_an_image"),
        (product_photo(400, 300)[:-300], "truncated_image"),
    ],
)
def test_a_bad_input_gets_a_dlq_record_and_costs_no_call(world: World, data: bytes, code: str) -> None:
    # Given an input the API would refuse
    world.upload("bad/input.jpg", data)

    # When it is processed
    world.drain()

    # Then one DLQ record says why, there is no output, and the API was never called
    [record] = world.dlq_records()
    assert record["schema"] == "cutout.failure/1"
    assert record["error"]["code"] == code
    assert record["source"]["bucket"] == world.input_bucket
    assert record["source"]["key"] == "bad/input.jpg"
    # moto's S3 events carry no versionId (real S3's do); the identity then falls back to the etag
    assert record["source"]["etag"]
    assert world.outputs() == {}
    assert world.emulator.stats()["calls"] == 0


@pytest.mark.parametrize(
    ("fault", "code"),
    [("700", "aidge_700"), ("1000", "aidge_1000"), ("1002", "aidge_1002")],
)
def test_a_permanent_api_error_is_recorded_once(world: World, fault: str, code: str) -> None:
    # Given an API that refuses every call with a permanent code
    world.emulator.configure(faults=FaultPlan.parse([f"{fault}:1.0"]))
    world.upload("refused.jpg", product_photo())

    # When it is processed
    world.drain()

    # Then one call, one DLQ record with the API's code and request id, nothing billed
    [record] = world.dlq_records()
    assert record["error"]["code"] == code
    assert record["error"]["api_code"] == int(fault)
    assert record["error"]["request_id"]
    assert record["error"]["retryable"] is False
    stats = world.emulator.stats()
    assert (stats["calls"], stats["billed"]) == (1, 0)


def test_duplicate_deliveries_are_billed_once_and_written_once(world: World) -> None:
    # Given one upload whose notification is delivered three times
    world.upload("dup.jpg", product_photo())
    messages = [m for m in world.receive() if "s3:TestEvent" not in m["Body"]]
    assert len(messages) == 1

    # When the same message is handed to the function three times
    for _ in range(3):
        response = world.deliver(messages)
        assert response == {"batchItemFailures": []}

    # Then the API billed one call and there is one output
    assert world.emulator.stats()["billed"] == 1
    assert len(world.outputs()) == 1


def test_every_upload_has_exactly_one_outcome(world: World) -> None:
    # Given a mix of good and bad uploads
    good = {f"good/{n}.jpg": product_photo(200 + n, 200) for n in range(6)}
    bad = {"bad/tiny.jpg": product_photo(50, 50), "bad/text.jpg": b"not an image, just text"}
    for key, data in {**good, **bad}.items():
        world.upload(key, data)

    # When everything is processed
    world.drain()

    # Then each good upload has an output, each bad one a DLQ record, none both
    outputs = world.outputs()
    records = world.dlq_records()
    output_sources = sorted(unquote(o["metadata"]["source-key"]) for o in outputs.values())
    record_sources = sorted(r["source"]["key"] for r in records)
    assert output_sources == sorted(good)
    assert record_sources == sorted(bad)
    assert world.emulator.stats()["billed"] == len(good)


@pytest.mark.slow
def test_a_persistent_transient_error_ends_on_the_dlq_after_the_last_receive(
    make_world: Callable[..., World],
) -> None:
    # Given an API that always answers 500 (retried inside each invocation, then redelivered)
    world = make_world()
    world.emulator.configure(faults=FaultPlan.parse(["500:1.0"]))
    world.upload("flaky.jpg", product_photo())

    # When the queue is drained (three receives, the redrive's maxReceiveCount)
    world.drain(timeout_seconds=240)

    # Then the last receive recorded it as retryable with its attempts, and nothing was billed
    [record] = world.dlq_records()
    assert record["error"]["code"] == "aidge_500"
    assert record["error"]["retryable"] is True
    assert record["attempts"] == 3
    assert world.emulator.stats()["billed"] == 0


def test_the_secret_appears_in_no_output_record_or_log(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a good and a refused upload
    world.upload("ok.jpg", product_photo())
    world.drain()
    world.emulator.configure(faults=FaultPlan.parse(["700:1.0"]))
    world.upload("refused.jpg", product_photo())
    world.drain()

    # When everything the run produced is collected
    produced = json.dumps([o["metadata"] for o in world.outputs().values()]) + json.dumps(world.dlq_records())
    produced += capsys.readouterr().out

    # Then the secret is nowhere in it
    assert KEY_SECRET not in produced
