"""The one error every template helper raises, so callers (the local stack, the CLI) catch one type."""

from __future__ import annotations


class TemplateError(ValueError):
    """The template, or a value given for it, is not what the helpers can work with."""


class UnresolvedReferenceError(TemplateError):
    """A ``Ref``/``Fn::GetAtt`` names a resource, and no resolver for resources was given."""
