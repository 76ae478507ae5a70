"""Reading and replaying the dead-letter queue.

Two kinds of message sit on the DLQ: the function's own ``cutout.failure/1`` records (one per
upload it gave up on, with the reason), and raw work-queue messages SQS moved there after
``maxReceiveCount`` receives (the function crashed or timed out on them; no record, reason
``redriven``). Both replay the same way: the body goes back to the work queue unchanged, since the
function accepts its own records and raw S3 events. A replayed record names the same object version
(same idempotency identity) as the original upload, so an object that has since succeeded is
neither paid for nor written again.

Replay moves retryable messages only, unless asked: a permanent failure (``image_too_small``,
``not_an_image``: ``error.retryable`` is false) would fail again the same way, so it stays on the DLQ
and is counted apart, unless ``include_permanent`` (after fixing what made it permanent, such as
the Aidge key or quota, or the limits).

A record that says its call was paid (``paid: true``: the result could not be fetched or stored
after billing) replays for free: the function reuses the stored receipt (a permanent one, such as
``result_url_refused``, needs ``include_permanent`` after the fix). When that cannot work any
more (``result_expired``, ``result_gone``), ``repay=True`` (``cutout dlq replay --repay``; it
includes paid permanent records) marks the replayed copy ``repay: true``, and the function pays
once more, on purpose (metric ``RepaidOnPurpose``). Records that were not paid replay as they are.

Reading never consumes: messages are received with a visibility timeout long enough for the
listing and made visible again (``ChangeMessageVisibility`` to 0) once it is done. A replayed
message is deleted from the DLQ only after the work queue accepted its copy.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from cutout.events import (
    FAILURE_SCHEMA,
    UNRECOGNISED_MESSAGE_CODE,
    FailureRecord,
    UnrecognisedMessage,
    uploads_from_sqs_body,
)
from cutout.redelivery.visibility import SQS_MAX_BATCH_ENTRIES
from cutout.typed import ValidationError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

REDRIVEN_REASON = "redriven"
# SQS batch calls take at most ten entries: the layer's one statement of that limit.
SQS_BATCH = SQS_MAX_BATCH_ENTRIES
# How long a message stays hidden while a listing or replay is under way (released at the end).
READ_VISIBILITY_SECONDS = 120


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One DLQ message, read: its reason and the object it names (if any)."""

    message_id: str
    receipt_handle: str
    body: str
    reason: str
    retryable: bool | None
    attempts: int | None
    failed_at: str | None
    bucket: str | None
    key: str | None
    message: str
    record: FailureRecord | None
    # Byte-identical copies of this record also on the DLQ (the same ``record_id``: one record
    # delivered twice by the transport, as a standard queue may), read and not listed again.
    copies: int = 0

    @property
    def record_id(self) -> str | None:
        """The record's stable id (one per upload decision); None for a raw redriven message."""
        return None if self.record is None else self.record.record_id

    @property
    def replayable(self) -> bool:
        """A record that names no object (``unrecognised_message``) has nothing to replay."""
        return self.record is None or self.record.source is not None

    @property
    def permanent(self) -> bool:
        """A failure that replaying as it is would only repeat (``error.retryable`` is false)."""
        return self.retryable is False

    def to_json_dict(self) -> dict[str, Any]:
        """One JSON line of ``cutout dlq list --json``: the summary, and the record or raw body."""
        summary: dict[str, Any] = {
            "message_id": self.message_id,
            "reason": self.reason,
            "retryable": self.retryable,
            "attempts": self.attempts,
            "failed_at": self.failed_at,
            "bucket": self.bucket,
            "key": self.key,
            "message": self.message,
            "replayable": self.replayable,
            "copies": self.copies,
        }
        if self.record is not None:
            summary["record"] = json.loads(self.record.to_json())
        else:
            summary["body"] = self.body
        return summary


def read_dead_letter(message: MessageTypeDef) -> DeadLetter:
    """Classify one received DLQ message: a failure record, or a raw redriven message."""
    body = message.get("Body", "")
    message_id, receipt_handle = message.get("MessageId", ""), message.get("ReceiptHandle", "")
    record = _failure_record(body)
    if record is not None:
        source = record.source
        return DeadLetter(
            message_id=message_id,
            receipt_handle=receipt_handle,
            body=body,
            reason=record.error.code,
            retryable=record.error.retryable,
            attempts=record.attempts,
            failed_at=record.failed_at,
            bucket=None if source is None else source.bucket,
            key=None if source is None else source.key,
            message=record.error.message,
            record=record,
        )
    bucket, key, detail = _redriven_subject(body)
    return DeadLetter(
        message_id=message_id,
        receipt_handle=receipt_handle,
        body=body,
        reason=REDRIVEN_REASON,
        retryable=True,
        # SQS's receive count goes on counting on the DLQ (our own reads included): not shown.
        attempts=None,
        failed_at=None,
        bucket=bucket,
        key=key,
        message="SQS moved this work-queue message here after maxReceiveCount receives "
        f"(the function crashed or timed out on it); no failure record. {detail}".rstrip(),
        record=None,
    )


def _failure_record(body: str) -> FailureRecord | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("schema") != FAILURE_SCHEMA:
        return None
    try:
        return FailureRecord.model_validate(document)
    except ValidationError:
        return None


def _redriven_subject(body: str) -> tuple[str | None, str | None, str]:
    """The object(s) a raw message names, for the listing."""
    try:
        parsed = uploads_from_sqs_body(body)
    except UnrecognisedMessage as error:
        return None, None, f"The body is not an upload event: {error.reason}."
    if not parsed.uploads:
        return None, None, f"A {parsed.kind.value} that names no upload."
    first = parsed.uploads[0]
    more = len(parsed.uploads) - 1
    key = first.key if more == 0 else f"{first.key} (+{more} more)"
    return first.bucket, key, ""


def _received_messages(
    sqs: SQSClient, queue_url: str, *, wait_seconds: int
) -> Iterator[list[MessageTypeDef]]:
    """Batches of messages not seen before, until the queue has nothing more to give.

    It stops at an empty receive, or once as many messages were seen as the queue said it held
    when we started (so a short queue costs no final long poll). Messages that reappear because a
    long run outlived their visibility timeout are not yielded twice.
    """
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    expected = int(attributes.get("Attributes", {}).get("ApproximateNumberOfMessages", "0"))
    seen: set[str] = set()
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=SQS_BATCH,
            VisibilityTimeout=READ_VISIBILITY_SECONDS,
            WaitTimeSeconds=wait_seconds,
        ).get("Messages", [])
        fresh = [message for message in messages if message.get("MessageId") not in seen]
        if not fresh:
            return
        seen.update(message.get("MessageId", "") for message in fresh)
        yield fresh
        if expected and len(seen) >= expected:
            return


def _release(sqs: SQSClient, queue_url: str, letters: list[DeadLetter]) -> None:
    """Make messages visible again at once (they were only being read)."""
    for start in range(0, len(letters), SQS_BATCH):
        batch = letters[start : start + SQS_BATCH]
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                for index, letter in enumerate(batch)
            ],
        )


def _matches(reason: str | None) -> Callable[[DeadLetter], bool]:
    return lambda letter: reason is None or letter.reason == reason


def peek_dead_letters(
    sqs: SQSClient,
    dead_letter_queue_url: str,
    *,
    reason: str | None = None,
    limit: int | None = None,
    wait_seconds: int = 1,
) -> list[DeadLetter]:
    """The DLQ's messages (those with ``reason``, at most ``limit``), left on the queue."""
    matches = _matches(reason)
    held: list[DeadLetter] = []
    found: list[DeadLetter] = []
    position: dict[str, int] = {}  # record_id -> its letter's place in ``found``
    try:
        for batch in _received_messages(sqs, dead_letter_queue_url, wait_seconds=wait_seconds):
            letters = [read_dead_letter(message) for message in batch]
            held.extend(letters)
            for letter in filter(matches, letters):
                first = position.get(letter.record_id or "")
                if first is not None:  # a copy of a record listed already: counted on it
                    found[first] = replace(found[first], copies=found[first].copies + 1)
                    continue
                if letter.record_id is not None:
                    position[letter.record_id] = len(found)
                found.append(letter)
            if limit is not None and len(found) >= limit:
                break
    finally:
        _release(sqs, dead_letter_queue_url, held)
    return found if limit is None else found[:limit]


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    """What a replay did (or, with ``dry_run``, would do).

    ``matched`` counts the messages chosen for replay (within ``limit``); ``retryable`` and
    ``permanent`` split them by reason code. ``permanent_skipped`` counts, by reason, the permanent
    failures left on the DLQ because ``include_permanent`` was not given; ``not_replayable`` the
    records that name no object.
    """

    matched: int
    replayed: int
    not_replayable: int
    failed: int
    dry_run: bool
    failures: tuple[str, ...] = ()
    retryable: Mapping[str, int] = field(default_factory=dict)
    permanent: Mapping[str, int] = field(default_factory=dict)
    permanent_skipped: Mapping[str, int] = field(default_factory=dict)
    repaid: int = 0  # paid records sent back marked ``repay`` (each will be paid once more)
    # Byte-identical copies of a replayed record (same ``record_id``): deleted once the record is
    # on the work queue, never replayed a second time (with ``dry_run``: counted only).
    copies_removed: int = 0


def replay_dead_letters(
    sqs: SQSClient,
    dead_letter_queue_url: str,
    work_queue_url: str,
    *,
    reason: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    include_permanent: bool = False,
    wait_seconds: int = 1,
    repay: bool = False,
) -> ReplaySummary:
    """Move the DLQ's retryable messages (with ``reason``, at most ``limit``) back to the work queue.

    ``repay``: paid records (``paid: true``) go back marked ``repay: true`` (paid once more).

    Each body is sent unchanged; a message is deleted from the DLQ only once its copy is on the
    work queue. Permanent failures stay (counted in ``permanent_skipped``) unless
    ``include_permanent``; records naming no object stay and are counted as ``not_replayable``.
    Everything read but not replayed is made visible again. ``dry_run`` only reads.
    """
    matches = _matches(reason)
    held: list[DeadLetter] = []
    seen_ids: set[str] = set()  # record ids read in this run
    sent_ids: set[str] = set()  # ... and accepted by the work queue
    copies: list[DeadLetter] = []  # copies of a record read before: deleted once it is sent
    matched = replayed = not_replayable = repaid = 0
    retryable: Counter[str] = Counter()
    permanent: Counter[str] = Counter()
    permanent_skipped: Counter[str] = Counter()
    failures: list[str] = []
    try:
        for batch in _received_messages(sqs, dead_letter_queue_url, wait_seconds=wait_seconds):
            chosen: list[DeadLetter] = []
            for letter in _firsts(map(read_dead_letter, batch), seen_ids, copies):
                room = limit is None or matched < limit
                if not (room and matches(letter)):
                    held.append(letter)
                    continue
                if not letter.replayable:
                    not_replayable += 1
                    held.append(letter)
                    continue
                if letter.permanent and not include_permanent and not (repay and _paid(letter)):
                    permanent_skipped[letter.reason] += 1
                    held.append(letter)
                    continue
                matched += 1
                (permanent if letter.permanent else retryable)[letter.reason] += 1
                if dry_run:
                    held.append(letter)
                    repaid += int(repay and _paid(letter))
                elif repay and _paid(letter):
                    chosen.append(_marked_repay(letter))
                    repaid += 1
                else:
                    chosen.append(letter)
            sent, unsent, reasons = _send_then_delete(sqs, dead_letter_queue_url, work_queue_url, chosen)
            replayed += sent
            held.extend(unsent)
            failures.extend(reasons)
            sent_ids.update(_record_ids(chosen) - _record_ids(unsent))
            if limit is not None and matched >= limit:
                break
        copies_removed = _remove_copies(
            sqs,
            dead_letter_queue_url,
            copies,
            sent_ids=sent_ids,
            dry_run=dry_run,
            held=held,
            failures=failures,
        )
    finally:
        _release(sqs, dead_letter_queue_url, held)
    return ReplaySummary(
        matched=matched,
        replayed=replayed,
        not_replayable=not_replayable,
        failed=len(failures),
        dry_run=dry_run,
        failures=tuple(failures),
        repaid=repaid,
        copies_removed=copies_removed,
        retryable=dict(sorted(retryable.items())),
        permanent=dict(sorted(permanent.items())),
        permanent_skipped=dict(sorted(permanent_skipped.items())),
    )


def _paid(letter: DeadLetter) -> bool:
    return letter.record is not None and letter.record.paid is True


def _marked_repay(letter: DeadLetter) -> DeadLetter:
    """The same letter, its body the record marked ``repay: true`` (receipt handle unchanged)."""
    assert letter.record is not None  # noqa: S101 - _paid() checked it
    record = letter.record.model_copy(update={"repay": True})
    return replace(letter, body=record.to_json(), record=record)


def _send_then_delete(
    sqs: SQSClient, dead_letter_queue_url: str, work_queue_url: str, letters: list[DeadLetter]
) -> tuple[int, list[DeadLetter], list[str]]:
    """Send ≤ 10 bodies to the work queue; delete from the DLQ those the work queue accepted.

    Returns (replayed, letters left on the DLQ, why each of those failed).
    """
    if not letters:
        return 0, [], []
    answer = sqs.send_message_batch(
        QueueUrl=work_queue_url,
        Entries=[{"Id": str(index), "MessageBody": letter.body} for index, letter in enumerate(letters)],
    )
    accepted = {int(entry["Id"]) for entry in answer.get("Successful", [])}
    reasons = [
        f"{letters[int(entry['Id'])].key or letters[int(entry['Id'])].message_id}: "
        f"{entry.get('Code', '?')} {entry.get('Message', '')}".rstrip()
        for entry in answer.get("Failed", [])
    ]
    sent = [letter for index, letter in enumerate(letters) if index in accepted]
    unsent = [letter for index, letter in enumerate(letters) if index not in accepted]
    if sent:
        deleted = sqs.delete_message_batch(
            QueueUrl=dead_letter_queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": letter.receipt_handle}
                for index, letter in enumerate(sent)
            ],
        )
        # A copy is on the work queue already: a message we could not delete would be replayed
        # again next time (harmless, the function is idempotent), so report it, don't undo.
        reasons.extend(
            f"{sent[int(entry['Id'])].key or sent[int(entry['Id'])].message_id}: replayed but not deleted "
            f"from the DLQ ({entry.get('Code', '?')})"
            for entry in deleted.get("Failed", [])
        )
    return len(sent), unsent, reasons


def _firsts(
    letters: Iterable[DeadLetter], seen_ids: set[str], copies: list[DeadLetter]
) -> Iterator[DeadLetter]:
    """The letters whose record was not read before in this run; the others go to ``copies``
    (byte-identical copies of one record: SQS may deliver a message twice)."""
    for letter in letters:
        if letter.record_id is None:
            yield letter
        elif letter.record_id in seen_ids:
            copies.append(letter)
        else:
            seen_ids.add(letter.record_id)
            yield letter


def _record_ids(letters: Iterable[DeadLetter]) -> set[str]:
    return {letter.record_id for letter in letters if letter.record_id is not None}


def _remove_copies(
    sqs: SQSClient,
    dead_letter_queue_url: str,
    copies: list[DeadLetter],
    *,
    sent_ids: set[str],
    dry_run: bool,
    held: list[DeadLetter],
    failures: list[str],
) -> int:
    """Delete the copies of the records now on the work queue (a dry run only counts them); the
    others, and those that could not be deleted, join ``held``. Returns how many were (or would be)
    removed."""
    if dry_run:
        held.extend(copies)
        return len(copies)
    held.extend(letter for letter in copies if letter.record_id not in sent_ids)
    deleted, left, reasons = _delete(
        sqs, dead_letter_queue_url, [letter for letter in copies if letter.record_id in sent_ids]
    )
    held.extend(left)
    failures.extend(reasons)
    return deleted


def _delete(
    sqs: SQSClient, dead_letter_queue_url: str, letters: list[DeadLetter]
) -> tuple[int, list[DeadLetter], list[str]]:
    """Delete ``letters`` from the DLQ, ≤ 10 at a time: (deleted, those left, why each was left)."""
    deleted, left, reasons = 0, list[DeadLetter](), list[str]()
    for start in range(0, len(letters), SQS_BATCH):
        batch = letters[start : start + SQS_BATCH]
        answer = sqs.delete_message_batch(
            QueueUrl=dead_letter_queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": letter.receipt_handle}
                for index, letter in enumerate(batch)
            ],
        )
        failed = {int(entry["Id"]): entry for entry in answer.get("Failed", [])}
        deleted += len(batch) - len(failed)
        left.extend(batch[index] for index in failed)
        reasons.extend(
            f"{batch[index].key or batch[index].message_id}: a copy of a replayed record, not deleted "
            f"from the DLQ ({entry.get('Code', '?')})"
            for index, entry in failed.items()
        )
    return deleted, left, reasons


__all__ = [
    "READ_VISIBILITY_SECONDS",
    "REDRIVEN_REASON",
    "UNRECOGNISED_MESSAGE_CODE",
    "DeadLetter",
    "ReplaySummary",
    "peek_dead_letters",
    "read_dead_letter",
    "replay_dead_letters",
]
