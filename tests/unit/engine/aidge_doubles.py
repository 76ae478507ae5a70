"""Test doubles for the Aidge adapter: fake time, a fake DNS, images and envelopes. No sockets.

A plain module (not the conftest) so tests can import the helpers by name.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image

from cutout.engine.port import Background, CutoutReceipt

APP_KEY = "512345"
APP_SECRET = "S4etzZ73nF08vOXVhk3wZjIaLSHw0123"
RESULT_HOST = "results.example.com"
RESULT_URL = f"https://{RESULT_HOST}/data/cut.png?OSSAccessKeyId=AK&Expires=2719383457&Signature=abc%3D"
PUBLIC_IP = "93.184.216.34"

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps (or a test says so)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def image_bytes(width: int = 200, height: int = 100, mode: str = "RGBA", image_format: str = "PNG") -> bytes:
    """A small real image."""
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, format=image_format)
    return buffer.getvalue()


def result_receipt(url: str = RESULT_URL, *, expires_at: int | None = None) -> CutoutReceipt:
    """The receipt of a billed call whose 200x100 transparent result is at ``url``."""
    return CutoutReceipt(
        engine="aidge",
        result_url=url,
        width=200,
        height=100,
        score=0.9,
        usage=1,
        request_id="req-1",
        background=Background.TRANSPARENT,
        expires_at=expires_at,
    )


def success_envelope(
    image_url: str = RESULT_URL, width: int = 200, height: int = 100, **data: Any
) -> dict[str, Any]:
    """A success shaped like the sample response of the API reference."""
    return {
        "data": {
            "score": 0.88,
            "imageUrl": image_url,
            "usage": 1,
            "width": width,
            "class": "com.aidc.service.api.client.image.dto.ImageGenResponse",
            "height": height,
            **data,
        },
        "requestId": "2101364217193834573077250e647d",
        "success": True,
        "resCode": 200,
        "resMessage": "success",
        "code": "0",
        "request_id": "21015e2217193834573111639",
        "_trace_id_": "2101364217193834573077250e647d",
    }


def failure_envelope(res_code: int, message: str = "failed") -> dict[str, Any]:
    return {
        "success": False,
        "resCode": res_code,
        "resMessage": message,
        "requestId": "req-failure-1",
    }


def json_response(payload: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(payload).encode())


def fake_resolver(table: dict[str, list[str]]) -> Callable[[str, int], list[tuple[Any, ...]]]:
    """A ``getaddrinfo`` stand-in: host -> addresses; unknown hosts fail like real DNS."""

    def resolve(host: str, port: int) -> list[tuple[Any, ...]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in table[host]
        ]

    return resolve


Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeServers:
    """The Aidge API and the result host behind one MockTransport handler.

    Answers are consumed in order; the last one repeats. An exception is raised as the transport
    would; a callable builds the answer from the request.
    """

    api_answers: list[Answer] = field(default_factory=list)
    result_answers: list[Answer] = field(default_factory=list)
    api_requests: list[httpx.Request] = field(default_factory=list)
    result_requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rest/ai/image/cut/out":
            self.api_requests.append(request)
            answers = self.api_answers
        else:
            self.result_requests.append(request)
            answers = self.result_answers
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)
