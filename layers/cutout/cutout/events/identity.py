"""One identity per object version, whichever way the object arrived.

Sources disagree on what they say about an object: an S3 notification from a versioned bucket
carries ``versionId`` (moto's own do not; the local stack adds it, as S3 does), EventBridge spells
it ``version-id``, a notification from an unversioned bucket has a ``sequencer`` and an ETag, a
backfill listing or an S3 Inventory row has the version id or the ETag but never a sequencer, and a
DLQ record has whatever its source had.
Taking the identity from the message would split one upload into several (one DLQ record from
its event, a second from a backfill of the same prefix). So the identity is resolved the same way
for every source, from the object itself:

- the message names a version id: that is the version (a HEAD of it would say the same);
- otherwise the object's current HEAD decides: its ``VersionId`` on a versioned bucket, else its
  ETag and Last-Modified (the content and the moment of the write; with the ETag alone, a key
  re-uploaded A → B → A would take A's old outcome and leave B's cut-out in place).

The HEAD is not a stand-in's workaround: an unversioned bucket's events, a backfill of one and
their DLQ records name no version, and only the object can say which write they mean.
Resolution costs one HEAD for a message without a version id, which the conductor then reuses
for its own checks (so the first delivery makes no extra call; a duplicate makes one HEAD where it
made none). If the HEAD fails (the object was deleted, S3 is unreachable), the upload stays as the
message described it and the conductor's own HEAD reports the failure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from cutout.events.uploaded_object import UploadedObject, normalise_etag, normalise_version_id


class ObjectFacts(Protocol):
    """What a HEAD answers that the identity needs (``cutout.storage.ObjectHead`` has it)."""

    @property
    def etag(self) -> str | None: ...

    @property
    def version_id(self) -> str | None: ...

    @property
    def last_modified(self) -> datetime | None: ...


HeadT = TypeVar("HeadT", bound=ObjectFacts)


@dataclass(frozen=True, slots=True)
class ResolvedUpload(Generic[HeadT]):
    """The upload with its identity settled, and the HEAD that settled it (``None`` if none was made)."""

    upload: UploadedObject
    head: HeadT | None


def written_at(moment: datetime | None) -> str | None:
    """Last-Modified as the identity writes it: ISO-8601 UTC, whole seconds (HEAD's precision)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def resolve_upload(upload: UploadedObject, head_object: Callable[[str, str], HeadT]) -> ResolvedUpload[HeadT]:
    """``upload`` with the version facts its identity is made of, the same for every source.

    ``head_object(bucket, key)`` is the HEAD of the key's current version.
    """
    if upload.version_id:
        return ResolvedUpload(upload, None)
    try:
        head = head_object(upload.bucket, upload.key)
    except Exception:  # noqa: BLE001  (the conductor's own HEAD reports it, inside its failure handling)
        return ResolvedUpload(upload, None)
    return ResolvedUpload(with_object_facts(upload, head), head)


def with_object_facts(upload: UploadedObject, head: ObjectFacts) -> UploadedObject:
    """``upload`` as the object's HEAD describes it: its version, else its ETag and write time."""
    version_id = normalise_version_id(head.version_id)
    if version_id:
        return dataclasses.replace(upload, version_id=version_id, etag=head.etag or upload.etag)
    return dataclasses.replace(
        upload,
        etag=normalise_etag(head.etag) or upload.etag,
        last_modified=written_at(head.last_modified),
    )
