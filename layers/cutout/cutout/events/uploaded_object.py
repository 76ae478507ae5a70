"""A reference to one uploaded object version: what every incoming event is turned into.

The pipeline never trusts an event's shape past the parser: S3 notifications (direct, through SNS),
EventBridge events, backfill and inventory messages and our own DLQ failure records all become an
``UploadedObject``, whose ``identity`` is the key of the idempotency store. Two messages about the
same object version must give the same identity (so a redelivery, a backfill or a replay never
pays twice and never makes a second outcome), and two different uploads of one key must not.
Events disagree on what they carry (an unversioned bucket's have no ``versionId``, a backfill has
no ``sequencer``), so the identity is resolved from the object itself: ``cutout.events.identity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# With versioning suspended, S3 gives every new object the version id "null", the same for each
# overwrite of a key: it names no version, so it must not count as one for the identity.
SUSPENDED_VERSION_ID = "null"


def normalise_version_id(version_id: str | None) -> str | None:
    """``None`` for a missing, empty or suspended-versioning ("null") version id."""
    if not version_id or version_id == SUSPENDED_VERSION_ID:
        return None
    return version_id


def normalise_etag(etag: str | None) -> str | None:
    """The ETag without the quotes S3 sometimes keeps around it; ``None`` if empty."""
    if etag is None:
        return None
    return etag.strip().strip('"') or None


@dataclass(frozen=True, slots=True)
class UploadedObject:
    """One object version in the input bucket, with the facts its event gave.

    ``key`` is always decoded (the real key, as ``GetObject`` wants it). ``replay_of`` is set
    when the object comes from a DLQ failure record being replayed: the error it failed with.
    It takes no part in equality or hashing, so a replay equals the original upload.
    """

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    sequencer: str | None = None
    size: int | None = None
    event_time: str | None = None
    # The object's Last-Modified (ISO-8601 UTC, whole seconds), known once resolved from its HEAD.
    last_modified: str | None = None
    replay_of: dict[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "version_id", normalise_version_id(self.version_id))
        object.__setattr__(self, "etag", normalise_etag(self.etag))
        object.__setattr__(self, "sequencer", self.sequencer or None)
        object.__setattr__(self, "last_modified", self.last_modified or None)

    @property
    def replay_marker(self) -> str | None:
        """Which failure this replay re-attempts (``None``: not a replay).

        The failure record's ``failed_at`` and its code: a replay that fails again at once can be
        recorded in the same millisecond as the failure it replayed, and its own replay must still be
        told apart from that first one.
        """
        if not self.replay_of:
            return None
        failed_at, code = self.replay_of.get("failed_at"), self.replay_of.get("code")
        return "|".join(str(part) for part in (failed_at, code) if part) or "replay"

    @property
    def identity(self) -> str:
        """The idempotency identity of this object version.

        ``bucket/key`` plus, by preference:

        - ``#v:<versionId>``: on a versioned bucket every upload gets a new version id.
        - ``#e:<etag>@<last_modified>``: on an unversioned bucket, the content and the moment of
          the write (both from the object's HEAD; see ``cutout.events.identity``). ``@...`` is
          left out when the write time is unknown (an object that could not be looked up).
        - ``#s:<sequencer>``: only when neither is known (the object is gone).

        With none of them the identity is ``bucket/key`` alone.
        """
        base = f"{self.bucket}/{self.key}"
        if self.version_id:
            return f"{base}#v:{self.version_id}"
        if self.etag:
            written = f"@{self.last_modified}" if self.last_modified else ""
            return f"{base}#e:{self.etag}{written}"
        if self.sequencer:
            return f"{base}#s:{self.sequencer}"
        return base

    @property
    def is_folder_placeholder(self) -> bool:
        """The console's "Create folder" writes an empty object whose key ends with ``/``."""
        return self.key.endswith("/") and not self.size

    @property
    def is_replay(self) -> bool:
        return self.replay_of is not None

    def to_dict(self) -> dict[str, Any]:
        """The source facts, as DLQ records and logs carry them (``replay_of`` left out)."""
        return {
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "etag": self.etag,
            "sequencer": self.sequencer,
            "size": self.size,
            "event_time": self.event_time,
            "last_modified": self.last_modified,
        }
