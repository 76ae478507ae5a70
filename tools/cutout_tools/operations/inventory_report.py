"""Writing an S3 Inventory report in S3's own format (manifest.json + gzip CSV), for tests and the bench.

S3 writes a report under ``<prefix>/<source bucket>/<configuration id>/<YYYY-MM-DDTHH-MMZ>/``:
``manifest.json`` (``sourceBucket``, ``destinationBucket`` as an ARN, ``version`` "2016-11-30",
``creationTimestamp`` in epoch milliseconds, ``fileFormat`` "CSV", ``fileSchema``, ``files[]`` of
``key``/``size``/``MD5checksum``) and data files ``data/<uuid>.csv.gz``: no header, every field
quoted, keys URL-encoded.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_SCHEMA = (
    "Bucket",
    "Key",
    "VersionId",
    "IsLatest",
    "IsDeleteMarker",
    "Size",
    "LastModifiedDate",
    "ETag",
    "StorageClass",
)


@dataclass(frozen=True, slots=True)
class ReportObject:
    key: str
    size: int
    etag: str
    last_modified: datetime
    version_id: str | None = None
    is_latest: bool = True
    is_delete_marker: bool = False
    storage_class: str = "STANDARD"


def _csv_row(bucket: str, item: ReportObject) -> list[str]:
    return [
        bucket,
        quote(item.key, safe="/"),
        item.version_id or "",
        "true" if item.is_latest else "false",
        "true" if item.is_delete_marker else "false",
        "" if item.is_delete_marker else str(item.size),
        item.last_modified.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "" if item.is_delete_marker else item.etag,
        item.storage_class,
    ]


def csv_gz(bucket: str, items: Iterable[ReportObject]) -> bytes:
    """One data file: gzip CSV, every field quoted, no header (as S3 writes them)."""
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for item in items:
        writer.writerow(_csv_row(bucket, item))
    return gzip.compress(text.getvalue().encode("utf-8"), compresslevel=6)


def _chunks(items: Iterable[ReportObject], size: int) -> Iterator[list[ReportObject]]:
    chunk: list[ReportObject] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def put_report(
    s3: S3Client,
    *,
    source_bucket: str,
    destination_bucket: str,
    items: Iterable[ReportObject],
    rows_per_file: int = 250_000,
    prefix: str = "inventory",
    configuration_id: str = "daily",
    created: datetime | None = None,
) -> str:
    """Write a report into ``destination_bucket``; returns ``s3://.../manifest.json``."""
    created = created or datetime.now(UTC)
    folder = f"{prefix}/{source_bucket}/{configuration_id}/{created:%Y-%m-%dT%H-%MZ}"
    files = []
    for chunk in _chunks(items, rows_per_file):
        body = csv_gz(source_bucket, chunk)
        key = f"{prefix}/{source_bucket}/{configuration_id}/data/{uuid.uuid4()}.csv.gz"
        s3.put_object(Bucket=destination_bucket, Key=key, Body=body)
        files.append(
            {
                "key": key,
                "size": len(body),
                "MD5checksum": hashlib.md5(body, usedforsecurity=False).hexdigest(),
            }
        )
    manifest = {
        "sourceBucket": source_bucket,
        "destinationBucket": f"arn:aws:s3:::{destination_bucket}",
        "version": "2016-11-30",
        "creationTimestamp": str(int(created.timestamp() * 1000)),
        "fileFormat": "CSV",
        "fileSchema": ", ".join(DEFAULT_SCHEMA),
        "files": files,
    }
    manifest_key = f"{folder}/manifest.json"
    s3.put_object(Bucket=destination_bucket, Key=manifest_key, Body=json.dumps(manifest, indent=4).encode())
    return f"s3://{destination_bucket}/{manifest_key}"
