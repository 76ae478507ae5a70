"""Loading, parameters and intrinsic functions: the pieces the readers are made of."""

from __future__ import annotations

from typing import Any

import pytest

from cutout_tools.template import (
    StackContext,
    Template,
    TemplateError,
    UnresolvedReferenceError,
    parse_template,
    resolve,
    resolve_parameters,
)

STACK_UUID = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
SMALL_TEMPLATE = """
Parameters:
  Stage: {Type: String, AllowedValues: [dev, prod], Default: dev}
  Size: {Type: Number, MinValue: 1, MaxValue: 5, Default: 2}
  Required: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsNotProd: !Not [!Condition IsProd]
Mappings:
  Sizes:
    dev: {Memory: 128}
    prod: {Memory: 1024}
Resources:
  Queue: {Type: AWS::SQS::Queue}
"""


@pytest.fixture
def small() -> Template:
    return parse_template(SMALL_TEMPLATE)


def _context(template: Template, **overrides: Any) -> StackContext:
    return StackContext.from_template(
        template,
        {"Required": "x", **overrides},
        stack_id="arn:aws:cloudformation:us-east-1:123456789012:stack/s/1a2b3c4d-0000-1111-2222-abcdefabcdef",
        resource_resolver=lambda logical_id, attribute: f"{logical_id}:{attribute or 'ref'}",
    )


def test_short_form_tags_load_as_long_form(small: Template) -> None:
    # Given a template with !Equals, !Ref, !Not and !Condition
    # When it is parsed
    conditions = small["Conditions"]
    # Then the tags are the long-form intrinsic functions
    assert conditions == {
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "IsNotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
    }


def test_a_document_without_resources_is_refused() -> None:
    # Given YAML that is not a template
    # When it is parsed
    # Then it is refused
    with pytest.raises(TemplateError, match="Resources"):
        parse_template("just: text\n")


def test_parameters_take_defaults_and_overrides_as_strings(small: Template) -> None:
    # Given an override for one parameter and a value for the required one
    # When the parameters are resolved
    values = resolve_parameters(small, {"Size": 4, "Required": "yes"})
    # Then defaults fill the rest and every value is a string, as Ref yields it
    assert values == {"Stage": "dev", "Size": "4", "Required": "yes"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Required": "x", "Stage": "test"}, "Stage"),
        ({"Required": "x", "Size": 6}, "Size"),
        ({"Required": "x", "Size": "many"}, "not a number"),
        ({"Required": "x", "Unknown": "1"}, "unknown parameters: Unknown"),
        ({}, "Required has no default"),
    ],
)
def test_parameters_refuse_what_cloudformation_refuses(
    small: Template, overrides: dict[str, Any], message: str
) -> None:
    # Given a value CloudFormation would refuse (or a missing one)
    # When the parameters are resolved
    # Then the refusal names the problem
    with pytest.raises(TemplateError, match=message):
        resolve_parameters(small, overrides)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 1024),
        ({"Fn::If": ["IsProd", "big", "small"]}, "big"),
        ({"Fn::If": ["IsNotProd", "big", "small"]}, "small"),
        (
            {"Fn::Sub": "${AWS::Region}/${Stage}/${Queue.Arn}/${!Literal}"},
            "us-east-1/prod/Queue:Arn/${Literal}",
        ),
        ({"Fn::Sub": ["${A}-${AWS::AccountId}", {"A": {"Ref": "Size"}}]}, "2-123456789012"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Queue"}]]}, "a-Queue:ref"),
        ({"Fn::Select": [4, {"Fn::Split": ["-", STACK_UUID]}]}, "abcdefabcdef"),
        ({"Fn::GetAtt": "Queue.QueueName"}, "Queue:QueueName"),
        ({"Items": ["a", {"Ref": "AWS::NoValue"}], "Gone": {"Ref": "AWS::NoValue"}}, {"Items": ["a"]}),
    ],
)  # fmt: skip
def test_intrinsics_evaluate_as_cloudformation_does(small: Template, expression: Any, expected: Any) -> None:
    # Given a stack deployed with Stage=prod
    context = _context(small, Stage="prod")
    # When the expression is evaluated
    value = resolve(expression, small, context)
    # Then it has CloudFormation's value
    assert value == expected


def test_resource_references_need_a_resolver(small: Template) -> None:
    # Given a context without a resource resolver
    context = StackContext.from_template(small, {"Required": "x"})
    # When a resource attribute is evaluated
    # Then the missing resolver is named
    with pytest.raises(UnresolvedReferenceError, match=r"Queue\.Arn"):
        resolve({"Fn::GetAtt": ["Queue", "Arn"]}, small, context)


def test_unknown_names_and_functions_are_errors(small: Template) -> None:
    # Given a context
    context = _context(small)
    # When an unknown name or an unsupported function is evaluated
    # Then each is a TemplateError
    with pytest.raises(TemplateError, match="Nope"):
        resolve({"Ref": "Nope"}, small, context)
    with pytest.raises(TemplateError, match="Fn::ImportValue"):
        resolve({"Fn::ImportValue": "x"}, small, context)
