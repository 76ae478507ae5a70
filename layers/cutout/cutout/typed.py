"""Typed, validated records on msgspec: the base of cutout's settings, event shapes and profiles.

cutout used pydantic for these; importing it and building its validators was about half of what
the function's cold start spent beyond boto3 (docs/observability.md, "Cold start"). msgspec
validates the same types and constraints (``Annotated[int, Meta(ge=1)]``, ``Literal``, enums,
nested records) for a fraction of that. ``Model`` keeps the few pydantic methods cutout's callers
use (``model_validate``, ``model_validate_json``, ``model_dump``, ``model_dump_json``,
``model_copy``), and ``ValidationError`` keeps ``errors()``: a list of ``{"loc", "msg"}`` whose
location is the field's path as written in the input (alias, index), so messages can name the file,
the variable and the field.

Why ``problem`` reads msgspec's messages with regular expressions: ``msgspec.ValidationError`` carries
one string and nothing else (no path, no field, no code: its only attribute is ``args``; msgspec
0.23), so the message is the only place the location is. Its shape is msgspec's documented one,
``"<what> - at `$.<path>`"`` plus the two field messages matched below; the parse lives here alone,
and the tests of every configuration file's errors (settings, profiles, events) fail if a msgspec
upgrade changes it. Keeping msgspec's error whole would lose the file/field naming the users see.

A record validates its input only through ``model_validate``/``model_validate_json``; calling the
class directly (``PaidReceipt(...)``) builds it from trusted values and checks only what its
``__post_init__`` checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self, TypedDict

import msgspec

Loc = tuple[str | int, ...]

_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_FIELD_PROBLEMS = (
    (re.compile(r"^Object missing required field `(?P<field>[^`]+)`$"), "Field required"),
    (re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`$"), "unknown field"),
)


class Problem(TypedDict):
    """One thing wrong with an input: where (the input's own names and indices) and what."""

    loc: Loc
    msg: str


class ValidationError(ValueError):
    """An input that is not a valid ``title``; ``errors()`` lists where and what, never the values."""

    def __init__(self, title: str, problems: Sequence[Problem]) -> None:
        self.title = title
        self._problems = list(problems)
        lines = [
            f"{format_loc(item['loc'])}: {item['msg']}" if item["loc"] else item["msg"]
            for item in self._problems
        ]
        count = len(self._problems)
        super().__init__(
            f"{count} validation error{'s' if count != 1 else ''} for {title}\n" + "\n".join(lines)
        )

    def errors(self) -> list[Problem]:
        return list(self._problems)

    @classmethod
    def from_msgspec(cls, title: str, error: msgspec.ValidationError, prefix: Loc = ()) -> ValidationError:
        return cls(title, [problem(str(error), prefix)])

    def within(self, prefix: Loc) -> ValidationError:
        """The same problems, located inside ``prefix`` (a nested record validated on its own)."""
        return ValidationError(
            self.title, [Problem(loc=(*prefix, *item["loc"]), msg=item["msg"]) for item in self._problems]
        )


def format_loc(loc: Loc) -> str:
    return ".".join(str(part) for part in loc) or "(root)"


def problem(message: str, prefix: Loc = ()) -> Problem:
    """msgspec's ``"Expected `int` >= 1, got 0 - at `$.a[0].b`"`` as a location and a message."""
    match = _AT.match(message)
    text, path = (match["msg"], match["path"] or "") if match else (message, "")
    loc: list[str | int] = [*prefix]
    for name, index in _STEP.findall(path):
        loc.append(name if name else int(index) if index.isdigit() else index)
    for pattern, wording in _FIELD_PROBLEMS:
        field = pattern.match(text)
        if field:
            loc.append(field["field"])
            text = wording
            break
    return Problem(loc=tuple(loc), msg=text)


class Model(msgspec.Struct, frozen=True, kw_only=True):
    """A frozen, typed record. Unknown input fields are ignored unless the subclass says
    ``forbid_unknown_fields=True``; inputs are read leniently (``"5"`` is an int) as pydantic did."""

    @classmethod
    def model_validate(cls, obj: object) -> Self:
        """Validate a Python object (a dict from JSON or TOML); raises ``ValidationError``."""
        try:
            return msgspec.convert(cls._prepare(obj), cls, strict=False)
        except msgspec.ValidationError as error:
            raise ValidationError.from_msgspec(cls.__name__, error) from None

    @classmethod
    def model_validate_json(cls, data: str | bytes) -> Self:
        """Validate a JSON document; raises ``ValidationError`` (not JSON is one too)."""
        try:
            document = msgspec.json.decode(data)
        except msgspec.DecodeError as error:
            raise ValidationError(cls.__name__, [Problem(loc=(), msg=f"not JSON: {error}")]) from None
        return cls.model_validate(document)

    @classmethod
    def _prepare(cls, obj: object) -> object:
        """The input as msgspec reads it (a subclass expands shorthands here); identity by default."""
        return obj

    def model_dump(
        self, *, mode: Literal["python", "json"] = "python", by_alias: bool = False
    ) -> dict[str, Any]:
        """The record as a dict of builtins: field names (``by_alias``: the input's names)."""
        if by_alias:
            dumped: dict[str, Any] = msgspec.to_builtins(self)
            return dumped
        return {name: _dump(getattr(self, name), mode) for name in self.__struct_fields__}

    def model_dump_json(self, *, by_alias: bool = True) -> str:
        """The record as JSON, every field present, under the input's names."""
        if not by_alias:
            return msgspec.json.encode(self.model_dump(mode="json")).decode()
        return msgspec.json.encode(self).decode()

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A copy with some fields replaced (not validated again)."""
        return msgspec.structs.replace(self, **dict(update or {}))


def _dump(value: object, mode: str) -> object:
    if isinstance(value, Model):
        return value.model_dump(mode="json" if mode == "json" else "python")
    if mode == "python" and isinstance(value, tuple | list):
        return type(value)(_dump(item, mode) for item in value)
    if mode == "json":
        return msgspec.to_builtins(value)
    return value
