"""The held uploads of an output bucket, as the review page lists them: newest first.

The gate holds every output of a doubtful upload under ``review/``; a decision covers them all. So
the page's unit is the upload: the held objects are grouped by the source their ``source-*``
metadata names (as ``review_decisions.held_upload`` finds siblings), which needs one HEAD per held
object. A held object never changes in place (a newer upload held again gets a new ETag), so each
HEAD is kept by (key, ETag): a page listing thousands of held items lists ``review/`` each time
(1,000 keys a request) and HEADs only what it has not seen, a few at a time in parallel.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cutout.events import UploadedObject
from cutout.quality_gate.review import REVIEW_METADATA, REVIEW_PREFIX
from cutout_tools.review_decisions import HeldObject, upload_of

HEAD_WORKERS = 16
_SOURCE_FIELDS = ("source-bucket", "source-key", "source-version-id", "source-etag")


@dataclass(frozen=True, slots=True)
class Listed:
    """One object under ``review/`` as the listing gives it."""

    key: str
    etag: str
    size: int
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class HeldGroup:
    """One held upload: every held output of it (sorted by key) and what the page filters on."""

    upload: UploadedObject
    objects: tuple[HeldObject, ...]
    reasons: tuple[str, ...]
    held_at: datetime  # the newest of its held objects

    @property
    def key(self) -> str:
        """The held key a decision is asked for (any of them would do: it covers the upload)."""
        return self.objects[0].key

    @property
    def seen(self) -> dict[str, str]:
        """Each held key and its ETag: what a person decides on (a stale decision is refused)."""
        return {item.key: item.etag for item in self.objects}

    def matches(self, reason: str, prefix: str) -> bool:
        if reason and reason not in self.reasons:
            return False
        if not prefix:
            return True
        return self.upload.key.startswith(prefix) or any(
            item.published_key.startswith(prefix) for item in self.objects
        )


@dataclass(frozen=True, slots=True)
class HeldListing:
    """Every held upload matching a filter, newest first, and the reasons over all of them."""

    groups: tuple[HeldGroup, ...]
    total: int  # held uploads before the filter
    reason_counts: tuple[tuple[str, int], ...]  # over every held upload, most frequent first


class HeldQueue:
    """Reads ``review/`` of ``bucket`` through ``s3`` (a boto3 client: thread-safe)."""

    def __init__(self, s3: Any, bucket: str, *, workers: int = HEAD_WORKERS) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._workers = workers
        self._heads: dict[tuple[str, str], HeldObject] = {}
        self._lock = threading.Lock()  # guards _heads
        self._reading = threading.Lock()  # one listing at a time: a second waits, then finds the HEADs kept

    @property
    def bucket(self) -> str:
        return self._bucket

    def listing(self, *, reason: str = "", prefix: str = "") -> HeldListing:
        """The held uploads matching ``reason`` (a gate reason code) and ``prefix`` (of the upload's
        key or of a published key), newest first."""
        with self._reading:
            listed = list(self._list())
            objects = self._read(listed)
        groups = _grouped(listed, objects)
        counts = Counter(reason for group in groups for reason in group.reasons)
        chosen = tuple(group for group in groups if group.matches(reason, prefix))
        return HeldListing(
            groups=chosen,
            total=len(groups),
            reason_counts=tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
        )

    def warm(self) -> threading.Thread:
        """Read every held object now, in a thread, so the first page finds them read (an error is
        left for the page to show)."""

        def read_all() -> None:
            with contextlib.suppress(Exception):  # the page meets the same error, and says it as a sentence
                self.listing()

        thread = threading.Thread(target=read_all, daemon=True, name="review-queue-warm-up")
        thread.start()
        return thread

    def forget(self, keys: Iterable[str]) -> None:
        """Drop what is known of ``keys`` (decided: gone, or to be read again)."""
        gone = set(keys)
        with self._lock:
            for cached in [cached for cached in self._heads if cached[0] in gone]:
                del self._heads[cached]

    def _list(self) -> Iterable[Listed]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=REVIEW_PREFIX):
            for item in page.get("Contents", []):
                yield Listed(
                    key=item["Key"],
                    etag=str(item.get("ETag", "")),
                    size=int(item.get("Size", 0)),
                    last_modified=item["LastModified"],
                )

    def _read(self, listed: list[Listed]) -> dict[str, HeldObject]:
        """Each listed object's HEAD, from the cache or read now (in parallel); gone ones are left out."""
        with self._lock:
            known = {item.key: self._heads.get((item.key, item.etag)) for item in listed}
            current = {(item.key, item.etag) for item in listed}
            for stale in [cached for cached in self._heads if cached not in current]:
                del self._heads[stale]  # decided, or replaced by a newer held object
        missing = [item for item in listed if known[item.key] is None]
        if missing:
            with ThreadPoolExecutor(max_workers=self._workers) as pool:
                for item, found in zip(missing, pool.map(self._head, missing), strict=True):
                    known[item.key] = found
        return {key: held for key, held in known.items() if held is not None}

    def _head(self, item: Listed) -> HeldObject | None:
        from botocore.exceptions import ClientError

        try:
            head = self._s3.head_object(Bucket=self._bucket, Key=item.key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None  # decided between the listing and the HEAD
            raise
        held = HeldObject(
            key=item.key,
            metadata=dict(head.get("Metadata", {})),
            content_type=str(head.get("ContentType", "application/octet-stream")),
            size=int(head.get("ContentLength", item.size)),
            etag=str(head.get("ETag", item.etag)),
        )
        with self._lock:
            self._heads[(item.key, held.etag)] = held
        return held


def _identity(held: HeldObject) -> tuple[str, ...]:
    """What groups held objects into one upload: the source they name (as ``held_upload`` does);
    an object whose source key is not known whole stands alone."""
    metadata = held.metadata
    if metadata.get("source-key-truncated") == "true" or not metadata.get("source-key"):
        return ("key", held.key)
    return tuple(metadata.get(name, "") for name in _SOURCE_FIELDS)


def _grouped(listed: list[Listed], objects: dict[str, HeldObject]) -> list[HeldGroup]:
    when = {item.key: item.last_modified for item in listed}
    members: dict[tuple[str, ...], list[HeldObject]] = {}
    for held in objects.values():
        members.setdefault(_identity(held), []).append(held)
    groups = []
    for found in members.values():
        found.sort(key=lambda held: held.key)
        first = found[0]
        groups.append(
            HeldGroup(
                upload=upload_of(first.metadata),
                objects=tuple(found),
                reasons=tuple(filter(None, first.metadata.get(REVIEW_METADATA, "").split(","))),
                held_at=max(when[held.key] for held in found),
            )
        )
    groups.sort(key=lambda group: (group.held_at, group.key), reverse=True)
    return groups
