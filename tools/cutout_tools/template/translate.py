"""SAM -> plain CloudFormation, offline, with aws-sam-translator (the library SAM CLI and AWS use).

Three things make it work without AWS: local ``CodeUri``/``ContentUri`` paths (which SAM CLI uploads
at package time, and the translator refuses) become ``s3://`` placeholders; managed policy names are
answered from a fixed table instead of IAM's ``ListPolicies``; the region comes from the caller, via
an explicit boto3 session, not from the environment.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.translator import Translator

from cutout_tools.template.errors import TemplateError
from cutout_tools.template.intrinsics import DEFAULT_REGION
from cutout_tools.template.loader import Template
from cutout_tools.template.parameters import ParameterValue, resolve_parameters

LOCAL_ARTIFACT_BUCKET = "cutout-local-artifacts"
_LOCAL_CODE_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}
# AWS managed policies SAM may name (by name) for what the template uses; path as in their ARNs.
_MANAGED_POLICY_PATHS = {
    "AWSLambdaBasicExecutionRole": "service-role/AWSLambdaBasicExecutionRole",
    "AWSLambdaSQSQueueExecutionRole": "service-role/AWSLambdaSQSQueueExecutionRole",
    "AWSXrayWriteOnlyAccess": "AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess": "AWSXRayDaemonWriteAccess",
    "AWSLambdaRole": "service-role/AWSLambdaRole",
    "AWSLambdaExecute": "AWSLambdaExecute",
}


class OfflineManagedPolicyLoader:
    """What samtranslator asks for managed policy ARNs (``load()``), answered without calling IAM."""

    def __init__(self, partition: str = "aws") -> None:
        self._partition = partition

    def load(self) -> dict[str, str]:
        return {
            name: f"arn:{self._partition}:iam::aws:policy/{path}"
            for name, path in _MANAGED_POLICY_PATHS.items()
        }


def with_placeholder_code_uris(template: Template, artifact_bucket: str = LOCAL_ARTIFACT_BUCKET) -> Template:
    """A copy of ``template`` whose local code paths are ``s3://<bucket>/<LogicalId>.zip`` placeholders."""
    placed = copy.deepcopy(template)
    for logical_id, resource in placed["Resources"].items():
        property_name = _LOCAL_CODE_PROPERTIES.get(resource.get("Type", ""))
        properties = resource.get("Properties") or {}
        local_path = properties.get(property_name) if property_name else None
        if isinstance(local_path, str) and not local_path.startswith("s3://"):
            properties[property_name] = f"s3://{artifact_bucket}/{logical_id}.zip"
    global_function = (placed.get("Globals") or {}).get("Function") or {}
    if isinstance(global_function.get("CodeUri"), str) and not global_function["CodeUri"].startswith("s3://"):
        global_function["CodeUri"] = f"s3://{artifact_bucket}/global.zip"
    return placed


def translate_template(
    template: Template,
    *,
    region: str = DEFAULT_REGION,
    parameter_overrides: Mapping[str, ParameterValue] | None = None,
    artifact_bucket: str = LOCAL_ARTIFACT_BUCKET,
) -> dict[str, Any]:
    """The CloudFormation template AWS would run for ``template``, made offline.

    ``template`` is not changed. Raises ``TemplateError`` with the translator's messages if SAM
    rejects it, or if a parameter value breaks the template's constraints.
    """
    parameter_values: dict[str, Any] = dict(resolve_parameters(template, parameter_overrides))
    translator = Translator(
        managed_policy_map=None,
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name=region),
    )
    policy_loader = OfflineManagedPolicyLoader(ArnGenerator.get_partition_name(region))
    try:
        translated: dict[str, Any] = translator.translate(
            with_placeholder_code_uris(template, artifact_bucket),
            parameter_values=parameter_values,
            get_managed_policy_map=policy_loader.load,
        )
    except InvalidDocumentException as error:
        messages = "; ".join(cause.message for cause in error.causes)
        raise TemplateError(f"SAM cannot translate the template: {messages}") from error
    return translated


PUBLISHED_VERSION_TYPES = ("AWS::Lambda::Version", "AWS::Lambda::Alias")


def for_moto(translated: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``translated`` as moto's CloudFormation can create it, and what was left out.

    moto cannot create the function's published version and alias (``AutoPublishAlias``: its
    Lambda answers "Missing FunctionName"), so they are left out and whatever named the alias
    (the work queue's event source mapping) names the function itself, whose code is the same.
    SnapStart, which lives on published versions, is not emulated either.
    """
    resources: dict[str, Any] = translated.get("Resources", {})
    dropped = {
        logical_id: resource
        for logical_id, resource in resources.items()
        if resource.get("Type") in PUBLISHED_VERSION_TYPES
    }
    if not dropped:
        return translated, []
    # ``Ref`` of an alias is its ARN: an event rule's target and a permission get the function's
    # ARN; the event source mapping gets its name (moto lists mappings by the name they were made with).
    alias_functions: dict[str, Any] = {}
    for logical_id, resource in dropped.items():
        if resource["Type"] == "AWS::Lambda::Alias":
            alias_functions[logical_id] = resource.get("Properties", {}).get("FunctionName")

    def alias_target(alias: str, by_name: bool) -> Any:
        function = alias_functions[alias]
        if by_name or not (isinstance(function, dict) and set(function) == {"Ref"}):
            return function
        return {"Fn::GetAtt": [function["Ref"], "Arn"]}

    def rewrite(value: Any, by_name: bool = False) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in alias_functions:
                return alias_target(value["Ref"], by_name)
            return {key: rewrite(item, by_name) for key, item in value.items()}
        if isinstance(value, list):
            return [rewrite(item, by_name) for item in value]
        return value

    kept = {
        logical_id: rewrite(resource, by_name=resource.get("Type") == "AWS::Lambda::EventSourceMapping")
        for logical_id, resource in resources.items()
        if logical_id not in dropped
    }
    notes = [
        f"{logical_id} ({resource['Type']}): moto cannot create it; the function is invoked directly"
        for logical_id, resource in dropped.items()
    ]
    return {**translated, "Resources": kept}, notes
