"""How long `cutout backfill --inventory` takes for 1,000,000 rows, against moto, and its SQS cost on AWS.

    .venv/bin/python bench/inventory_backfill.py                  # 1,000,000 rows + 2,000 into moto's SQS
    .venv/bin/python bench/inventory_backfill.py --rows 100000    # quicker

moto runs as its own process (a threaded moto server, as AWS is another machine); the report is
written in S3 Inventory's own format (manifest.json + gzip CSV files of 250,000 rows) into a
destination bucket in moto's S3, and the backfill is the one the command runs, with no rate bound
(the figure is what the tool sustains; the command's default bound is 200 messages/s).

Two runs, because moto's SQS is not built for this: a SendMessageBatch took about 0.2 s on the
2-core machine the figures were taken on (even on an empty queue), and its SendMessage scans every
message already in the queue (visibility and delay of each, for each message sent: cProfile), so
filling one moto queue with a million messages takes many hours and measures moto, not the tool or SQS.

1. all ``--rows`` rows, the report read from moto's S3, SendMessageBatch acknowledged in-process
   (counted): the tool's own time and memory for a million rows;
2. ``--moto-rows`` rows sent all the way into moto's SQS queue: the end-to-end rate on loopback.

Printed: rows/s and seconds for each, the SendMessageBatch requests, and the SQS request cost on
AWS at the list price (../shared/reference/aws-cost-facts.md): sending, plus what the function's
event source then spends receiving and deleting the same messages.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "cutout"))
sys.path.insert(0, str(ROOT / "tools"))

from cutout_tools.operations.inventory import (  # noqa: E402
    SQS_PRICE_PER_MILLION_REQUESTS,
    ReportLocation,
    backfill_inventory,
)
from cutout_tools.operations.inventory_report import ReportObject, put_report  # noqa: E402

REGION = "us-east-1"
INPUT, OUTPUT, DESTINATION = "bench-shop-photos", "bench-cutouts", "bench-inventory"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _objects(rows: int) -> Iterator[ReportObject]:
    written = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    for number in range(rows):
        yield ReportObject(
            key=f"catalogue/{number // 10000:03}/product {number:07}.jpg",
            size=180_000 + number % 50_000,
            etag=f"{number:032x}",
            last_modified=written + timedelta(seconds=number % 86_400),
            version_id=f"v{number:012}.3HL4kqtJlcpXroDTDmJ",
        )


class _CountingSqs:
    """Stands in for SQS in the 1,000,000-row run: acknowledges every entry, counts the requests."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()

    def send_message_batch(
        self,
        *,
        QueueUrl: str,  # noqa: N803 - boto3's parameter names
        Entries: list[dict[str, str]],  # noqa: N803
    ) -> dict[str, object]:
        with self._lock:
            self.requests += 1
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries], "Failed": []}


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    # A threaded server (moto_server's is not: with keep-alive connections its one thread would
    # serve one client at a time), in a process of its own.
    serve = (
        "import threading; from moto.server import ThreadedMotoServer; "
        f"ThreadedMotoServer(ip_address='127.0.0.1', port={port}, verbose=False).start(); "
        "threading.Event().wait()"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", serve], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{endpoint}/moto-api/", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, endpoint


def _cost_line(requests: int, enqueued: int) -> str:
    send = requests * SQS_PRICE_PER_MILLION_REQUESTS / 1_000_000
    # The event source receives up to 10 per ReceiveMessage and deletes them with one
    # DeleteMessageBatch: at least as many requests again each (more when batches are partial).
    total = 3 * send
    per_million = total * 1_000_000 / max(enqueued, 1)
    return (
        f"SQS on AWS at ${SQS_PRICE_PER_MILLION_REQUESTS:.2f}/million requests: {requests} SendMessageBatch "
        f"= ${send:.4f}; with the event source's receives and deletes ${total:.4f} "
        f"(${per_million:.2f} per million objects, ${per_million * 10:.2f} for ten million)"
    )


def main() -> int:
    if os.environ.get("BENCH_DEBUG"):
        faulthandler.dump_traceback_later(60, exit=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="rows of the report (default: %(default)s)"
    )
    parser.add_argument(
        "--moto-rows",
        type=int,
        default=2_000,
        help="rows also sent all the way into moto's SQS (default: %(default)s; the docstring says why)",
    )
    parser.add_argument("--senders", type=int, default=4, help="concurrent SendMessageBatch calls")
    arguments = parser.parse_args()

    server, endpoint = _start_moto()
    try:
        session = boto3.session.Session(
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 - moto takes any credentials
            region_name=REGION,
        )
        s3 = session.client("s3", endpoint_url=endpoint)
        sqs = session.client("sqs", endpoint_url=endpoint)
        for bucket in (INPUT, OUTPUT, DESTINATION):
            s3.create_bucket(Bucket=bucket)
        queue_url = sqs.create_queue(QueueName="bench-work-queue")["QueueUrl"]
        checkpoints = Path(tempfile.mkdtemp(prefix="bench-backfill-"))

        started = time.monotonic()
        manifest = put_report(
            s3, source_bucket=INPUT, destination_bucket=DESTINATION, items=_objects(arguments.rows)
        )
        print(
            f"report: {arguments.rows} rows, S3 Inventory CSV.gz in moto's S3, "
            f"written in {time.monotonic() - started:.1f} s"
        )

        counting = _CountingSqs()
        summary = backfill_inventory(
            s3,
            counting,  # type: ignore[arg-type]
            ReportLocation(manifest),
            queue_url,
            input_bucket=INPUT,
            output_bucket=OUTPUT,  # empty: one ListObjectsV2, nothing skipped
            rate=None,
            senders=arguments.senders,
            checkpoint_path=checkpoints / "all.json",
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"tool, {summary.rows} rows (report read from moto's S3, SQS acknowledged in-process): "
            f"{summary.enqueued} enqueued in {summary.seconds:.1f} s "
            f"({summary.enqueued / summary.seconds:.0f} rows/s), "
            f"{summary.send_requests} SendMessageBatch requests, peak RSS {peak:.0f} MiB"
        )
        print(_cost_line(summary.send_requests, summary.enqueued))

        small = put_report(
            s3,
            source_bucket=INPUT,
            destination_bucket=DESTINATION,
            items=_objects(arguments.moto_rows),
            prefix="small",
        )
        into_moto = backfill_inventory(
            s3,
            sqs,
            ReportLocation(small),
            queue_url,
            input_bucket=INPUT,
            rate=None,
            senders=arguments.senders,
            checkpoint_path=checkpoints / "moto.json",
        )
        depth = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        print(
            f"into moto's SQS, {into_moto.rows} rows: {into_moto.enqueued} enqueued "
            f"in {into_moto.seconds:.1f} s "
            f"({into_moto.enqueued / into_moto.seconds:.0f} rows/s), {into_moto.failed} failed, "
            f"{depth['Attributes']['ApproximateNumberOfMessages']} on the queue; {arguments.senders} senders"
        )
        sqs.purge_queue(QueueUrl=queue_url)
        probe = [{"Id": str(n), "MessageBody": "x" * 700} for n in range(10)]
        timings = []
        for _ in range(20):
            begun = time.perf_counter()
            sqs.send_message_batch(QueueUrl=queue_url, Entries=probe)
            timings.append(time.perf_counter() - begun)
        print(
            f"moto's SendMessageBatch on an empty queue: {1000 * sorted(timings)[10]:.0f} ms (median of 20); "
            "it grows with the queue's depth (moto scans every message for each one sent)"
        )
        ok = summary.failed == 0 and summary.enqueued == summary.rows and into_moto.enqueued == into_moto.rows
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
