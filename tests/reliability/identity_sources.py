"""Every way one object version can reach the work queue, as the message body each source sends.

Used by the identity tests: each builder takes the facts of one stored object (as S3 would know
them) and writes the body its source sends, with exactly the facts that source carries.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, quote_plus

from cutout.events import FailureRecord, UploadedObject
from cutout_tools.operations.backfill import ExistingObject, s3_notification_for
from cutout_tools.operations.inventory import notification_for_row, parse_rows

REGION = "us-east-1"
TOPIC = "arn:aws:sns:us-east-1:123456789012:shop-photos-uploaded"
INVENTORY_FIELDS = (
    "Bucket",
    "Key",
    "VersionId",
    "IsLatest",
    "IsDeleteMarker",
    "Size",
    "LastModifiedDate",
    "ETag",
)


@dataclass(frozen=True, slots=True)
class StoredFacts:
    """One object version as S3 knows it (``version_id`` ``None``: an unversioned bucket)."""

    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int
    last_modified: datetime
    sequencer: str = "0065F8A2D4B86A21C0"


def s3_event(facts: StoredFacts) -> str:
    """S3 -> SQS as AWS sends it: versionId on a versioned bucket, always a sequencer."""
    entry: dict[str, object] = {
        "key": quote_plus(facts.key, safe="/"),
        "size": facts.size,
        "eTag": facts.etag,
        "sequencer": facts.sequencer,
    }
    if facts.version_id:
        entry["versionId"] = facts.version_id
    return json.dumps(_s3_notification(facts, entry))


def s3_event_moto(facts: StoredFacts) -> str:
    """S3 -> SQS as moto sends it: no versionId (even on a versioned bucket), no sequencer."""
    entry = {"key": quote_plus(facts.key, safe="/"), "size": facts.size, "eTag": facts.etag}
    return json.dumps(_s3_notification(facts, entry))


def _s3_notification(facts: StoredFacts, entry: dict[str, object]) -> dict[str, object]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2025-11-20T09:03:22.204Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": facts.bucket, "arn": f"arn:aws:s3:::{facts.bucket}"},
                    "object": entry,
                },
            }
        ]
    }


def eventbridge(facts: StoredFacts) -> str:
    """S3 -> EventBridge -> SQS: the key not encoded, ``version-id`` on a versioned bucket."""
    entry: dict[str, object] = {
        "key": facts.key,
        "size": facts.size,
        "etag": facts.etag,
        "sequencer": facts.sequencer,
    }
    if facts.version_id:
        entry["version-id"] = facts.version_id
    return json.dumps(
        {
            "version": "0",
            "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": "123456789012",
            "time": "2025-11-20T09:03:22Z",
            "region": REGION,
            "resources": [f"arn:aws:s3:::{facts.bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": facts.bucket},
                "object": entry,
                "reason": "PutObject",
            },
        }
    )


def _sns(message: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "d88d4479-6ec0-54fe-b63f-1cf9df4bb16e",
            "TopicArn": TOPIC,
            "Subject": "Amazon S3 Notification",
            "Message": message,
            "Timestamp": "2025-11-20T09:03:22.287Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        },
        indent=2,
    )


def sns_s3_event(facts: StoredFacts) -> str:
    """S3 -> SNS -> SQS without raw delivery: the S3 notification is the envelope's Message."""
    return _sns(s3_event(facts))


def sns_eventbridge(facts: StoredFacts) -> str:
    """EventBridge -> SNS -> SQS: the EventBridge event is the envelope's Message."""
    return _sns(eventbridge(facts))


def backfill_listing(facts: StoredFacts) -> str:
    """``cutout backfill s3://bucket/prefix``: what a listing gives (version id when versioned)."""
    listed = ExistingObject(
        key=facts.key,
        size=facts.size,
        etag=facts.etag,
        version_id=facts.version_id,
        last_modified=facts.last_modified,
    )
    return json.dumps(s3_notification_for(facts.bucket, listed, REGION))


def inventory_row(facts: StoredFacts) -> str:
    """``cutout backfill --inventory``: one CSV row of an S3 Inventory report, key URL-encoded."""
    line = io.StringIO()
    csv.writer(line, quoting=csv.QUOTE_ALL).writerow(
        [
            facts.bucket,
            quote(facts.key, safe="/"),
            facts.version_id or "",
            "true",
            "false",
            str(facts.size),
            facts.last_modified.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            facts.etag,
        ]
    )
    (row,) = parse_rows([line.getvalue()], INVENTORY_FIELDS, "inventory.csv")
    return json.dumps(notification_for_row(facts.bucket, row, REGION))


def replay_of(record_json: str) -> str:
    """``cutout dlq replay``: the DLQ record itself goes back to the work queue, unchanged."""
    FailureRecord.from_json(record_json)  # it is one
    return record_json


def record_for(upload: UploadedObject) -> str:
    """A DLQ record of ``upload`` as the pipeline writes it (a permanent rejection)."""
    error = {"code": "image_too_small", "message": "The image is 10×10 pixels.", "retryable": False}
    return FailureRecord.for_upload(upload, error, attempts=1, failed_at="2025-11-20T09:04:00.000Z").to_json()


SOURCES: dict[str, Callable[[StoredFacts], str]] = {
    "s3-event": s3_event,
    "s3-event-moto": s3_event_moto,
    "eventbridge": eventbridge,
    "sns-s3-event": sns_s3_event,
    "sns-eventbridge": sns_eventbridge,
    "backfill-listing": backfill_listing,
    "inventory-row": inventory_row,
}
