"""Helpers for tests that talk to the Aidge emulator over real HTTP on loopback.

The signer here is written independently of ``cutout.engine.aidge.signing`` on purpose: a test
that signed with the module under test would pass even if both sides shared the same bug.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

from cutout.engine.port import Background, Cutout, CutoutOptions, ImageBytes, ImageSource

KEY_NAME = "512345"
KEY_SECRET = "S4etzZ73nF08vOXVhk3wZjIaLSHw0123"
API_PATH = "/rest/ai/image/cut/out"


def independent_sign(secret: str, timestamp: str) -> str:
    """sign_ver v2, from the protocol notes: HEX_UPPER(HMAC-SHA256(key=secret, msg=secret+timestamp))."""
    digest = hmac.new(secret.encode("utf-8"), (secret + timestamp).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest().upper()


def signed_params(
    key_name: str = KEY_NAME, secret: str = KEY_SECRET, *, timestamp_ms: int | None = None
) -> dict[str, str]:
    """The v2 query parameters, signed by ``independent_sign``."""
    timestamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    return {
        "partner_id": "aidge",
        "sign_method": "sha256",
        "sign_ver": "v2",
        "app_key": key_name,
        "timestamp": timestamp,
        "sign": independent_sign(secret, timestamp),
    }


def product_photo(width: int = 400, height: int = 300, fmt: str = "JPEG") -> bytes:
    """A product-like photo: a dark red box on a light grey backdrop."""
    image = Image.new("RGB", (width, height), (235, 235, 235))
    ImageDraw.Draw(image).rectangle(
        (width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill=(150, 20, 30)
    )
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


class FakeCutoutEngine:
    """A fast engine with the port's contract: the output has the target size (else the input's),
    a transparent background is an RGBA PNG, a white one an RGB JPEG. Records what it was given."""

    engine_name = "fake"

    def __init__(
        self, *, fail_with: Exception | None = None, barrier: threading.Barrier | None = None
    ) -> None:
        self.calls: list[tuple[bytes, CutoutOptions]] = []
        self.fail_with = fail_with
        self.barrier = barrier
        self._lock = threading.Lock()

    def remove_background(self, source: ImageSource, options: CutoutOptions) -> Cutout:
        assert isinstance(source, ImageBytes), "the emulator hands the engine bytes"
        with self._lock:
            self.calls.append((source.data, options))
        if self.barrier is not None:
            self.barrier.wait()
        if self.fail_with is not None:
            raise self.fail_with
        width, height = open_image(source.data).size
        size = (options.target_width or width, options.target_height or height)
        box = (size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4)
        buffer = io.BytesIO()
        if options.background is Background.TRANSPARENT:
            result = Image.new("RGBA", size, (0, 0, 0, 0))
            ImageDraw.Draw(result).rectangle(box, fill=(150, 20, 30, 255))
            result.save(buffer, "PNG")
            content_type = "image/png"
        else:
            result = Image.new("RGB", size, (255, 255, 255))
            ImageDraw.Draw(result).rectangle(box, fill=(150, 20, 30))
            result.save(buffer, "JPEG")
            content_type = "image/jpeg"
        return Cutout.from_bytes(
            buffer.getvalue(),
            content_type=content_type,
            width=size[0],
            height=size[1],
            score=0.93,
            usage=1,
            request_id=None,
            engine=self.engine_name,
        )


class StaticFiles:
    """A throwaway HTTP server on loopback serving in-memory files by path (the query is ignored,
    as a presigned URL's signature would be checked by S3). Counts GETs per path."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.redirects: dict[str, str] = {}  # path -> Location of a 307 (as S3's global endpoint sends)
        self.hits: Counter[str] = Counter()
        files, hits, redirects = self.files, self.hits, self.redirects

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                hits[path] += 1
                if path in redirects:
                    self.send_response(307)
                    self.send_header("Location", redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                found = files.get(path)
                body, content_type = (
                    found if found else (b"<Error><Code>NoSuchKey</Code></Error>", "text/xml")
                )
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve ``data`` at ``path``; returns a presigned-looking URL to it."""
        self.files[path] = (data, content_type)
        return f"{self.base_url}{path}?X-Amz-Expires=300&X-Amz-Signature=0123456789abcdef"

    @contextmanager
    def running(self) -> Iterator[StaticFiles]:
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
