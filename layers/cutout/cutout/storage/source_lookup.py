"""Look the uploaded object up: its identity settled (``cutout.events.identity``), then its HEAD."""

from __future__ import annotations

from cutout.events import UploadedObject
from cutout.events.identity import ResolvedUpload, resolve_upload
from cutout.storage.objects import ObjectHead, ObjectStore
from cutout.timings import stage


class SourceLookup:
    """``identify`` before the outcome checkpoint, ``head`` inside it (only if identify made none)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def identify(self, upload: UploadedObject) -> ResolvedUpload[ObjectHead]:
        """One identity per object version whichever way it came (event, backfill, replay...):
        settled from the object's HEAD when the message names no version."""
        return resolve_upload(upload, self.store.head)

    def head(self, upload: UploadedObject, known: ObjectHead | None) -> ObjectHead:
        """``known`` (the HEAD that settled the identity, reused), else the object version's HEAD."""
        if known is not None:
            return known
        with stage("head"):
            return self.store.head(upload.bucket, upload.key, upload.version_id)
