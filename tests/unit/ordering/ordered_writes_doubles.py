"""What the ``OrderedWrites`` tests share: S3's requests scripted (Stubber), and an in-memory store
that records our requests and lets another writer land between our check and our PUT.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

import boto3
from botocore.stub import ANY, Stubber

from cutout.events import UploadedObject
from cutout.ordering import SourceStamp
from cutout.storage import ObjectHead, S3ObjectStore
from cutout.storage.objects import WriteCondition, WriteConflict
from tests.fakes import InMemoryObjectStore

INPUT, OUTPUT, KEY = "in", "out", "shoe.jpg"
MASTER, VARIANT = "masters/shoe.jpg.png", "amazon-main/shoe.jpg.jpg"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OURS, NEWER = "v-ours", "v-newer"


# --- the S3 requests, exactly (Stubber) ---------------------------------------------------------


def stubbed() -> tuple[Stubber, S3ObjectStore]:
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    return Stubber(client), S3ObjectStore(client)


def head_input(stubber: Stubber, current: str) -> None:
    stubber.add_response(
        "head_object",
        {"ContentLength": 10, "ETag": '"in"', "VersionId": current, "LastModified": T0, "Metadata": {}},
        {"Bucket": INPUT, "Key": KEY},
    )


def head_output(stubber: Stubber, key: str, metadata: dict[str, str] | None, etag: str = "out1") -> None:
    if metadata is None:  # HEAD has no body: S3 answers a bare 404, which botocore names "404"
        stubber.add_client_error(
            "head_object",
            service_error_code="404",
            http_status_code=404,
            expected_params={"Bucket": OUTPUT, "Key": key},
        )
        return
    stubber.add_response(
        "head_object",
        {"ContentLength": 5, "ETag": f'"{etag}"', "LastModified": T0, "Metadata": metadata},
        {"Bucket": OUTPUT, "Key": key},
    )


def put(stubber: Stubber, key: str, condition: dict[str, str], error: str | None = None) -> None:
    expected = {
        "Bucket": OUTPUT,
        "Key": key,
        "Body": ANY,
        "ContentType": "image/png",
        "Metadata": ANY,
        **condition,
    }
    if error is None:
        stubber.add_response("put_object", {"ETag": '"new"'}, expected)
    else:  # a lost conditional PUT: 412 PreconditionFailed, 409 ConditionalRequestConflict
        status = 412 if error == "PreconditionFailed" else 409
        stubber.add_client_error(
            "put_object", service_error_code=error, http_status_code=status, expected_params=expected
        )


def ours() -> tuple[UploadedObject, ObjectHead]:
    upload = UploadedObject(INPUT, KEY, version_id=OURS, sequencer="0B")
    return upload, ObjectHead(10, "in", OURS, "image/jpeg", {}, T0)


def output_of(version: str, sequencer: str) -> dict[str, str]:
    return {"source-bucket": INPUT, "source-version-id": version, "source-sequencer": sequencer}


def writer(store: S3ObjectStore, key: str) -> Callable[[WriteCondition], None]:
    def write(condition: WriteCondition) -> None:
        store.put(OUTPUT, key, io.BytesIO(b"png"), "image/png", {"source-bucket": INPUT}, condition=condition)

    return write


# --- the rule, on the in-memory store -------------------------------------------------------------


def memory_writer(
    store: InMemoryObjectStore, key: str, upload: UploadedObject, when: datetime
) -> Callable[[WriteCondition], None]:
    """Writes ``key`` as the output of ``upload`` whose source was last modified ``when``."""

    def write(condition: WriteCondition) -> None:
        metadata = {
            "source-bucket": INPUT,
            "source-version-id": upload.version_id or "",
            **SourceStamp(None, when, upload.version_id).metadata(),
        }
        store.put(OUTPUT, key, io.BytesIO(b"png"), "image/png", metadata, condition=condition)

    return write


@dataclass(frozen=True, slots=True)
class Request:
    """One request we sent: ``HEAD`` (``found``: an object was there) or ``PUT`` (``found``: accepted)."""

    verb: str
    bucket: str
    key: str
    found: bool
    condition: WriteCondition | None = None

    @property
    def header(self) -> str | None:
        """The PUT's condition as S3 receives it: ``If-Match``, ``If-None-Match`` or none."""
        if self.condition is not None and self.condition.if_match:
            return "If-Match"
        if self.condition is not None and self.condition.if_absent:
            return "If-None-Match"
        return None


class RecordingStore(InMemoryObjectStore):
    """The in-memory store, recording every HEAD and PUT we send, in order.

    ``before_put`` queues what other writers do between our check and our next PUT to the output
    bucket (one entry per PUT; ``None``: nobody). What they write (``land``) is not recorded.
    """

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Request] = []
        self.before_put: list[Callable[[], None] | None] = []
        self._landed = 0

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectHead:
        try:
            found = super().head(bucket, key, version_id)
        except Exception:
            self.requests.append(Request("HEAD", bucket, key, found=False))
            raise
        self.requests.append(Request("HEAD", bucket, key, found=True))
        return found

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
        if bucket == OUTPUT and self.before_put:
            rival = self.before_put.pop(0)
            if rival is not None:
                rival()
        try:
            super().put(bucket, key, body, content_type, metadata, condition=condition, tags=tags)
        except WriteConflict:
            self.requests.append(Request("PUT", bucket, key, found=False, condition=condition))
            raise
        self.requests.append(Request("PUT", bucket, key, found=True, condition=condition))

    def land(self, key: str, source_version: str, when: datetime, sequencer: str | None = None) -> None:
        """Another writer's output of ``source_version`` under ``key`` (new bytes: a new ETag)."""
        self._landed += 1
        metadata = {
            "source-bucket": INPUT,
            "source-version-id": source_version,
            **SourceStamp(sequencer, when, source_version).metadata(),
        }
        data = f"png of {source_version}, #{self._landed}".encode()
        InMemoryObjectStore.put(self, OUTPUT, key, io.BytesIO(data), "image/png", metadata)

    def sent(self, verb: str, bucket: str, key: str | None = None) -> list[Request]:
        """Our requests of ``verb`` to ``bucket`` (and ``key``), in order."""
        return [
            request
            for request in self.requests
            if request.verb == verb and request.bucket == bucket and (key is None or request.key == key)
        ]
