"""Every incoming shape becomes UploadedObjects, an ignored note, or a typed UnrecognisedMessage."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from cutout.events import (
    IgnoreReason,
    MessageKind,
    UnrecognisedMessage,
    UploadedObject,
    uploads_from_event,
    uploads_from_sqs_body,
)

LoadEvent = Callable[[str], Any]
BUCKET = "cutout-input-123456789012-us-east-1"


def _s3_notification(key: str, event_name: str = "ObjectCreated:Put", **object_fields: Any) -> dict[str, Any]:
    """A minimal S3 notification as moto sends it (no versionId, no sequencer)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2025-11-20T09:14:27.512Z",
                "eventName": event_name,
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                    "object": {
                        "key": key,
                        "size": 1234,
                        "eTag": "4e68adba0abe2dc8653dc3354e14c01d",
                        **object_fields,
                    },
                },
            }
        ]
    }


# -- S3 event notifications -------------------------------------------------------------------------


def test_a_direct_s3_put_notification_gives_one_upload(load_event: LoadEvent) -> None:
    # Given the S3 notification of one PUT on a versioned bucket
    event = load_event("s3-put")

    # When it is parsed as a direct invocation
    parsed = uploads_from_event(event)

    # Then it names that object version with every fact the event gave
    assert parsed.kind is MessageKind.S3_NOTIFICATION
    assert parsed.ignored == ()
    assert parsed.uploads == (
        UploadedObject(
            bucket=BUCKET,
            key="products/mug-blue.jpg",
            version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
            etag="4e68adba0abe2dc8653dc3354e14c01d",
            sequencer="0065F8A2D4B1C3E5F7",
            size=184662,
            event_time="2025-11-20T09:14:27.512Z",
        ),
    )
    assert parsed.uploads[0].identity == f"{BUCKET}/products/mug-blue.jpg#v:3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"


def test_an_sqs_record_body_holding_an_s3_notification_gives_its_upload(load_event: LoadEvent) -> None:
    # Given an SQS message whose body is an S3 notification of an unversioned object
    (record,) = load_event("sqs-s3-put")["Records"]

    # When its body is parsed
    parsed = uploads_from_sqs_body(record["body"])

    # Then the upload carries the event's facts; until the object's HEAD settles its identity
    # (cutout.events.identity), the ETag names it
    (upload,) = parsed.uploads
    assert parsed.kind is MessageKind.S3_NOTIFICATION
    assert (upload.key, upload.size, upload.version_id) == ("products/teapot-white.png", 2381733, None)
    assert upload.sequencer == "0065F8A2D4B86A21C0"
    assert upload.identity == f"{BUCKET}/products/teapot-white.png#e:{upload.etag}"


def test_a_batch_gives_one_upload_per_record_with_decoded_keys(load_event: LoadEvent) -> None:
    # Given an SQS batch of three S3 notifications
    records = load_event("sqs-s3-put-batch")["Records"]

    # When each body is parsed
    keys = [upload.key for record in records for upload in uploads_from_sqs_body(record["body"]).uploads]

    # Then every key is there, decoded ("chair+oak.bmp" was "chair oak.bmp")
    assert keys == ["products/vase-green.webp", "products/lamp-brass.jpg", "products/chair oak.bmp"]


def test_a_key_with_space_plus_and_unicode_is_decoded(load_event: LoadEvent) -> None:
    # Given a notification for "summer sale/Tasse+Henkel ü.jpg", encoded as S3 encodes it
    event = load_event("s3-put-key-with-space-plus-unicode")
    assert event["Records"][0]["s3"]["object"]["key"] == "summer+sale/Tasse%2BHenkel+%C3%BC.jpg"

    # When it is parsed
    (upload,) = uploads_from_event(event).uploads

    # Then the key is the real one
    assert upload.key == "summer sale/Tasse+Henkel ü.jpg"


@pytest.mark.parametrize(
    ("raw_key", "decoded"),
    [
        pytest.param("a+b%2F%C3%BC%2B.jpg", "a b/ü+.jpg", id="slash-escaped-as-moto-does"),
        pytest.param("a+b/%C3%BC%2B.jpg", "a b/ü+.jpg", id="slash-kept-as-s3-does"),
        pytest.param("100%25+cotton.jpg", "100% cotton.jpg", id="percent"),
        pytest.param("%E5%95%86%E5%93%81.png", "商品.png", id="cjk"),
        pytest.param("plain/name.jpg", "plain/name.jpg", id="plain"),
    ],
)
def test_s3_keys_are_url_decoded(raw_key: str, decoded: str) -> None:
    # Given a notification carrying an encoded key
    body = json.dumps(_s3_notification(raw_key))

    # When it is parsed
    (upload,) = uploads_from_sqs_body(body).uploads

    # Then the key is decoded
    assert upload.key == decoded


def test_a_moto_notification_without_version_or_sequencer_is_identified_by_etag() -> None:
    # Given a notification as moto sends it: no versionId, no sequencer, no userIdentity
    body = json.dumps(_s3_notification("products%2Fmug.jpg"))

    # When it is parsed
    (upload,) = uploads_from_sqs_body(body).uploads

    # Then the ETag is the identity's fallback
    assert upload.identity == f"{BUCKET}/products/mug.jpg#e:4e68adba0abe2dc8653dc3354e14c01d"


@pytest.mark.parametrize("event_name", ["ObjectCreated:Post", "ObjectCreated:Copy", "s3:ObjectCreated:Put"])
def test_every_kind_of_object_creation_is_an_upload(event_name: str) -> None:
    # Given a creation other than a plain PUT
    body = json.dumps(_s3_notification("a.jpg", event_name=event_name))

    # When it is parsed
    parsed = uploads_from_sqs_body(body)

    # Then it is an upload
    assert [upload.key for upload in parsed.uploads] == ["a.jpg"]


def test_a_notification_with_several_records_keeps_them_in_order_and_notes_the_ignored() -> None:
    # Given one notification with a creation, a folder placeholder and a deletion
    document = _s3_notification("one.jpg")
    folder = copy.deepcopy(document["Records"][0])
    folder["s3"]["object"].update(key="new+folder/", size=0)
    removed = copy.deepcopy(document["Records"][0])
    removed["eventName"] = "ObjectRemoved:Delete"
    created = copy.deepcopy(document["Records"][0])
    created["s3"]["object"]["key"] = "two.jpg"
    document["Records"] += [folder, removed, created]

    # When it is parsed
    parsed = uploads_from_sqs_body(json.dumps(document))

    # Then the two creations are uploads and the other two are noted with their reasons
    assert [upload.key for upload in parsed.uploads] == ["one.jpg", "two.jpg"]
    assert [(item.reason, item.key) for item in parsed.ignored] == [
        (IgnoreReason.FOLDER_PLACEHOLDER, "new folder/"),
        (IgnoreReason.NOT_OBJECT_CREATED, "one.jpg"),
    ]


def test_a_folder_placeholder_is_ignored(load_event: LoadEvent) -> None:
    # Given the notification of the console's "Create folder"
    event = load_event("s3-put-folder-placeholder")

    # When it is parsed
    parsed = uploads_from_event(event)

    # Then nothing is processed and the log can say why
    assert parsed.uploads == ()
    (ignored,) = parsed.ignored
    assert (ignored.reason, ignored.bucket, ignored.key) == (
        IgnoreReason.FOLDER_PLACEHOLDER,
        BUCKET,
        "summer sale/",
    )
    assert "folder" in ignored.detail


def test_an_object_removed_event_is_ignored(load_event: LoadEvent) -> None:
    # Given the notification of a delete (no size, no eTag)
    event = load_event("s3-object-removed")

    # When it is parsed
    parsed = uploads_from_event(event)

    # Then it is not work, and the event name is kept for the log
    assert parsed.uploads == ()
    (ignored,) = parsed.ignored
    assert ignored.reason is IgnoreReason.NOT_OBJECT_CREATED
    assert ignored.event_name == "ObjectRemoved:DeleteMarkerCreated"
    assert ignored.key == "products/mug-blue.jpg"


# -- the s3:TestEvent ---------------------------------------------------------------------------------


def test_the_s3_test_event_gives_nothing(load_event: LoadEvent) -> None:
    # Given the test message S3 sends when the notification is configured
    (record,) = load_event("sqs-s3-test-event")["Records"]

    # When its body is parsed
    parsed = uploads_from_sqs_body(record["body"])

    # Then there is no upload, and it is noted as a test event
    assert parsed.kind is MessageKind.S3_TEST_EVENT
    assert parsed.uploads == ()
    assert [(item.reason, item.bucket) for item in parsed.ignored] == [(IgnoreReason.TEST_EVENT, BUCKET)]


# -- EventBridge ------------------------------------------------------------------------------------------


def test_an_eventbridge_object_created_event_keeps_its_key_as_is(load_event: LoadEvent) -> None:
    # Given an EventBridge "Object Created" event (its key is NOT URL-encoded, "+" is a plus)
    event = load_event("eventbridge-object-created")

    # When it is parsed as a direct invocation and as a queue message body
    direct = uploads_from_event(event)
    queued = uploads_from_sqs_body(json.dumps(event))

    # Then both give the same upload with the key unchanged
    assert direct == queued
    assert direct.kind is MessageKind.EVENTBRIDGE
    (upload,) = direct.uploads
    assert upload == UploadedObject(
        bucket=BUCKET,
        key="summer sale/Tasse+Henkel ü.jpg",
        version_id="8fFhFPLsxHN0ZqgPiaZuN33SDFkpXGFr",
        etag="b21b84d653bb07b05b1e6b33684dc11b",
        sequencer="0065F8A2D6A1B2C3D4",
        size=407514,
        event_time="2025-11-20T09:16:42Z",
    )


def test_an_eventbridge_event_as_moto_sends_it_is_understood(load_event: LoadEvent) -> None:
    # Given moto's spelling: "eTag" instead of "etag", a numeric time, a null version id
    event = load_event("eventbridge-object-created")
    event["time"] = 1763630202
    entry = event["detail"]["object"]
    entry["eTag"] = entry.pop("etag")
    entry["version-id"] = None

    # When it is parsed
    (upload,) = uploads_from_event(event).uploads

    # Then the facts are read all the same
    assert (upload.etag, upload.event_time, upload.version_id) == (
        "b21b84d653bb07b05b1e6b33684dc11b",
        "1763630202",
        None,
    )


def test_an_eventbridge_event_other_than_object_created_is_ignored(load_event: LoadEvent) -> None:
    # Given an "Object Deleted" event
    event = load_event("eventbridge-object-created")
    event["detail-type"] = "Object Deleted"
    del event["detail"]["object"]["size"]

    # When it is parsed
    parsed = uploads_from_event(event)

    # Then it is noted, not processed
    assert parsed.uploads == ()
    assert [(item.reason, item.event_name) for item in parsed.ignored] == [
        (IgnoreReason.NOT_OBJECT_CREATED, "Object Deleted")
    ]


def test_an_eventbridge_folder_placeholder_is_ignored(load_event: LoadEvent) -> None:
    # Given an "Object Created" event for an empty "folder/" object
    event = load_event("eventbridge-object-created")
    event["detail"]["object"].update(key="summer sale/", size=0)

    # When it is parsed
    parsed = uploads_from_event(event)

    # Then it is noted as a folder placeholder
    assert parsed.uploads == ()
    assert [item.reason for item in parsed.ignored] == [IgnoreReason.FOLDER_PLACEHOLDER]


# -- DLQ failure records (replays) --------------------------------------------------------------------


def test_a_dlq_record_on_the_work_queue_is_a_replay_of_its_object(load_event: LoadEvent) -> None:
    # Given a DLQ failure record redriven to the work queue
    (record,) = load_event("sqs-dlq-record")["Records"]

    # When its body is parsed
    parsed = uploads_from_sqs_body(record["body"])

    # Then it names the same object version the original event named, marked as a replay
    (upload,) = parsed.uploads
    assert parsed.kind is MessageKind.FAILURE_RECORD
    assert upload.identity == f"{BUCKET}/products/lamp-brass.jpg#e:{upload.etag}"
    assert upload.replay_of is not None
    assert upload.replay_of["code"] == "engine_unavailable"


def test_a_replayed_record_has_the_identity_of_the_original_event(load_event: LoadEvent) -> None:
    # Given the original notification of lamp-brass.jpg and its DLQ record
    batch = load_event("sqs-s3-put-batch")["Records"]
    (original,) = uploads_from_sqs_body(batch[1]["body"]).uploads
    (record,) = load_event("sqs-dlq-record")["Records"]

    # When the record is replayed
    (replayed,) = uploads_from_sqs_body(record["body"]).uploads

    # Then it is the same work: a success is never paid for twice
    assert replayed.identity == original.identity
    assert replayed == original


# -- what is not ours ----------------------------------------------------------------------


def test_an_unrecognised_body_raises_a_typed_error(load_event: LoadEvent) -> None:
    # Given a hand-made message on the work queue
    (record,) = load_event("sqs-unrecognised-body")["Records"]

    # When its body is parsed
    with pytest.raises(UnrecognisedMessage) as caught:
        uploads_from_sqs_body(record["body"])

    # Then the error carries the DLQ code, is permanent, and says what was seen (names, not values)
    error = caught.value
    assert error.code == "unrecognised_message"
    assert error.retryable is False
    assert "top-level fields: action, bucket, key" in error.message
    assert BUCKET not in error.message
    assert set(error.to_dict()) == {"code", "message", "retryable", "api_code", "api_message", "request_id"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param("products/mug.jpg please", "not JSON", id="not-json"),
        pytest.param("", "not JSON", id="empty"),
        pytest.param("[" * 100_000 + "]" * 100_000, "not JSON", id="too-deep"),
        pytest.param("[]", "JSON array", id="array"),
        pytest.param('"hello"', "JSON string", id="string"),
        pytest.param("null", "JSON null", id="null"),
        pytest.param("{}", "top-level fields: (none)", id="empty-object"),
        pytest.param('{"Records": []}', "Records: Expected `array` of length >= 1", id="no-records"),
        pytest.param('{"Records": "x"}', "Records", id="records-not-a-list"),
        pytest.param('{"Records": [{"eventSource": "aws:sns"}]}', "'aws:sns'", id="sns-record"),
        pytest.param('{"Records": [42]}', "eventSource None", id="record-not-an-object"),
        pytest.param(
            '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}',
            "Records.0.s3: Field required",
            id="s3-record-without-s3",
        ),
        pytest.param(
            json.dumps(_s3_notification("")),
            "Records.0.s3.object.key: Expected `str` of length >= 1",
            id="empty-key",
        ),
        pytest.param(json.dumps(_s3_notification("%FF.jpg")), "not valid UTF-8", id="bad-percent-escape"),
        pytest.param(
            '{"detail-type": "Object Created", "source": "aws.ec2", "detail": {}}',
            "'aws.ec2'",
            id="other-source",
        ),
        pytest.param(
            '{"detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": {"name": "b"}}}',
            "detail.object: Field required",
            id="eventbridge-without-object",
        ),
        pytest.param('{"schema": "cutout.failure/2"}', "schema", id="future-failure-schema"),
        pytest.param(
            json.dumps(
                {
                    "schema": "cutout.failure/1",
                    "source": None,
                    "error": {"code": "unrecognised_message", "message": "m", "retryable": False},
                    "failed_at": "2025-11-20T09:00:00.000Z",
                }
            ),
            "names no object",
            id="failure-record-without-source",
        ),
    ],
)
def test_unknown_shapes_raise_unrecognised_message_with_the_reason(body: str, reason: str) -> None:
    # Given a body that is none of the shapes we know
    # When it is parsed
    with pytest.raises(UnrecognisedMessage) as caught:
        uploads_from_sqs_body(body)

    # Then the error says why, in words
    assert reason in caught.value.reason


def test_an_sqs_batch_given_as_a_direct_event_is_refused_with_a_hint(load_event: LoadEvent) -> None:
    # Given a whole SQS batch event
    event = load_event("sqs-s3-put")

    # When it is parsed as a direct invocation
    with pytest.raises(UnrecognisedMessage) as caught:
        uploads_from_event(event)

    # Then the error points to the per-record parser
    assert "uploads_from_sqs_body" in caught.value.reason


# -- the samples themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["sqs-s3-put", "sqs-s3-put-batch", "sqs-s3-test-event", "sqs-dlq-record", "sqs-unrecognised-body"],
)
def test_sqs_samples_are_real_shaped(load_event: LoadEvent, name: str) -> None:
    # Given an SQS sample event
    records = load_event(name)["Records"]

    # When / Then every record has SQS's attributes and the MD5 of its body, as Lambda delivers them
    for record in records:
        assert record["eventSource"] == "aws:sqs"
        assert int(record["attributes"]["ApproximateReceiveCount"]) >= 1
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324
