"""``cutout teardown`` on moto: a confirmation, every version and delete marker of the stack's buckets
gone, the stack deleted; a bucket the stack did not create is never touched."""

from __future__ import annotations

import argparse
import json
import uuid
from typing import Any

import boto3
import pytest

from cutout_tools.cli import main
from cutout_tools.operations import teardown
from tests.functional.pipeline.world import REGION

TEMPLATE = {
    "Resources": {
        "InputBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
        },
        "OutputBucket": {"Type": "AWS::S3::Bucket"},
        "Queue": {"Type": "AWS::SQS::Queue"},
    }
}


def make_stack(name: str) -> tuple[Any, Any, dict[str, str]]:
    """A stack of two buckets (the input one versioned, with versions and delete markers) and a queue."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(TEMPLATE))
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    buckets = {
        item["LogicalResourceId"]: item["PhysicalResourceId"]
        for item in resources
        if item["ResourceType"] == "AWS::S3::Bucket"
    }
    # moto's CloudFormation does not apply VersioningConfiguration: turned on as AWS would have it
    s3.put_bucket_versioning(Bucket=buckets["InputBucket"], VersioningConfiguration={"Status": "Enabled"})
    for number in range(3):  # three versions of one key, then a delete marker on it
        s3.put_object(Bucket=buckets["InputBucket"], Key="shoes/red.jpg", Body=f"v{number}".encode())
    s3.delete_object(Bucket=buckets["InputBucket"], Key="shoes/red.jpg")
    s3.put_object(Bucket=buckets["InputBucket"], Key="bags/tote.jpg", Body=b"x")
    for key in ("masters/shoes/red.jpg.png", "review/amazon-main/shoes/red.jpg.jpg"):
        s3.put_object(Bucket=buckets["OutputBucket"], Key=key, Body=b"y")
    s3.create_multipart_upload(Bucket=buckets["OutputBucket"], Key="big.png")
    return cloudformation, s3, buckets


def args(name: str, **extra: Any) -> argparse.Namespace:
    base = {"stack_name": name, "region": REGION, "endpoint_url": None, "yes": False, "keep_stack": False}
    return argparse.Namespace(**{**base, **extra})


def bucket_names(s3: Any) -> set[str]:
    return {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}


def test_teardown_empties_every_version_and_deletes_the_stack(
    aws_environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack whose versioned input bucket holds versions and a delete marker, and a bucket of
    # the shop's own that the stack did not create
    name = f"shop-{uuid.uuid4().hex[:8]}"
    cloudformation, s3, buckets = make_stack(name)
    own = f"shop-photos-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=own)
    s3.put_object(Bucket=own, Key="keep.jpg", Body=b"mine")
    # When the operator confirms by typing the stack's name
    code = teardown.run(args(name), ask=lambda _prompt: name)
    # Then every version and marker went, the buckets and the stack are deleted, the shop's bucket stays
    out = capsys.readouterr().out
    assert code == 0
    assert f"emptied s3://{buckets['InputBucket']}: 4 object versions, 1 delete markers" in out
    assert f"emptied s3://{buckets['OutputBucket']}: 2 object versions, 0 delete markers, 1 unfinished" in out
    assert f"stack {name!r} deleted" in out
    assert not set(buckets.values()) & bucket_names(s3)
    assert own in bucket_names(s3)
    assert s3.get_object(Bucket=own, Key="keep.jpg")["Body"].read() == b"mine"
    stacks = cloudformation.list_stacks()["StackSummaries"]
    assert all(item["StackStatus"] == "DELETE_COMPLETE" for item in stacks if item["StackName"] == name)


def test_without_the_stacks_name_typed_back_nothing_is_deleted(
    aws_environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack with objects
    name = f"shop-{uuid.uuid4().hex[:8]}"
    _cloudformation, s3, buckets = make_stack(name)
    # When the operator types something else, or nothing (end of input)
    wrong = teardown.run(args(name), ask=lambda _prompt: "yes")

    def closed(_prompt: str) -> str:
        raise EOFError

    ended = teardown.run(args(name), ask=closed)
    # Then nothing is deleted, exit code 2, and the question named every bucket
    captured = capsys.readouterr()
    assert wrong == ended == 2
    assert "not confirmed: nothing deleted" in captured.err
    assert all(f"s3://{bucket}" in captured.out for bucket in buckets.values())
    versions = s3.list_object_versions(Bucket=buckets["InputBucket"])
    assert len(versions["Versions"]) == 4
    assert len(versions["DeleteMarkers"]) == 1


def test_keep_stack_empties_the_buckets_and_prints_sam_delete(
    aws_environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack with objects
    name = f"shop-{uuid.uuid4().hex[:8]}"
    cloudformation, s3, buckets = make_stack(name)
    # When it is torn down with --yes --keep-stack
    code = teardown.run(args(name, yes=True, keep_stack=True), ask=lambda _prompt: pytest.fail("asked"))
    # Then the buckets are empty but there, the stack stays, and the sam delete command is printed
    out = capsys.readouterr().out
    assert code == 0
    for bucket in buckets.values():
        answer = s3.list_object_versions(Bucket=bucket)
        assert not answer.get("Versions")
        assert not answer.get("DeleteMarkers")
    assert cloudformation.describe_stacks(StackName=name)["Stacks"]
    assert f"sam delete --stack-name {name} --region {REGION}" in out


def test_an_unknown_stack_or_no_terminal_is_one_line(
    aws_environment: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no such stack, then a real one but no terminal to ask on
    name = f"shop-{uuid.uuid4().hex[:8]}"
    make_stack(name)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    # When the command runs
    missing = main(["teardown", "--stack-name", "nope", "--region", REGION, "--yes"])
    missing_err = capsys.readouterr().err
    unasked = main(["teardown", "--stack-name", name, "--region", REGION])
    unasked_err = capsys.readouterr().err
    # Then each says why in one line
    assert missing == 1
    assert missing_err.startswith("cutout teardown: no CloudFormation stack named 'nope'")
    assert unasked == 2
    assert unasked_err.strip() == (
        "cutout teardown: not a terminal: give --yes to tear the stack down without the question"
    )
