"""Reading Aidge's response envelope: the JSON object every answer comes in.

Kept apart from the error factory so the success path and the failure path read the envelope the
same way: one parser, one idea of what a usable success looks like.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

SUCCESS_RES_CODE = 200


def parse_envelope(body: bytes) -> dict[str, Any] | None:
    """The envelope as a dict, or ``None`` when the body is not a JSON object."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def request_id_of(envelope: dict[str, Any]) -> str | None:
    """``requestId`` (what Aidge support asks for), else the gateway's ``request_id`` or trace id."""
    for key in ("requestId", "request_id", "_trace_id_"):
        value = envelope.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def res_code_of(envelope: dict[str, Any]) -> int | None:
    """``resCode`` as an int (it is a JSON number, sometimes a numeric string), else ``None``."""
    value = envelope.get("resCode")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def message_of(envelope: dict[str, Any]) -> str | None:
    """``resMessage``, else a gateway-style ``message``."""
    for key in ("resMessage", "message"):
        value = envelope.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def is_success(envelope: dict[str, Any]) -> bool:
    """Success is ``success: true`` and ``resCode: 200``; anything else is a failure."""
    return envelope.get("success") is True and res_code_of(envelope) == SUCCESS_RES_CODE


@dataclass(frozen=True, slots=True)
class CutOutData:
    """The useful part of a successful ``/ai/image/cut/out`` answer."""

    image_url: str
    width: int | None  # optional: the reference's response table does not promise them
    height: int | None
    score: float | None
    usage: int
    request_id: str | None


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != int(value) or value <= 0:
        return None
    return int(value)


def cut_out_data(envelope: dict[str, Any]) -> CutOutData | None:
    """The payload of a successful answer, or ``None`` when it has no ``imageUrl``.

    ``width`` and ``height`` are optional (the reference's response table promises neither; its
    sample shows them for a call with target sizes): when present and positive, the downloaded
    image is checked against them. ``score`` is optional; ``usage`` defaults to 1 call.
    """
    data = envelope.get("data")
    if not isinstance(data, dict):
        return None
    image_url = data.get("imageUrl")
    width, height = _positive_int(data.get("width")), _positive_int(data.get("height"))
    if not isinstance(image_url, str) or not image_url.strip():
        return None
    score = data.get("score")
    usage = data.get("usage")
    return CutOutData(
        image_url=image_url.strip(),
        width=width,
        height=height,
        score=float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None,
        usage=usage if isinstance(usage, int) and not isinstance(usage, bool) and usage >= 0 else 1,
        request_id=request_id_of(envelope),
    )
