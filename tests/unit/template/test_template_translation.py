"""The template translates offline with aws-sam-translator into what AWS would run."""

from __future__ import annotations

from typing import Any

import pytest

from cutout_tools.template import Template, TemplateError, load_template, translate_template


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


@pytest.fixture(scope="module")
def translated(template: Template) -> dict[str, Any]:
    return translate_template(template, region="eu-west-1")


def _of_type(translated: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in translated["Resources"].values() if r["Type"] == resource_type]


def test_sqs_event_becomes_an_event_source_mapping_bound_to_the_parameters(
    translated: dict[str, Any],
) -> None:
    # Given the translated template
    # When its event source mappings are listed
    (mapping,) = _of_type(translated, "AWS::Lambda::EventSourceMapping")
    # Then the one mapping reads the work queue into the function's alias (a published version, as
    # SnapStart needs) with the parameters' batching
    assert mapping == {
        "EventSourceArn": {"Fn::GetAtt": ["WorkQueue", "Arn"]},
        "FunctionName": {"Ref": "ProcessUploadFunctionAliaslive"},
        "BatchSize": {"Ref": "BatchSize"},
        "MaximumBatchingWindowInSeconds": {"Ref": "MaximumBatchingWindowInSeconds"},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": {"Ref": "MaxConcurrency"}},
    }


def test_function_translates_with_its_runtime_settings_and_placeholder_code(
    translated: dict[str, Any],
) -> None:
    # Given the translated template
    # When the Lambda function is read
    (function,) = _of_type(translated, "AWS::Lambda::Function")
    # Then runtime, architecture, loop protection, tracing and logging survive, and code is a placeholder
    assert (function["Runtime"], function["Architectures"], function["RecursiveLoop"]) == (
        "python3.13",
        ["arm64"],
        "Terminate",
    )
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "ProcessUploadFunctionLogGroup"}}
    assert function["Code"] == {"S3Bucket": "cutout-local-artifacts", "S3Key": "ProcessUploadFunction.zip"}


def test_role_adds_only_the_managed_policies_sam_attaches(translated: dict[str, Any]) -> None:
    # Given the translated template
    # When the function role's managed policies are read
    (role,) = _of_type(translated, "AWS::IAM::Role")
    # Then they are SAM's own (logs, X-Ray, SQS polling), ARNs made without calling IAM
    assert sorted(role["ManagedPolicyArns"]) == [
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    ]


def test_translation_uses_the_callers_region_for_partitions(template: Template) -> None:
    # Given a China region
    # When the template is translated there
    (role,) = _of_type(translate_template(template, region="cn-north-1"), "AWS::IAM::Role")
    # Then managed policy ARNs are in the aws-cn partition
    assert all(arn.startswith("arn:aws-cn:iam::aws:policy/") for arn in role["ManagedPolicyArns"])


def test_translation_leaves_the_loaded_template_unchanged(template: Template) -> None:
    # Given the loaded template's code location
    before = template["Resources"]["ProcessUploadFunction"]["Properties"]["CodeUri"]
    # When it is translated
    translate_template(template)
    # Then the loaded template still names the local folder
    assert (
        template["Resources"]["ProcessUploadFunction"]["Properties"]["CodeUri"]
        == before
        == "functions/process_upload/"
    )


def test_translation_refuses_a_parameter_value_cloudformation_would_refuse(template: Template) -> None:
    # Given a batch size above the SQS event's maximum
    overrides = {"BatchSize": 11}
    # When the template is translated with it
    # Then it is refused with the parameter's name
    with pytest.raises(TemplateError, match="BatchSize"):
        translate_template(template, parameter_overrides=overrides)


def test_translation_reports_what_sam_rejects(template: Template) -> None:
    # Given a template whose SQS event lacks its queue
    broken = load_template()
    del broken["Resources"]["ProcessUploadFunction"]["Properties"]["Events"]["WorkQueue"]["Properties"][
        "Queue"
    ]
    # When it is translated
    # Then SAM's message comes back as a TemplateError
    with pytest.raises(TemplateError, match="SAM cannot translate"):
        translate_template(broken)


@pytest.mark.parametrize(
    ("snap_start", "expected"), [("false", None), ("true", {"ApplyOn": "PublishedVersions"})]
)
def test_snapstart_is_a_parameter_on_the_published_versions_behind_the_alias(
    template: Template, snap_start: str, expected: dict[str, str] | None
) -> None:
    # Given the function as written
    function = template["Resources"]["ProcessUploadFunction"]["Properties"]
    # When its SnapStart setting is resolved for the parameter value
    chosen = function["SnapStart"]["Fn::If"][1 if snap_start == "true" else 2]
    # Then SnapStart applies to published versions only when asked, and versions are always published
    assert (None if chosen == {"Ref": "AWS::NoValue"} else chosen) == expected
    assert function["AutoPublishAlias"] == "live"
    assert template["Conditions"]["UseSnapStart"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}
    assert template["Parameters"]["SnapStart"]["Default"] == "false"
