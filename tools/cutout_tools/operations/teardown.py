"""``cutout teardown --stack-name NAME``: empty the stack's buckets of every version, then delete it.

``sam delete`` (and CloudFormation) cannot delete a bucket that holds anything, and the input
bucket is versioned: every object version and every delete marker has to go first. This command
does that for the buckets the *stack created* (its ``AWS::S3::Bucket`` resources: an existing
bucket the stack was pointed at with ``ExistingInputBucketName`` is not one of them and is never
touched), after a confirmation: the stack's name typed back, or ``--yes``. Then it deletes the
stack with CloudFormation and waits, or, with ``--keep-stack``, prints the ``sam delete`` command
(which also removes the code SAM packaged for it).

Exit codes: 0 done, 1 a failure (the sentence says which), 2 usage or not confirmed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cutout_tools.operations.command import UsageError, _add_target_options, _guarded
from cutout_tools.operations.stack import LOCAL_STACK_NAME, StackNotFoundError, aws_session

DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys a call


@dataclass(frozen=True, slots=True)
class Emptied:
    bucket: str
    versions: int
    delete_markers: int
    uploads_aborted: int


def stack_buckets(cloudformation: Any, stack_name: str) -> list[str]:
    """The buckets ``stack_name`` created (physical names), in the template's order."""
    try:
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        summaries = [item for page in pages for item in page.get("StackResourceSummaries", [])]
    except Exception as error:
        if "does not exist" in str(error) or "ValidationError" in str(error):
            region = cloudformation.meta.region_name
            raise StackNotFoundError(
                f"no CloudFormation stack named {stack_name!r} in {region} (check --stack-name and --region)"
            ) from error
        raise
    return [
        item["PhysicalResourceId"]
        for item in summaries
        if item.get("ResourceType") == "AWS::S3::Bucket"
        and item.get("PhysicalResourceId")
        and item.get("ResourceStatus") != "DELETE_COMPLETE"
    ]


def _versions(s3: Any, bucket: str) -> Iterator[tuple[dict[str, str], bool]]:
    """Every object version and delete marker of ``bucket`` (``True``: a delete marker)."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            yield {"Key": version["Key"], "VersionId": version["VersionId"]}, False
        for marker in page.get("DeleteMarkers", []):
            yield {"Key": marker["Key"], "VersionId": marker["VersionId"]}, True


def empty_bucket(s3: Any, bucket: str) -> Emptied:
    """Delete every version, delete marker and unfinished multipart upload of ``bucket``.

    Listing and deleting alternate until a listing comes back empty, so what a still-running writer
    adds meanwhile goes too. A bucket that is already gone counts as empty.
    """
    versions = markers = aborted = 0
    while True:
        batch: list[dict[str, str]] = []
        try:
            for entry, is_marker in _versions(s3, bucket):
                batch.append(entry)
                markers += is_marker
                versions += not is_marker
                if len(batch) == DELETE_BATCH:
                    _delete(s3, bucket, batch)
                    batch = []
        except s3.exceptions.NoSuchBucket:
            return Emptied(bucket, versions, markers, aborted)
        if batch:
            _delete(s3, bucket, batch)
        uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        for upload in uploads:
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            aborted += 1
        if (
            not batch
            and not uploads
            and not s3.list_object_versions(Bucket=bucket, MaxKeys=1).get("Versions")
        ):
            return Emptied(bucket, versions, markers, aborted)


def _delete(s3: Any, bucket: str, batch: list[dict[str, str]]) -> None:
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    errors = answer.get("Errors", [])
    if errors:
        first = errors[0]
        raise RuntimeError(
            f"s3://{bucket}/{first.get('Key')} (version {first.get('VersionId')}) could not be deleted: "
            f"{first.get('Code')} {first.get('Message')} ({len(errors)} such errors)"
        )


def confirmed(stack_name: str, buckets: list[str], ask: Callable[[str], str]) -> bool:
    """Whether the operator typed the stack's name back after seeing what will be deleted."""
    print(f"This deletes stack {stack_name!r} and EVERY object version in its buckets:")
    for bucket in buckets:
        print(f"  s3://{bucket}")
    print("Cut-outs, masters, held reviews and uploads there are gone for good (no undo).")
    try:
        answer = ask(f"Type the stack's name ({stack_name}) to go on: ")
    except EOFError:
        return False
    return answer.strip() == stack_name


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "teardown",
        help="empty the stack's buckets (every version), then delete the stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--yes", action="store_true", help="do not ask for the stack's name (scripts)")
    parser.add_argument(
        "--keep-stack",
        action="store_true",
        help="only empty the buckets, then print the `sam delete` command that deletes the stack",
    )
    _add_target_options(parser)
    parser.set_defaults(handler=lambda args: _guarded("teardown", run, args))


def run(args: argparse.Namespace, ask: Callable[[str], str] = input) -> int:
    stack_name = args.stack_name or (LOCAL_STACK_NAME if args.endpoint_url else None)
    if stack_name is None:
        raise UsageError("give --stack-name (a deployed stack) or --endpoint-url (the local stack)")
    session = aws_session(region=args.region, endpoint_url=args.endpoint_url)
    cloudformation = session.client("cloudformation", endpoint_url=args.endpoint_url)
    s3 = session.client("s3", endpoint_url=args.endpoint_url)
    buckets = stack_buckets(cloudformation, stack_name)
    if not args.yes:
        if not sys.stdin.isatty() and ask is input:
            raise UsageError("not a terminal: give --yes to tear the stack down without the question")
        if not confirmed(stack_name, buckets, ask):
            print("not confirmed: nothing deleted", file=sys.stderr)
            return 2
    for bucket in buckets:
        emptied = empty_bucket(s3, bucket)
        print(
            f"emptied s3://{bucket}: {emptied.versions} object versions, "
            f"{emptied.delete_markers} delete markers, {emptied.uploads_aborted} unfinished uploads"
        )
    region = cloudformation.meta.region_name
    if args.keep_stack:
        print(f"buckets empty; delete the stack with: sam delete --stack-name {stack_name} --region {region}")
        return 0
    cloudformation.delete_stack(StackName=stack_name)
    print(f"deleting stack {stack_name!r} in {region} …", flush=True)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=stack_name, WaiterConfig={"Delay": 5, "MaxAttempts": 360}
    )
    print(f"stack {stack_name!r} deleted")
    return 0
