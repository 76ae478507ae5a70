"""Evaluating CloudFormation intrinsic functions in parts of the template, as CloudFormation would.

moto's CloudFormation does not apply everything (queue policies, bucket notifications), so the local
stack applies those parts itself, after evaluating them here against the deployed stack: parameters
and pseudo parameters are known, resources are looked up through a resolver the caller gives
(``Ref`` -> physical id, ``Fn::GetAtt`` -> attribute). Supported: ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``,
``Fn::Join``, ``Fn::Select``, ``Fn::Split``, ``Fn::FindInMap``, ``Fn::If`` with the template's
``Conditions`` (``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Condition``) and ``AWS::NoValue``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from samtranslator.translator.arn_generator import ArnGenerator

from cutout_tools.template.errors import TemplateError, UnresolvedReferenceError
from cutout_tools.template.loader import Template
from cutout_tools.template.parameters import ParameterValue, resolve_parameters

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"
_PLACEHOLDER_STACK_UUID = "00000000-0000-4000-8000-000000000000"
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")

ResourceResolver = Callable[[str, str | None], Any]
"""``(logical_id, attribute)`` -> value; ``attribute`` is ``None`` for ``Ref`` (the physical id)."""


class _NoValue:
    """``AWS::NoValue``: the property or list item it stands for is removed."""


NO_VALUE = _NoValue()


@dataclass(frozen=True, slots=True)
class StackContext:
    """What intrinsics resolve against: parameter values, pseudo parameters and deployed resources."""

    parameters: Mapping[str, str]
    region: str = DEFAULT_REGION
    account_id: str = LOCAL_ACCOUNT_ID
    stack_name: str = "cutout"
    stack_id: str = ""  # empty: a placeholder ARN for stack_name is used
    resource_resolver: ResourceResolver | None = field(default=None, compare=False)

    @classmethod
    def from_template(
        cls,
        template: Template,
        parameter_overrides: Mapping[str, ParameterValue] | None = None,
        *,
        region: str = DEFAULT_REGION,
        account_id: str = LOCAL_ACCOUNT_ID,
        stack_name: str = "cutout",
        stack_id: str = "",
        resource_resolver: ResourceResolver | None = None,
    ) -> StackContext:
        """A context whose parameters are the template's defaults with ``parameter_overrides`` applied."""
        return cls(
            parameters=resolve_parameters(template, parameter_overrides),
            region=region,
            account_id=account_id,
            stack_name=stack_name,
            stack_id=stack_id,
            resource_resolver=resource_resolver,
        )

    @property
    def partition(self) -> str:
        return str(ArnGenerator.get_partition_name(self.region))

    def pseudo_parameters(self) -> dict[str, str]:
        stack_id = self.stack_id or (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:"
            f"stack/{self.stack_name}/{_PLACEHOLDER_STACK_UUID}"
        )
        url_suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        return {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": stack_id,
            "AWS::URLSuffix": url_suffix,
        }


def resolve(value: Any, template: Template, context: StackContext) -> Any:
    """``value`` (any part of ``template``) with every intrinsic function evaluated.

    Raises ``UnresolvedReferenceError`` for a resource reference when ``context`` has no resolver,
    ``TemplateError`` for anything malformed or unsupported.
    """
    resolved = _Evaluator(template, context).evaluate(value)
    return None if resolved is NO_VALUE else resolved


def referenced_logical_id(value: Any) -> str:
    """The resource a ``Ref``/``Fn::GetAtt`` names (``!GetAtt WorkQueue.Arn`` -> ``WorkQueue``)."""
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref" and isinstance(argument, str):
            return argument
        if function == "Fn::GetAtt":
            if isinstance(argument, str):
                return argument.split(".", 1)[0]
            if isinstance(argument, list) and argument and isinstance(argument[0], str):
                return argument[0]
    raise TemplateError(f"expected a Ref or Fn::GetAtt to a resource, got {value!r}")


class _Evaluator:
    def __init__(self, template: Template, context: StackContext) -> None:
        self._template = template
        self._context = context
        self._pseudo = context.pseudo_parameters()
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": self._not,
            "Fn::And": self._and,
            "Fn::Or": self._or,
            "Condition": self._condition,
        }

    def evaluate(self, value: Any) -> Any:
        if isinstance(value, list):
            items = (self.evaluate(item) for item in value)
            return [item for item in items if item is not NO_VALUE]
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key in self._functions:
                    return self._functions[key](argument)
                if key.startswith("Fn::"):
                    raise TemplateError(f"intrinsic function {key} is not supported here")
            entries = ((key, self.evaluate(item)) for key, item in value.items())
            return {key: item for key, item in entries if item is not NO_VALUE}
        return value

    def _resource(self, logical_id: str, attribute: str | None) -> Any:
        if logical_id not in self._template["Resources"]:
            raise TemplateError(f"reference to {logical_id!r}, which is neither a parameter nor a resource")
        if self._context.resource_resolver is None:
            name = logical_id if attribute is None else f"{logical_id}.{attribute}"
            raise UnresolvedReferenceError(f"{name} needs a resource resolver")
        return self._context.resource_resolver(logical_id, attribute)

    def _name(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._context.parameters:
            return self._context.parameters[name]
        if name in self._pseudo:
            return self._pseudo[name]
        return self._resource(name, None)

    def _ref(self, argument: Any) -> Any:
        if not isinstance(argument, str):
            raise TemplateError(f"Ref takes a name, got {argument!r}")
        return self._name(argument)

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"Fn::GetAtt takes [resource, attribute], got {argument!r}")
        logical_id, attribute = argument[0], self.evaluate(argument[1])
        return self._resource(str(logical_id), str(attribute))

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            text, variables = argument[0], self.evaluate(argument[1])
        else:
            raise TemplateError(f"Fn::Sub takes a string or [string, variables], got {argument!r}")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is the escape for a literal ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self._resource(logical_id, attribute))
            return str(self._name(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _join(self, argument: Any) -> str:
        delimiter, items = self._pair(argument, "Fn::Join")
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Join takes a list to join, got {items!r}")
        return str(delimiter).join(str(item) for item in items)

    def _select(self, argument: Any) -> Any:
        index, items = self._pair(argument, "Fn::Select")
        if not isinstance(items, list) or not 0 <= int(index) < len(items):
            raise TemplateError(f"Fn::Select index {index} is outside {items!r}")
        return items[int(index)]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = self._pair(argument, "Fn::Split")
        return str(text).split(str(delimiter))

    def _find_in_map(self, argument: Any) -> Any:
        keys = self.evaluate(argument)
        if not isinstance(keys, list) or len(keys) != 3:
            raise TemplateError(f"Fn::FindInMap takes [map, key, key], got {argument!r}")
        node: Any = self._template.get("Mappings") or {}
        for key in keys:
            if not isinstance(node, dict) or str(key) not in node:
                raise TemplateError(f"Fn::FindInMap {keys!r}: no {key!r} in the mapping")
            node = node[str(key)]
        return node

    def _if(self, argument: Any) -> Any:
        if not isinstance(argument, list) or len(argument) != 3:
            raise TemplateError(f"Fn::If takes [condition, then, else], got {argument!r}")
        condition, when_true, when_false = argument
        return self.evaluate(when_true if self._condition(condition) else when_false)

    def _condition(self, name: Any) -> bool:
        conditions = self._template.get("Conditions") or {}
        if not isinstance(name, str) or name not in conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return self._truth(conditions[name])

    def _truth(self, value: Any) -> bool:
        result = self.evaluate(value)
        if not isinstance(result, bool):
            raise TemplateError(f"a condition must evaluate to true or false, got {result!r}")
        return result

    def _equals(self, argument: Any) -> bool:
        left, right = self._pair(argument, "Fn::Equals")
        return str(left) == str(right)

    def _not(self, argument: Any) -> bool:
        if not isinstance(argument, list) or len(argument) != 1:
            raise TemplateError(f"Fn::Not takes [condition], got {argument!r}")
        return not self._truth(argument[0])

    def _and(self, argument: Any) -> bool:
        return all(self._truth(item) for item in self._conditions(argument, "Fn::And"))

    def _or(self, argument: Any) -> bool:
        return any(self._truth(item) for item in self._conditions(argument, "Fn::Or"))

    @staticmethod
    def _conditions(argument: Any, function: str) -> list[Any]:
        if not isinstance(argument, list) or not argument:
            raise TemplateError(f"{function} takes a list of conditions, got {argument!r}")
        return argument

    def _pair(self, argument: Any, function: str) -> tuple[Any, Any]:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"{function} takes two arguments, got {argument!r}")
        return self.evaluate(argument[0]), self.evaluate(argument[1])
