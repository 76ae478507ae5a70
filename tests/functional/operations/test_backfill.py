"""`cutout backfill s3://bucket/prefix` against moto on loopback, the emulator and the handler."""

from __future__ import annotations

import json

from cutout.events import MessageKind, uploads_from_sqs_body
from cutout_tools.operations import S3Location, backfill
from tests.functional.aidge_testkit import product_photo
from tests.functional.operations.conftest import Operator
from tests.functional.operations.helpers import drop_pending_notifications, queue_depth, stop_notifications


def test_backfill_enqueues_one_s3_notification_per_object_as_s3_would_send_it(operator: Operator) -> None:
    # Given objects under a prefix (keys S3 must encode), a folder placeholder, and one elsewhere
    world = operator.world
    stop_notifications(world)
    drop_pending_notifications(world)
    keys = ["catalogue/a b+c ü.jpg", "catalogue/日本/商品 1.png", "catalogue/%41.jpg"]
    versions = {key: world.upload(key, product_photo(200 + n, 200)) for n, key in enumerate(keys)}
    world.s3.put_object(Bucket=world.input_bucket, Key="catalogue/empty folder/", Body=b"")
    world.upload("elsewhere/x.jpg", product_photo())

    # When the prefix is backfilled through the Python API
    summary = backfill(
        world.s3, world.sqs, S3Location.parse(f"s3://{world.input_bucket}/catalogue/"), world.work_queue_url
    )

    # Then each object is one ObjectCreated:Put message the function parses back to the exact object
    assert (summary.enqueued, summary.skipped_placeholders, summary.failed) == (3, 1, 0)
    messages = world.receive()
    assert len(messages) == 3
    uploads = {}
    for message in messages:
        body = json.loads(message["Body"])
        assert body["Records"][0]["eventName"] == "ObjectCreated:Put"
        assert "sequencer" not in body["Records"][0]["s3"]["object"]
        parsed = uploads_from_sqs_body(message["Body"])
        assert parsed.kind is MessageKind.S3_NOTIFICATION
        [upload] = parsed.uploads
        uploads[upload.key] = upload
    assert set(uploads) == set(keys)
    for key in keys:
        head = world.s3.head_object(Bucket=world.input_bucket, Key=key)
        upload = uploads[key]
        assert (upload.bucket, upload.version_id, upload.size) == (
            world.input_bucket,
            versions[key],
            head["ContentLength"],
        )
        assert upload.etag == head["ETag"].strip('"')
        assert upload.identity == f"{world.input_bucket}/{key}#v:{versions[key]}"


def test_backfill_pays_only_for_objects_without_a_cutout(operator: Operator) -> None:
    # Given two uploads already cut out, then a third uploaded while notifications were off
    world = operator.world
    world.upload("shop/1.jpg", product_photo(300, 200))
    world.upload("shop/2.jpg", product_photo(310, 200))
    world.drain()
    assert world.emulator.stats()["billed"] == 2
    first_outputs = world.outputs()
    stop_notifications(world)
    world.upload("shop/3.jpg", product_photo(320, 200))

    # When the prefix is backfilled and the queue drained
    result = operator.run("backfill", f"s3://{world.input_bucket}/shop/")
    world.drain()

    # Then all three were enqueued, only the new one was billed, the old outputs were not rewritten
    assert result.exit_code == 0
    assert f"enqueued 3 object(s) under s3://{world.input_bucket}/shop/" in result.stdout
    assert world.emulator.stats()["billed"] == 3
    outputs = world.outputs()
    assert sorted(outputs) == ["shop/1.jpg.png", "shop/2.jpg.png", "shop/3.jpg.png"]
    for key, output in first_outputs.items():
        assert outputs[key]["metadata"]["request-id"] == output["metadata"]["request-id"]
    assert queue_depth(world, world.dlq_url) == 0


def test_a_dry_run_backfill_lists_the_objects_and_sends_nothing(operator: Operator) -> None:
    # Given two objects and no pending notifications
    world = operator.world
    stop_notifications(world)
    drop_pending_notifications(world)
    world.upload("old/a.jpg", product_photo())
    world.upload("old/b.jpg", product_photo())

    # When the backfill is only rehearsed
    result = operator.run("backfill", f"s3://{world.input_bucket}/old/", "--dry-run")

    # Then it names what it would enqueue, and the work queue stays empty
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == ["old/a.jpg", "old/b.jpg"]
    assert "dry run: 2 object(s)" in result.stdout
    assert queue_depth(world, world.work_queue_url) == 0
    assert world.emulator.stats()["calls"] == 0


def test_backfill_refuses_a_bucket_that_is_not_the_stacks_input_bucket(operator: Operator) -> None:
    # Given the stack's output bucket named instead of its input bucket
    world = operator.world

    # When it is backfilled
    result = operator.run("backfill", f"s3://{world.output_bucket}/")

    # Then it is a usage error that names the right bucket
    assert result.exit_code == 2
    assert world.input_bucket in result.stderr
