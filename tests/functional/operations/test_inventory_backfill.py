"""`cutout backfill --inventory MANIFEST` against moto on loopback, the emulator and the handler.

The reports are written in S3 Inventory's own format (manifest.json + gzip CSV data files in a
destination bucket; cutout_tools.operations.inventory_report) from the bucket's real versions.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from cutout.events import uploads_from_sqs_body
from cutout_tools.operations.inventory import ReportLocation, backfill_inventory
from cutout_tools.operations.inventory_report import ReportObject, put_report
from tests.functional.aidge_testkit import product_photo
from tests.functional.operations.conftest import Operator
from tests.functional.operations.helpers import drop_pending_notifications, queue_depth, stop_notifications
from tests.functional.pipeline.world import World

DESTINATION = "inventory-reports"


def _report_of_bucket(world: World) -> str:
    """A report of every version and delete marker in the input bucket, as S3 would write it."""
    world.s3.create_bucket(Bucket=DESTINATION)
    listing = world.s3.list_object_versions(Bucket=world.input_bucket)
    items = [
        ReportObject(
            key=version["Key"],
            size=version["Size"],
            etag=version["ETag"].strip('"'),
            last_modified=version["LastModified"],
            version_id=version["VersionId"],
            is_latest=version["IsLatest"],
        )
        for version in listing.get("Versions", [])
    ] + [
        ReportObject(
            key=marker["Key"],
            size=0,
            etag="",
            last_modified=marker["LastModified"],
            version_id=marker["VersionId"],
            is_latest=marker["IsLatest"],
            is_delete_marker=True,
        )
        for marker in listing.get("DeleteMarkers", [])
    ]
    return put_report(
        world.s3,
        source_bucket=world.input_bucket,
        destination_bucket=DESTINATION,
        items=items,
        rows_per_file=3,
    )


def _queued(world: World) -> list[tuple[str, str | None]]:
    found: dict[str, tuple[str, str | None]] = {}
    while True:
        messages = world.receive()
        if not messages:
            return sorted(found.values())
        for message in messages:
            for upload in uploads_from_sqs_body(message["Body"]).uploads:
                found[message["MessageId"]] = (upload.key, upload.version_id)
            world.sqs.delete_message(QueueUrl=world.work_queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_an_inventory_backfill_enqueues_the_current_objects_under_the_prefix(
    operator: Operator, tmp_path: Path
) -> None:
    # Given a bucket with current objects, an overwritten one, a deleted one, a folder and one elsewhere
    world = operator.world
    stop_notifications(world)
    drop_pending_notifications(world)
    current = {
        key: world.upload(key, product_photo(200 + n, 200))
        for n, key in enumerate(["shop/a b+c ü.jpg", "shop/2.png"])
    }
    world.upload("shop/re.jpg", product_photo(220, 200))
    current["shop/re.jpg"] = world.upload("shop/re.jpg", product_photo(230, 200))
    world.upload("shop/gone.jpg", product_photo(240, 200))
    world.s3.delete_object(Bucket=world.input_bucket, Key="shop/gone.jpg")
    world.s3.put_object(Bucket=world.input_bucket, Key="shop/folder/", Body=b"")
    world.upload("elsewhere/x.jpg", product_photo())
    manifest = _report_of_bucket(world)

    # When the report is backfilled for the prefix
    result = operator.run(
        "backfill", "--inventory", manifest, f"s3://{world.input_bucket}/shop/", "--rate", "0",
        "--checkpoint", str(tmp_path / "checkpoint.json"),
    )  # fmt: skip

    # Then exactly the current objects under the prefix were queued, each with its version, and said so
    assert result.exit_code == 0, result.stderr
    assert _queued(world) == sorted(current.items())
    assert "enqueued 3;" in result.stdout
    assert "3 not current (old versions, delete markers)" in result.stdout  # re.jpg's, gone.jpg's, its marker
    assert "1 folder placeholder(s), 1 outside the prefix" in result.stdout
    assert "SendMessageBatch request(s)" in result.stdout
    assert not (tmp_path / "checkpoint.json").exists()  # done: nothing to resume


def test_an_inventory_backfill_skips_objects_with_a_newer_cutout_and_pays_only_for_the_rest(
    operator: Operator, tmp_path: Path
) -> None:
    # Given two uploads already cut out, then a third uploaded while notifications were off
    world = operator.world
    world.upload("shop/1.jpg", product_photo(300, 200))
    world.upload("shop/2.jpg", product_photo(310, 200))
    world.drain()
    stop_notifications(world)
    world.upload("shop/3.jpg", product_photo(320, 200))
    manifest = _report_of_bucket(world)

    # When the report is backfilled and the queue drained
    result = operator.run("backfill", "--inventory", manifest, "--checkpoint", str(tmp_path / "c.json"))
    world.drain()

    # Then only the new object was enqueued and billed; the others cost no message and no call
    assert result.exit_code == 0, result.stderr
    assert "enqueued 1;" in result.stdout
    assert "skipped: 2 with a newer cut-out" in result.stdout
    assert world.emulator.stats()["billed"] == 3
    assert sorted(world.outputs()) == ["shop/1.jpg.png", "shop/2.jpg.png", "shop/3.jpg.png"]
    assert queue_depth(world, world.dlq_url) == 0


def test_an_inventory_backfill_skips_objects_with_a_newer_master_when_deliverables_are_on(
    deliverables_operator: Operator, tmp_path: Path
) -> None:
    # Given a stack with the shipped profiles: two uploads already delivered (a master and three
    # variants each), then a third uploaded while notifications were off
    operator = deliverables_operator
    world = operator.world
    world.upload("shop/1.jpg", product_photo(300, 200))
    world.upload("shop/2.jpg", product_photo(310, 200))
    world.drain()
    stop_notifications(world)
    world.upload("shop/3.jpg", product_photo(320, 200))
    manifest = _report_of_bucket(world)

    # When the report is backfilled and the queue drained
    result = operator.run("backfill", "--inventory", manifest, "--checkpoint", str(tmp_path / "c.json"))
    world.drain()

    # Then only the new object was enqueued and billed (the masters said the others were done), and
    # every upload has its master and variants: billed calls = object versions
    assert result.exit_code == 0, result.stderr
    assert "enqueued 1;" in result.stdout
    assert "skipped: 2 with a newer cut-out" in result.stdout
    assert world.emulator.stats()["billed"] == 3
    outputs = sorted(world.outputs())
    assert [key for key in outputs if key.startswith("masters/")] == [
        "masters/shop/1.jpg.png",
        "masters/shop/2.jpg.png",
        "masters/shop/3.jpg.png",
    ]
    assert len(outputs) == 3 * 4
    assert queue_depth(world, world.dlq_url) == 0


class _StopAfter:
    """A progress display that asks the backfill to stop after ``rows`` rows were acknowledged."""

    def __init__(self, stop: threading.Event, rows: int) -> None:
        self.stop, self.rows, self.seen = stop, rows, 0

    def advance(self, n: int = 1) -> None:
        self.seen += n
        if self.seen >= self.rows:
            self.stop.set()

    def note(self, text: str) -> None:
        pass


def test_an_interrupted_inventory_backfill_resumes_from_its_checkpoint(world: World, tmp_path: Path) -> None:
    # Given a report of 95 objects in several data files (the objects need not exist to be enqueued)
    drop_pending_notifications(world)
    world.s3.create_bucket(Bucket=DESTINATION)
    written = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    items = [
        ReportObject(key=f"shop/{n:03}.jpg", size=10, etag=f"{n:032x}", last_modified=written)
        for n in range(95)
    ]
    manifest = put_report(
        world.s3,
        source_bucket=world.input_bucket,
        destination_bucket=DESTINATION,
        items=items,
        rows_per_file=40,
    )
    checkpoint = tmp_path / "checkpoint.json"

    def run(stop_after: int | None) -> tuple[bool, int]:
        stop = threading.Event()
        summary = backfill_inventory(
            world.s3, world.sqs, ReportLocation(manifest), world.work_queue_url,
            input_bucket=world.input_bucket, rate=None, senders=2, checkpoint_path=checkpoint,
            bar=_StopAfter(stop, stop_after or 10**9), stop=stop,
        )  # fmt: skip
        return summary.interrupted, summary.enqueued

    # When it is interrupted after about 30 rows, then run again with the same checkpoint
    interrupted, enqueued_first = run(stop_after=30)
    saved = json.loads(checkpoint.read_text())
    interrupted_again, enqueued_total = run(stop_after=None)

    # Then the first run stopped part-way with a checkpoint of what SQS acknowledged, the second
    # finished, every object was queued, and only batches in flight at the interruption went twice
    assert interrupted
    assert not interrupted_again
    progress = 40 * len(saved["files_done"]) + saved["rows_done"]
    assert 30 <= progress < 95
    assert 30 <= enqueued_first < 95
    assert not checkpoint.exists()
    keys = [key for key, _ in _queued(world)]
    assert set(keys) == {item.key for item in items}
    assert len(keys) - len(set(keys)) <= enqueued_first - progress
    assert enqueued_total == len(keys)


def test_the_rate_bound_spaces_the_batches(world: World) -> None:
    # Given a report of 200 objects and a bound of 50 messages a second
    drop_pending_notifications(world)
    world.s3.create_bucket(Bucket=DESTINATION)
    written = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    items = [
        ReportObject(key=f"r/{n}.jpg", size=10, etag=f"{n:032x}", last_modified=written) for n in range(200)
    ]
    manifest = put_report(
        world.s3, source_bucket=world.input_bucket, destination_bucket=DESTINATION, items=items
    )
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    # When it is backfilled on a clock that only moves when the backfill sleeps
    summary = backfill_inventory(
        world.s3, world.sqs, ReportLocation(manifest), world.work_queue_url,
        input_bucket=world.input_bucket, rate=50, clock=lambda: now[0], sleep=sleep,
    )  # fmt: skip

    # Then the 20 batches took 190 rows' worth of waiting at 50/s: 3.8 s
    assert summary.enqueued == 200
    assert summary.send_requests == 20
    assert abs(sum(slept) - 3.8) < 1e-6


def test_a_report_in_another_format_or_of_another_bucket_is_refused(operator: Operator) -> None:
    # Given a Parquet report, and a CSV report of another bucket
    world = operator.world
    world.s3.create_bucket(Bucket=DESTINATION)
    parquet = {
        "sourceBucket": world.input_bucket,
        "destinationBucket": f"arn:aws:s3:::{DESTINATION}",
        "fileFormat": "Parquet",
        "fileSchema": "message s3.inventory { required binary bucket; }",
        "files": [{"key": "x.parquet", "size": 1, "MD5checksum": "0"}],
    }
    world.s3.put_object(Bucket=DESTINATION, Key="p/manifest.json", Body=json.dumps(parquet).encode())
    other = put_report(
        world.s3, source_bucket="someone-elses-bucket", destination_bucket=DESTINATION,
        items=[ReportObject(key="a.jpg", size=1, etag="e", last_modified=datetime.now(UTC))],
    )  # fmt: skip

    # When each is backfilled
    results = [
        operator.run("backfill", "--inventory", f"s3://{DESTINATION}/p/manifest.json"),
        operator.run("backfill", "--inventory", other),
    ]

    # Then each is a usage error that says why, and nothing was queued
    assert [result.exit_code for result in results] == [2, 2]
    assert "only CSV inventory reports" in results[0].stderr
    assert "someone-elses-bucket" in results[1].stderr
    assert queue_depth(world, world.work_queue_url) <= 1  # at most S3's test event
