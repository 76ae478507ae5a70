"""The per-object flow against in-memory fakes: one outcome per object version, paid at most once."""

from __future__ import annotations

import io
import json
import random
from typing import Any
from urllib.parse import unquote

import pytest
from PIL import Image

from cutout.engine.aidge.errors import EngineAnswerLostError, ResultExpiredError, ResultUnavailableError
from cutout.engine.errors import PermanentEngineError, RetryableEngineError
from cutout.engine.port import ImageBytes, ImageUrl
from cutout.events import FailureRecord
from cutout.pipeline.outcome import Status
from cutout.storage.output import legacy_output_key_for
from tests.fakes import FakeEngine, image_bytes, png_declaring
from tests.unit.pipeline.harness import INPUT, OUTPUT, Harness, build_harness


def test_a_valid_upload_becomes_one_output_with_its_metadata() -> None:
    # Given a JPEG in the input bucket
    harness = build_harness()
    upload = harness.upload("shoes/red shoe.jpg")

    # When it is processed
    outcome = harness.process(upload)

    # Then one PNG output exists under the same key, with metadata, after exactly one paid call
    assert outcome.status is Status.DONE
    assert outcome.output_key == "shoes/red shoe.jpg.png"
    assert len(harness.engine.submits) == 1
    [(bucket, key, content_type, metadata)] = harness.outputs()
    assert (bucket, key, content_type) == (OUTPUT, "shoes/red shoe.jpg.png", "image/png")
    assert metadata["source-bucket"] == INPUT
    assert unquote(metadata["source-key"]) == "shoes/red shoe.jpg"
    assert metadata["source-version-id"] == upload.version_id
    assert metadata["source-etag"] == upload.etag
    assert metadata["engine"] == "fake"
    assert metadata["background"] == "TRANSPARENT"
    assert metadata["request-id"] == "req-1"
    assert {"score", "width", "height", "usage", "processed-at"} <= metadata.keys()


def test_url_mode_hands_the_engine_a_presigned_url_and_reads_only_the_head_and_tail() -> None:
    # Given a noisy (so: large) 2000×1500 JPEG in URL mode (the default)
    harness = build_harness()
    buffer = io.BytesIO()
    Image.frombytes("RGB", (2000, 1500), random.Random(7).randbytes(2000 * 1500 * 3)).save(buffer, "JPEG")
    data = buffer.getvalue()
    upload = harness.upload("big.jpg", data)

    # When it is processed
    harness.process(upload)

    # Then the engine got a URL, and validation read a small part of the object
    [source] = harness.engine.submits
    assert isinstance(source, ImageUrl)
    assert harness.store.bytes_read <= 128 * 1024 < len(data)


def test_base64_mode_hands_the_engine_the_bytes() -> None:
    # Given base64 mode
    harness = build_harness(SOURCE_MODE="base64")
    data = image_bytes()
    upload = harness.upload("a.jpg", data)

    # When it is processed
    harness.process(upload)

    # Then the engine got the object's bytes
    [source] = harness.engine.submits
    assert isinstance(source, ImageBytes)
    assert source.data == data


def test_a_duplicate_event_does_not_pay_again_or_write_twice() -> None:
    # Given an upload already processed
    harness = build_harness()
    upload = harness.upload("mug.jpg")
    first = harness.process(upload)

    # When the same event arrives twice more
    second = harness.process(upload)
    third = harness.process(upload, receive_count=2)

    # Then the stored outcome is returned, with no second call and no second output
    assert first == second == third
    assert len(harness.engine.submits) == 1
    assert len(harness.outputs()) == 1


def test_a_crash_between_the_paid_call_and_the_output_does_not_pay_again() -> None:
    # Given the process dies after the API answered but before the output was written
    harness = build_harness()
    harness.engine.crash_on_next_fetch = True
    upload = harness.upload("bag.jpg")
    with pytest.raises(RuntimeError):
        harness.process(upload)
    assert harness.outputs() == []

    # When SQS redelivers the message
    outcome = harness.process(upload, receive_count=2)

    # Then the stored receipt is used: one paid call, one output
    assert outcome.status is Status.DONE
    assert len(harness.engine.submits) == 1
    assert len(harness.outputs()) == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (image_bytes(99, 99), "image_too_small"),
        (image_bytes(3001, 10), "image_too_small"),
        (png_declaring(8000, 7000), "image_too_large"),
        (b"<html><body>not a photo</body></html>", "unsupported_format"),
        (b"just some text that is not a photo", "not_an_image"),
        (b"", "empty_object"),
        (image_bytes(400, 300)[:-200], "truncated_image"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "unsupported_format"),
    ],
)
def test_a_bad_input_is_rejected_before_paying_with_its_reason(data: bytes, code: str) -> None:
    # Given an input the API would refuse
    harness = build_harness()
    upload = harness.upload("bad.jpg", data)

    # When it is processed
    outcome = harness.process(upload)

    # Then no call was made and one DLQ record carries the reason and a sentence
    assert outcome.status is Status.FAILED
    assert outcome.error_code == code
    assert harness.engine.submits == []
    [record] = harness.dlq_records()
    assert record["error"]["code"] == code
    assert record["error"]["retryable"] is False
    assert len(record["error"]["message"]) > 20
    assert record["source"] == {
        "bucket": INPUT,
        "key": "bad.jpg",
        "version_id": upload.version_id,
        "etag": upload.etag,
        "sequencer": None,
        "size": len(data),
        "event_time": None,
        "last_modified": None,
    }
    assert ("rejected", code) in harness.metrics.events


def test_a_rejected_input_delivered_twice_gets_one_dlq_record() -> None:
    # Given a rejected upload
    harness = build_harness()
    upload = harness.upload("tiny.jpg", image_bytes(50, 50))
    harness.process(upload)

    # When its event is delivered again
    harness.process(upload)

    # Then there is still exactly one DLQ record
    assert len(harness.dlq_records()) == 1


def test_a_permanent_api_error_is_recorded_not_raised_and_never_paid_again() -> None:
    # Given an engine that refuses the input permanently
    engine = FakeEngine(
        fail_with=PermanentEngineError("invalid input: imageUrl", code="aidge_700", api_code=700)
    )
    harness = build_harness(engine)
    upload = harness.upload("x.jpg")

    # When it is processed, and the event is delivered again
    outcome = harness.process(upload)
    harness.process(upload, receive_count=2)

    # Then one call, one DLQ record with the API's code
    assert outcome.error_code == "aidge_700"
    assert len(engine.submits) == 1
    [record] = harness.dlq_records()
    assert record["error"]["api_code"] == 700
    assert ("failed", "aidge_700") in harness.metrics.events


def test_a_transient_error_goes_back_to_the_queue_until_the_last_receive() -> None:
    # Given an engine that is rate limited every time
    engine = FakeEngine(fail_with=RetryableEngineError("rate limit exceed", code="aidge_rate_limited"))
    harness = build_harness(engine)
    upload = harness.upload("y.jpg")

    # When the first two receives fail, Then they raise (the message returns) and nothing is recorded
    for receive_count in (1, 2):
        with pytest.raises(RetryableEngineError):
            harness.process(upload, receive_count=receive_count)
    assert harness.dlq_records() == []

    # When the last allowed receive fails too
    outcome = harness.process(upload, receive_count=3)

    # Then the failure is recorded with its reason, retryable, and the attempts
    assert outcome.error_code == "aidge_rate_limited"
    [record] = harness.dlq_records()
    assert record["error"]["retryable"] is True
    assert record["attempts"] == 3


def test_a_transient_error_that_clears_succeeds_on_redelivery() -> None:
    # Given an engine failing once with a 500
    engine = FakeEngine(fail_with=RetryableEngineError("system error", code="aidge_500"), fail_times=1)
    harness = build_harness(engine)
    upload = harness.upload("z.jpg")
    with pytest.raises(RetryableEngineError):
        harness.process(upload)

    # When the message is redelivered
    outcome = harness.process(upload, receive_count=2)

    # Then it succeeds, and the failed call was the only unpaid one
    assert outcome.status is Status.DONE
    assert len(engine.submits) == 2
    assert harness.dlq_records() == []


def test_a_replayed_dlq_record_is_attempted_again_but_a_success_is_not_paid_again() -> None:
    # Given a transient failure recorded on the last receive
    engine = FakeEngine(fail_with=RetryableEngineError("system error", code="aidge_500"), fail_times=1)
    harness = build_harness(engine)
    upload = harness.upload("w.jpg")
    harness.process(upload, receive_count=3)
    record = FailureRecord.from_json(harness.dlq.records[0])

    # When the record is replayed (twice: the replay message is delivered twice)
    replayed = record.to_upload()
    assert replayed is not None
    first = harness.process(replayed)
    second = harness.process(replayed)

    # Then it is processed once more, with one successful paid call and one output
    assert first.status is Status.DONE
    assert second == first
    assert len(engine.submits) == 2  # the failed call and the successful one
    assert len(harness.outputs()) == 1


def test_a_byte_identical_reupload_is_skipped_without_paying() -> None:
    # Given an image processed once
    harness = build_harness()
    data = image_bytes()
    harness.process(harness.upload("same.jpg", data))

    # When the same bytes are uploaded again (a new version of the key)
    outcome = harness.process(harness.upload("same.jpg", data))

    # Then nothing is paid and the existing output stands
    assert outcome.status is Status.UNCHANGED
    assert outcome.output_key == "same.jpg.png"
    assert len(harness.engine.submits) == 1


def test_a_changed_reupload_is_processed_again() -> None:
    # Given an image processed once
    harness = build_harness()
    harness.process(harness.upload("changed.jpg", image_bytes(400, 300)))

    # When different bytes are uploaded to the same key
    outcome = harness.process(harness.upload("changed.jpg", image_bytes(500, 300)))

    # Then it is a new object version: processed and paid
    assert outcome.status is Status.DONE
    assert len(harness.engine.submits) == 2


def test_an_object_deleted_before_processing_is_recorded() -> None:
    # Given an event for an object that no longer exists
    harness = build_harness()
    upload = harness.upload("gone.jpg")
    del harness.store.objects[(INPUT, "gone.jpg")]

    # When it is processed
    outcome = harness.process(upload)

    # Then the DLQ says so, nothing paid
    assert outcome.error_code == "object_not_found"
    assert harness.engine.submits == []


def test_metadata_of_a_unicode_and_control_character_key_is_header_safe() -> None:
    # Given a key with unicode, a plus sign and a control character
    harness = build_harness()
    key = "Sommer+Sale/Tasse ü\x07.jpg"

    # When it is processed
    harness.process(harness.upload(key))

    # Then every metadata value is printable ASCII and the key round-trips
    [(_, output_key, _, metadata)] = harness.outputs()
    assert output_key == "Sommer+Sale/Tasse ü\x07.jpg.png"
    assert all(value.isascii() and value.isprintable() for value in metadata.values())
    assert unquote(metadata["source-key"]) == key


def test_white_background_output_uses_the_real_format_extension() -> None:
    # Given the white-background setting and an engine answering with a JPEG
    harness = build_harness(BACKGROUND_TYPE="WHITE_BACKGROUND", TARGET_WIDTH="800", TARGET_HEIGHT="600")

    # When an image is processed
    outcome = harness.process(harness.upload("cup.png", image_bytes(400, 300, "PNG")))

    # Then the output is a .jpg with image/jpeg and the target size
    [(_, key, content_type, metadata)] = harness.outputs()
    assert (outcome.output_key, key, content_type) == ("cup.png.jpg", "cup.png.jpg", "image/jpeg")
    assert (metadata["width"], metadata["height"], metadata["background"]) == (
        "800",
        "600",
        "WHITE_BACKGROUND",
    )


def test_base64_mode_refuses_an_object_over_the_size_cap_without_reading_it() -> None:
    # Given base64 mode with a 10 KiB cap, and a larger image
    harness = build_harness(SOURCE_MODE="base64", MAX_OBJECT_BYTES=str(10 * 1024))
    upload = harness.upload("big.png", image_bytes(400, 400, "PNG", "RGB") + b"\0" * 20_000)

    # When it is processed
    outcome = harness.process(upload)

    # Then it is rejected for its size, nothing was read or paid
    assert outcome.error_code == "object_too_large"
    assert harness.store.bytes_read == 0
    assert harness.engine.submits == []


def _paid_result_lost(engine: FakeEngine) -> tuple[Harness, dict[str, Any]]:
    """An upload whose paid result could not be fetched on any receive: its DLQ record."""
    harness = build_harness(engine)
    upload = harness.upload("paid.jpg")
    engine.fetch_fails_with = ResultUnavailableError("The result host answered HTTP 503.")
    for receive in (1, 2):
        with pytest.raises(ResultUnavailableError):
            harness.process(upload, receive_count=receive)
    harness.process(upload, receive_count=3)
    (record,) = harness.dlq_records()
    return harness, record


def test_a_paid_result_that_could_not_be_fetched_is_kept_and_the_record_says_it_was_paid() -> None:
    # Given a paid call whose result could not be fetched, on any of its three receives
    engine = FakeEngine()
    _harness, record = _paid_result_lost(engine)
    # Then the call was paid once, and the DLQ record says so, with the receipt's reference but
    # never the signed URL
    assert len(engine.submits) == 1
    assert record["paid"] is True
    assert record["receipt"] == {
        "object_identity": record["receipt"]["object_identity"],
        "request_id": "req-1",
        "expires_at": None,
        "reported_width": 400,
        "reported_height": 300,
    }
    assert "results.example.test" not in json.dumps(record)


def test_a_replay_of_a_paid_result_fetches_it_again_without_paying() -> None:
    # Given that record, and the cause fixed
    engine = FakeEngine()
    harness, record = _paid_result_lost(engine)
    engine.fetch_fails_with = None
    # When it is replayed
    replayed = FailureRecord.model_validate(record).to_upload()
    assert replayed is not None
    outcome = harness.process(replayed)
    # Then the stored receipt is fetched: one output, still one paid call
    assert outcome.status is Status.DONE
    assert len(engine.submits) == 1
    assert len(harness.outputs()) == 1


def test_repay_pays_once_more_on_purpose_and_says_so() -> None:
    # Given a paid result whose URL has expired (the replay alone would fail the same way again)
    engine = FakeEngine()
    harness, _record = _paid_result_lost(engine)
    engine.fetch_fails_with = ResultExpiredError("The signed result URL expired before it could be fetched.")
    replayed = FailureRecord.from_json(harness.dlq.records[0]).to_upload()
    assert replayed is not None
    harness.process(replayed)
    expired = FailureRecord.from_json(harness.dlq.records[1])
    assert (expired.error.code, expired.paid) == ("result_expired", True)
    assert len(engine.submits) == 1
    # When it is replayed with --repay (the record marked repay), twice (a duplicate delivery)
    engine.fetch_fails_with = None
    repaid = expired.model_copy(update={"repay": True}).to_upload()
    assert repaid is not None
    first, second = harness.process(repaid), harness.process(repaid)
    # Then exactly one more call was paid, counted as RepaidOnPurpose, and the output written once
    assert first.status is Status.DONE
    assert second == first
    assert len(engine.submits) == 2
    assert harness.metrics.events.count(("count", "RepaidOnPurpose")) == 1
    assert len(harness.outputs()) == 1


def test_a_lost_answer_counts_possibly_billed_twice_and_its_record_says_possibly_paid() -> None:
    # Given an API whose answers are lost after sending, on every receive
    engine = FakeEngine(fail_with=EngineAnswerLostError("The answer did not arrive."))
    harness = build_harness(engine)
    upload = harness.upload("lost.jpg")
    with pytest.raises(EngineAnswerLostError):
        harness.process(upload, receive_count=1)
    harness.process(upload, receive_count=3)
    # Then each lost answer is counted (an operator sees what it may have cost), and the record
    # says the call was possibly paid (null)
    assert harness.metrics.events.count(("count", "PossiblyBilledTwice")) == 2
    (record,) = harness.dlq_records()
    assert (record["error"]["code"], record["paid"], record["receipt"]) == ("engine_answer_lost", None, None)


def test_a_valid_result_of_another_size_is_stored_and_flagged() -> None:
    # Given a paid result that is a valid image, but not the size the API reported
    engine = FakeEngine()
    engine.actual_size = (320, 200)
    harness = build_harness(engine)
    # When the upload is processed
    outcome = harness.process(harness.upload("odd.jpg"))
    # Then it is stored (not thrown away after paying), its metadata flagging the reported size
    assert outcome.status is Status.DONE
    ((_bucket, _key, _type, metadata),) = harness.outputs()
    assert (metadata["width"], metadata["height"]) == ("320", "200")
    assert metadata["result-size-mismatch"] == "reported 400x300"
    assert ("count", "ResultSizeMismatch") in harness.metrics.events


def test_the_presigned_url_asks_s3_for_the_sniffed_content_type() -> None:
    # Given a JPEG uploaded (whatever Content-Type the uploader set)
    harness = build_harness()
    # When it is processed in URL mode
    harness.process(harness.upload("typed.jpg", image_bytes(fmt="JPEG")))
    # Then the presigned URL makes S3 answer with the type validation sniffed
    assert harness.store.presigned_content_types == ["image/jpeg"]


def test_red_jpg_and_red_png_in_one_folder_get_two_outputs() -> None:
    # Given two uploads whose keys differ only by their extension
    harness = build_harness()
    jpg = harness.upload("shoes/red.jpg", image_bytes(400, 300, "JPEG"))
    png = harness.upload("shoes/red.png", image_bytes(410, 300, "PNG"))
    # When both are processed
    outcomes = [harness.process(jpg), harness.process(png)]
    # Then each is done with its own output, and both outputs remain (one outcome each, none lost)
    assert [(outcome.status, outcome.output_key) for outcome in outcomes] == [
        (Status.DONE, "shoes/red.jpg.png"),
        (Status.DONE, "shoes/red.png.png"),
    ]
    assert {key for bucket, key in harness.store.objects if bucket == OUTPUT} == {
        "shoes/red.jpg.png",
        "shoes/red.png.png",
    }
    assert unquote(harness.store.objects[(OUTPUT, "shoes/red.png.png")].metadata["source-key"]) == (
        "shoes/red.png"
    )


def _legacy_output(harness: Harness, source_key: str, data: bytes) -> None:
    """The output of an upload of ``data`` at ``source_key``, moved where 0.2 put it (red.jpg: red.png)."""
    harness.process(harness.upload(source_key, data))
    [(_, key, _, _)] = harness.outputs()
    stored = harness.store.objects.pop((OUTPUT, key))
    harness.store.objects[(OUTPUT, legacy_output_key_for(source_key, ".png"))] = stored
    harness.store.puts.clear()


def test_an_output_that_predates_0_3_0_is_not_looked_for_any_more() -> None:
    # Given an output stored before 0.3.0 at the old key (same.png) for same.jpg
    harness = build_harness()
    data = image_bytes()
    _legacy_output(harness, "same.jpg", data)
    # When the same bytes are uploaded again under the same key
    outcome = harness.process(harness.upload("same.jpg", data))
    # Then it is cut out once more and stored at the 0.3.0 key (0.3.0 dropped the lookup of the old
    # layout, see the CHANGELOG); the old output is left where it is
    assert (outcome.status, outcome.output_key) == (Status.DONE, "same.jpg.png")
    assert len(harness.engine.submits) == 2
    assert [key for _, key, _, _ in harness.outputs()] == ["same.jpg.png"]
    assert (OUTPUT, "same.png") in harness.store.objects


def test_an_old_output_of_another_source_key_does_not_spare_the_payment() -> None:
    # Given an output stored before 0.3.0 at red.png that was made from red.jpg
    harness = build_harness()
    data = image_bytes()
    _legacy_output(harness, "red.jpg", data)
    # When red.png is uploaded with the same bytes
    outcome = harness.process(harness.upload("red.png", data))
    # Then it is cut out and stored under its own key: the old output names another source
    assert (outcome.status, outcome.output_key) == (Status.DONE, "red.png.png")
    assert len(harness.engine.submits) == 2
