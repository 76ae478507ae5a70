"""The JSON envelopes the API answers with, shaped like the reference's sample response."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

RESULT_CLASS = "com.aidc.service.api.client.image.dto.ImageGenResponse"


@dataclass(frozen=True, slots=True)
class RequestIds:
    """The gateway's ids: ``requestId`` (= ``_trace_id_``) and a distinct ``request_id``."""

    request_id: str
    gateway_request_id: str

    @classmethod
    def new(cls) -> RequestIds:
        # The real ids are 30 and 25 hexadecimal-looking characters.
        return cls(request_id=secrets.token_hex(15), gateway_request_id=secrets.token_hex(13)[:25])

    def fields(self) -> dict[str, str]:
        return {"requestId": self.request_id, "request_id": self.gateway_request_id}


def success_envelope(
    ids: RequestIds, *, image_url: str, score: float, width: int, height: int
) -> dict[str, Any]:
    return {
        "data": {
            "score": score,
            "imageUrl": image_url,
            "usage": 1,
            "width": width,
            "class": RESULT_CLASS,
            "height": height,
        },
        "requestId": ids.request_id,
        "success": True,
        "resCode": 200,
        "resMessage": "success",
        "code": "0",
        "request_id": ids.gateway_request_id,
        "_trace_id_": ids.request_id,
    }


def error_envelope(ids: RequestIds, *, res_code: int, res_message: str) -> dict[str, Any]:
    return {
        "requestId": ids.request_id,
        "success": False,
        "resCode": res_code,
        "resMessage": res_message,
        "code": str(res_code),
        "request_id": ids.gateway_request_id,
        "_trace_id_": ids.request_id,
    }
