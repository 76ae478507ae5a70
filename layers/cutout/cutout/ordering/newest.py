"""Newest version wins: the step that keeps an older version's cut-out from replacing a newer one's.

S3 delivers event notifications at least once and in no particular order, so two versions of one
key can be processed in either order, even at once (one batch runs its records concurrently).
Before the paid call, and once more before an upload's first write, this step asks whether a newer
version exists, by the most exact rule the facts allow:

1. **On a versioned bucket, the key's current version.** Every PUT makes a new version, and the
   current one (what a HEAD of the key names) is by S3's definition the newest still there. So an
   event whose ``versionId`` is not the current version's is superseded, before paying, without
   comparing times (``Last-Modified`` has one-second resolution: versions written within a second
   look the same age). Its version still existing (the conductor's HEAD of it succeeded) rules out
   the one other way it could stop being current, a permanent delete of it.
2. **Otherwise, against the outputs, by ``sequencer``.** On an unversioned bucket there is no version
   to name: every output records its source's stamp in its metadata (``source-sequencer``,
   ``source-last-modified``), and the two stamps are compared. The ``sequencer`` of a PUT or DELETE
   event grows with each event *on the same key* (it orders nothing across keys); sequencers may
   differ in length: left-pad the shorter with zeros, then compare them as strings (S3 user guide,
   "Event message structure").
3. **Last, by ``Last-Modified``,** when one side has no sequencer: a backfill or inventory message,
   a DLQ record being replayed whose source had none, an output written from such a message. Equal
   times (within a second) decide nothing, and the version goes ahead.

An older version is *superseded*: its outcome says so (no DLQ record, and no paid call when that is
known before the call). The PUT itself is conditional (``If-Match`` the output's ETag, or
``If-None-Match: *`` when there is none), so two versions racing to write cannot both win: the
loser looks again. ``OrderedWrites`` does this for one upload in as few requests as the rule allows
(four HEADs for a first-time upload with the default profile; see its docstring).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cutout.events import UploadedObject
from cutout.events.uploaded_object import normalise_version_id
from cutout.failures import FailureReason
from cutout.storage import ObjectHead, ObjectStore
from cutout.storage.objects import WriteCondition, WriteConflict

SUPERSEDED_CODE = "superseded_by_newer_version"
SEQUENCER_METADATA = "source-sequencer"
LAST_MODIFIED_METADATA = "source-last-modified"
WRITE_ATTEMPTS = 3


def compare_sequencers(first: str, second: str) -> int:
    """-1, 0 or 1 as S3 documents it: left-pad the shorter with zeros, then compare as strings.

    Upper-cased first, so that equal-length strings compare as the hex values they spell
    (``"0F"`` < ``"10"``; ``"F"`` against ``"10"`` becomes ``"0F"`` against ``"10"``).
    """
    a, b = first.strip().upper(), second.strip().upper()
    width = max(len(a), len(b))
    a, b = a.rjust(width, "0"), b.rjust(width, "0")
    return (a > b) - (a < b)


@dataclass(frozen=True, slots=True)
class SourceStamp:
    """What orders the versions of one key: the event's sequencer, the version's last-modified time."""

    sequencer: str | None = None
    last_modified: datetime | None = None
    version_id: str | None = None

    @classmethod
    def of(cls, upload: UploadedObject, head: ObjectHead) -> SourceStamp:
        return cls(upload.sequencer, head.last_modified, upload.version_id or head.version_id)

    @classmethod
    def from_metadata(cls, metadata: dict[str, str]) -> SourceStamp:
        when = metadata.get(LAST_MODIFIED_METADATA)
        try:
            last_modified = datetime.fromisoformat(when) if when else None
        except ValueError:
            last_modified = None
        return cls(metadata.get(SEQUENCER_METADATA) or None, last_modified, metadata.get("source-version-id"))

    def metadata(self) -> dict[str, str]:
        """The output metadata that records this stamp."""
        recorded: dict[str, str] = {}
        if self.sequencer:
            recorded[SEQUENCER_METADATA] = self.sequencer
        if self.last_modified is not None:
            recorded[LAST_MODIFIED_METADATA] = _utc(self.last_modified).isoformat(timespec="microseconds")
        return recorded

    def is_older_than(self, other: SourceStamp) -> bool:
        """True only when known: by sequencer if both have different ones, else by last-modified time."""
        if self.version_id and self.version_id == other.version_id:
            return False
        if self.sequencer and other.sequencer:
            order = compare_sequencers(self.sequencer, other.sequencer)
            if order:
                return order < 0
        if self.last_modified is not None and other.last_modified is not None:
            return _utc(self.last_modified) < _utc(other.last_modified)
        return False


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Superseded:
    """This version lost to a newer one of its key; ``by`` says which, for the log."""

    by: str

    @property
    def code(self) -> str:
        return SUPERSEDED_CODE


class OutputWriteConflict(FailureReason):
    """Other writers kept changing the output between our check and our conditional PUT."""

    code = "output_write_conflict"
    retryable = True


class NewestVersionWins:
    """The step: is this version superseded, and the conditional PUT of its output if it is not."""

    def __init__(self, store: ObjectStore, output_bucket: str) -> None:
        self._store = store
        self._output_bucket = output_bucket

    def writes_for(self, upload: UploadedObject, head: ObjectHead) -> OrderedWrites:
        """The ordering of one upload's outputs: its pre-pay check, then its conditional writes."""
        return OrderedWrites(self._store, self._output_bucket, upload, head)

    def superseded(
        self, upload: UploadedObject, head: ObjectHead, output_keys: Sequence[str]
    ) -> Superseded | None:
        """Whether a newer version of the key exists (in the input bucket, or as an output)."""
        return self.writes_for(upload, head).superseded(output_keys)

    def write_unless_superseded(
        self,
        upload: UploadedObject,
        head: ObjectHead,
        output_key: str,
        write: Callable[[WriteCondition], None],
    ) -> Superseded | None:
        """Write the output (``write`` with the condition to send) unless a newer version has won."""
        return self.writes_for(upload, head)(output_key, write)


class UploadWrites(Protocol):
    """What the steps use of ``OrderedWrites`` (a test passes its own)."""

    def output(self, key: str) -> ObjectHead | None: ...

    def superseded(self, output_keys: Sequence[str]) -> Superseded | None: ...

    def __call__(self, output_key: str, write: Callable[[WriteCondition], None]) -> Superseded | None: ...


class OrderedWrites:
    """One upload's outputs, newest version wins, in as few S3 requests as the rule allows.

    - ``output(key)``: the HEAD of an output key, made once and remembered, so the stored-master
      lookup and the pre-pay check (``superseded``) share one HEAD of the master's key;
    - ``superseded(keys)``: before paying, the key's current version (a HEAD of the input) and
      the outputs under ``keys``;
    - calling it (``writes(key, write)``, a ``WriteGuard``) writes one output: the input is checked
      once, before the first write (not before each), then every PUT is conditional. A key seen
      absent, or any key of an upload whose outputs were all absent when looked at (a first-time
      upload), is written ``If-None-Match: *`` straight away; a key seen holding an older output,
      ``If-Match`` its ETag; otherwise its HEAD comes first. S3 refusing the PUT (412/409: written
      since) is the only time an output is looked at again. An output whose stamps cannot be
      ordered against ours (a backfill's, within one second) asks the input again, so the exact
      rule (the key's current version) decides there as it did before every write.

    Not thread-safe: one upload's writes are sequential.
    """

    def __init__(
        self, store: ObjectStore, output_bucket: str, upload: UploadedObject, head: ObjectHead
    ) -> None:
        self._store = store
        self._output_bucket = output_bucket
        self._upload = upload
        self._ours = SourceStamp.of(upload, head)
        self._seen: dict[str, ObjectHead | None] = {}
        self._all_absent: bool | None = None  # every output looked at so far was absent (None: none yet)
        self._input_checked = False

    def output(self, key: str) -> ObjectHead | None:
        """The output under ``key`` (``None``: absent), HEADed once for this upload."""
        if key not in self._seen:
            self._seen[key] = self._output_head(key)
        return self._seen[key]

    def superseded(self, output_keys: Sequence[str]) -> Superseded | None:
        """Whether a newer version of the key exists (in the input bucket, or as an output)."""
        newer_input = self._newer_input()
        if newer_input is not None:
            return newer_input
        for key in output_keys:
            newer_output = self._newer_output(key, self.output(key))
            if newer_output is not None:
                return newer_output
        return None

    def __call__(self, output_key: str, write: Callable[[WriteCondition], None]) -> Superseded | None:
        """Write the output (``write`` with the condition to send) unless a newer version has won."""
        input_fresh = not self._input_checked  # asked just now: no need to ask it again for this PUT
        if input_fresh:
            newer_input = self._newer_input()
            if newer_input is not None:
                return newer_input
            self._input_checked = True
        if output_key in self._seen:
            existing = self._seen.pop(output_key)  # as last seen: if it changed since, S3 says 412
        elif self._all_absent:
            existing = None  # a first-time upload: its other outputs were absent, so is this one
        else:
            existing = self._output_head(output_key)
        for attempt in range(WRITE_ATTEMPTS):
            superseded = self._judge(output_key, existing, ask_input=not (input_fresh and attempt == 0))
            if superseded is not None:
                return superseded
            try:
                write(
                    WriteCondition(if_match=existing.etag)
                    if existing is not None and existing.etag
                    else WriteCondition(if_absent=True)
                )
            except WriteConflict:
                self._all_absent = False  # a guess that failed is not made again for this upload
                if attempt < WRITE_ATTEMPTS - 1:
                    existing = self._output_head(output_key)  # another writer won: look again
                continue
            return None
        raise OutputWriteConflict(
            f"s3://{self._output_bucket}/{output_key} changed under {WRITE_ATTEMPTS} conditional writes"
        )

    def _judge(self, key: str, existing: ObjectHead | None, *, ask_input: bool) -> Superseded | None:
        """``existing`` output of ``key``: newer than ours, or unordered and the input says so."""
        superseded = self._newer_output(key, existing)
        if superseded is not None or existing is None or not ask_input:
            return superseded
        if existing.metadata.get("source-bucket") not in (None, self._upload.bucket):
            return None  # not made from this key's bucket: nothing to order against
        theirs = SourceStamp.from_metadata(existing.metadata)
        ours_too = bool(theirs.version_id) and theirs.version_id == self._ours.version_id
        if ours_too or theirs.is_older_than(self._ours):
            return None  # our own output (a redelivery), or an older version's: replace it
        # Stamps that cannot be ordered (no sequencers, the same second): the current version decides.
        return self._newer_input()

    def _output_head(self, key: str) -> ObjectHead | None:
        try:
            head = self._store.head(self._output_bucket, key)
        except FailureReason:
            head = None
        self._all_absent = (self._all_absent is not False) and head is None
        return head

    def _newer_output(self, key: str, existing: ObjectHead | None) -> Superseded | None:
        """``existing`` (the output under ``key``), if it was made from a newer version than ours."""
        if existing is None or existing.metadata.get("source-bucket") not in (None, self._upload.bucket):
            return None  # nothing there, or not made from this key's bucket: nothing to order against
        if self._ours.is_older_than(SourceStamp.from_metadata(existing.metadata)):
            return Superseded(by=f"the output s3://{self._output_bucket}/{key} of a newer version")
        return None

    def _newer_input(self) -> Superseded | None:
        """The key's current version, if it is not ours: then it is a newer one (the exact rule)."""
        upload = self._upload
        version_id = normalise_version_id(self._ours.version_id)
        if version_id is None:
            # Unversioned (or versioning suspended: the "null" version is overwritten in place): what
            # is there now is what we read, and the outputs' stamps order it (``_newer_output``).
            return None
        try:
            current = self._store.head(upload.bucket, upload.key)
        except FailureReason:
            return None  # deleted since (or unreadable): nothing newer to defer to
        if not current.version_id:
            return None  # a store that names no version (S3 always does on a versioned bucket)
        if current.version_id != version_id:
            # S3's current version is the newest still there, and ours still exists: a newer one
            # was written after it. No times compared (whole seconds cannot tell such versions apart).
            return Superseded(by=f"version {current.version_id} of s3://{upload.bucket}/{upload.key}")
        return None
