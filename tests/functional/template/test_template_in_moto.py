"""The translated template deploys into moto on loopback, and the readers fill in what moto skips.

This is what the local stack does: translate, upload placeholder code, create the stack, then apply
the bucket notification and queue policies read from the template. A real upload then reaches the
work queue.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from tests.functional.local_aws import moto_server

from cutout_tools.template import (
    LOCAL_ARTIFACT_BUCKET,
    StackContext,
    Template,
    bucket_notification_configuration,
    for_moto,
    load_template,
    queue_policies,
    resolve,
    sqs_event_source,
    translate_template,
)

# moto's CloudFormation skips queue and bucket policies, alarms and secrets, with a warning each.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS::")

REGION = "us-east-1"
STACK = "cutout-test"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto of its own for this module: the stack it deploys must not meet other tests' resources."""
    with moto_server() as endpoint:
        yield endpoint


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def deployed(moto_endpoint: str) -> tuple[Template, StackContext]:
    template = load_template()
    s3 = _client(moto_endpoint, "s3")
    s3.create_bucket(Bucket=LOCAL_ARTIFACT_BUCKET)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return {}\n")
    for key in ("ProcessUploadFunction.zip", "CutoutLayer.zip"):
        s3.put_object(Bucket=LOCAL_ARTIFACT_BUCKET, Key=key, Body=code.getvalue())
    cloudformation = _client(moto_endpoint, "cloudformation")
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(for_moto(translate_template(template, region=REGION))[0]),
        Capabilities=["CAPABILITY_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.describe_stack_resources(StackName=STACK)["StackResources"]
        if r.get("PhysicalResourceId")  # moto lists the resources it skipped without ids
    }
    sqs = _client(moto_endpoint, "sqs")

    def resolver(logical_id: str, attribute: str | None) -> Any:
        declared_type = template["Resources"][logical_id]["Type"]
        if attribute is None:
            return physical[logical_id]
        if (declared_type, attribute) == ("AWS::SQS::Queue", "Arn"):
            return sqs.get_queue_attributes(QueueUrl=physical[logical_id], AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        if (declared_type, attribute) == ("AWS::S3::Bucket", "Arn"):
            return f"arn:aws:s3:::{physical[logical_id]}"
        raise KeyError((logical_id, attribute))

    assert stack["StackStatus"] == "CREATE_COMPLETE"
    context = StackContext.from_template(
        template, region=REGION, stack_name=STACK, stack_id=stack["StackId"], resource_resolver=resolver
    )
    return template, context


def test_stack_creates_the_event_source_mapping_the_template_describes(
    deployed: tuple[Template, StackContext], moto_endpoint: str
) -> None:
    # Given the deployed stack and the SQS event read from the template
    template, context = deployed
    expected = sqs_event_source(template, context)
    # When moto's event source mappings are listed
    (mapping,) = _client(moto_endpoint, "lambda").list_event_source_mappings()["EventSourceMappings"]
    # Then the mapping has the template's queue, batching, concurrency and response types
    assert mapping["EventSourceArn"] == resolve({"Fn::GetAtt": ["WorkQueue", "Arn"]}, template, context)
    assert mapping["BatchSize"] == expected.batch_size
    assert mapping["MaximumBatchingWindowInSeconds"] == expected.maximum_batching_window_seconds
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": expected.maximum_concurrency}
    assert mapping["FunctionResponseTypes"] == list(expected.function_response_types)


def test_input_bucket_name_matches_the_queue_policys_source_arn(
    deployed: tuple[Template, StackContext],
) -> None:
    # Given the deployed stack (its real StackId) and the work queue's policy evaluated against it
    template, context = deployed
    (policy,) = [p for p in queue_policies(template, context) if p.queue_logical_ids == ("WorkQueue",)]
    (allow,) = [s for s in policy.document["Statement"] if s["Effect"] == "Allow"]
    # When the bucket's physical name is looked up
    bucket_name = resolve({"Ref": "InputBucket"}, template, context)
    # Then the policy names exactly that bucket
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == f"arn:aws:s3:::{bucket_name}"


def test_applied_notification_delivers_an_upload_to_the_work_queue(
    deployed: tuple[Template, StackContext], moto_endpoint: str
) -> None:
    # Given the notification and queue policies read from the template, applied as moto skips them
    template, context = deployed
    s3, sqs = _client(moto_endpoint, "s3"), _client(moto_endpoint, "sqs")
    for policy in queue_policies(template, context):
        for queue in policy.queue_logical_ids:
            url = resolve({"Ref": queue}, template, context)
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy.document)})
    bucket = resolve({"Ref": "InputBucket"}, template, context)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=bucket_notification_configuration(template, context)
    )
    # When an image is uploaded
    s3.put_object(Bucket=bucket, Key="shoes/red shoe.jpg", Body=b"\xff\xd8\xff")
    # Then, after S3's test event, the work queue holds an ObjectCreated record for it
    queue_url = resolve({"Ref": "WorkQueue"}, template, context)
    bodies = [
        json.loads(message["Body"])
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    ]
    records = [record for body in bodies for record in body.get("Records", [])]
    assert [(r["eventName"], unquote_plus(r["s3"]["object"]["key"])) for r in records] == [
        ("ObjectCreated:Put", "shoes/red shoe.jpg")
    ]
