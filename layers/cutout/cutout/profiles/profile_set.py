"""Profiles: which variants an upload gets, chosen by key prefix or by the uploader's metadata.

A ``ProfileSet`` is parsed once per process from ``profiles.toml`` (``load_profiles``); its errors
name the file, the profile, the variant and the field. Choosing a profile for an upload is pure:
the uploader's ``x-amz-meta-cutout-profile`` if given (an unknown name is refused before paying),
else the profile with the longest matching key prefix, else the default profile.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

from msgspec import Meta

from cutout.failures import FailureReason
from cutout.profiles.spec import VARIANT_NAME, VariantSpec
from cutout.quality_gate.thresholds import QualityThresholds
from cutout.typed import Loc, Model, Problem, ValidationError

PROFILE_METADATA_KEY = "cutout-profile"  # x-amz-meta-cutout-profile
ModelT = TypeVar("ModelT", bound=Model)


class UnknownProfile(FailureReason):
    """The uploader named a profile (``x-amz-meta-cutout-profile``) that the stack does not have."""

    code = "unknown_profile"


class ProfilesError(ValueError):
    """``profiles.toml`` is not valid: the message names the file, the profile, the variant and the field."""


class Profile(Model, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named set of variants, and the key prefixes it serves."""

    name: Annotated[str, Meta(pattern=VARIANT_NAME)]
    prefixes: tuple[str, ...] = ()
    variants: Annotated[tuple[VariantSpec, ...], Meta(min_length=1, max_length=12)]
    # The quality gate's thresholds (``[profiles.<name>.quality]``); the defaults suit product photos.
    quality: QualityThresholds = QualityThresholds()
    # The source's rights fields (creator, copyright, credit line, usage terms, IPTC digital source
    # type) written into every variant as XMP (cutout.normalisation.rights); false: none at all.
    keep_rights: bool = True

    @classmethod
    def _prepare(cls, obj: object) -> object:
        """Each variant validated on its own (presets and shorthands expanded), every error kept."""
        if not isinstance(obj, Mapping) or not isinstance(obj.get("variants"), list):
            return obj
        variants, problems = _each(VariantSpec, enumerate(obj["variants"]), ("variants",))
        if problems:
            raise ValidationError(cls.__name__, problems)
        return {**obj, "variants": variants}

    def __post_init__(self) -> None:
        names = [variant.name for variant in self.variants]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"variant names must be unique in a profile; repeated: {', '.join(repeated)}")


class ProfileSet(Model, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every profile of a stack, and the default one."""

    default: str
    profiles: dict[str, Profile]

    @classmethod
    def _prepare(cls, obj: object) -> object:
        """Each profile validated on its own, named by its table (``[profiles.<name>]``)."""
        if not isinstance(obj, Mapping) or not isinstance(obj.get("profiles"), Mapping):
            return obj
        named = [
            (name, {"name": name, **body} if isinstance(body, Mapping) else body)
            for name, body in obj["profiles"].items()
        ]
        profiles, problems = _each(Profile, named, ("profiles",))
        if problems:
            raise ValidationError(cls.__name__, problems)
        return {**obj, "profiles": dict(zip(obj["profiles"], profiles, strict=True))}

    def __post_init__(self) -> None:
        if self.default not in self.profiles:
            raise ValueError(f"the default profile {self.default!r} is not defined (defined: {self.known})")
        owners: dict[str, str] = {}
        for profile in self.profiles.values():
            for prefix in profile.prefixes:
                if prefix in owners:
                    raise ValueError(
                        f"prefix {prefix!r} is claimed by both {owners[prefix]!r} and {profile.name!r}"
                    )
                owners[prefix] = profile.name

    @property
    def known(self) -> str:
        return ", ".join(sorted(self.profiles))

    def choose(self, key: str, metadata: Mapping[str, str] | None = None) -> Profile:
        """The profile for an upload of ``key`` with this user metadata (``UnknownProfile`` if misnamed)."""
        named = (metadata or {}).get(PROFILE_METADATA_KEY, "").strip()
        if named:
            profile = self.profiles.get(named)
            if profile is None:
                raise UnknownProfile(
                    f"The upload asks for profile {named!r} (x-amz-meta-{PROFILE_METADATA_KEY}), which this "
                    f"stack does not have. Known profiles: {self.known}."
                )
            return profile
        matches = [
            (len(prefix), profile)
            for profile in self.profiles.values()
            for prefix in profile.prefixes
            if key.startswith(prefix)
        ]
        if matches:
            return max(matches, key=lambda match: match[0])[1]
        return self.profiles[self.default]


def parse_profiles(text: str, source: str = "profiles.toml") -> ProfileSet:
    """Parse and validate the TOML text of a profiles file; ``ProfilesError`` says where it is wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProfilesError(f"{source}: not valid TOML: {error}") from None
    try:
        return ProfileSet.model_validate(raw)
    except ValidationError as error:
        lines = [
            f"{source}: {_where(raw, issue['loc'])}{issue['msg'].removeprefix('Value error, ')}"
            for issue in error.errors()
        ]
        raise ProfilesError("\n".join(lines)) from None


def configured_profiles(setting: str, environ: Mapping[str, str] | None = None) -> ProfileSet | None:
    """The profiles named by the ``PROFILES_FILE`` setting (``None`` when it is empty), validated now.

    A relative path is the function's own file: resolved against ``LAMBDA_TASK_ROOT`` on Lambda,
    else the working directory.
    """
    if not setting.strip():
        return None
    path = Path(setting)
    root = (os.environ if environ is None else environ).get("LAMBDA_TASK_ROOT")
    if not path.is_absolute() and root:
        path = Path(root) / path
    return load_profiles(path)


def load_profiles(path: str | Path) -> ProfileSet:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProfilesError(f"{path}: cannot be read ({error.strerror or type(error).__name__})") from None
    return parse_profiles(text, str(path))


def _where(raw: Mapping[str, Any], loc: Sequence[int | str]) -> str:
    """'profile 'shop', variant 'thumb': quality: ' for an error location."""
    parts = list(loc)
    words: list[str] = []
    if len(parts) >= 2 and parts[0] == "profiles":
        profile = str(parts[1])
        words.append(f"profile {profile!r}")
        parts = parts[2:]
        if len(parts) >= 2 and parts[0] == "variants" and isinstance(parts[1], int):
            index = parts[1]
            entries = raw.get("profiles", {}).get(profile, {}).get("variants", [])
            entry = entries[index] if isinstance(entries, list) and index < len(entries) else {}
            label = entry.get("name") or entry.get("preset") if isinstance(entry, Mapping) else None
            words.append(f"variant {label!r} (#{index + 1})" if label else f"variant #{index + 1}")
            parts = parts[2:]
    fields = [str(part) for part in parts if not str(part).startswith(("function-", "Canvas", "Margin"))]
    if fields:
        words.append(".".join(fields))
    return ": ".join(words) + ": " if words else ""


def _each(
    model: type[ModelT], entries: Iterable[tuple[str | int, object]], at: Loc
) -> tuple[list[ModelT], list[Problem]]:
    """Validate each entry as ``model``; the valid ones, and every problem located under ``at``."""
    valid: list[ModelT] = []
    problems: list[Problem] = []
    for where, entry in entries:
        try:
            valid.append(model.model_validate(entry))
        except ValidationError as error:
            problems.extend(error.within((*at, where)).errors())
    return valid, problems
