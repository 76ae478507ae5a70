"""Finding a deployed cutout stack's resources through its CloudFormation outputs.

The operations commands never guess resource names: a stack (in AWS, or the local stack, which
deploys the same template into moto's CloudFormation) is asked for the outputs ``template.yaml``
declares, and everything else is built on the ``StackResources`` they give. Tests and scripts that
made the resources some other way pass a ``StackResources`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

# The name `cutout local up` gives the stack it deploys into moto (the default with --endpoint-url).
LOCAL_STACK_NAME = "cutout-local"
# The local stack's region (`cutout local up` default): the default with --endpoint-url.
LOCAL_REGION = "us-east-1"

# The template's Outputs this package reads, by StackResources field.
OUTPUT_NAMES = {
    "input_bucket": "InputBucketName",
    "output_bucket": "OutputBucketName",
    "work_queue_url": "WorkQueueUrl",
    "dead_letter_queue_url": "DeadLetterQueueUrl",
}


class OperationsError(Exception):
    """A failure an operator can act on; the message says what to do."""


class StackNotFoundError(OperationsError):
    """No stack with that name in that account and region."""


@dataclass(frozen=True, slots=True)
class StackResources:
    """What the operations commands act on, as the stack's outputs name them."""

    input_bucket: str
    output_bucket: str
    work_queue_url: str
    dead_letter_queue_url: str


def resolve_stack(cloudformation: CloudFormationClient, stack_name: str) -> StackResources:
    """The resources of ``stack_name`` from its outputs; ``StackNotFoundError`` if there is no such stack,
    ``OperationsError`` if it lacks an output (not a cutout stack, or not fully created)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ValidationError":
            region = cloudformation.meta.region_name
            raise StackNotFoundError(
                f"no CloudFormation stack named {stack_name!r} in {region} "
                "(check --stack-name and --region; for the local stack give --endpoint-url)"
            ) from error
        raise
    if not stacks:
        raise StackNotFoundError(f"no CloudFormation stack named {stack_name!r}")
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}
    missing = sorted(name for name in OUTPUT_NAMES.values() if name not in outputs)
    if missing:
        status = stacks[0].get("StackStatus", "unknown status")
        raise OperationsError(
            f"stack {stack_name!r} ({status}) has no output {', '.join(missing)}: "
            "is it a cutout stack deployed from template.yaml?"
        )
    return StackResources(**{field: outputs[name] for field, name in OUTPUT_NAMES.items()})


def aws_session(*, region: str | None, endpoint_url: str | None) -> boto3.session.Session:
    """A session for the target.

    Against a local endpoint the region defaults to the local stack's (``us-east-1``), not to your
    AWS configuration's (moto keeps each region apart), and missing credentials get dummies (the
    local stack accepts any), so a fresh machine needs no AWS configuration.
    """
    if endpoint_url is None:
        return boto3.session.Session(region_name=region)
    session = boto3.session.Session(region_name=region or LOCAL_REGION)
    if session.get_credentials() is None:
        session = boto3.session.Session(
            region_name=region or LOCAL_REGION,
            aws_access_key_id="cutout-local",
            aws_secret_access_key="cutout-local",  # noqa: S106 - the local stack's dummy, not a secret
        )
    return session
