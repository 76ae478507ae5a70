"""Finding the stack: CloudFormation outputs in moto, errors an operator can act on, usage errors."""

from __future__ import annotations

import json

import boto3
import pytest

from cutout_tools.operations import OUTPUT_NAMES, OperationsError, StackNotFoundError, resolve_stack
from cutout_tools.template import load_template
from tests.functional.operations.conftest import Operator, resources_of
from tests.functional.pipeline.world import REGION


def test_the_template_declares_every_output_the_commands_read() -> None:
    # Given template.yaml
    outputs = load_template()["Outputs"]

    # When the outputs the commands read are looked up
    references = {name: outputs[name]["Value"] for name in OUTPUT_NAMES.values()}

    # Then each one is there and refers to the resource it names (or your bucket, when you name one)
    assert references == {
        "InputBucketName": {
            "Fn::If": ["UseExistingInputBucket", {"Ref": "ExistingInputBucketName"}, {"Ref": "InputBucket"}]
        },
        "OutputBucketName": {"Ref": "OutputBucket"},
        "WorkQueueUrl": {"Ref": "WorkQueue"},
        "DeadLetterQueueUrl": {"Ref": "DeadLetterQueue"},
    }


def test_resolve_stack_reads_the_resources_from_the_stacks_outputs(operator: Operator) -> None:
    # Given a stack in moto's CloudFormation whose outputs name the world's resources
    cloudformation = boto3.client("cloudformation", region_name=REGION)

    # When it is resolved
    resources = resolve_stack(cloudformation, operator.stack_name)

    # Then the resources are the world's
    assert resources == resources_of(operator.world)


def test_an_unknown_stack_is_a_clear_runtime_error(operator: Operator) -> None:
    # Given a stack name that does not exist
    cloudformation = boto3.client("cloudformation", region_name=REGION)

    # When it is resolved, and when the command is run against it
    with pytest.raises(StackNotFoundError, match="no CloudFormation stack named 'nope'"):
        resolve_stack(cloudformation, "nope")
    result = Operator(operator.world, operator.endpoint_url, "nope").run("dlq", "list")

    # Then the command exits 1 with one sentence
    assert result.exit_code == 1
    assert result.stderr.startswith("cutout dlq list: no CloudFormation stack named 'nope'")


def test_a_stack_without_the_outputs_is_named_as_such(aws_environment: str) -> None:
    # Given a stack that is not a cutout stack
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"Other": {"Value": "x"}}}
    cloudformation.create_stack(StackName="not-cutout", TemplateBody=json.dumps(template))

    # When it is resolved
    with pytest.raises(OperationsError) as raised:
        resolve_stack(cloudformation, "not-cutout")

    # Then the error lists what is missing
    assert "has no output DeadLetterQueueUrl, InputBucketName, OutputBucketName, WorkQueueUrl" in str(
        raised.value
    )


def test_a_deleted_queue_is_a_clear_runtime_error(operator: Operator) -> None:
    # Given the stack's dead-letter queue gone
    operator.world.sqs.delete_queue(QueueUrl=operator.world.dlq_url)

    # When the DLQ is listed
    result = operator.run("dlq", "replay")

    # Then the command exits 1 and says a queue is missing
    assert result.exit_code == 1
    assert "does not exist" in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["dlq", "list"],  # no --stack-name and no --endpoint-url
        ["dlq", "list", "--limit", "0"],
        ["dlq"],
        ["backfill", "bucket/prefix", "--stack-name", "s"],
    ],
)
def test_usage_errors_exit_2(operator: Operator, argv: list[str]) -> None:
    # Given a command line missing or misusing an option
    # When it is run
    result = operator.run(*argv, target=False)

    # Then the exit code is 2 and stderr says what is wrong
    assert result.exit_code == 2
    assert result.stderr.strip()
