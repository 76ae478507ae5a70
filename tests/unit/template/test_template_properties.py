"""template.yaml has the properties issue 3 asks of the topology, one test per property."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from cutout.settings import Settings
from cutout_tools.template import (
    StackContext,
    Template,
    TemplateError,
    bucket_queue_notifications,
    function_environment_variables,
    load_template,
    queue_policies,
    queue_settings,
    resolve,
    resolved_function_environment,
    resource,
    sqs_event_source,
)

BUCKETS = ("InputBucket", "OutputBucket")
QUEUES = ("WorkQueue", "DeadLetterQueue")
FUNCTION = "ProcessUploadFunction"


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


def _properties(template: Template, logical_id: str) -> dict[str, Any]:
    return resource(template, logical_id)["Properties"]


def _policy_statements(template: Template, policy_type: str, target_key: str, target: str) -> list[Any]:
    statements: list[Any] = []
    for declared in template["Resources"].values():
        if declared["Type"] != policy_type:
            continue
        targets = declared["Properties"][target_key]
        targets = targets if isinstance(targets, list) else [targets]
        if {"Ref": target} in targets:
            statements.extend(declared["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _is_tls_only_deny(statement: dict[str, Any]) -> bool:
    return (
        statement.get("Effect") == "Deny"  # statements under !If (issue 15's options) are no denial
        and statement["Principal"] == "*"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    )


def _allowed_values(template: Template, parameter: str) -> list[str]:
    return [str(value) for value in template["Parameters"][parameter]["AllowedValues"]]


@pytest.mark.parametrize("bucket", BUCKETS)
def test_buckets_block_all_public_access(template: Template, bucket: str) -> None:
    # Given the bucket's properties
    properties = _properties(template, bucket)
    # When its public access block is read
    block = properties["PublicAccessBlockConfiguration"]
    # Then all four settings are on
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


@pytest.mark.parametrize("bucket", BUCKETS)
def test_buckets_encrypt_at_rest(template: Template, bucket: str) -> None:
    # Given the bucket's encryption rules
    rules = _properties(template, bucket)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # When the default algorithm is read
    algorithms = {rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules}
    # Then it is SSE-S3, or SSE-KMS with a bucket key
    assert algorithms in ({"AES256"}, {"aws:kms"})
    if algorithms == {"aws:kms"}:
        assert all(rule.get("BucketKeyEnabled") is True for rule in rules)


def test_input_bucket_keeps_object_versions(template: Template) -> None:
    # Given the input bucket (object versions are the idempotency identity of an upload)
    properties = _properties(template, "InputBucket")
    # When its versioning is read
    versioning = properties["VersioningConfiguration"]
    # Then it is enabled
    assert versioning == {"Status": "Enabled"}


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_policies_deny_plain_http(template: Template, bucket: str) -> None:
    # Given the bucket policies attached to the bucket
    statements = _policy_statements(template, "AWS::S3::BucketPolicy", "Bucket", bucket)
    # When the TLS-only denials are picked out
    denials = [statement for statement in statements if _is_tls_only_deny(statement)]
    # Then one covers every action on the bucket and on its objects
    assert len(denials) == 1
    assert denials[0]["Action"] == "s3:*"
    assert denials[0]["Resource"] == [{"Fn::GetAtt": [bucket, "Arn"]}, {"Fn::Sub": f"${{{bucket}.Arn}}/*"}]


def test_input_bucket_notifies_the_work_queue_of_every_created_object(template: Template) -> None:
    # Given the input bucket's notifications
    notifications = bucket_queue_notifications(template, "InputBucket")
    # When they are listed
    targets = [(n.queue_logical_id, n.event, n.filter_rules) for n in notifications]
    # Then every ObjectCreated event goes to the work queue, unfiltered
    assert targets == [("WorkQueue", "s3:ObjectCreated:*", ())]


def test_work_queue_policy_lets_only_our_input_bucket_send(template: Template) -> None:
    # Given a stack context (account, region, stack id) and the work queue's policy
    context = StackContext.from_template(
        template,
        account_id="111122223333",
        stack_name="shop",
        resource_resolver=lambda logical_id, _: logical_id,
    )
    (policy,) = [p for p in queue_policies(template, context) if p.queue_logical_ids == ("WorkQueue",)]
    # When the statement allowing S3 is picked out, and the bucket's name is evaluated
    (allow,) = [s for s in policy.document["Statement"] if s["Effect"] == "Allow"]
    bucket_name = resolve(_properties(template, "InputBucket")["BucketName"], template, context)
    # Then S3 may only SendMessage, only from that bucket's ARN and only from our account
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == f"arn:aws:s3:::{bucket_name}"
    assert allow["Condition"]["StringEquals"]["aws:SourceAccount"] == "111122223333"
    assert bucket_name.startswith("cutout-input-111122223333-")


def test_input_bucket_waits_for_the_queue_policy(template: Template) -> None:
    # Given the input bucket (S3 checks its permission to send when the notification is created)
    declared = resource(template, "InputBucket")
    # When its dependencies are read
    depends_on = declared["DependsOn"]
    # Then the work queue's policy is created first
    assert "WorkQueuePolicy" in ([depends_on] if isinstance(depends_on, str) else depends_on)


@pytest.mark.parametrize("queue", QUEUES)
def test_queue_policies_deny_plain_http(template: Template, queue: str) -> None:
    # Given the queue policies attached to the queue
    statements = _policy_statements(template, "AWS::SQS::QueuePolicy", "Queues", queue)
    # When the TLS-only denials are picked out
    denials = [statement for statement in statements if _is_tls_only_deny(statement)]
    # Then one covers every action on the queue
    assert [(d["Action"], d["Resource"]) for d in denials] == [("sqs:*", {"Fn::GetAtt": [queue, "Arn"]})]


@pytest.mark.parametrize("queue", QUEUES)
def test_queues_are_encrypted_by_sqs(template: Template, queue: str) -> None:
    # Given default parameters
    context = StackContext.from_template(template)
    # When the queue's settings are read
    settings = queue_settings(template, context, queue)
    # Then SQS-managed server-side encryption is on
    assert settings.sqs_managed_sse is True


@pytest.mark.parametrize("function_timeout", ["30", "60", "90", "120", "180", "300", "600", "900"])
def test_visibility_timeout_covers_six_function_timeouts_and_the_batching_window(
    template: Template, function_timeout: str
) -> None:
    # Given the template deployed with one allowed function timeout
    context = StackContext.from_template(template, {"FunctionTimeout": function_timeout})
    longest_window = int(template["Parameters"]["MaximumBatchingWindowInSeconds"]["MaxValue"])
    # When the work queue's visibility timeout is evaluated
    visibility = queue_settings(template, context, "WorkQueue").visibility_timeout_seconds
    # Then it is at least 6 x the timeout (AWS's advice), plus the longest batching window allowed
    assert visibility >= 6 * int(function_timeout) + longest_window
    assert visibility <= 43200  # SQS's maximum


def test_every_allowed_function_timeout_has_a_visibility_timeout(template: Template) -> None:
    # Given the allowed function timeouts and the default
    allowed = _allowed_values(template, "FunctionTimeout")
    # When the mapping's keys are listed
    mapped = set(template["Mappings"]["VisibilityTimeoutByFunctionTimeout"])
    # Then the mapping covers exactly those values, and the default is one of them
    assert mapped == set(allowed)
    assert str(template["Parameters"]["FunctionTimeout"]["Default"]) in allowed


def test_work_queue_redrives_to_the_dlq_after_five_receives_and_tells_the_function(
    template: Template,
) -> None:
    # Given default parameters and fake physical ids for the function's references
    context = StackContext.from_template(
        template, resource_resolver=lambda logical_id, _attribute: logical_id
    )
    # When the work queue's redrive and the function's environment are evaluated
    redrive = queue_settings(template, context, "WorkQueue").redrive
    environment = resolved_function_environment(template, context)
    # Then the redrive is AWS's advised backstop of 5 receives, the function knows that number, and
    # it decides finality itself after 3 attempts that ran, with the schedule capped by the queue's timeout
    assert redrive is not None
    assert (redrive.dead_letter_queue_logical_id, redrive.max_receive_count) == ("DeadLetterQueue", 5)
    assert environment["MAX_RECEIVE_COUNT"] == str(redrive.max_receive_count)
    assert environment["MAX_ATTEMPTS"] == "3"
    visibility = queue_settings(template, context, "WorkQueue").visibility_timeout_seconds
    assert environment["WORK_QUEUE_VISIBILITY_TIMEOUT"] == str(visibility)
    assert environment["RETRY_BACKOFF_SECONDS"] == "30,120,480"


def test_queues_take_the_largest_messages(template: Template) -> None:
    # Given default parameters
    context = StackContext.from_template(template)
    # When both queues' maximum message sizes are read
    sizes = {queue: queue_settings(template, context, queue).maximum_message_size for queue in QUEUES}
    # Then both take 256 KiB, which fits S3 events and DLQ records
    assert sizes == {"WorkQueue": 262144, "DeadLetterQueue": 262144}


def test_both_queues_keep_messages_fourteen_days_so_a_pause_outlasts_no_upload(
    template: Template,
) -> None:
    # Given default parameters
    context = StackContext.from_template(template)
    # When both queues' retention periods are read
    dead_letter = queue_settings(template, context, "DeadLetterQueue").message_retention_seconds
    work = queue_settings(template, context, "WorkQueue").message_retention_seconds
    # Then both keep 14 days, the most SQS allows: uploads wait out a paused pipeline (budget, quota)
    # in the work queue; the function's own DLQ records are new messages there (a full 14 days)
    assert dead_letter == 14 * 24 * 3600
    assert work == 14 * 24 * 3600


@pytest.mark.parametrize(
    ("alarm_topic", "actions"), [("", None), ("arn:aws:sns:eu-west-1:111122223333:ops", 1)]
)
def test_dead_letter_alarm_fires_on_any_visible_message(
    template: Template, alarm_topic: str, actions: int | None
) -> None:
    # Given the alarm, evaluated with or without an alarm topic
    context = StackContext.from_template(
        template, {"AlarmTopicArn": alarm_topic}, resource_resolver=lambda logical_id, attribute: logical_id
    )
    alarm = resolve(_properties(template, "DeadLetterAlarm"), template, context)
    # When its metric and threshold are read
    watched = (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"])
    # Then it watches the DLQ's visible messages, fires above 0, and notifies the topic only if given
    assert watched == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [{"Name": "QueueName", "Value": "DeadLetterQueue"}],
    )
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert (None if "AlarmActions" not in alarm else len(alarm["AlarmActions"])) == actions


def test_function_runs_python_3_13_on_arm64_and_stops_recursive_loops(template: Template) -> None:
    # Given the function's properties
    properties = _properties(template, FUNCTION)
    # When its runtime settings are read
    settings = (properties["Runtime"], properties["Architectures"], properties["Handler"])
    # Then it is CPython 3.13 on arm64, stops recursive loops, traces with X-Ray, and uses the layer
    assert settings == ("python3.13", ["arm64"], "app.lambda_handler")
    assert properties["RecursiveLoop"] == "Terminate"
    assert properties["Tracing"] == "Active"
    assert properties["Layers"] == [{"Ref": "CutoutLayer"}]
    assert resource(template, FUNCTION)["Metadata"]["BuildMethod"] == "makefile"


def test_layer_is_built_for_python_3_13_on_arm64(template: Template) -> None:
    # Given the layer
    declared = resource(template, "CutoutLayer")
    # When its compatibility and build settings are read
    properties = declared["Properties"]
    # Then it targets the function's runtime and architecture and builds with its Makefile
    assert (properties["CompatibleRuntimes"], properties["CompatibleArchitectures"]) == (
        ["python3.13"],
        ["arm64"],
    )
    assert (properties["ContentUri"], declared["Metadata"]["BuildMethod"]) == ("layers/cutout/", "makefile")


def test_function_logs_to_a_log_group_with_retention(template: Template) -> None:
    # Given the function's logging configuration
    log_group = _properties(template, FUNCTION)["LoggingConfig"]["LogGroup"]
    # When the log group it names is read
    log_group_properties = _properties(template, log_group["Ref"])
    # Then that log group's retention is the LogRetentionInDays parameter (30 days by default)
    assert resource(template, log_group["Ref"])["Type"] == "AWS::Logs::LogGroup"
    assert log_group_properties["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    assert template["Parameters"]["LogRetentionInDays"]["Default"] == 30


def test_function_memory_and_timeout_are_parameters(template: Template) -> None:
    # Given the function's properties
    properties = _properties(template, FUNCTION)
    # When memory and timeout are read
    bound = (properties["MemorySize"], properties["Timeout"])
    # Then both come from parameters, 1024 MB (docs/benchmarks.md, "Memory default") and 120 s by default
    assert bound == ({"Ref": "FunctionMemorySize"}, {"Ref": "FunctionTimeout"})
    assert template["Parameters"]["FunctionMemorySize"]["Default"] == 1024
    assert str(template["Parameters"]["FunctionTimeout"]["Default"]) == "120"


def test_sqs_event_is_bound_to_the_parameters(template: Template) -> None:
    # Given the function's SQS event as written
    events = _properties(template, FUNCTION)["Events"]
    (event,) = [e["Properties"] for e in events.values() if e["Type"] == "SQS"]
    # When its properties are compared with the parameters
    bound = {
        key: event[key] for key in ("Queue", "BatchSize", "MaximumBatchingWindowInSeconds", "ScalingConfig")
    }
    # Then each is the parameter of its name, and failures are reported per item
    assert bound == {
        "Queue": {"Fn::GetAtt": ["WorkQueue", "Arn"]},
        "BatchSize": {"Ref": "BatchSize"},
        "MaximumBatchingWindowInSeconds": {"Ref": "MaximumBatchingWindowInSeconds"},
        "ScalingConfig": {"MaximumConcurrency": {"Ref": "MaxConcurrency"}},
    }
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_sqs_event_values_follow_parameter_overrides(template: Template) -> None:
    # Given parameter overrides for the event source
    overrides = {"BatchSize": 3, "MaximumBatchingWindowInSeconds": 5, "MaxConcurrency": 7}
    # When the event source is read with them
    source = sqs_event_source(template, StackContext.from_template(template, overrides))
    # Then it carries those values and reports batch item failures
    assert (source.batch_size, source.maximum_batching_window_seconds, source.maximum_concurrency) == (
        3,
        5,
        7,
    )
    assert source.queue_logical_id == "WorkQueue"
    assert source.reports_batch_item_failures


@pytest.mark.parametrize(
    ("parameter", "minimum", "maximum", "default"),
    [("BatchSize", 1, 10, 10), ("MaxConcurrency", 2, 1000, 5), ("MaximumBatchingWindowInSeconds", 0, 300, 0)],
)
def test_event_source_parameters_have_lambdas_bounds(
    template: Template, parameter: str, minimum: int, maximum: int, default: int
) -> None:
    # Given the parameter's declaration
    declaration = template["Parameters"][parameter]
    # When its bounds are read
    bounds = (declaration["MinValue"], declaration["MaxValue"], declaration["Default"])
    # Then they are Lambda's bounds for SQS (concurrency at least 2) and the chosen default
    assert bounds == (minimum, maximum, default)


def _function_statements(template: Template) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in _properties(template, FUNCTION)["Policies"]:
        assert set(policy) == {"Statement"}, "inline Statement lists only"
        statements.extend(policy["Statement"])
    return statements


def test_function_statements_grant_no_wildcard_actions(template: Template) -> None:
    # Given the function's inline IAM statements
    statements = _function_statements(template)
    # When their actions are collected
    actions = [action for statement in statements for action in statement["Action"]]
    # Then they only allow, and no action has a wildcard
    assert {statement["Effect"] for statement in statements} == {"Allow"}
    assert actions
    assert not [action for action in actions if "*" in action]


def test_function_statements_are_scoped_to_our_resources(template: Template) -> None:
    # Given the function's inline IAM statements, by Sid
    by_sid = {
        statement["Sid"]: (sorted(statement["Action"]), statement["Resource"])
        for statement in _function_statements(template)
    }
    # When compared with the least privilege the function needs
    expected = {
        "ReadInputObjects": (
            ["s3:GetObject", "s3:GetObjectVersion"],
            {
                "Fn::If": [
                    "UseExistingInputBucket",
                    {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ExistingInputBucketName}/${InputKeyPrefix}*"},
                    {"Fn::Sub": "${InputBucket.Arn}/${InputKeyPrefix}*"},
                ]
            },
        ),
        "WriteOutputObjects": (
            ["s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"],
            {"Fn::Sub": "${OutputBucket.Arn}/*"},
        ),
        "SeeMissingInputObjects": (
            ["s3:ListBucket"],
            {
                "Fn::If": [
                    "UseExistingInputBucket",
                    {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ExistingInputBucketName}"},
                    {"Fn::GetAtt": ["InputBucket", "Arn"]},
                ]
            },
        ),
        "RequeuePausedMessages": (["sqs:SendMessage"], {"Fn::GetAtt": ["WorkQueue", "Arn"]}),
        "FindOwnEventSourceMapping": (
            ["ssm:GetParameter"],
            {
                "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                "parameter/${AWS::StackName}/cutout/work-queue-mapping-id"
            },
        ),
        "ReadBudgetCaps": (
            ["ssm:GetParameter"],
            {
                "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                "parameter/${AWS::StackName}/cutout/budget"
            },
        ),
        "PublishCompletionEvents": (
            ["events:PutEvents"],
            {
                "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:"
                "event-bus/${EventBusName}"
            },
        ),
        "SeeMissingOutputObjects": (["s3:ListBucket"], {"Fn::GetAtt": ["OutputBucket", "Arn"]}),
        "StageNormalisedImages": (
            ["s3:GetObject", "s3:PutObject"],
            {"Fn::Sub": "${StagingBucket.Arn}/staged/*"},
        ),
        "ScheduleRetriesOnWorkQueue": (
            ["sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"],
            {"Fn::GetAtt": ["WorkQueue", "Arn"]},
        ),
        "SendFailuresToDeadLetterQueue": (["sqs:SendMessage"], {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}),
        "ReadAidgeCredentials": (["secretsmanager:GetSecretValue"], {"Ref": "AidgeSecret"}),
        "UseIdempotencyRecords": (
            ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            {"Fn::GetAtt": ["IdempotencyTable", "Arn"]},
        ),
    }
    # Then each statement names exactly one of our resources, with exactly those actions
    assert by_sid == expected


def test_environment_names_every_required_setting_and_nothing_unknown(template: Template) -> None:
    # Given the function's environment and the settings model's aliases
    names = set(function_environment_variables(template))
    aliases = {field.encode_name for field in msgspec.structs.fields(Settings)}
    required = {field.encode_name for field in msgspec.structs.fields(Settings) if field.required}
    # When the environment is compared with them
    ours = names - {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
        "LOG_LEVEL",
        "MALLOC_ARENA_MAX",
        "CUTOUT_VERSION",  # the release deployed (cutout.__version__), for people reading the console
    }
    # Then every required alias is set, every other name is a settings alias, and issue 3's list is set
    assert required <= names
    assert ours <= aliases
    assert ours == {
        "OUTPUT_BUCKET", "DEAD_LETTER_QUEUE_URL", "IDEMPOTENCY_TABLE", "AIDGE_SECRET_NAME", "AIDGE_API_HOST",
        "AIDGE_TRIAL", "BACKGROUND_TYPE", "TARGET_WIDTH", "TARGET_HEIGHT", "SOURCE_MODE", "MAX_RECEIVE_COUNT",
        "RESULT_URL_ALLOWLIST", "RESULT_URL_POLICY", "STAGING_BUCKET", "MAX_ATTEMPTS",
        "RETRY_BACKOFF_SECONDS", "RATE_LIMIT_BACKOFF_SECONDS", "WORK_QUEUE_VISIBILITY_TIMEOUT",
        "PROFILES_FILE", "DAILY_BUDGET", "MONTHLY_BUDGET", "EVENT_SOURCE_MAPPING_PARAMETER",
        "WORK_QUEUE_URL", "EVENT_BUS_NAME", "BUDGET_PARAMETER", "RATE_LIMIT_PATIENCE_SECONDS",
        "MAX_CONCURRENCY",
    }  # fmt: skip


def test_environment_sets_powertools_and_no_result_allowlist(template: Template) -> None:
    # Given the function's environment as written
    variables = function_environment_variables(template)
    # When the fixed values are read
    fixed = {
        name: variables[name]
        for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "RESULT_URL_ALLOWLIST")
    }
    # Then Powertools is named, results come only from public https hosts, and log levels follow LogLevel
    assert fixed == {
        "POWERTOOLS_SERVICE_NAME": "cutout",
        "POWERTOOLS_METRICS_NAMESPACE": "Cutout",
        "RESULT_URL_ALLOWLIST": "",
    }
    assert variables["POWERTOOLS_LOG_LEVEL"] == variables["LOG_LEVEL"] == {"Ref": "LogLevel"}


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"BackgroundType": "WHITE_BACKGROUND", "SourceMode": "base64", "AidgeTrial": "true"},
        {"TargetWidth": "100", "TargetHeight": "3000", "AidgeApiHost": "cn-api.aidc-ai.com"},
    ],
)
def test_every_allowed_parameter_value_makes_valid_settings(
    template: Template, overrides: dict[str, str]
) -> None:
    # Given the template deployed with these parameters (physical ids faked)
    context = StackContext.from_template(
        template, overrides, resource_resolver=lambda logical_id, _attribute: f"{logical_id}-id"
    )
    environment = resolved_function_environment(template, context)
    # When the function's settings model reads that environment
    settings = Settings.from_env(environment)
    # Then it accepts it and sees the parameter values
    assert settings.output_bucket == "OutputBucket-id"
    assert settings.background.value == context.parameters["BackgroundType"]
    assert settings.source_mode.value == context.parameters["SourceMode"]
    assert settings.max_receive_count == 5
    assert settings.retry_backoff_seconds == (30, 120, 480)


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("0", True), ("100", True), ("3000", True), ("99", False), ("1", False), ("3001", False)],
)
def test_target_sizes_are_zero_or_100_to_3000(template: Template, value: str, accepted: bool) -> None:
    # Given the target size patterns
    # When a value is given for both
    try:
        StackContext.from_template(template, {"TargetWidth": value, "TargetHeight": value})
        outcome = True
    except TemplateError:
        outcome = False
    # Then 0 and 100..3000 are accepted, other values refused
    assert outcome is accepted


def test_idempotency_table_is_on_demand_keyed_by_id_with_ttl_encryption_and_recovery(
    template: Template,
) -> None:
    # Given the idempotency table
    properties = _properties(template, "IdempotencyTable")
    # When its key, billing, TTL, encryption and recovery settings are read
    key = (properties["KeySchema"], properties["AttributeDefinitions"])
    # Then it matches what Powertools' idempotency utility expects
    assert key == (
        [{"AttributeName": "id", "KeyType": "HASH"}],
        [{"AttributeName": "id", "AttributeType": "S"}],
    )
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_aidge_secret_holds_placeholders_only(template: Template) -> None:
    # Given the Aidge secret
    secret = json.loads(_properties(template, "AidgeSecret")["SecretString"])
    # When its initial value is read
    values = set(secret.values())
    # Then it has the two keys, both placeholders
    assert set(secret) == {"app_key", "app_secret"}
    assert values == {"REPLACE_ME"}


def test_outputs_name_every_resource_the_user_and_the_local_stack_need(template: Template) -> None:
    # Given the template's outputs
    outputs = set(template["Outputs"])
    # When compared with what issue 3 lists
    expected = {
        "InputBucketName", "OutputBucketName", "WorkQueueUrl", "WorkQueueArn", "DeadLetterQueueUrl",
        "DeadLetterQueueArn", "ProcessUploadFunctionName", "ProcessUploadFunctionArn", "AidgeSecretArn",
        "IdempotencyTableName", "DeadLetterAlarmName",
    }  # fmt: skip
    # Then all are there
    assert expected <= outputs


def test_pausing_may_switch_only_this_stacks_own_event_source_mapping(template: Template) -> None:
    # Given the policy the function pauses and resumes with
    policy = _properties(template, "PauseOwnEventSourcePolicy")
    # When its statements are read
    (statement,) = policy["PolicyDocument"]["Statement"]
    # Then it is on the function's role and names exactly the function's work-queue mapping
    assert policy["Roles"] == [{"Ref": "ProcessUploadFunctionRole"}]
    assert sorted(statement["Action"]) == ["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"]
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:"
        "event-source-mapping:${ProcessUploadFunctionWorkQueue}"
    }


def test_a_daily_schedule_resumes_the_pipeline_after_midnight_utc(template: Template) -> None:
    # Given the function's events
    events = _properties(template, FUNCTION)["Events"]
    # When the schedule is read
    schedule = events["ResumeAtNextPeriod"]
    # Then it runs at 00:05 UTC with the resume event the entry point recognises
    assert schedule["Type"] == "Schedule"
    assert schedule["Properties"]["Schedule"] == "cron(5 0 * * ? *)"
    assert json.loads(schedule["Properties"]["Input"]) == {"cutout": "resume", "by": "schedule"}


@pytest.mark.parametrize(("alarm", "threshold"), [("BudgetWarningAlarm", 80), ("BudgetSpentAlarm", 100)])
def test_budget_alarms_watch_the_used_percentage_only_with_a_budget(
    template: Template, alarm: str, threshold: int
) -> None:
    # Given a budget alarm
    resource = template["Resources"][alarm]
    # When its condition and metric are read
    properties = resource["Properties"]
    # Then it exists only with a budget and fires at its share of the cap
    assert resource["Condition"] == "HasBudget"
    assert (properties["Namespace"], properties["MetricName"]) == ("Cutout", "BudgetUsedPercent")
    assert (properties["ComparisonOperator"], properties["Threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        threshold,
    )


def test_staging_bucket_never_triggers_processing_and_expires_its_objects_within_a_day(
    template: Template,
) -> None:
    # Given the bucket normalised images are staged in (issue 11)
    properties = _properties(template, "StagingBucket")
    [rule] = properties["LifecycleConfiguration"]["Rules"]
    # When its notifications, lifecycle and the function's view of it are read
    environment = function_environment_variables(template)
    # Then it notifies nobody, expires staged/ after one day, is private and encrypted, and is the
    # function's STAGING_BUCKET (not the output bucket)
    assert "NotificationConfiguration" not in properties
    assert (rule["Status"], rule["Prefix"], rule["ExpirationInDays"]) == ("Enabled", "staged/", 1)
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert "BucketEncryption" in properties
    assert environment["STAGING_BUCKET"] == {"Ref": "StagingBucket"}
    assert any(
        _is_tls_only_deny(statement)
        for statement in _policy_statements(template, "AWS::S3::BucketPolicy", "Bucket", "StagingBucket")
    )
