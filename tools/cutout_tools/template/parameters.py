"""Parameter values as CloudFormation would take them: defaults, overrides, and the same constraints.

The local stack deploys with these values, so a value AWS would refuse is refused here as well,
before anything is created.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cutout_tools.template.errors import TemplateError
from cutout_tools.template.loader import Template

ParameterValue = str | int | float | bool


def _as_parameter_string(value: Any) -> str:
    """CloudFormation passes every parameter as a string; booleans in the spelling templates use."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_constraints(name: str, declaration: Mapping[str, Any], value: str) -> None:
    allowed_values = declaration.get("AllowedValues")
    if allowed_values is not None and value not in {_as_parameter_string(v) for v in allowed_values}:
        raise TemplateError(f"parameter {name}={value!r} is not one of {allowed_values}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and re.fullmatch(pattern, value) is None:
        hint = declaration.get("ConstraintDescription", f"must match {pattern}")
        raise TemplateError(f"parameter {name}={value!r}: {hint}")
    if declaration.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(f"parameter {name}={value!r} is not a number") from None
        minimum, maximum = declaration.get("MinValue"), declaration.get("MaxValue")
        if (minimum is not None and number < float(minimum)) or (
            maximum is not None and number > float(maximum)
        ):
            raise TemplateError(f"parameter {name}={value!r} is outside {minimum}..{maximum}")
    min_length, max_length = declaration.get("MinLength"), declaration.get("MaxLength")
    if (min_length is not None and len(value) < int(min_length)) or (
        max_length is not None and len(value) > int(max_length)
    ):
        raise TemplateError(f"parameter {name} must be {min_length}..{max_length} characters long")


def resolve_parameters(
    template: Template, overrides: Mapping[str, ParameterValue] | None = None
) -> dict[str, str]:
    """Every parameter's value: the override if given, else the default; checked like CloudFormation.

    Values are strings, as ``Ref`` yields them. Raises ``TemplateError`` for an unknown override, a
    parameter with neither, or a value outside the declared constraints.
    """
    declarations: Mapping[str, Mapping[str, Any]] = template.get("Parameters") or {}
    given = dict(overrides or {})
    unknown = sorted(set(given) - set(declarations))
    if unknown:
        raise TemplateError(f"unknown parameters: {', '.join(unknown)}")
    values: dict[str, str] = {}
    for name, declaration in declarations.items():
        if name in given:
            raw: Any = given[name]
        elif "Default" in declaration:
            raw = declaration["Default"]
        else:
            raise TemplateError(f"parameter {name} has no default and no value was given")
        value = _as_parameter_string(raw)
        _check_constraints(name, declaration, value)
        values[name] = value
    return values
