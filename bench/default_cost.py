"""The default deployment's cost as it runs: billed GB-s per upload, and AWS's bill per million uploads.

Run: ``.venv/bin/python bench/default_cost.py [--quick] [--runs 3] [--sides 1000,2000,3000]
[--memory-mb 1024] [--latency-ms 2000] [--output bench/results-cost.json]`` (``make bench`` runs it).
Prints figures and writes a JSON file; asserts no timing. See docs/cost.md.

``bench/performance.py`` measures the single cut-out mode at 128 MB; the template's default is the
shipped profile (a master and three variants: web-transparent, amazon-main, listing-webp) at
1024 MB. This script runs one upload at a time through that profile, in this process, with the
pipeline's real conductor and steps on in-memory ports (``tests.fakes``), an engine that returns a
transparent master at the input's size (what the API returns), and counts what AWS would bill:

- **Lambda**: the CPU seconds of one upload (``time.process_time``, median of ``--runs`` after one
  warm-up) at Lambda's CPU share for the memory (``memory / 1769 MB`` of a vCPU, as
  ``bench/performance.py`` does), plus the API's wait, overlapped across a batch of 10
  (``--latency-ms`` per batch, divided by 10). Billed GB-s = memory (GB) x that duration.
- **S3**: the HEADs, GETs and PUTs the upload makes (the store is wrapped and counted), and a month
  of storage of the bytes it writes (the master and the variants).
- **DynamoDB**: the idempotency records written and read (the outcome and the paid call, each put
  then updated), in write/read request units of their stored size.
- **SQS**: the S3 notification's send, and the event source's receive and delete (one request per
  batch of 10). **EventBridge**: the announcements published (one custom event each, up to 64 KB).
- **CloudWatch**: the bytes of log lines and EMF metric records the upload prints, ingested and
  stored a month; the platform's START/END/REPORT lines per invocation.

Prices: us-east-1 list prices. Those in ``/work/shared/reference/aws-cost-facts.md`` are marked
``facts``; the others (S3 HEAD and storage, DynamoDB, EventBridge, CloudWatch) are AWS's public
price pages as known when written, marked ``list``: check them before quoting. Aidge is excluded.
This machine's CPU is not Graviton: the Lambda figures are an estimate until measured on AWS.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "cutout")]

from PIL import Image, ImageDraw  # noqa: E402
from tests.fakes import (  # noqa: E402
    FakeEngine,
    FakeLambdaContext,
    InMemoryObjectStore,
    InMemoryPersistenceLayer,
    RecordingDeadLetterQueue,
)

from cutout.checkpoints import IdempotencyStores  # noqa: E402
from cutout.engine.port import CutoutOptions, CutoutReceipt, ImageSource  # noqa: E402
from cutout.events import UploadedObject  # noqa: E402
from cutout.observability import PowertoolsPipelineMetrics, logger, metrics  # noqa: E402
from cutout.pipeline.process_upload import UploadProcessor  # noqa: E402
from cutout.profiles import load_profiles  # noqa: E402
from cutout.redelivery.delivery import Delivery  # noqa: E402
from cutout.settings import Settings  # noqa: E402
from cutout.storage.objects import WriteConflict  # noqa: E402
from cutout.wiring import build_steps  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results-cost.json"
PROFILES = ROOT / "functions" / "process_upload" / "profiles.toml"
INPUT, OUTPUT = "cutout-input", "cutout-output"
FULL_VCPU_MB = 1769  # about one vCPU at 1,769 MB, proportionally less below (as bench/performance.py)
BATCH = 10  # the template's BatchSize default: one invocation, one receive and one delete per 10
MILLION = 1_000_000
DEAD_LETTER_CHECKPOINT_READS = 1
# Bytes CloudWatch ingests per invocation for the platform's START, END and REPORT lines (estimate).
PLATFORM_LOG_BYTES_PER_INVOCATION = 400


@dataclass(frozen=True)
class Price:
    usd: float
    per: str
    source: str  # "facts": /work/shared/reference/aws-cost-facts.md; "list": AWS price page, check it


PRICES = {
    "lambda_gb_s_arm64": Price(0.0000133334, "GB-second", "facts"),
    "lambda_request": Price(0.20 / MILLION, "request", "facts"),
    "sqs_request": Price(0.40 / MILLION, "request (64 KB chunk)", "facts"),
    "s3_put": Price(0.005 / 1000, "PUT, COPY, POST, LIST request", "facts"),
    "s3_get": Price(0.0004 / 1000, "GET request", "facts"),
    "s3_head": Price(0.0004 / 1000, "HEAD request (priced as GET and all other requests)", "list"),
    "s3_storage": Price(0.023, "GB-month, S3 Standard, first 50 TB", "list"),
    "dynamodb_write": Price(0.625 / MILLION, "write request unit, on-demand (1 KB)", "list"),
    "dynamodb_read": Price(0.125 / MILLION, "read request unit, on-demand (4 KB, consistent)", "list"),
    "eventbridge_event": Price(1.00 / MILLION, "custom event published (64 KB chunk)", "list"),
    "logs_ingest": Price(0.50, "GB ingested, CloudWatch Logs standard", "list"),
    "logs_storage": Price(0.03, "GB-month archived", "list"),
}


@dataclass
class Counts:
    s3: Counter[str] = field(default_factory=Counter)
    dynamodb: Counter[str] = field(default_factory=Counter)
    events: int = 0
    event_bytes: int = 0
    log_bytes: int = 0
    written_bytes: int = 0


class MasterEngine(FakeEngine):
    """The API's answer: a transparent master at the input's size (a product in the middle)."""

    def __init__(self, side: int) -> None:
        super().__init__()
        self.side = side
        self.master = _master_png(side)

    def submit(
        self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
    ) -> CutoutReceipt:
        receipt = super().submit(source, options, deadline=deadline)
        return CutoutReceipt(**{**receipt.to_dict(), "width": self.side, "height": self.side})

    def fetch(self, receipt: CutoutReceipt, *, deadline: float | None = None) -> Any:
        from cutout.engine.port import Cutout

        self.fetches += 1
        return Cutout.from_bytes(
            self.master,
            content_type="image/png",
            width=self.side,
            height=self.side,
            score=receipt.score,
            usage=receipt.usage,
            request_id=receipt.request_id,
            engine="fake",
        )


def _master_png(side: int) -> bytes:
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (side * 0.2, side * 0.1, side * 0.75, side * 0.9), radius=side // 20, fill=(180, 40, 40, 255)
    )
    draw.ellipse((side * 0.6, side * 0.3, side * 0.9, side * 0.6), fill=(40, 40, 160, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _photo_jpeg(side: int, seed: int) -> bytes:
    image = Image.new("RGB", (side, side), (235 - seed % 7, 235, 232))
    draw = ImageDraw.Draw(image)
    box = (side * 0.2, side * 0.1, side * 0.75, side * 0.9)
    draw.rounded_rectangle(box, radius=side // 20, fill=(180, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class CountingPersistence(InMemoryPersistenceLayer):
    """The idempotency table, counting DynamoDB request units by the stored record's size."""

    counts: Counter[str]

    def _units(self, data_record: Any, per: int) -> int:
        size = len(json.dumps(getattr(data_record, "response_data", "") or "")) + 200  # key, status, expiry
        return max(1, math.ceil(size / per))

    def _get_record(self, idempotency_key: str) -> Any:
        self.counts["read_units"] += 1
        return super()._get_record(idempotency_key)

    def _put_record(self, data_record: Any) -> None:
        self.counts["write_units"] += self._units(data_record, 1024)
        super()._put_record(data_record)

    def _update_record(self, data_record: Any) -> None:
        self.counts["write_units"] += self._units(data_record, 1024)
        super()._update_record(data_record)


class RecordingPublisher:
    def __init__(self, counts: Counts) -> None:
        self._counts = counts

    def publish(self, announcements: Any) -> None:
        for announcement in announcements:
            self._counts.events += 1
            self._counts.event_bytes += len(json.dumps(announcement, default=str))


def _count_store(store: InMemoryObjectStore, counts: Counts) -> None:
    head, read_range, put = store.head, store.read_range, store.put

    def counted_head(*args: Any, **kwargs: Any) -> Any:
        counts.s3["HEAD"] += 1
        return head(*args, **kwargs)

    def counted_read_range(*args: Any, **kwargs: Any) -> Any:
        counts.s3["GET"] += 1
        return read_range(*args, **kwargs)

    def counted_put(bucket: str, key: str, body: Any, *args: Any, **kwargs: Any) -> Any:
        counts.s3["PUT"] += 1
        data = body.read()
        try:
            put(bucket, key, io.BytesIO(data), *args, **kwargs)
        except WriteConflict:
            counts.s3["PUT refused"] += 1
            raise
        counts.written_bytes += len(data)

    store.head = counted_head  # type: ignore[method-assign]
    store.read_range = counted_read_range  # type: ignore[method-assign]
    store.put = counted_put  # type: ignore[method-assign]


@contextlib.contextmanager
def _counting_output(counts: Counts) -> Iterator[None]:
    """Counts the bytes of log lines and EMF records printed (what CloudWatch Logs would ingest)."""
    sink = io.StringIO()
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    streams = [h.setStream(sink) for h in handlers]
    try:
        with contextlib.redirect_stdout(sink):
            yield
            emf = metrics.serialize_metric_set() if metrics.metric_set else None
            metrics.clear_metrics()
        counts.log_bytes += len(sink.getvalue().encode()) + (len(json.dumps(emf)) + 1 if emf else 0)
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)  # type: ignore[arg-type]


def _processor(side: int, counts: Counts) -> tuple[UploadProcessor, InMemoryObjectStore]:
    store = InMemoryObjectStore()
    _count_store(store, counts)
    table: dict[str, Any] = {}
    outcomes, paid = CountingPersistence(table), CountingPersistence(table)
    outcomes.counts = paid.counts = counts.dynamodb
    settings = Settings.from_env(
        {
            "OUTPUT_BUCKET": OUTPUT,
            "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
            "IDEMPOTENCY_TABLE": "idempotency",
            "AIDGE_SECRET_NAME": "cutout/aidge",
        }
    )
    engine = MasterEngine(side)
    processor = UploadProcessor(
        build_steps(
            settings,
            store=store,
            engine=lambda: engine,
            dead_letter_queue=RecordingDeadLetterQueue(),
            idempotency=IdempotencyStores(outcomes, paid),
            metrics=PowertoolsPipelineMetrics(),
            publisher=RecordingPublisher(counts),  # type: ignore[arg-type]
            profiles=load_profiles(PROFILES),
        )
    )
    processor.register_lambda_context(FakeLambdaContext())
    return processor, store


def measure(side: int, runs: int) -> dict[str, Any]:
    """One warm-up upload, then ``runs`` uploads of new keys, each counted and timed alone."""
    cpu: list[float] = []
    per_upload: list[Counts] = []
    status = ""
    for run in range(runs + 1):
        counts = Counts()
        processor, store = _processor(side, counts)
        key = f"products/item-{run}.jpg"
        stored = store.add(INPUT, key, _photo_jpeg(side, run))
        upload = UploadedObject(
            INPUT, key, version_id=stored.version_id, etag=stored.etag, size=len(stored.data)
        )
        delivery = Delivery(receive_count=1, max_receive_count=5)
        with _counting_output(counts):
            started = time.process_time()
            outcome = processor.process(upload, delivery, deadline=10**9)
            spent = time.process_time() - started
        status = outcome.status.value
        # The deployed wiring's dead-letter checkpoint (DynamoDB GetItem) is read once per upload
        # before anything else; the in-process pipeline here has none, so it is added by hand.
        counts.dynamodb["read_units"] += DEAD_LETTER_CHECKPOINT_READS
        if run:  # the first one pays for imports and first-time set-up: a cold start's, not an upload's
            cpu.append(spent)
            per_upload.append(counts)
    last = per_upload[-1]
    return {
        "side": side,
        "status": status,
        "cpu_s": cpu,
        "cpu_s_median": statistics.median(cpu),
        "s3": dict(last.s3),
        "dynamodb": dict(last.dynamodb),
        "events": last.events,
        "event_bytes": last.event_bytes,
        "log_bytes": statistics.median(c.log_bytes for c in per_upload),
        "written_bytes": last.written_bytes,
    }


def costs(figures: dict[str, Any], memory_mb: int, latency_ms: float) -> dict[str, Any]:
    """Billed GB-s per upload and USD per million uploads, by service."""
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    duration_s = figures["cpu_s_median"] / share + latency_ms / 1000 / BATCH
    gb_s = math.ceil(duration_s * 1000) / 1000 * memory_mb / 1024
    s3 = figures["s3"]
    log_gb = (figures["log_bytes"] + PLATFORM_LOG_BYTES_PER_INVOCATION / BATCH) / 1e9
    per_million = {
        "lambda_duration": gb_s * PRICES["lambda_gb_s_arm64"].usd * MILLION,
        "lambda_requests": PRICES["lambda_request"].usd * MILLION / BATCH,
        "s3_requests": (
            s3.get("HEAD", 0) * PRICES["s3_head"].usd
            + s3.get("GET", 0) * PRICES["s3_get"].usd
            + s3.get("PUT", 0) * PRICES["s3_put"].usd
        )
        * MILLION,
        "s3_storage_per_month": figures["written_bytes"] / 1e9 * PRICES["s3_storage"].usd * MILLION,
        "dynamodb": (
            figures["dynamodb"].get("write_units", 0) * PRICES["dynamodb_write"].usd
            + figures["dynamodb"].get("read_units", 0) * PRICES["dynamodb_read"].usd
        )
        * MILLION,
        "sqs": (1 + 2 / BATCH) * PRICES["sqs_request"].usd * MILLION,  # send; receive + delete per batch
        "eventbridge": figures["events"] * PRICES["eventbridge_event"].usd * MILLION,
        "cloudwatch_logs": log_gb * (PRICES["logs_ingest"].usd + PRICES["logs_storage"].usd) * MILLION,
    }
    per_million["total"] = sum(per_million.values())
    return {
        "memory_mb": memory_mb,
        "cpu_share": share,
        "latency_ms_per_batch": latency_ms,
        "billed_duration_s": duration_s,
        "gb_s_per_upload": gb_s,
        "usd_per_million": per_million,
    }


def print_figures(results: dict[str, Any]) -> None:
    print(f"cutout, default profile ({results['variants']}), {results['memory_mb']} MB arm64, batch {BATCH}")
    print(
        f"CPU share at {results['memory_mb']} MB: {results['memory_mb'] / FULL_VCPU_MB:.2f} vCPU; "
        f"API wait {results['latency_ms']:.0f} ms a batch, overlapped"
    )
    for row in results["sizes"]:
        f, c = row["figures"], row["cost"]
        s3 = f["s3"]
        print(f"\n{row['side']}x{row['side']} input ({f['status']}):")
        print(f"  CPU s per upload (median of {len(f['cpu_s'])}): {f['cpu_s_median']:.3f}")
        print(
            f"  billed duration {c['billed_duration_s']:.3f} s, "
            f"billed GB-s per upload {c['gb_s_per_upload']:.4f}"
        )
        print(
            f"  S3 per upload: {s3.get('HEAD', 0)} HEAD, {s3.get('GET', 0)} GET, {s3.get('PUT', 0)} PUT "
            f"({s3.get('PUT refused', 0)} refused); {f['written_bytes'] / 1e6:.2f} MB written"
        )
        print(
            f"  DynamoDB: {f['dynamodb'].get('write_units', 0)} WRU, "
            f"{f['dynamodb'].get('read_units', 0)} RRU; "
            f"EventBridge: {f['events']} event(s); logs + EMF: {f['log_bytes']:,.0f} bytes"
        )
        print("  USD per million uploads:")
        for name, usd in c["usd_per_million"].items():
            print(f"    {name:22s} {usd:10.2f}")
    print("\nPrices (us-east-1; facts = /work/shared/reference/aws-cost-facts.md, list = AWS page, check):")
    for name, price in PRICES.items():
        print(f"  {name:20s} ${price.usd:.10g} per {price.per} [{price.source}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one size (1000), one run: a smoke run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sides", default="1000,2000,3000", help="input sides in pixels, comma-separated")
    parser.add_argument("--memory-mb", type=int, default=1024, help="the template's FunctionMemorySize")
    parser.add_argument("--latency-ms", type=float, default=2000.0, help="the API's wait per batch of 10")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH)
    args = parser.parse_args()
    sides = [1000] if args.quick else [int(side) for side in args.sides.split(",")]
    runs = 1 if args.quick else args.runs
    logger.setLevel("INFO")  # the deployed level: the log bytes counted are what CloudWatch ingests
    profile = load_profiles(PROFILES).choose("products/item.jpg", {})
    results: dict[str, Any] = {
        "variants": ", ".join(spec.name for spec in profile.variants),
        "memory_mb": args.memory_mb,
        "latency_ms": args.latency_ms,
        "prices": {name: vars(price) for name, price in PRICES.items()},
        "sizes": [],
    }
    for side in sides:
        figures = measure(side, runs)
        results["sizes"].append(
            {"side": side, "figures": figures, "cost": costs(figures, args.memory_mb, args.latency_ms)}
        )
    print_figures(results)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten: {args.output}")


if __name__ == "__main__":
    main()
