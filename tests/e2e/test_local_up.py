"""`cutout local up` end to end: any S3 client uploads, the cut-out or a DLQ record comes out.

One `cutout local up` subprocess per module (fixture ``local_up``): the template on moto, the
emulator with the studio engine, the real handler behind the local event source mapping.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from tests.e2e.support import AWS_CLI, DUMMY_CREDENTIALS, product_photo, wait_for

pytestmark = pytest.mark.slow

KEYS = [
    "plain/red-shoe.jpg",
    "with space/tote bag.jpg",
    "plus+sign/a+b=c.jpg",
    "unicode/théière ü 鞋.jpg",
]


def _output_key(key: str) -> str:
    """The master of ``key`` (the template's default profiles): the paid call's transparent cut-out."""
    return f"masters/{key}.png"


# The default profile's variants, each at ``<variant>/<key><ext>``, with their content types.
VARIANTS = {"web-transparent": (".png", "image/png"), "amazon-main": (".jpg", "image/jpeg"),
            "listing-webp": (".webp", "image/webp")}  # fmt: skip


def _head(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        answer: dict[str, Any] = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return answer


def _dead_letters(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", []
    )
    return [json.loads(message["Body"]) for message in messages]


def test_description_names_every_part(local_up: dict[str, Any]) -> None:
    # Given the description `cutout local up` wrote
    # When its fields are read
    required = {
        "endpoint_url",
        "region",
        "input_bucket",
        "output_bucket",
        "work_queue_url",
        "dead_letter_queue_url",
        "emulator_url",
    }
    # Then every field scripts rely on is there, and the queues are served by the local endpoint
    assert required <= set(local_up)
    assert local_up["endpoint_url"].startswith("http://127.0.0.1:")
    assert local_up["work_queue_url"].startswith(local_up["endpoint_url"])
    assert local_up["dead_letter_queue_url"].startswith(local_up["endpoint_url"])


def test_stdout_is_a_block_for_a_person_and_the_logs_go_to_stderr(
    local_up: dict[str, Any], local_up_output: Path
) -> None:
    # Given the running stack's stdout and stderr
    stdout = (local_up_output / "stdout.txt").read_text(encoding="utf-8")
    stderr = (local_up_output / "stderr.txt").read_text(encoding="utf-8")

    # When a person reads what it printed
    first_line = stdout.splitlines()[0]

    # Then stdout starts with the stack's endpoint, names the buckets, gives the line to paste, and
    # holds none of the function's JSON logs; those (and the stack's own lines) are on stderr
    assert first_line.startswith("cutout local stack is up")
    assert local_up["endpoint_url"] in first_line
    assert local_up["input_bucket"] in stdout
    assert local_up["output_bucket"] in stdout
    assert f"export AWS_ENDPOINT_URL={local_up['endpoint_url']}" in stdout
    assert not [line for line in stdout.splitlines() if line.lstrip().startswith("{")]
    assert "cutout local: ready in" in stderr
    assert "No application metrics to publish" not in stderr


@pytest.mark.parametrize("key", KEYS)
def test_boto3_upload_gets_a_cutout_with_its_metadata(
    local_up: dict[str, Any], aws_client: Callable[[str], Any], key: str
) -> None:
    # Given a product photo
    s3 = aws_client("s3")
    # When it is uploaded to the input bucket under a key with spaces, '+' or unicode
    s3.put_object(Bucket=local_up["input_bucket"], Key=key, Body=product_photo(), ContentType="image/jpeg")
    # Then the master appears under masters/<key>.png, and its metadata names the source
    head = wait_for(lambda: _head(s3, local_up["output_bucket"], _output_key(key)), what=f"cut-out of {key}")
    metadata = head["Metadata"]
    assert head["ContentType"] == "image/png"
    assert unquote(metadata["source-key"]) == key
    assert metadata["source-bucket"] == local_up["input_bucket"]
    assert metadata["background"] == "TRANSPARENT"
    assert metadata["source-version-id"]  # the input bucket is versioned, as the template says
    body = s3.get_object(Bucket=local_up["output_bucket"], Key=_output_key(key))["Body"].read()
    assert body.startswith(b"\x89PNG")
    # And every variant of the default profile is there, naming its source, profile and master
    for variant, (extension, content_type) in VARIANTS.items():
        output = wait_for(
            lambda variant=variant, extension=extension: _head(
                s3, local_up["output_bucket"], f"{variant}/{key}{extension}"
            ),
            what=f"{variant} of {key}",
        )
        assert output["ContentType"] == content_type
        assert unquote(output["Metadata"]["source-key"]) == key
        assert (output["Metadata"]["profile"], output["Metadata"]["variant"]) == ("standard", variant)
        assert unquote(output["Metadata"]["master-key"]) == _output_key(key)


@pytest.mark.skipif(AWS_CLI is None, reason="the AWS CLI is not installed")
def test_aws_cli_upload_gets_a_cutout(
    local_up: dict[str, Any], aws_client: Callable[[str], Any], tmp_path: Path
) -> None:
    # Given a photo on disk, and the AWS CLI with dummy credentials pointed at the local endpoint
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(product_photo(520, 400))
    key = "cli/summer sale+ü.jpg"
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("AWS_")},
        **DUMMY_CREDENTIALS,
        "AWS_DEFAULT_REGION": local_up["region"],
    }
    # When `aws s3 cp` uploads it
    subprocess.run(
        [
            str(AWS_CLI),
            "--endpoint-url",
            local_up["endpoint_url"],
            "s3",
            "cp",
            str(photo),
            f"s3://{local_up['input_bucket']}/{key}",
        ],
        check=True,
        env=environment,
        capture_output=True,
        timeout=60,
    )
    # Then the cut-out appears in the output bucket, named after the key
    s3 = aws_client("s3")
    head = wait_for(
        lambda: _head(s3, local_up["output_bucket"], _output_key(key)), what="the CLI upload's cut-out"
    )
    assert unquote(head["Metadata"]["source-key"]) == key


def test_invalid_upload_gets_a_dead_letter_record_with_its_reason_and_costs_nothing(
    local_up: dict[str, Any], aws_client: Callable[[str], Any]
) -> None:
    # Given a text file named like a photo
    s3, sqs = aws_client("s3"), aws_client("sqs")
    key = "broken/not a photo+.jpg"
    # When it is uploaded
    s3.put_object(Bucket=local_up["input_bucket"], Key=key, Body=b"this is not an image, just text\n" * 20)

    # Then the dead-letter queue gets one record for it, with a reason code and a human sentence
    def record_for_key() -> dict[str, Any] | None:
        matching = [
            r for r in _dead_letters(sqs, local_up["dead_letter_queue_url"]) if r["source"]["key"] == key
        ]
        return matching[0] if matching else None

    record = wait_for(record_for_key, what="a dead-letter record")
    assert record["schema"] == "cutout.failure/1"
    assert record["error"]["code"] == "not_an_image"
    assert record["error"]["message"]
    # And no cut-out was made for it
    assert _head(s3, local_up["output_bucket"], _output_key(key)) is None
