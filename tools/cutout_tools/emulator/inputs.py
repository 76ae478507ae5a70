"""Reading and validating the API parameters of ``/ai/image/cut/out`` as the reference describes them.

The real gateway accepts the API parameters as a JSON body, a form body or query parameters; the
signature parameters always travel in the query. Every rejection is an ``InvalidInputError`` naming the
offending field, which the server turns into resCode 700 with the field in ``resMessage``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from cutout.engine.port import TARGET_SIDE_MAX, TARGET_SIDE_MIN, Background, CutoutOptions

# The gateway's own query parameters; everything else in the query is an API parameter.
SIGNATURE_PARAMETERS = frozenset({"partner_id", "sign_method", "sign_ver", "app_key", "timestamp", "sign"})


class InvalidInputError(Exception):
    """A request the API answers with resCode 700; ``field`` is the parameter at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid input: {field} {reason}")
        self.field = field
        self.reason = reason

    @property
    def res_message(self) -> str:
        return str(self)


def single_values(multi: Mapping[str, list[str]]) -> dict[str, str]:
    """``parse_qs`` output with one value per name (the last one wins, as in most gateways)."""
    return {name: values[-1] for name, values in multi.items() if values}


def api_parameters(query: Mapping[str, str], body: bytes, content_type: str) -> dict[str, object]:
    """The API parameters of a call: query parameters (minus the signature ones), then the body's."""
    parameters: dict[str, object] = {
        name: value for name, value in query.items() if name not in SIGNATURE_PARAMETERS
    }
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        return parameters
    if media_type == "application/x-www-form-urlencoded":
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        parameters.update(single_values(form))
        return parameters
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("body", "is not valid JSON") from None
    if not isinstance(decoded, dict):
        raise InvalidInputError("body", "must be a JSON object")
    parameters.update(decoded)
    return parameters


def _optional_text(parameters: Mapping[str, object], name: str) -> str | None:
    """A string parameter; absent, ``null`` and empty all mean "not given" (SDKs send "")."""
    value = parameters.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(name, "must be a string")
    return value.strip() or None


def _target_side(parameters: Mapping[str, object], name: str) -> int | None:
    value = parameters.get(name)
    if value is None or value == "":
        return None
    reason = f"must be an integer between {TARGET_SIDE_MIN} and {TARGET_SIDE_MAX}"
    if isinstance(value, bool):
        raise InvalidInputError(name, reason)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise InvalidInputError(name, reason)
    if not TARGET_SIDE_MIN <= number <= TARGET_SIDE_MAX:
        raise InvalidInputError(name, f"{reason}, got {number}")
    return number


def cutout_options(parameters: Mapping[str, object]) -> CutoutOptions:
    """``backGroundType`` (required), ``targetWidth`` and ``targetHeight`` (optional)."""
    background = parameters.get("backGroundType")
    allowed = " or ".join(b.value for b in Background)
    if background is None or background == "":
        raise InvalidInputError("backGroundType", f"is required ({allowed})")
    if not isinstance(background, str) or background not in {b.value for b in Background}:
        raise InvalidInputError("backGroundType", f"must be {allowed}")
    return CutoutOptions(
        background=Background(background),
        target_width=_target_side(parameters, "targetWidth"),
        target_height=_target_side(parameters, "targetHeight"),
    )


def decode_base64(text: str) -> bytes:
    """Strict standard base64 (whitespace and line breaks tolerated, as MIME encoders add them)."""
    compact = "".join(text.split())
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError("imageBase64", "is not valid base64") from None
    if not data:
        raise InvalidInputError("imageBase64", "is empty")
    return data


def url_object_id(url: str) -> str:
    """The object a URL names, without its query (a presigned URL's signature changes every time)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass(frozen=True, slots=True)
class ImageReference:
    """Which image a call is about. ``imageBase64`` wins when both are given (as documented).

    ``object_id`` is known before any validation, so faults and rejections are still accounted to
    the object: ``sha256:<hex>`` of the decoded bytes, or the URL without its query string.
    """

    base64_data: bytes | None
    error: InvalidInputError | None
    url: str | None
    object_id: str | None

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, object]) -> ImageReference:
        try:
            image_base64 = _optional_text(parameters, "imageBase64")
        except InvalidInputError as error:
            return cls(base64_data=None, error=error, url=None, object_id=None)
        if image_base64 is not None:
            try:
                data = decode_base64(image_base64)
            except InvalidInputError as error:
                return cls(base64_data=None, error=error, url=None, object_id=None)
            object_id = f"sha256:{hashlib.sha256(data).hexdigest()}"
            return cls(base64_data=data, error=None, url=None, object_id=object_id)
        try:
            url = _optional_text(parameters, "imageUrl")
        except InvalidInputError as error:
            return cls(base64_data=None, error=error, url=None, object_id=None)
        return cls(
            base64_data=None,
            error=None,
            url=url,
            object_id=url_object_id(url) if url is not None else None,
        )

    def check_given(self) -> None:
        """Raise the 700 a missing or unreadable ``imageBase64``/``imageUrl`` deserves."""
        if self.error is not None:
            raise self.error
        if self.base64_data is None and self.url is None:
            raise InvalidInputError("imageUrl", "or imageBase64 is required")
