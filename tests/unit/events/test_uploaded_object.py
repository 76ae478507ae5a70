"""UploadedObject: the idempotency identity of an object version, and what counts as a folder."""

from __future__ import annotations

import pytest

from cutout.events import UploadedObject

BUCKET = "cutout-input-123456789012-us-east-1"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(
            {"version_id": "3HL4kq.v1", "sequencer": "0065F8", "etag": "abc"},
            f"{BUCKET}/a.jpg#v:3HL4kq.v1",
            id="version-wins",
        ),
        pytest.param(
            {"sequencer": "0065F8", "etag": "abc", "last_modified": "2026-12-01T20:00:00Z"},
            f"{BUCKET}/a.jpg#e:abc@2026-12-01T20:00:00Z",
            id="then-etag-and-write-time",
        ),
        pytest.param({"sequencer": "0065F8", "etag": "abc"}, f"{BUCKET}/a.jpg#e:abc", id="then-etag"),
        pytest.param({"sequencer": "0065F8"}, f"{BUCKET}/a.jpg#s:0065F8", id="then-sequencer"),
        pytest.param({}, f"{BUCKET}/a.jpg", id="nothing-known"),
        pytest.param(
            {"version_id": "null", "sequencer": "0065F8"}, f"{BUCKET}/a.jpg#s:0065F8", id="suspended"
        ),
        pytest.param({"version_id": "", "etag": '"abc"'}, f"{BUCKET}/a.jpg#e:abc", id="empty-and-quoted"),
    ],
)
def test_identity_prefers_version_then_content_and_write_time_then_sequencer(
    facts: dict[str, str], expected: str
) -> None:
    # Given an upload with some of the version facts known
    upload = UploadedObject(bucket=BUCKET, key="a.jpg", **facts)

    # When its identity is taken
    identity = upload.identity

    # Then the most exact known fact names the version
    assert identity == expected


def test_two_writes_of_one_key_on_an_unversioned_bucket_have_different_identities() -> None:
    # Given two PUTs of the same key and the same bytes, a second apart (as their HEADs tell)
    first = UploadedObject(bucket=BUCKET, key="a.jpg", etag="abc", last_modified="2026-12-01T20:00:00Z")
    second = UploadedObject(bucket=BUCKET, key="a.jpg", etag="abc", last_modified="2026-12-01T20:00:01Z")

    # When / Then their identities differ, so the second upload gets an outcome of its own
    assert first.identity != second.identity


def test_etag_quotes_are_removed() -> None:
    # Given an ETag as HeadObject returns it, with quotes
    upload = UploadedObject(bucket=BUCKET, key="a.jpg", etag='"4e68adba0abe2dc8653dc3354e14c01d"')

    # When / Then the quotes are gone
    assert upload.etag == "4e68adba0abe2dc8653dc3354e14c01d"


@pytest.mark.parametrize(
    ("key", "size", "expected"),
    [
        ("summer sale/", 0, True),
        ("summer sale/", None, True),
        ("summer sale/", 12, False),
        ("summer sale/mug.jpg", 0, False),
    ],
)
def test_folder_placeholder_is_an_empty_key_ending_with_a_slash(
    key: str, size: int | None, expected: bool
) -> None:
    # Given an object
    upload = UploadedObject(bucket=BUCKET, key=key, size=size)

    # When / Then only an empty (or unknown-size) object named like a folder is a placeholder
    assert upload.is_folder_placeholder is expected


def test_a_replay_equals_and_hashes_like_the_original_upload() -> None:
    # Given an upload and the same upload replayed from a DLQ record
    original = UploadedObject(bucket=BUCKET, key="a.jpg", version_id="v1", size=10)
    replay = UploadedObject(
        bucket=BUCKET, key="a.jpg", version_id="v1", size=10, replay_of={"code": "engine_unavailable"}
    )

    # When they are compared and hashed
    same = original == replay and hash(original) == hash(replay)

    # Then they are the same object version, and only the replay says it is one
    assert same
    assert replay.is_replay
    assert not original.is_replay


def test_to_dict_holds_the_source_facts_without_the_replay() -> None:
    # Given a replayed upload
    upload = UploadedObject(bucket=BUCKET, key="a b.jpg", etag="e", size=3, replay_of={"code": "x"})

    # When it is turned into a dict
    facts = upload.to_dict()

    # Then it has the source facts of a DLQ record, and no replay_of
    assert facts == {
        "bucket": BUCKET,
        "key": "a b.jpg",
        "version_id": None,
        "etag": "e",
        "sequencer": None,
        "size": 3,
        "event_time": None,
        "last_modified": None,
    }


def test_replays_of_two_failures_in_one_millisecond_have_different_markers() -> None:
    # Given a failure, and the failure of its replay recorded in the same millisecond (a fast machine)
    at = "2026-12-02T05:13:58.500Z"
    first = UploadedObject(
        "b", "k", version_id="v1", replay_of={"code": "result_unavailable", "failed_at": at}
    )
    second = UploadedObject("b", "k", version_id="v1", replay_of={"code": "result_expired", "failed_at": at})

    # When their replay markers are read, and an original upload's
    markers = (
        first.replay_marker,
        second.replay_marker,
        UploadedObject("b", "k", version_id="v1").replay_marker,
    )

    # Then the two replays are told apart (each gets its own outcome), and the original is no replay
    assert markers == (f"{at}|result_unavailable", f"{at}|result_expired", None)
