"""template.yaml deployed into moto's CloudFormation, then completed by hand where moto stops.

moto's CloudFormation creates the buckets, queues (with redrive), table, role, function and event
source mapping, but skips some resource types (queue and bucket policies, the alarm, the secret) and
some properties of the resources it creates (a bucket's versioning, notifications, lifecycle,
public access block, ownership controls; a table's TTL). ``deploy_template`` applies each of those
from the template itself (evaluated against the deployed stack) and logs one line per thing it did
by hand, so the template stays the one description of the topology. What it cannot apply it says.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from cutout_tools.template import (
    LOCAL_ACCOUNT_ID,
    LOCAL_ARTIFACT_BUCKET,
    NO_VALUE,
    ParameterValue,
    StackContext,
    Template,
    TemplateError,
    bucket_notification_configuration,
    for_moto,
    queue_policies,
    resolve,
    resolve_parameters,
    resource_is_created,
    translate_template,
)

LOCAL_ACCESS_KEY = "cutout-local"
LOCAL_SECRET_KEY = "cutout-local"  # noqa: S105 - moto accepts any credentials; a placeholder
Log = Callable[[str], None]


def local_client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for moto on loopback, with dummy credentials (moto takes any)."""
    session = boto3.session.Session()
    return session.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=LOCAL_ACCESS_KEY,
        aws_secret_access_key=LOCAL_SECRET_KEY,
    )


@dataclass
class DeployedStack:
    """The stack as deployed: its context (parameters, resolver) and what was done by hand."""

    template: Template
    context: StackContext
    physical_ids: dict[str, str]
    outputs: dict[str, str]
    applied_by_hand: list[str] = field(default_factory=list)
    not_emulated: list[str] = field(default_factory=list)
    # AutoPublishAlias: function logical id -> alias name, published by hand (``_publish_aliases``).
    aliases: dict[str, str] = field(default_factory=dict)

    def ref(self, logical_id: str) -> Any:
        return resolve({"Ref": logical_id}, self.template, self.context)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return resolve({"Fn::GetAtt": [logical_id, attribute]}, self.template, self.context)

    def evaluate(self, value: Any) -> Any:
        return resolve(value, self.template, self.context)


class _Resolver:
    """``Ref`` and ``Fn::GetAtt`` against moto's physical ids and the resources created by hand."""

    def __init__(self, template: Template, endpoint_url: str, region: str) -> None:
        self._template = template
        self._region = region
        self._endpoint_url = endpoint_url
        self.physical_ids: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], Any] = {}

    def __call__(self, logical_id: str, attribute: str | None) -> Any:
        if attribute is None:
            if logical_id not in self.physical_ids:
                raise TemplateError(f"{logical_id} was not created (moto skipped it and it is not emulated)")
            return self.physical_ids[logical_id]
        if (logical_id, attribute) not in self.attributes:
            self.attributes[(logical_id, attribute)] = self._attribute(logical_id, attribute)
        return self.attributes[(logical_id, attribute)]

    def _attribute(self, logical_id: str, attribute: str) -> Any:
        resource_type = self._template["Resources"][logical_id]["Type"]
        physical = self(logical_id, None)
        if resource_type == "AWS::SQS::Queue":
            if attribute == "QueueUrl":
                return physical
            if attribute in {"Arn", "QueueName"}:
                sqs = local_client("sqs", self._endpoint_url, self._region)
                arn = sqs.get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
                return arn if attribute == "Arn" else arn.rsplit(":", 1)[1]
        if resource_type == "AWS::S3::Bucket":
            if attribute == "Arn":
                return f"arn:aws:s3:::{physical}"
            if attribute == "DomainName":
                return f"{physical}.s3.amazonaws.com"
        if (resource_type, attribute) == ("AWS::DynamoDB::Table", "Arn"):
            dynamodb = local_client("dynamodb", self._endpoint_url, self._region)
            return dynamodb.describe_table(TableName=physical)["Table"]["TableArn"]
        arn_formats = {
            "AWS::Events::Rule": "arn:aws:events:{region}:{account}:rule/{name}",
            "AWS::Serverless::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
            "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
        }
        if attribute == "Arn" and resource_type in arn_formats:
            return arn_formats[resource_type].format(
                region=self._region, account=LOCAL_ACCOUNT_ID, name=physical
            )
        raise TemplateError(f"the local stack cannot evaluate Fn::GetAtt {logical_id}.{attribute}")


def _upload_placeholder_code(endpoint_url: str, region: str, translated: Mapping[str, Any]) -> None:
    """moto's Lambda wants the code the placeholder ``s3://`` URIs name; the real code runs in-process."""
    s3 = local_client("s3", endpoint_url, region)
    s3.create_bucket(Bucket=LOCAL_ARTIFACT_BUCKET)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as code:
        code.writestr("README.txt", "placeholder: the local stack runs the function in-process\n")
    keys = set()
    for declared in translated["Resources"].values():
        properties = declared.get("Properties") or {}
        for location in (properties.get("Code"), properties.get("Content")):
            if isinstance(location, dict) and location.get("S3Bucket") == LOCAL_ARTIFACT_BUCKET:
                keys.add(str(location["S3Key"]))
    for key in sorted(keys):
        s3.put_object(Bucket=LOCAL_ARTIFACT_BUCKET, Key=key, Body=archive.getvalue())


def _lifecycle_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CloudFormation's ``LifecycleConfiguration.Rules`` in the S3 API's shape."""
    converted = []
    for rule in rules:
        api_rule: dict[str, Any] = {
            "Status": rule.get("Status", "Enabled"),
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "Id" in rule:
            api_rule["ID"] = rule["Id"]
        if "ExpirationInDays" in rule:
            api_rule["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
        noncurrent = rule.get("NoncurrentVersionExpiration")
        if noncurrent is not None:
            api_rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
        if "NoncurrentVersionExpirationInDays" in rule:
            days = int(rule["NoncurrentVersionExpirationInDays"])
            api_rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
        abort = rule.get("AbortIncompleteMultipartUpload")
        if abort is not None:
            api_rule["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": int(abort["DaysAfterInitiation"])
            }
        converted.append(api_rule)
    return converted


# Bucket properties moto's CloudFormation does not apply, and how to apply each through the S3 API.
# BucketName and BucketEncryption moto applies itself; anything else unknown is reported.
_BUCKET_PROPERTIES_MOTO_APPLIES = {"BucketName", "BucketEncryption", "Tags"}


def _complete_bucket(s3: Any, stack: DeployedStack, logical_id: str, properties: dict[str, Any]) -> None:
    bucket = stack.ref(logical_id)
    for name, declared in properties.items():
        if name in _BUCKET_PROPERTIES_MOTO_APPLIES or name == "NotificationConfiguration":
            continue
        value = stack.evaluate(declared)
        what = f"{logical_id}.{name}"
        if name == "VersioningConfiguration":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": value["Status"]})
        elif name == "PublicAccessBlockConfiguration":
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=value)
        elif name == "OwnershipControls":
            s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=value)
        elif name == "LifecycleConfiguration":
            s3.put_bucket_lifecycle_configuration(
                Bucket=bucket, LifecycleConfiguration={"Rules": _lifecycle_rules(value["Rules"])}
            )
            what += " (stored; moto never expires objects)"
        else:
            stack.not_emulated.append(f"{what}: not applied (the local stack has no applier for it)")
            continue
        stack.applied_by_hand.append(what)
    if properties.get("NotificationConfiguration"):
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration=bucket_notification_configuration(
                stack.template, stack.context, logical_id
            ),
        )
        stack.applied_by_hand.append(f"{logical_id}.NotificationConfiguration (S3 -> SQS events)")


def _complete_table(dynamodb: Any, stack: DeployedStack, logical_id: str, properties: dict[str, Any]) -> None:
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        specification = stack.evaluate(ttl)
        dynamodb.update_time_to_live(
            TableName=stack.ref(logical_id),
            TimeToLiveSpecification={
                "AttributeName": specification["AttributeName"],
                "Enabled": bool(specification.get("Enabled", True)),
            },
        )
        stack.applied_by_hand.append(
            f"{logical_id}.TimeToLiveSpecification (stored; moto never expires items)"
        )


def _create_secret(
    secretsmanager: Any, stack: DeployedStack, logical_id: str, properties: dict[str, Any], secret_string: str
) -> str:
    name = stack.evaluate(properties.get("Name", f"{stack.context.stack_name}-{logical_id}"))
    description = stack.evaluate(properties.get("Description", ""))
    created = secretsmanager.create_secret(Name=name, Description=description, SecretString=secret_string)
    stack.applied_by_hand.append(
        f"{logical_id} (AWS::SecretsManager::Secret {name}, holding the Aidge emulator's key, not the"
        " template's placeholder)"
    )
    return str(created["ARN"])


def _needs_tls(statement: Mapping[str, Any]) -> bool:
    return "aws:SecureTransport" in json.dumps(statement.get("Condition") or {})


def _apply_bucket_policy(s3: Any, stack: DeployedStack, logical_id: str, properties: dict[str, Any]) -> None:
    """The policy without its TLS-only statements: moto enforces bucket policies, and serves plain HTTP."""
    bucket = stack.evaluate(properties["Bucket"])
    document = dict(stack.evaluate(properties["PolicyDocument"]))
    statements = document.get("Statement") or []
    kept = [statement for statement in statements if not _needs_tls(statement)]
    dropped = [str(statement.get("Sid", "?")) for statement in statements if _needs_tls(statement)]
    if dropped:
        stack.not_emulated.append(
            f"{logical_id} statements {dropped}: they refuse plain HTTP, and the local endpoint is plain HTTP"
        )
    if not kept:
        return
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({**document, "Statement": kept}))
    stack.applied_by_hand.append(
        f"{logical_id} (AWS::S3::BucketPolicy; {len(kept)} statements, enforced by moto)"
    )


def _disable_motos_event_source_mappings(lambda_client: Any, stack: DeployedStack) -> None:
    """moto's own mappings would run the function in Docker: disable them; the local poller plays them.

    Removed before the bucket notification is applied, so not even S3's test event reaches them.
    """
    for logical_id, declared in stack.template["Resources"].items():
        if declared.get("Type") != "AWS::Serverless::Function" or logical_id not in stack.physical_ids:
            continue
        function_name = stack.physical_ids[logical_id]
        mappings = lambda_client.list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
        for mapping in mappings:
            # Disabled, not deleted: moto's delete leaves the mapping attached to the queue.
            lambda_client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
            stack.applied_by_hand.append(
                f"disabled moto's event source mapping {mapping['UUID']} of {logical_id} (it would run the"
                " function in Docker); a local poller plays it"
            )


def _publish_aliases(lambda_client: Any, stack: DeployedStack) -> None:
    """``AutoPublishAlias``: publish a version of the function as deployed and point the alias at it.

    moto's CloudFormation cannot create them (``for_moto`` leaves them out), but its Lambda API keeps
    what the tools depend on: a published version's configuration is frozen (an
    ``UpdateFunctionConfiguration`` changes ``$LATEST`` only), and the alias names that version.
    The poller invokes the function as the alias's version is configured (``LocalStack``), as the
    work queue's mapping invokes the alias on AWS.
    """
    for logical_id, declared in stack.template["Resources"].items():
        if declared.get("Type") != "AWS::Serverless::Function" or logical_id not in stack.physical_ids:
            continue
        alias = (declared.get("Properties") or {}).get("AutoPublishAlias")
        if not alias:
            continue
        alias = str(stack.evaluate(alias))
        function_name = stack.physical_ids[logical_id]
        version = lambda_client.publish_version(FunctionName=function_name)["Version"]
        lambda_client.create_alias(FunctionName=function_name, Name=alias, FunctionVersion=version)
        stack.aliases[logical_id] = alias
        stack.not_emulated[:] = [
            note
            for note in stack.not_emulated
            if not (
                note.startswith(logical_id)
                and ("AWS::Lambda::Version" in note or "AWS::Lambda::Alias" in note)
            )
        ]
        stack.applied_by_hand.append(
            f"{logical_id} AutoPublishAlias: version {version} published (its configuration frozen, as on "
            f"Lambda), alias {alias!r} -> {version}; the mapping's invocations use the alias's configuration"
        )


def _attribute_text(value: Any) -> str:
    """An SNS attribute value as the API takes it: JSON for documents, "true"/"false" for booleans."""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _subscribe(sns: Any, stack: DeployedStack, logical_id: str, properties: dict[str, Any]) -> str:
    """An ``AWS::SNS::Subscription`` (moto's CloudFormation skips the type); moto's SNS then delivers."""
    evaluated = stack.evaluate(properties)
    attributes = {
        name: _attribute_text(evaluated[name])
        for name in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")
        if name in evaluated
    }
    subscription = sns.subscribe(
        TopicArn=evaluated["TopicArn"],
        Protocol=evaluated["Protocol"],
        Endpoint=evaluated["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    stack.applied_by_hand.append(
        f"{logical_id} (AWS::SNS::Subscription {evaluated['Protocol']} to {evaluated['TopicArn']}, "
        f"attributes {attributes}; moto's SNS delivers to the queue)"
    )
    return str(subscription["SubscriptionArn"])


def _put_alarm(cloudwatch: Any, stack: DeployedStack, logical_id: str, properties: dict[str, Any]) -> str:
    evaluated = {
        name: value
        for name, value in stack.evaluate(properties).items()
        if value is not NO_VALUE and name != "AlarmName"
    }
    alarm_name = str(stack.evaluate(properties.get("AlarmName", f"{stack.context.stack_name}-{logical_id}")))
    for number in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if number in evaluated:
            evaluated[number] = int(evaluated[number])
    if "Threshold" in evaluated:
        evaluated["Threshold"] = float(evaluated["Threshold"])
    cloudwatch.put_metric_alarm(AlarmName=alarm_name, **evaluated)
    stack.applied_by_hand.append(
        f"{logical_id} (AWS::CloudWatch::Alarm {alarm_name}; stored, never evaluated)"
    )
    return alarm_name


def deploy_template(
    *,
    template: Template,
    endpoint_url: str,
    region: str,
    stack_name: str,
    parameter_overrides: Mapping[str, ParameterValue] | None,
    aidge_secret_string: str,
) -> DeployedStack:
    """Translate, create the stack in moto, wait for it, then apply what moto skipped.

    ``aidge_secret_string`` replaces the placeholder value of every ``AWS::SecretsManager::Secret``
    (there is one: the Aidge credentials, which locally are the emulator's).
    """
    parameters = resolve_parameters(template, parameter_overrides)
    translated, left_out = for_moto(
        translate_template(template, region=region, parameter_overrides=parameters)
    )
    _upload_placeholder_code(endpoint_url, region, translated)
    cloudformation = local_client("cloudformation", endpoint_url, region)
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(translated),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    described = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    resolver = _Resolver(template, endpoint_url, region)
    resolver.physical_ids.update(
        {
            item["LogicalResourceId"]: item["PhysicalResourceId"]
            for item in cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
            if item.get("LogicalResourceId") and item.get("PhysicalResourceId")
        }
    )
    context = StackContext.from_template(
        template,
        parameters,
        region=region,
        stack_name=stack_name,
        stack_id=described["StackId"],
        resource_resolver=resolver,
    )
    stack = DeployedStack(
        template=template,
        context=context,
        physical_ids=resolver.physical_ids,
        outputs={item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])},
    )
    stack.not_emulated.extend(left_out)
    _complete(stack, resolver, endpoint_url, region, aidge_secret_string)
    return stack


def _complete(
    stack: DeployedStack, resolver: _Resolver, endpoint_url: str, region: str, aidge_secret_string: str
) -> None:
    # Resources whose Condition is false for these parameters exist neither in moto nor here.
    resources: dict[str, dict[str, Any]] = {
        logical_id: declared
        for logical_id, declared in stack.template["Resources"].items()
        if resource_is_created(stack.template, logical_id, stack.context)
    }
    skipped = [logical_id for logical_id in resources if logical_id not in resolver.physical_ids]
    client: Callable[[str], Any] = lambda service: local_client(service, endpoint_url, region)  # noqa: E731
    _disable_motos_event_source_mappings(client("lambda"), stack)
    _publish_aliases(client("lambda"), stack)
    # Resources others reference come first (the secret is the function's AIDGE_SECRET_NAME).
    for logical_id in skipped:
        declared = resources[logical_id]
        properties = declared.get("Properties") or {}
        if declared["Type"] == "AWS::SecretsManager::Secret":
            resolver.physical_ids[logical_id] = _create_secret(
                client("secretsmanager"), stack, logical_id, properties, aidge_secret_string
            )
    for logical_id, declared in resources.items():
        properties = declared.get("Properties") or {}
        if declared["Type"] == "AWS::S3::Bucket":
            _complete_bucket(client("s3"), stack, logical_id, properties)
        elif declared["Type"] == "AWS::DynamoDB::Table":
            _complete_table(client("dynamodb"), stack, logical_id, properties)
    sqs = client("sqs")
    for policy in queue_policies(stack.template, stack.context):
        for queue in policy.queue_logical_ids:
            sqs.set_queue_attributes(
                QueueUrl=stack.ref(queue), Attributes={"Policy": json.dumps(policy.document)}
            )
        resolver.physical_ids[policy.logical_id] = policy.logical_id
        stack.applied_by_hand.append(f"{policy.logical_id} (AWS::SQS::QueuePolicy; stored, not enforced)")
    for logical_id in skipped:
        _complete_skipped(stack, resolver, client, logical_id, resources[logical_id])
    _complete_outputs(stack)


def _complete_skipped(
    stack: DeployedStack,
    resolver: _Resolver,
    client: Callable[[str], Any],
    logical_id: str,
    declared: dict[str, Any],
) -> None:
    """A resource moto's CloudFormation skipped: applied through its service's API, or reported."""
    properties = declared.get("Properties") or {}
    resource_type = declared["Type"]
    if resource_type == "AWS::S3::BucketPolicy":
        _apply_bucket_policy(client("s3"), stack, logical_id, properties)
        resolver.physical_ids[logical_id] = logical_id
    elif resource_type == "AWS::CloudWatch::Alarm":
        resolver.physical_ids[logical_id] = _put_alarm(client("cloudwatch"), stack, logical_id, properties)
    elif resource_type == "AWS::SNS::Subscription":
        resolver.physical_ids[logical_id] = _subscribe(client("sns"), stack, logical_id, properties)
    elif resource_type == "AWS::Serverless::LayerVersion":
        stack.not_emulated.append(
            f"{logical_id}: the function imports the installed `cutout` package instead"
        )
    elif resource_type not in {"AWS::SecretsManager::Secret", "AWS::SQS::QueuePolicy"}:
        stack.not_emulated.append(f"{logical_id} ({resource_type}): moto skipped it; not emulated")


def _complete_outputs(stack: DeployedStack) -> None:
    """Outputs moto could not evaluate (they name skipped resources), evaluated now they exist."""
    for name, declared in (stack.template.get("Outputs") or {}).items():
        if name in stack.outputs:
            continue
        try:
            stack.outputs[name] = str(stack.evaluate(declared["Value"]))
        except TemplateError as error:
            stack.not_emulated.append(f"output {name}: {error}")
            continue
        stack.applied_by_hand.append(f"output {name} (moto left it out)")
