"""Issue 15's template options, evaluated offline: your own bucket, key filters, an SNS topic."""

from __future__ import annotations

from typing import Any

import pytest

from cutout_tools.template import (
    StackContext,
    Template,
    TemplateError,
    bucket_notification_configuration,
    load_template,
    resolve,
    resource_is_created,
    translate_template,
)

TOPIC = "arn:aws:sns:eu-west-1:111122223333:shop-photos-uploaded"


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


def _resolver(logical_id: str, attribute: str | None) -> Any:
    return f"arn-of-{logical_id}" if attribute == "Arn" else f"physical-{logical_id}"


def _context(template: Template, **parameters: str) -> StackContext:
    return StackContext.from_template(
        template, parameters, region="eu-west-1", account_id="111122223333", resource_resolver=_resolver
    )


def _read_statement(template: Template, context: StackContext) -> dict[str, Any]:
    translated = translate_template(template, region="eu-west-1", parameter_overrides=context.parameters)
    (role,) = [r for r in translated["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    statements = [
        s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]
    ]
    (read,) = [s for s in statements if s.get("Sid") == "ReadInputObjects"]
    return dict(resolve(read, {**template, "Resources": translated["Resources"]}, context))


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        pytest.param({}, "arn-of-InputBucket/*", id="own-bucket"),
        pytest.param({"InputKeyPrefix": "products/"}, "arn-of-InputBucket/products/*", id="own-prefix"),
        pytest.param(
            {"ExistingInputBucketName": "shop-photos"}, "arn:aws:s3:::shop-photos/*", id="existing-bucket"
        ),
        pytest.param(
            {
                "ExistingInputBucketName": "shop-photos",
                "InputKeyPrefix": "products/",
                "InputKeySuffix": ".jpg",
            },
            "arn:aws:s3:::shop-photos/products/*",
            id="existing-prefix",
        ),
    ],
)
def test_the_function_reads_only_the_input_bucket_under_the_prefix(
    template: Template, parameters: dict[str, str], expected: str
) -> None:
    # Given the template with these parameters
    context = _context(template, **parameters)

    # When the function's read statement is translated and evaluated
    statement = _read_statement(template, context)

    # Then it reads objects of that bucket under that prefix, nothing else
    assert statement["Resource"] == expected
    assert sorted(statement["Action"]) == ["s3:GetObject", "s3:GetObjectVersion"]


@pytest.mark.parametrize(
    ("parameters", "created", "not_created"),
    [
        pytest.param(
            {}, {"InputBucket", "InputBucketPolicy"}, {"ExistingInputBucketRule", "ExistingTopicSubscription"}
        ),
        pytest.param(
            {"ExistingInputBucketName": "shop-photos"},
            {"ExistingInputBucketRule"},
            {"InputBucket", "InputBucketPolicy", "ExistingTopicSubscription"},
        ),
        pytest.param(
            {"ExistingInputBucketName": "shop-photos", "ExistingSnsTopicArn": TOPIC},
            {"ExistingTopicSubscription"},
            {"InputBucket", "InputBucketPolicy", "ExistingInputBucketRule"},
        ),
    ],
)
def test_each_shape_creates_its_own_resources_only(
    template: Template, parameters: dict[str, str], created: set[str], not_created: set[str]
) -> None:
    # Given the template with a shape's parameters
    context = _context(template, **parameters)

    # When the resources' conditions are evaluated
    exists = {
        logical_id
        for logical_id in template["Resources"]
        if resource_is_created(template, logical_id, context)
    }

    # Then the shape's resources exist and the others' do not
    assert created <= exists
    assert not (not_created & exists)


@pytest.mark.parametrize(
    ("prefix", "suffix", "wildcard"),
    [("", "", "*"), ("products/", "", "products/*"), ("", ".jpg", "*.jpg"), ("a b/ü", ".JPG", "a b/ü*.JPG")],
)
def test_the_rule_matches_the_bucket_prefix_and_suffix(
    template: Template, prefix: str, suffix: str, wildcard: str
) -> None:
    # Given the existing-bucket shape with key filters
    context = _context(
        template, ExistingInputBucketName="shop-photos", InputKeyPrefix=prefix, InputKeySuffix=suffix
    )

    # When the rule's event pattern is evaluated
    pattern = resolve(
        template["Resources"]["ExistingInputBucketRule"]["Properties"]["EventPattern"], template, context
    )

    # Then it selects S3's Object Created events of that bucket and those keys
    assert pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["shop-photos"]}, "object": {"key": [{"wildcard": wildcard}]}},
    }


@pytest.mark.parametrize(
    ("prefix", "suffix", "rules"),
    [
        ("", "", None),
        ("products/", "", [{"Name": "prefix", "Value": "products/"}]),
        (
            "products/",
            ".jpg",
            [{"Name": "prefix", "Value": "products/"}, {"Name": "suffix", "Value": ".jpg"}],
        ),
    ],
)
def test_the_stacks_own_bucket_notifies_for_the_same_keys(
    template: Template, prefix: str, suffix: str, rules: list[dict[str, str]] | None
) -> None:
    # Given the stack's own bucket with key filters
    context = _context(template, InputKeyPrefix=prefix, InputKeySuffix=suffix)

    # When its notification is evaluated
    (configuration,) = bucket_notification_configuration(template, context)["QueueConfigurations"]

    # Then the filter rules are the parameters (none without them)
    assert configuration.get("Filter", {}).get("Key", {}).get("FilterRules") == rules


@pytest.mark.parametrize("value", ["photos/*", "a\\b"])
def test_a_key_filter_with_eventbridges_wildcard_characters_is_refused(
    template: Template, value: str
) -> None:
    # Given a prefix with "*" or "\" (EventBridge's wildcard syntax)
    # When / Then the parameter's pattern refuses it before anything is deployed
    with pytest.raises(TemplateError):
        _context(template, InputKeyPrefix=value)
