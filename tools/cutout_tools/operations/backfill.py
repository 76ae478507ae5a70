"""Enqueueing objects that are already in the input bucket, as if they had just been uploaded.

Each object becomes the S3 event notification S3 would have sent for it (``ObjectCreated:Put``,
the key URL-encoded the way S3 encodes it, size, ETag, and the version id on a versioned bucket),
one record per message so each object succeeds or fails on its own, sent ten messages per
``SendMessageBatch``. The function then decides per object: an object whose cut-out already exists
for the same bytes (``source-etag``) is skipped before any paid call, and an event about an object
version it already processed gets the stored outcome. So a backfill never pays twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from cutout.events import iso_utc
from cutout.events.uploaded_object import normalise_etag, normalise_version_id
from cutout_tools.operations.dead_letters import SQS_BATCH

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

BACKFILL_PRINCIPAL = "cutout-backfill"


@dataclass(frozen=True, slots=True)
class S3Location:
    """``s3://bucket/prefix``; the prefix may be empty (the whole bucket)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """Parse ``s3://bucket[/prefix]``; ``ValueError`` with the expected form otherwise."""
        scheme, separator, rest = url.partition("://")
        bucket, _, prefix = rest.partition("/")
        if scheme != "s3" or not separator or not bucket:
            raise ValueError(f"expected s3://BUCKET/PREFIX, got {url!r}")
        return cls(bucket=bucket, prefix=prefix)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True, slots=True)
class ExistingObject:
    """The current version of one object, as a listing gives it."""

    key: str
    size: int
    etag: str | None
    version_id: str | None
    last_modified: datetime

    @property
    def is_folder_placeholder(self) -> bool:
        return self.key.endswith("/")


def existing_objects(s3: S3Client, location: S3Location) -> Iterator[ExistingObject]:
    """Every current object under the prefix, with its version id when the bucket keeps versions."""
    versioning = s3.get_bucket_versioning(Bucket=location.bucket).get("Status")
    if versioning in ("Enabled", "Suspended"):
        for versions_page in s3.get_paginator("list_object_versions").paginate(
            Bucket=location.bucket, Prefix=location.prefix
        ):
            for version in versions_page.get("Versions", []):
                if version.get("IsLatest"):
                    yield ExistingObject(
                        key=version["Key"],
                        size=version.get("Size", 0),
                        etag=normalise_etag(version.get("ETag")),
                        # "null": written while versioning was suspended; S3's events omit it then.
                        version_id=normalise_version_id(version.get("VersionId")),
                        last_modified=version.get("LastModified", datetime.now(UTC)),
                    )
        return
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=location.prefix):
        for item in page.get("Contents", []):
            yield ExistingObject(
                key=item["Key"],
                size=item.get("Size", 0),
                etag=normalise_etag(item.get("ETag")),
                version_id=None,
                last_modified=item.get("LastModified", datetime.now(UTC)),
            )


def s3_notification_for(bucket: str, item: ExistingObject, region: str) -> dict[str, Any]:
    """The S3 event notification S3 sends for a PUT of ``item`` (no ``sequencer``: only S3 has one)."""
    entry: dict[str, Any] = {"key": quote_plus(item.key, safe="/"), "size": item.size}
    if item.etag:
        entry["eTag"] = item.etag
    if item.version_id:
        entry["versionId"] = item.version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": iso_utc(item.last_modified),
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": BACKFILL_PRINCIPAL},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": BACKFILL_PRINCIPAL,
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": BACKFILL_PRINCIPAL},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": entry,
                },
            }
        ]
    }


@dataclass(frozen=True, slots=True)
class BackfillSummary:
    """What a backfill enqueued (or, with ``dry_run``, would enqueue)."""

    enqueued: int
    skipped_placeholders: int
    failed: int
    dry_run: bool
    keys: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()


def backfill(
    s3: S3Client,
    sqs: SQSClient,
    location: S3Location,
    work_queue_url: str,
    *,
    dry_run: bool = False,
) -> BackfillSummary:
    """Enqueue one S3 notification per object under ``location`` (folder placeholders skipped)."""
    region = s3.meta.region_name
    keys: list[str] = []
    failures: list[str] = []
    placeholders = enqueued = 0
    pending: list[ExistingObject] = []

    def flush() -> None:
        nonlocal enqueued
        if not pending:
            return
        if dry_run:
            enqueued += len(pending)
            pending.clear()
            return
        answer = sqs.send_message_batch(
            QueueUrl=work_queue_url,
            Entries=[
                {
                    "Id": str(index),
                    "MessageBody": json.dumps(s3_notification_for(location.bucket, item, region)),
                }
                for index, item in enumerate(pending)
            ],
        )
        enqueued += len(answer.get("Successful", []))
        failures.extend(
            f"{pending[int(entry['Id'])].key}: {entry.get('Code', '?')} {entry.get('Message', '')}".rstrip()
            for entry in answer.get("Failed", [])
        )
        pending.clear()

    for item in existing_objects(s3, location):
        if item.is_folder_placeholder:
            placeholders += 1
            continue
        keys.append(item.key)
        pending.append(item)
        if len(pending) == SQS_BATCH:
            flush()
    flush()
    return BackfillSummary(
        enqueued=enqueued,
        skipped_placeholders=placeholders,
        failed=len(failures),
        dry_run=dry_run,
        keys=tuple(keys),
        failures=tuple(failures),
    )
