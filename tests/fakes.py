"""In-memory fakes of our own ports (fakes over mocks). Real boundaries use moto and the emulator."""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import struct
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, BinaryIO

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from PIL import Image

from cutout.dead_letter.checkpoint import Letter
from cutout.engine.errors import EngineError
from cutout.engine.port import Background, Cutout, CutoutOptions, CutoutReceipt, ImageSource
from cutout.storage.objects import ObjectHead, ObjectNotFound, WriteCondition, WriteConflict


def image_bytes(width: int = 400, height: int = 300, fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    """A small real image."""
    buffer = io.BytesIO()
    image = Image.new(mode, (width, height), (200, 30, 30) if mode == "RGB" else None)
    if mode == "RGBA":  # a cut-out: an opaque subject in the middle, transparent around it
        image.paste((200, 30, 30, 255), (width // 4, height // 4, width * 3 // 4, height * 3 // 4))
    image.save(buffer, fmt)
    return buffer.getvalue()


def exif_with_one_entry(tag: int, kind: int, count: int, value: bytes) -> bytes:
    """A little-endian EXIF block (``Exif`` header + TIFF) of one IFD entry, written by hand: types and
    values Pillow would not write (an orientation as ASCII text, as a rational...)."""
    entry = struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
    return b"Exif\x00\x00II*\x00" + struct.pack("<IH", 8, 1) + entry + struct.pack("<I", 0)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose IHDR declares ``width`` x ``height`` (valid CRCs, 1 row of data)."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    data = png_chunk(b"IDAT", zlib.compress(b"\x00" + b"\x00" * 3 * 16))
    return b"\x89PNG\r\n\x1a\n" + header + data + png_chunk(b"IEND", b"")


@dataclass
class FakeLambdaContext:
    """The parts of a Lambda context the handler and Powertools read, with plenty of time left."""

    function_name: str = "ProcessUploadFunction"
    memory_limit_in_mb: int = 256
    timeout_seconds: float = 120.0
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ProcessUploadFunction"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


@dataclass
class StoredObject:
    data: bytes
    version_id: str | None
    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    last_modified: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def etag(self) -> str:
        return hashlib.md5(self.data, usedforsecurity=False).hexdigest()


class S3MetadataTooLarge(Exception):  # noqa: N818  (S3's own error code)
    """What S3 answers a PUT whose user metadata is over 2 KB (400 MetadataTooLarge)."""


class InMemoryObjectStore:
    """``ObjectStore`` over dicts; counts reads so tests can check how little was read."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.versions: dict[tuple[str, str, str], StoredObject] = {}  # older (replaced) versions
        self.puts: list[tuple[str, str, str, dict[str, str]]] = []
        self.tags: dict[tuple[str, str], dict[str, str]] = {}
        self.bytes_read = 0
        self.heads = 0
        self.presigned_content_types: list[str | None] = []
        self._versions = itertools.count(1)
        self._lock = threading.Lock()

    def add(
        self, bucket: str, key: str, data: bytes, versioned: bool = True, version_id: str | None = None
    ) -> StoredObject:
        stored = StoredObject(data, version_id or (f"v{next(self._versions)}" if versioned else None))
        previous = self.objects.get((bucket, key))
        if previous is not None and previous.version_id and stored.version_id:
            self.versions[(bucket, key, previous.version_id)] = previous  # a versioned bucket keeps it
        self.objects[(bucket, key)] = stored
        return stored

    def _get(self, bucket: str, key: str, version_id: str | None) -> StoredObject:
        stored = self.objects.get((bucket, key))
        if stored is not None and version_id and stored.version_id != version_id:
            stored = self.versions.get((bucket, key, version_id), stored)  # an older version of the key
        if stored is None or (version_id and stored.version_id != version_id):
            raise ObjectNotFound(f"s3://{bucket}/{key} does not exist")
        return stored

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectHead:
        with self._lock:
            self.heads += 1
        stored = self._get(bucket, key, version_id)
        return ObjectHead(
            len(stored.data),
            stored.etag,
            stored.version_id,
            stored.content_type,
            stored.metadata,
            stored.last_modified,
        )

    def read_range(self, bucket: str, key: str, version_id: str | None, start: int, end: int | None) -> bytes:
        data = self._get(bucket, key, version_id).data
        chunk = data[start:] if start < 0 or end is None else data[start : end + 1]
        with self._lock:
            self.bytes_read += len(chunk)
        return chunk

    def presigned_get_url(
        self, bucket: str, key: str, version_id: str | None, expires_in: int, content_type: str | None = None
    ) -> str:
        self._get(bucket, key, version_id)
        self.presigned_content_types.append(content_type)
        return f"https://{bucket}.s3.example.test/{key}?versionId={version_id}&X-Amz-Expires={expires_in}"

    def put(
        self,
        bucket: str,
        key: str,
        body: BinaryIO,
        content_type: str,
        metadata: dict[str, str],
        *,
        condition: WriteCondition | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        from cutout.storage.metadata_limit import METADATA_LIMIT_BYTES, metadata_bytes

        # S3's contract (moto does not keep it): over 2 KB of user metadata is a 400 MetadataTooLarge.
        if metadata_bytes(metadata) > METADATA_LIMIT_BYTES:
            raise S3MetadataTooLarge(f"s3://{bucket}/{key}: {metadata_bytes(metadata)} bytes of metadata")
        data = body.read()
        with self._lock:
            existing = self.objects.get((bucket, key))
            if condition is not None and condition.if_absent and existing is not None:
                raise WriteConflict(f"{key} exists")
            if (
                condition is not None
                and condition.if_match
                and (existing is None or existing.etag != condition.if_match)
            ):
                raise WriteConflict(f"{key} changed")
            stored = StoredObject(data, None, content_type, dict(metadata))
            self.objects[(bucket, key)] = stored
            self.tags[(bucket, key)] = dict(tags or {})
            self.puts.append((bucket, key, content_type, dict(metadata)))


class RecordingDeadLetterQueue:
    def __init__(self) -> None:
        self.records: list[str] = []

    def send(self, record_json: str) -> None:
        self.records.append(record_json)


class FakeEngine:
    """A resumable engine that returns a PNG of the requested size and counts paid calls.

    ``fail_with`` raises on submit (``fail_times`` times, then succeeds); ``crash_after_submit``
    makes ``fetch`` raise once, as a process crash between the paid call and the output would.
    """

    engine_name = "fake"

    def __init__(self, fail_with: EngineError | None = None, fail_times: int = 10**9) -> None:
        self.submits: list[ImageSource] = []
        self.fetches = 0
        self.fail_with = fail_with
        self.fail_times = fail_times
        self.crash_on_next_fetch = False
        # While set, ``fetch`` raises it (a paid result that cannot be fetched, until "fixed").
        self.fetch_fails_with: EngineError | None = None
        # The result comes back this size instead of the receipt's (what the API reported).
        self.actual_size: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def submit(
        self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
    ) -> CutoutReceipt:
        with self._lock:
            self.submits.append(source)
            if self.fail_with is not None and self.fail_times > 0:
                self.fail_times -= 1
                raise copy.copy(self.fail_with)
            number = len(self.submits)
        return CutoutReceipt(
            engine="fake",
            result_url=f"https://results.example.test/{number}.png",
            width=options.target_width or 400,
            height=options.target_height or 300,
            score=0.9,
            usage=1,
            request_id=f"req-{number}",
            background=options.background,
        )

    def fetch(self, receipt: CutoutReceipt, *, deadline: float | None = None) -> Cutout:
        with self._lock:
            self.fetches += 1
            if self.crash_on_next_fetch:
                self.crash_on_next_fetch = False
                raise RuntimeError("simulated crash between the paid call and the output")
            if self.fetch_fails_with is not None:
                raise copy.copy(self.fetch_fails_with)
        mode, fmt, mime = (
            ("RGBA", "PNG", "image/png")
            if receipt.background is Background.TRANSPARENT
            else ("RGB", "JPEG", "image/jpeg")
        )
        reported = (receipt.width or 400, receipt.height or 300)
        width, height = self.actual_size or reported
        data = image_bytes(width, height, fmt, mode)
        return Cutout.from_bytes(
            data,
            content_type=mime,
            width=width,
            height=height,
            reported_size=reported if (width, height) != reported else None,
            score=receipt.score,
            usage=receipt.usage,
            request_id=receipt.request_id,
            engine="fake",
        )

    def remove_background(self, source: ImageSource, options: CutoutOptions) -> Cutout:
        return self.fetch(self.submit(source, options))


class InMemoryPersistenceLayer(BasePersistenceLayer):
    """Powertools' idempotency persistence on a dict shared by every layer built on it."""

    def __init__(self, table: dict[str, DataRecord] | None = None) -> None:
        super().__init__()
        self.table: dict[str, DataRecord] = {} if table is None else table
        self._lock = threading.Lock()

    def _get_record(self, idempotency_key: str) -> DataRecord:
        record = self.table.get(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return record

    def _put_record(self, data_record: DataRecord) -> None:
        with self._lock:
            existing = self.table.get(data_record.idempotency_key)
            if existing is not None and not existing.is_expired:
                in_progress_expired = (
                    existing.status == "INPROGRESS"
                    and existing.in_progress_expiry_timestamp is not None
                    and existing.in_progress_expiry_timestamp < _now_ms()
                )
                if not in_progress_expired:
                    raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
            self.table[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self.table[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self.table.pop(data_record.idempotency_key, None)


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


class RecordingMetrics:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def processed(self, status: str) -> None:
        self.events.append(("processed", status))

    def failed(self, reason: str, *, rejected_before_call: bool) -> None:
        self.events.append(("rejected" if rejected_before_call else "failed", reason))

    def api_call(self, latency_ms: float, usage: int) -> None:
        self.events.append(("api_call", usage))

    def upload_finished(
        self, stages_ms: Any, *, total_ms: float, object_key: str, request_id: str | None
    ) -> None:
        self.events.append(("upload_finished", (object_key, request_id, tuple(stages_ms))))

    def count(self, name: str) -> None:
        self.events.append(("count", name))

    def held_for_review(self, reason: str) -> None:
        self.events.append(("held", reason))


class RecordingMessageVisibility:
    """``MessageVisibility`` that records each redelivery it was asked for."""

    def __init__(self) -> None:
        from cutout.redelivery import Redelivery

        self.redeliveries: list[Redelivery] = []

    def redeliver_after(self, redeliveries: Any) -> None:
        self.redeliveries.extend(redeliveries)


class InMemoryAttemptCounter:
    """``AttemptCounter`` on a dict."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.rate_limited: dict[str, float] = {}  # subject -> first met (Unix seconds)
        self._lock = threading.Lock()

    def count_failed_attempt(self, subject: str) -> int:
        with self._lock:
            self.counts[subject] = self.counts.get(subject, 0) + 1
            return self.counts[subject]

    def rate_limited_since(self, subject: str) -> float:
        import time

        with self._lock:
            return self.rate_limited.setdefault(subject, time.time())


class InMemoryDeadLetterCheckpoint:
    """``DeadLetterCheckpoint`` on a dict; ``fail_mark_sent`` makes the next N marks raise."""

    def __init__(self, fail_mark_sent: int = 0) -> None:
        self.letters: dict[str, Letter] = {}
        self.fail_mark_sent = fail_mark_sent
        self._lock = threading.Lock()

    def recorded(self, subject: str) -> Letter | None:
        with self._lock:
            return self.letters.get(subject)

    def keep(self, subject: str, letter: Letter) -> Letter:
        with self._lock:
            return self.letters.setdefault(subject, letter)

    def mark_sent(self, subject: str) -> None:
        with self._lock:
            if self.fail_mark_sent > 0:
                self.fail_mark_sent -= 1
                raise RuntimeError("the checkpoint could not be updated")
            self.letters[subject] = replace(self.letters[subject], sent=True)


class InMemoryBudget:
    """``Budget`` over a counter and a lock: the semantics of the DynamoDB ledger, one period."""

    def __init__(self, daily: int = 0, monthly: int = 0) -> None:
        from cutout.spending import BudgetLimits

        self.limits = BudgetLimits(daily=daily, monthly=monthly)
        self.used = 0
        self.reserved = 0
        self.released = 0
        self._lock = threading.Lock()

    def reserve(self, units: int) -> Any:
        from cutout.spending import BudgetExhausted, Period, Reservation

        if self.limits.unlimited:
            return None
        cap = min(limit for limit in (self.limits.daily, self.limits.monthly) if limit > 0)
        with self._lock:
            if self.used + units > cap:
                raise BudgetExhausted(f"the budget of {cap} units is spent")
            self.used += units
            self.reserved += 1
            return Reservation(units, Period("2026-12", "01"), self.used, self.used)

    def release(self, reservation: Any) -> None:
        with self._lock:
            self.used -= reservation.units
            self.released += 1

    def status(self) -> Any:
        from cutout.spending import BudgetStatus, Period

        return BudgetStatus(self.limits, Period("2026-12", "01"), self.used, self.used)


class InMemoryPauseMarker:
    """``PauseMarker`` as one slot (the DynamoDB item's semantics: last write wins)."""

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.mark: Any = None
        self.fail_with = fail_with

    def write(self, mark: Any) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.mark = mark

    def read(self) -> Any:
        return self.mark

    def clear(self) -> None:
        self.mark = None


class RecordingPauseMetrics:
    """``PauseMetrics`` keeping what was emitted: ``PauseFailed`` counts and ``Paused`` values."""

    def __init__(self) -> None:
        self.pause_failures = 0
        self.paused_values: list[int] = []

    def pause_failed(self) -> None:
        self.pause_failures += 1

    def paused(self, paused: bool) -> None:
        self.paused_values.append(1 if paused else 0)


class RecordingEventPublisher:
    """``EventPublisher`` keeping what it was given; ``fail_times`` publications raise first."""

    def __init__(self, fail_times: int = 0) -> None:
        self.published: list[Any] = []
        self.fail_times = fail_times
        self._lock = threading.Lock()

    def publish(self, announcements: Any) -> None:
        from cutout.announcements import EventsNotPublished

        with self._lock:
            if self.fail_times > 0:
                self.fail_times -= 1
                raise EventsNotPublished("EventBridge refused the events (simulated)")
            self.published.extend(announcements)

    def of_type(self, detail_type: str) -> list[Any]:
        return [event for event in self.published if event.detail_type == detail_type]


class FakeEventSourceSwitch:
    """``EventSourceSwitch`` as a flag, counting the switches; ``fail_with`` makes ``disable`` raise."""

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.enabled = True
        self.disables = 0
        self.enables = 0
        self.fail_with = fail_with
        self._lock = threading.Lock()

    def state(self) -> Any:
        from cutout.spending import SourceState

        return SourceState(uuid="fake-mapping", state="Enabled" if self.enabled else "Disabled")

    def disable(self) -> bool:
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            changed, self.enabled = self.enabled, False
            self.disables += changed
            return changed

    def enable(self) -> bool:
        with self._lock:
            changed, self.enabled = not self.enabled, True
            self.enables += changed
            return changed


class SimulatedSqsQueue:
    """A standard SQS queue on an injected clock (seconds), with the documented semantics the long
    pause depends on, which moto cannot show over weeks:

    - a message is deleted ``retention_seconds`` after it was *sent*, received or not (counted in
      ``expired``: a lost upload, with no DLQ record);
    - a receive hides a message for the visibility timeout and counts towards the redrive: a
      message received when its receive count is already ``max_receive_count`` goes to ``dlq``;
    - ``DelaySeconds`` hides a new message; a delete needs the latest receipt handle.

    It answers the boto3 calls the function and the poller make (``receive_message``,
    ``send_message``, ``send_message_batch``, ``delete_message_batch``, ``change_message_visibility``).
    """

    def __init__(
        self,
        clock: Any,
        *,
        retention_seconds: int = 1_209_600,
        visibility_timeout: int = 1020,
        max_receive_count: int = 5,
    ) -> None:
        self.clock = clock
        self.retention = retention_seconds
        self.visibility_timeout = visibility_timeout
        self.max_receive_count = max_receive_count
        self.messages: dict[str, dict[str, Any]] = {}
        self.dlq: list[str] = []
        self.expired: list[str] = []
        self.oldest_age_seen = 0.0
        self._ids = itertools.count(1)

    def _expire(self) -> None:
        now = self.clock()
        for message_id, message in list(self.messages.items()):
            age = now - message["sent_at"]
            if age >= self.retention:
                self.expired.append(message["body"])
                del self.messages[message_id]
            else:
                self.oldest_age_seen = max(self.oldest_age_seen, age)

    def send_message(self, **call: Any) -> dict[str, Any]:
        return self._send(call["MessageBody"], call.get("DelaySeconds", 0), call.get("MessageAttributes"))

    def _send(self, body: str, delay_seconds: int, attributes: Any) -> dict[str, Any]:
        message_id = f"m-{next(self._ids)}"
        now = self.clock()
        self.messages[message_id] = {
            "body": body,
            "attributes": dict(attributes or {}),
            "sent_at": now,
            "visible_at": now + delay_seconds,
            "receive_count": 0,
            "first_received_at": None,
            "receipt": None,
        }
        return {"MessageId": message_id}

    def send_message_batch(self, **call: Any) -> dict[str, Any]:
        for entry in call["Entries"]:
            self._send(entry["MessageBody"], entry.get("DelaySeconds", 0), entry.get("MessageAttributes"))
        return {"Successful": [{"Id": entry["Id"]} for entry in call["Entries"]], "Failed": []}

    def receive_message(self, **call: Any) -> dict[str, Any]:
        most, hidden = call.get("MaxNumberOfMessages", 1), call.get("VisibilityTimeout")
        self._expire()
        now = self.clock()
        received = []
        for message_id, message in sorted(self.messages.items(), key=lambda item: item[1]["sent_at"]):
            if len(received) == most:
                break
            if message["visible_at"] > now:
                continue
            if message["receive_count"] >= self.max_receive_count:  # the redrive policy
                self.dlq.append(message["body"])
                del self.messages[message_id]
                continue
            message["receive_count"] += 1
            message["first_received_at"] = message["first_received_at"] or now
            message["receipt"] = f"{message_id}#{message['receive_count']}"
            message["visible_at"] = now + (self.visibility_timeout if hidden is None else hidden)
            received.append(
                {
                    "MessageId": message_id,
                    "ReceiptHandle": message["receipt"],
                    "Body": message["body"],
                    "MessageAttributes": dict(message["attributes"]),
                    "Attributes": {
                        "ApproximateReceiveCount": str(message["receive_count"]),
                        "SentTimestamp": str(int(message["sent_at"] * 1000)),
                        "ApproximateFirstReceiveTimestamp": str(int(message["first_received_at"] * 1000)),
                    },
                }
            )
        return {"Messages": received} if received else {}

    def _by_receipt(self, receipt: str) -> str | None:
        message_id = receipt.split("#", 1)[0]
        message = self.messages.get(message_id)
        return message_id if message is not None and message["receipt"] == receipt else None

    def delete_message(self, **call: Any) -> None:
        message_id = self._by_receipt(call["ReceiptHandle"])
        if message_id is not None:
            del self.messages[message_id]

    def delete_message_batch(self, **call: Any) -> dict[str, Any]:
        for entry in call["Entries"]:
            self.delete_message(ReceiptHandle=entry["ReceiptHandle"])
        return {"Successful": [{"Id": entry["Id"]} for entry in call["Entries"]], "Failed": []}

    def change_message_visibility(self, **call: Any) -> None:
        message_id = self._by_receipt(call["ReceiptHandle"])
        if message_id is not None:
            self.messages[message_id]["visible_at"] = self.clock() + call["VisibilityTimeout"]

    def waiting(self) -> int:
        self._expire()
        return len(self.messages)


def tiff_with_an_ifd_loop(side: int = 300) -> tuple[bytes, bytes]:
    """A real two-page TIFF (``side`` pixels square), and the same file with its second page
    directory pointing back to the first (a loop a reader must refuse): (whole, looped)."""
    pages = [Image.new("RGB", (side, side), (200, 0, 0)), Image.new("RGB", (side, side), (0, 0, 200))]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:])
    data = bytearray(buffer.getvalue())
    first = struct.unpack("<I", data[4:8])[0]
    second = struct.unpack(
        "<I", data[first + 2 + 12 * struct.unpack("<H", data[first : first + 2])[0] :][:4]
    )[0]
    next_at = second + 2 + 12 * struct.unpack("<H", data[second : second + 2])[0]
    whole = bytes(data)
    data[next_at : next_at + 4] = struct.pack("<I", first)
    return whole, bytes(data)
