"""`cutout review approve|reject` takes the upload's own key (issue 26: it answered a raw 404), as well
as a held output's key or its published key; a key with nothing held is one sentence."""

from __future__ import annotations

import io
import uuid
from typing import Any

import boto3
import pytest

from cutout.quality_gate import Verdict, review_metadata, review_tags
from cutout.storage import S3ObjectStore
from cutout_tools.cli import main
from cutout_tools.operations.stack import OperationsError
from cutout_tools.review_decisions import approve_upload, reject_upload
from tests.fakes import image_bytes

UPLOAD = "kitchen/mug.jpg"
HELD = ("review/amazon-main/kitchen/mug.jpg.jpg", "review/web-transparent/kitchen/mug.jpg.png")


@pytest.fixture
def bucket(aws_environment: str) -> tuple[Any, str]:
    s3 = boto3.client("s3")
    name = f"cutout-output-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    verdict = Verdict(("low_score",))
    source = {"source-bucket": "in", "source-key": UPLOAD, "source-version-id": "v1", "source-etag": "e"}
    for key in HELD:
        S3ObjectStore(s3).put(
            name,
            key,
            io.BytesIO(image_bytes(fmt="PNG", mode="RGBA")),
            "image/png",
            {**source, "engine": "fake", "score": "0.77", **review_metadata(verdict)},
            tags=review_tags(verdict),
        )
    return s3, name


def keys(s3: Any, name: str) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=name).get("Contents", [])}


def test_approve_with_the_uploads_key_publishes_every_held_output(bucket: tuple[Any, str]) -> None:
    # Given an upload whose two variants are held
    s3, name = bucket
    # When it is approved by the upload's own key
    decision = approve_upload(s3, name, UPLOAD, None)
    # Then both are published at their keys and nothing is left under review/
    assert sorted(decision.keys) == ["amazon-main/kitchen/mug.jpg.jpg", "web-transparent/kitchen/mug.jpg.png"]
    assert keys(s3, name) == {"amazon-main/kitchen/mug.jpg.jpg", "web-transparent/kitchen/mug.jpg.png"}


def test_reject_with_the_uploads_key_deletes_every_held_output(bucket: tuple[Any, str]) -> None:
    # Given the same held upload
    s3, name = bucket
    # When it is rejected by the upload's key
    reject_upload(s3, name, UPLOAD, None)
    # Then nothing is left
    assert keys(s3, name) == set()


def test_a_key_with_nothing_held_is_one_sentence(bucket: tuple[Any, str]) -> None:
    # Given a key nothing was held for
    s3, name = bucket
    # When it is approved
    with pytest.raises(OperationsError) as error:
        approve_upload(s3, name, "kitchen/cup.jpg", None)
    # Then the sentence names it and says which keys are taken; nothing changed
    assert "nothing held for 'kitchen/cup.jpg'" in str(error.value)
    assert "cutout review list" in str(error.value)
    assert keys(s3, name) == set(HELD)


def test_the_command_answers_a_wrong_key_with_exit_1_and_no_traceback(
    bucket: tuple[Any, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the command pointed at the bucket
    s3, name = bucket
    from cutout_tools.unattended import command, control

    stack = type("Stack", (), {"output_bucket": name})()
    session = type("Session", (), {"client": staticmethod(lambda _service: s3)})()
    monkeypatch.setattr(command, "_target", lambda _args: (session, stack))
    monkeypatch.setattr(control, "publisher_for", lambda _session, _stack: None)
    # When `cutout review approve` gets a key with nothing held
    code = main(["review", "approve", "kitchen/cup.jpg", "--stack-name", "shop"])
    # Then exit 1 and one line
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("cutout review approve: nothing held for 'kitchen/cup.jpg'")
    assert "Traceback" not in err
