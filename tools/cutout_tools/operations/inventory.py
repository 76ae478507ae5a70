"""Backfilling from an S3 Inventory report: millions of existing objects without listing the bucket.

An inventory report is a ``manifest.json`` in the inventory's destination bucket naming its data
files (``files[].key``) and their columns (``fileSchema``, e.g. ``"Bucket, Key, VersionId,
IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag"``). Only the CSV format is read (ORC and
Parquet need other readers); data files are gzip-compressed CSV without a header, keys URL-encoded.

Each current object (``IsLatest`` true, not a delete marker, not a folder placeholder, under the
prefix) becomes the same S3 notification ``cutout backfill`` sends for a listed object, so the
function resolves one identity for it whichever way it came (``cutout.events.identity``). The
backfill:

- skips objects whose cut-out exists and is newer than the object (one listing of the output
  bucket, ``ListObjectsV2``: 1 request per 1,000 outputs, no per-object call);
- sends ``SendMessageBatch`` of 10 from a few threads, at most ``rate`` messages a second, so the
  queue never holds more than the pipeline drains before the queue's retention drops messages;
- keeps a checkpoint (file, rows done) it rewrites as batches are acknowledged; after an
  interruption the same command resumes there. Rows in flight at the interruption may be sent twice:
  the function's identity makes the second one a duplicate (no call, no second outcome).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from cutout.events.uploaded_object import normalise_etag, normalise_version_id
from cutout.failures import FailureReason
from cutout.storage.output import legacy_output_key_for
from cutout.variants.keys import MASTERS_PREFIX, master_key
from cutout_tools.operations.backfill import ExistingObject, s3_notification_for
from cutout_tools.operations.dead_letters import SQS_BATCH
from cutout_tools.progress import Progress

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

REQUIRED_FIELDS = ("Bucket", "Key")
CHECKPOINT_SCHEMA = "cutout.backfill-checkpoint/1"
DEFAULT_RATE = 200.0  # messages a second
DEFAULT_SENDERS = 4
_SEND_ATTEMPTS = 4
_CHECKPOINT_EVERY_SECONDS = 2.0
# SQS standard queue, list price (../shared/reference/aws-cost-facts.md): a batch of up to 10 is one request.
SQS_PRICE_PER_MILLION_REQUESTS = 0.40


class InventoryError(ValueError):
    """The manifest or a data file is not an S3 Inventory report we can read; the message says why."""


# -- the report ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InventoryFile:
    key: str
    size: int | None
    md5: str | None


@dataclass(frozen=True, slots=True)
class InventoryManifest:
    """``manifest.json``: which bucket it lists, the columns, and the data files."""

    source_bucket: str
    destination_bucket: str
    creation_timestamp: str
    file_format: str
    fields: tuple[str, ...]
    files: tuple[InventoryFile, ...]

    @classmethod
    def parse(cls, document: Mapping[str, Any], where: str = "manifest.json") -> InventoryManifest:
        """Validate a manifest; ``InventoryError`` naming ``where`` and the field otherwise."""

        def text(name: str) -> str:
            value = document.get(name)
            if not isinstance(value, str) or not value:
                raise InventoryError(f"{where}: field {name!r} is missing or not a string")
            return value

        file_format = text("fileFormat")
        if file_format.upper() != "CSV":
            raise InventoryError(
                f"{where}: fileFormat is {file_format!r}; only CSV inventory reports are read "
                "(configure the inventory with format CSV)"
            )
        fields = tuple(part.strip() for part in text("fileSchema").split(","))
        missing = [name for name in REQUIRED_FIELDS if name not in fields]
        if missing:
            raise InventoryError(f"{where}: fileSchema lacks {missing}")
        files = document.get("files")
        if not isinstance(files, list) or not files:
            raise InventoryError(f"{where}: field 'files' is missing or empty")
        parsed_files = []
        for index, entry in enumerate(files):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
                raise InventoryError(f"{where}: files[{index}].key is missing")
            size = entry.get("size")
            parsed_files.append(
                InventoryFile(
                    key=entry["key"],
                    size=int(size) if isinstance(size, int | str) and str(size).isdigit() else None,
                    md5=entry.get("MD5checksum") if isinstance(entry.get("MD5checksum"), str) else None,
                )
            )
        destination = text("destinationBucket")
        return cls(
            source_bucket=text("sourceBucket"),
            destination_bucket=destination.rsplit(":", 1)[-1],  # an ARN: arn:aws:s3:::bucket
            creation_timestamp=str(document.get("creationTimestamp", "")),
            file_format=file_format,
            fields=fields,
            files=tuple(parsed_files),
        )


@dataclass(frozen=True, slots=True)
class InventoryRow:
    """One object (version) of the report, key decoded."""

    bucket: str
    key: str
    version_id: str | None
    is_latest: bool
    is_delete_marker: bool
    size: int
    last_modified: datetime | None
    etag: str | None


def _boolean(value: str | None, default: bool) -> bool:
    return default if value in (None, "") else str(value).strip().lower() == "true"


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_rows(lines: Iterable[str], fields: tuple[str, ...], where: str) -> Iterator[InventoryRow]:
    """The rows of one CSV data file (no header; columns in ``fileSchema`` order)."""
    column = {name: index for index, name in enumerate(fields)}

    def get(row: list[str], name: str) -> str | None:
        index = column.get(name)
        return row[index] if index is not None and index < len(row) else None

    for number, row in enumerate(csv.reader(lines), start=1):
        if not row:
            continue
        if len(row) < len(REQUIRED_FIELDS):
            raise InventoryError(
                f"{where}: row {number} has {len(row)} columns, fileSchema names {len(fields)}"
            )
        size = get(row, "Size")
        yield InventoryRow(
            bucket=get(row, "Bucket") or "",
            key=unquote_plus(get(row, "Key") or ""),  # CSV inventory keys are URL-encoded
            version_id=normalise_version_id(get(row, "VersionId")),
            is_latest=_boolean(get(row, "IsLatest"), default=True),
            is_delete_marker=_boolean(get(row, "IsDeleteMarker"), default=False),
            size=int(size) if size and size.isdigit() else 0,
            last_modified=_timestamp(get(row, "LastModifiedDate")),
            etag=normalise_etag(get(row, "ETag")),
        )


# -- where the report is: S3 or a local folder -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportLocation:
    """``s3://bucket/path/manifest.json`` or a local path to ``manifest.json``."""

    text: str

    @property
    def is_s3(self) -> bool:
        return self.text.startswith("s3://")

    def _s3_parts(self) -> tuple[str, str]:
        bucket, _, key = self.text.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise InventoryError(f"expected s3://BUCKET/KEY/manifest.json, got {self.text!r}")
        return bucket, key

    def read_manifest(self, s3: S3Client) -> InventoryManifest:
        if self.is_s3:
            bucket, key = self._s3_parts()
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        else:
            try:
                body = Path(self.text).read_bytes()
            except OSError as error:
                raise InventoryError(f"cannot read {self.text}: {error.strerror}") from None
        try:
            document = json.loads(body)
        except ValueError:
            raise InventoryError(f"{self.text} is not JSON") from None
        if not isinstance(document, dict):
            raise InventoryError(f"{self.text} is not a JSON object")
        return InventoryManifest.parse(document, self.text)

    def open_file(self, s3: S3Client, manifest: InventoryManifest, entry: InventoryFile) -> IO[str]:
        """A text stream of one data file (decompressed if it is ``.gz``), read as it downloads."""
        raw: IO[bytes]
        if self.is_s3:
            raw = s3.get_object(Bucket=manifest.destination_bucket, Key=entry.key)["Body"]  # type: ignore[assignment]
        else:
            folder = Path(self.text).parent
            candidates = [folder / entry.key, folder / Path(entry.key).name]
            path = next((candidate for candidate in candidates if candidate.exists()), None)
            if path is None:
                raise InventoryError(
                    f"data file {entry.key} is in neither {candidates[0]} nor {candidates[1]}"
                )
            raw = path.open("rb")
        if entry.key.endswith(".gz"):
            return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", newline="")
        return io.TextIOWrapper(raw, encoding="utf-8", newline="")


# -- outputs that exist ------------------------------------------------------------------------------


def existing_outputs(s3: S3Client, output_bucket: str, prefix: str) -> dict[str, float]:
    """Output key without its extension -> the newest output's LastModified (epoch seconds).

    Both layouts are indexed: the single cut-out mode's outputs by their key without its last
    extension (``shop/1.jpg.png`` → ``shop/1.jpg``, the source key; one made before 0.3.0,
    ``shop/1.png`` → ``shop/1``) and the deliverables' masters (``masters/shop/1.jpg.png``, by
    their whole key: a master is written once the paid call succeeded, so its time says the
    source was processed).
    About 150 MB per million outputs; ``skip_existing=False`` avoids it (the function still skips a
    byte-identical object whose cut-out exists before any paid call, at the cost of its invocation).
    """
    index: dict[str, float] = {}
    for listed_prefix, key_of in ((prefix, _stem), (MASTERS_PREFIX + prefix, str)):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=output_bucket, Prefix=listed_prefix):
            for item in page.get("Contents", []):
                indexed = key_of(item["Key"])
                modified = item["LastModified"].timestamp()
                if modified > index.get(indexed, 0.0):
                    index[indexed] = modified
    return index


def _stem(key: str) -> str:
    """A key without its last extension: a single-mode output's source key (``legacy_output_key_for``
    of the source key for an output made before 0.3.0)."""
    return legacy_output_key_for(key, "")


# -- checkpoint --------------------------------------------------------------------------------------


@dataclass
class Checkpoint:
    """How far a backfill got: the files done, and the rows done in the current file."""

    manifest: str
    creation_timestamp: str
    files_done: list[str] = field(default_factory=list)
    current_file: str | None = None
    rows_done: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, manifest: str, creation_timestamp: str) -> Checkpoint:
        """The checkpoint at ``path`` for this report, or a fresh one; refuses another report's."""
        if not path.exists():
            return cls(manifest=manifest, creation_timestamp=creation_timestamp)
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("schema") != CHECKPOINT_SCHEMA:
            raise InventoryError(f"{path} is not a backfill checkpoint")
        if (document.get("manifest"), document.get("creation_timestamp")) != (manifest, creation_timestamp):
            raise InventoryError(
                f"{path} is the checkpoint of another report ({document.get('manifest')}, created "
                f"{document.get('creation_timestamp')}); give another --checkpoint or delete it"
            )
        document.pop("schema")
        return cls(**document)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(
            json.dumps({"schema": CHECKPOINT_SCHEMA, **asdict(self)}, indent=1), encoding="utf-8"
        )
        os.replace(temporary, path)


# -- the backfill ------------------------------------------------------------------------------------


@dataclass
class InventorySummary:
    """What an inventory backfill did (counts include what a resumed run did before)."""

    rows: int = 0
    enqueued: int = 0
    skipped_existing_output: int = 0
    skipped_not_current: int = 0
    skipped_placeholders: int = 0
    skipped_outside: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    send_requests: int = 0
    resumed: bool = False
    interrupted: bool = False
    completed: bool = False

    COUNTS = (
        "rows",
        "enqueued",
        "skipped_existing_output",
        "skipped_not_current",
        "skipped_placeholders",
        "skipped_outside",
        "failed",
        "send_requests",
    )

    def counts(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in self.COUNTS}

    def add_counts(self, counts: Mapping[str, int]) -> None:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + int(counts.get(name, 0)))


@dataclass(frozen=True, slots=True)
class _Batch:
    file_key: str
    end_row: int  # rows of the file done once this batch is acknowledged
    rows: tuple[InventoryRow, ...]


class _RateLimit:
    """At most ``rate`` messages a second on average (``None``: as fast as SQS takes them)."""

    def __init__(
        self, rate: float | None, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self._rate = rate
        self._clock = clock
        self._sleep = sleep
        self._started = clock()
        self._sent = 0

    def wait(self, messages: int) -> None:
        if self._rate:
            delay = self._started + self._sent / self._rate - self._clock()
            if delay > 0:
                self._sleep(delay)
        self._sent += messages


def backfill_inventory(
    s3: S3Client,
    sqs: SQSClient,
    report: ReportLocation,
    work_queue_url: str,
    *,
    input_bucket: str,
    prefix: str = "",
    output_bucket: str | None = None,
    rate: float | None = DEFAULT_RATE,
    senders: int = DEFAULT_SENDERS,
    checkpoint_path: Path | None = None,
    bar: Progress | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> InventorySummary:
    """Enqueue the report's current objects under ``prefix`` (see the module docstring).

    ``output_bucket`` given: objects with a newer cut-out are skipped. ``stop`` set (e.g. on
    SIGINT): no new batch is sent, those in flight finish, the checkpoint is saved.
    """
    started = clock()
    manifest = report.read_manifest(s3)
    if manifest.source_bucket != input_bucket:
        raise InventoryError(
            f"the report lists {manifest.source_bucket!r}, not the stack's input bucket {input_bucket!r}"
        )
    checkpoint = (
        Checkpoint.load(checkpoint_path, report.text, manifest.creation_timestamp)
        if checkpoint_path is not None
        else Checkpoint(manifest=report.text, creation_timestamp=manifest.creation_timestamp)
    )
    note = bar.note if bar is not None else (lambda text: None)
    outputs = existing_outputs(s3, output_bucket, prefix) if output_bucket else {}
    if output_bucket:
        note(f"{len(outputs)} existing cut-out(s) under s3://{output_bucket}/{prefix}")
    run = _InventoryRun(
        sqs=sqs,
        work_queue_url=work_queue_url,
        input_bucket=input_bucket,
        region=s3.meta.region_name,
        prefix=prefix,
        outputs=outputs,
        checkpoint=checkpoint,
        checkpoint_path=checkpoint_path,
        bar=bar,
        limit=_RateLimit(rate, clock, sleep),
        clock=clock,
        sleep=sleep,
    )
    if run.summary.resumed:
        note(
            f"resuming: {len(checkpoint.files_done)} of {len(manifest.files)} file(s) done, "
            f"{checkpoint.rows_done} row(s) of the next"
        )
    with ThreadPoolExecutor(max_workers=max(1, senders), thread_name_prefix="backfill") as pool:
        window = 4 * max(1, senders)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C without a stop event: save and say so
            run.summary.completed = run.all_files(
                report=report, s3=s3, manifest=manifest, pool=pool, window=window, stop=stop
            )
        run.summary.interrupted = not run.summary.completed
        run.settle(block=True)
    if run.summary.completed and checkpoint_path is not None and checkpoint_path.exists():
        checkpoint_path.unlink()  # done: a later run starts over (the function skips what is done)
    run.summary.seconds = clock() - started
    return run.summary


class _InventoryRun:
    """The state of one backfill: what is in flight, the checkpoint, the counts."""

    def __init__(
        self,
        *,
        sqs: SQSClient,
        work_queue_url: str,
        input_bucket: str,
        region: str,
        prefix: str,
        outputs: Mapping[str, float],
        checkpoint: Checkpoint,
        checkpoint_path: Path | None,
        bar: Progress | None,
        limit: _RateLimit,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._sqs = sqs
        self._queue_url = work_queue_url
        self._bucket = input_bucket
        self._region = region
        self._prefix = prefix
        self._outputs = outputs
        self.checkpoint = checkpoint
        self._checkpoint_path = checkpoint_path
        self._bar = bar
        self._limit = limit
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last_saved = clock()
        self._pending: deque[tuple[_Batch, Future[None]]] = deque()
        self.summary = InventorySummary(resumed=bool(checkpoint.files_done or checkpoint.rows_done))
        self.summary.add_counts(checkpoint.counts)

    def all_files(
        self,
        *,
        report: ReportLocation,
        s3: S3Client,
        manifest: InventoryManifest,
        pool: ThreadPoolExecutor,
        window: int,
        stop: threading.Event | None,
    ) -> bool:
        """Send every file's rows; ``False`` if ``stop`` was set before the end."""
        for entry in manifest.files:
            if entry.key in self.checkpoint.files_done:
                continue
            skip = self.checkpoint.rows_done if self.checkpoint.current_file == entry.key else 0
            with report.open_file(s3, manifest, entry) as lines:
                rows = parse_rows(lines, manifest.fields, entry.key)
                if not self._one_file(
                    file_key=entry.key, rows=rows, skip=skip, pool=pool, window=window, stop=stop
                ):
                    return False
            self.settle(block=True)
            self.checkpoint.files_done.append(entry.key)
            self.checkpoint.current_file, self.checkpoint.rows_done = None, 0
        return True

    def _one_file(
        self,
        *,
        file_key: str,
        rows: Iterable[InventoryRow],
        skip: int,
        pool: ThreadPoolExecutor,
        window: int,
        stop: threading.Event | None,
    ) -> bool:
        chunk: list[InventoryRow] = []
        number = 0
        for number, row in enumerate(rows, start=1):
            if number <= skip:
                continue
            self.summary.rows += 1
            if self._wanted(row):
                chunk.append(row)
            # A full batch is sent; a run of skipped rows still moves the checkpoint every 10 rows.
            if len(chunk) == SQS_BATCH or (not chunk and number % SQS_BATCH == 0):
                if stop is not None and stop.is_set():
                    return False
                self._submit(pool, _Batch(file_key, number, tuple(chunk)))
                chunk = []
                while len(self._pending) > window:
                    self._pending[0][1].result()
                    self.settle(block=False)
                self.settle(block=False)
        self._submit(pool, _Batch(file_key, number, tuple(chunk)))
        return True

    def _wanted(self, row: InventoryRow) -> bool:
        if (row.bucket and row.bucket != self._bucket) or not row.key.startswith(self._prefix):
            self.summary.skipped_outside += 1
        elif not row.is_latest or row.is_delete_marker:
            self.summary.skipped_not_current += 1
        elif row.key.endswith("/"):
            self.summary.skipped_placeholders += 1
        elif _has_newer_output(self._outputs, row):
            self.summary.skipped_existing_output += 1
        else:
            return True
        return False

    def _submit(self, pool: ThreadPoolExecutor, batch: _Batch) -> None:
        if batch.rows:
            self._limit.wait(len(batch.rows))
            self._pending.append((batch, pool.submit(self._send, batch)))
        else:  # nothing to send: still a step of the checkpoint
            done: Future[None] = Future()
            done.set_result(None)
            self._pending.append((batch, done))

    def _send(self, batch: _Batch) -> None:
        """One SendMessageBatch; entries SQS failed on its side are retried with backoff."""
        entries = {
            str(index): json.dumps(notification_for_row(self._bucket, row, self._region))
            for index, row in enumerate(batch.rows)
        }
        for attempt in range(_SEND_ATTEMPTS):
            answer = self._sqs.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": entry_id, "MessageBody": body} for entry_id, body in entries.items()],
            )
            failed = answer.get("Failed", [])
            last = attempt == _SEND_ATTEMPTS - 1
            retry = [item for item in failed if not item.get("SenderFault") and not last]
            given_up = [item for item in failed if item not in retry]
            with self._lock:
                self.summary.send_requests += 1
                self.summary.enqueued += len(answer.get("Successful", []))
                self.summary.failed += len(given_up)
                for item in given_up[: max(0, 20 - len(self.summary.failures))]:
                    row = batch.rows[int(item["Id"])]
                    self.summary.failures.append(
                        f"{row.key}: {item.get('Code', '?')} {item.get('Message', '')}"
                    )
            if not retry:
                return
            entries = {item["Id"]: entries[item["Id"]] for item in retry}
            self._sleep(0.2 * 2**attempt)

    def settle(self, *, block: bool) -> None:
        """Advance the checkpoint over the acknowledged batches, in order, and save it now and then."""
        while self._pending and (block or self._pending[0][1].done()):
            batch, future = self._pending.popleft()
            future.result()
            if self.checkpoint.current_file != batch.file_key:
                self.checkpoint.current_file, self.checkpoint.rows_done = batch.file_key, 0
            self.checkpoint.rows_done = max(self.checkpoint.rows_done, batch.end_row)
            if self._bar is not None:
                self._bar.advance(len(batch.rows))
        due = block or self._clock() - self._last_saved >= _CHECKPOINT_EVERY_SECONDS
        if self._checkpoint_path is not None and due:
            with self._lock:
                self.checkpoint.counts = self.summary.counts()
            self.checkpoint.save(self._checkpoint_path)
            self._last_saved = self._clock()


def _has_newer_output(outputs: Mapping[str, float], row: InventoryRow) -> bool:
    """Whether the row's object has a cut-out (single mode) or a master (deliverables) newer than it."""
    if not outputs:
        return False
    written = _newest(outputs.get(row.key), outputs.get(_stem(row.key)))  # since 0.3.0, before it
    with contextlib.suppress(FailureReason):  # a key too long for a master has none
        master = outputs.get(master_key(row.key))
        written = _newest(written, master)
    if written is None:
        return False
    return row.last_modified is None or written >= row.last_modified.timestamp()


def _newest(first: float | None, second: float | None) -> float | None:
    return second if first is None or (second is not None and second > first) else first


def notification_for_row(bucket: str, row: InventoryRow, region: str) -> dict[str, Any]:
    """The message for one inventory row: the S3 notification a listing backfill sends."""
    existing = ExistingObject(
        key=row.key,
        size=row.size,
        etag=row.etag,
        version_id=row.version_id,
        last_modified=row.last_modified or datetime.now(UTC),
    )
    return s3_notification_for(bucket, existing, region)


def sqs_request_cost(
    messages: int, price_per_million: float = SQS_PRICE_PER_MILLION_REQUESTS
) -> tuple[int, float]:
    """(SendMessageBatch requests, dollars) to enqueue ``messages`` at SQS's standard list price.

    A batch of up to 10 messages is one request, as long as it stays under 256 KiB (ours are ~1 KiB
    each), so the count is ``ceil(messages / 10)``.
    """
    requests = -(-messages // SQS_BATCH)
    return requests, requests * price_per_million / 1_000_000
