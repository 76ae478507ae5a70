"""Outbound safety at the functional level: an API on loopback that answers with hostile result
URLs, and proof that the client fetched nothing it must not, under the production settings
(empty allowlist, RESULT_URL_POLICY=upgrade-then-http).

The unit tests (``tests/unit/engine/test_aidge_url_safety.py``, ``test_aidge_result_download.py``)
cover the guard's rules one by one with fakes. Here the whole client runs against real servers:

- a hostile API, which answers every call with the result URL the test chose, and, as the result
  host ``results.hostile.example`` (a public address in the test's DNS), serves redirects, an
  endless body and a slow drip, over plain http only (its https refuses the TLS handshake, so the
  client's upgrade fails and it falls back to http: both halves of the policy run);
- a trap server on another loopback port, which counts every request that reaches it;
- a transport playing the network: it routes the API's origin and the result host's public
  address (port 80) to the hostile API, refuses https to that address as a failed handshake, and
  refuses and counts every other connection: a safety net, so even a broken guard could never
  send a packet to 10/8 or 169.254/16.

Every case runs over https and over plain http. Each URL must fail with a clear, permanent reason,
with zero hits on the trap and zero attempts to go anywhere else.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from cutout.engine.aidge.client import AidgeClient
from cutout.engine.aidge.config import AidgeConfig
from cutout.engine.aidge.retry import RetryPolicy
from cutout.engine.errors import EngineError
from cutout.engine.port import Background, CutoutOptions, ImageUrl
from cutout_tools.emulator.envelope import RequestIds, success_envelope

API_PATH = "/rest/ai/image/cut/out"
RESULT_MAX_BYTES = 256 * 1024
RESULT_MAX_SECONDS = 1.0
# Names the client resolves through the test's resolver (never real DNS): where they "live".
RESULT_HOST = "results.hostile.example"
RESULT_HOST_ADDRESS = "93.184.216.34"  # public: what the result host "is" on the test's network
FAKE_DNS = {
    RESULT_HOST: [RESULT_HOST_ADDRESS],
    "internal.example": ["10.0.0.5"],
    "metadata.example": ["169.254.169.254"],
    "rebind.example": ["93.184.216.34", "127.0.0.1"],
    "v6-internal.example": ["fd00::5"],
    "localhost": ["127.0.0.1", "::1"],
}


def _png(width: int = 120, height: int = 120) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 20, 30, 0)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Counter:
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str) -> None:
        with self.lock:
            self.paths.append(path)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.hits = Counter()
        self.result_url = ""

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _HostileApi(BaseHTTPRequestHandler):
    """POST API_PATH: a success envelope naming ``server.result_url``; GET: redirects, floods, drips."""

    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.hits.add(self.path)
        envelope = success_envelope(
            RequestIds.new(), image_url=self.server.result_url, score=0.9, width=120, height=120
        )
        self._answer(200, json.dumps(envelope).encode(), "application/json")

    def do_GET(self) -> None:
        self.server.hits.add(self.path)
        parts = urlsplit(self.path)
        if parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/flood":  # no Content-Length: the cap must cut it while streaming
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"\x89PNG" + bytes(64 * 1024 - 4)
            for _ in range(64):  # 4 MiB, bounded
                if not self._write_chunk(chunk):
                    return
            self._write_chunk(b"")
        elif parts.path == "/drip":  # one byte at a time: the time cap must cut it
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(100):  # at most 10 s, bounded
                try:
                    self.wfile.write(b"\x00")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.1)
        elif parts.path == "/ok.png":
            self._answer(200, _png(), "image/png")
        else:
            self._answer(404, b"", "text/plain")

    def _write_chunk(self, data: bytes) -> bool:
        try:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        except OSError:
            return False
        return True

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Trap(BaseHTTPRequestHandler):
    """Anything that reaches it is a fetch that should never have happened."""

    server: _Server

    def do_GET(self) -> None:
        self.server.hits.add(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class AllowlistOnlyTransport(httpx.BaseTransport):
    """The network: the API's origin, and the result host's public address on port 80, both lead to
    the hostile API; https to that address fails its handshake; every other attempt is counted."""

    def __init__(self, api_origin: str) -> None:
        self._api = httpx.URL(api_origin)
        self._inner = httpx.HTTPTransport()
        self.refused: list[str] = []
        self.tls_refused = 0
        self.result_requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if (url.scheme, url.host, url.port) == (self._api.scheme, self._api.host, self._api.port):
            return self._inner.handle_request(request)
        if url.host == RESULT_HOST_ADDRESS and url.scheme == "https" and url.port in (None, 443):
            self.tls_refused += 1
            raise httpx.ConnectError(
                "[SSL: WRONG_VERSION_NUMBER] the result host speaks no TLS", request=request
            )
        if url.host == RESULT_HOST_ADDRESS and url.scheme == "http" and url.port in (None, 80):
            self.result_requests += 1
            request.url = url.copy_with(host=self._api.host, port=self._api.port)
            return self._inner.handle_request(request)
        self.refused.append(str(url.copy_with(query=None)))
        raise httpx.ConnectError("the test transport refuses to go there", request=request)

    def close(self) -> None:
        self._inner.close()


def _fake_resolver(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    if host not in FAKE_DNS:
        raise OSError(f"the test resolver does not know {host!r}")
    return [(0, 0, 0, "", (address, port)) for address in FAKE_DNS[host]]


@dataclass
class Outbound:
    api: _Server
    trap: _Server
    transport: AllowlistOnlyTransport
    client: AidgeClient


def _serve(server: _Server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[_Server, _Server]]:
    api, trap = _Server(_HostileApi), _Server(_Trap)
    threads = [_serve(api), _serve(trap)]
    yield api, trap
    for server in (api, trap):
        server.shutdown()
        server.server_close()
    for thread in threads:
        thread.join(timeout=5)


@pytest.fixture
def outbound(servers: tuple[_Server, _Server]) -> Iterator[Outbound]:
    api, trap = servers
    api.hits, trap.hits = Counter(), Counter()
    transport = AllowlistOnlyTransport(api.origin)
    config = AidgeConfig(
        app_key="512345",
        app_secret="outbound-test-secret",
        host=api.origin.removeprefix("http://"),
        scheme="http",  # the API endpoint on loopback; the result download has no allowlist at all
        result_max_bytes=RESULT_MAX_BYTES,
        result_max_seconds=RESULT_MAX_SECONDS,
        fetch_retry=RetryPolicy(
            base_seconds=0.01, cap_seconds=0.02, max_attempts_by_code={"result_unavailable": 2}
        ),
    )
    client = AidgeClient(config, transport=transport, resolver=_fake_resolver)
    yield Outbound(api, trap, transport, client)
    client.close()


def _cut_out(outbound: Outbound, result_url: str) -> EngineError:
    """Submit (the API answers with ``result_url``), then fetch: the error the fetch raised."""
    outbound.api.result_url = result_url
    receipt = outbound.client.submit(
        ImageUrl("https://input.example/in.jpg"), CutoutOptions(background=Background.TRANSPARENT)
    )
    with pytest.raises(EngineError) as caught:
        outbound.client.fetch(receipt)
    return caught.value


def _trap_url(outbound: Outbound, scheme: str, host: str, path: str = "/r.png") -> str:
    return f"{scheme}://{host}:{outbound.trap.server_address[1]}{path}"


# (result URL template, expected words in the reason). {trap} is the trap's port; {scheme} is
# https and then http (every case runs over both).
REFUSED_TEMPLATES = [
    ("{scheme}://127.0.0.1:{trap}/r.png", "loopback"),
    ("{scheme}://localhost:{trap}/r.png", "loopback"),
    ("{scheme}://127.0.0.2:{trap}/r.png", "loopback"),
    ("{scheme}://[::1]:{trap}/r.png", "loopback"),
    ("{scheme}://[0:0:0:0:0:0:0:1]:{trap}/r.png", "loopback"),
    ("{scheme}://[::ffff:127.0.0.1]:{trap}/r.png", "IPv4-mapped"),
    ("{scheme}://[::ffff:7f00:1]:{trap}/r.png", "IPv4-mapped"),
    ("{scheme}://[::ffff:10.0.0.1]/r.png", "IPv4-mapped"),
    ("{scheme}://[::ffff:169.254.169.254]/latest/meta-data/", "IPv4-mapped"),
    ("{scheme}://2130706433:{trap}/r.png", "non-standard form"),
    ("{scheme}://0x7f000001:{trap}/r.png", "non-standard form"),
    ("{scheme}://127.1:{trap}/r.png", "non-standard form"),
    ("{scheme}://10.0.0.1/r.png", "private"),
    ("{scheme}://10.255.255.254/r.png", "private"),
    ("{scheme}://172.16.0.1/r.png", "private"),
    ("{scheme}://172.31.255.254/r.png", "private"),
    ("{scheme}://192.168.0.1/r.png", "private"),
    ("{scheme}://169.254.169.254/latest/meta-data/iam/security-credentials/", "link-local"),
    ("{scheme}://[fd00:ec2::254]/latest/meta-data/", "private"),  # the IPv6 metadata endpoint
    ("{scheme}://[fd00::5]/r.png", "private"),
    ("{scheme}://[fe80::1]/r.png", "link-local"),
    ("{scheme}://internal.example/r.png", "private"),
    ("{scheme}://metadata.example/latest/meta-data/", "link-local"),
    ("{scheme}://rebind.example/r.png", "loopback"),
    ("{scheme}://v6-internal.example/r.png", "private"),
    ("{scheme}://user:pw@internal.example/r.png", "credentials"),
]
REFUSED_URLS = [
    pytest.param(template.replace("{scheme}", scheme), reason, id=f"{scheme}:{template[11:]}")
    for scheme in ("https", "http")
    for template, reason in REFUSED_TEMPLATES
] + [
    ("file:///etc/passwd", "scheme 'file'|not a valid URL"),
    ("gopher://127.0.0.1:{trap}/", "scheme 'gopher'|not a valid URL"),
]
# Redirect targets served by the result host: every one leaves it, over https and over http.
REDIRECT_TEMPLATES = [
    "{scheme}://127.0.0.1:{trap}/r.png",
    "{scheme}://localhost:{trap}/r.png",
    "{scheme}://[::1]:{trap}/r.png",
    "{scheme}://[::ffff:127.0.0.1]/r.png",
    "{scheme}://10.0.0.1/r.png",
    "{scheme}://172.16.0.1/r.png",
    "{scheme}://192.168.1.1/r.png",
    "{scheme}://169.254.169.254/latest/meta-data/",
    "{scheme}://internal.example/r.png",
    "{scheme}://elsewhere.example/r.png",
]
REDIRECT_TARGETS = [
    template.replace("{scheme}", scheme) for scheme in ("https", "http") for template in REDIRECT_TEMPLATES
]
RESULT_ORIGIN = f"http://{RESULT_HOST}"


@pytest.mark.parametrize(("template", "reason"), REFUSED_URLS)
def test_a_forbidden_result_url_is_refused_and_never_fetched(
    outbound: Outbound, template: str, reason: str
) -> None:
    # Given an API whose (paid) answer points the result at a forbidden place
    url = template.format(trap=outbound.trap.server_address[1])

    # When the client fetches the result
    error = _cut_out(outbound, url)

    # Then it fails for good with a reason, and nothing was sent anywhere
    assert error.code == "result_url_refused", error
    assert error.retryable is False
    assert _matches(reason, str(error))
    assert outbound.trap.hits.paths == []
    assert outbound.transport.refused == []


@pytest.mark.parametrize("target", REDIRECT_TARGETS)
def test_a_redirect_away_from_the_result_host_is_not_followed(outbound: Outbound, target: str) -> None:
    # Given a result host (reached over http after its https failed) that redirects elsewhere
    location = target.format(trap=outbound.trap.server_address[1])
    url = str(httpx.URL(f"{RESULT_ORIGIN}/redirect", params={"to": location}))

    # When the client fetches the result
    error = _cut_out(outbound, url)

    # Then the redirect is refused, the redirect itself was the only result request
    assert error.code == "result_url_refused", error
    assert error.retryable is False
    assert [path for path in outbound.api.hits.paths if path.startswith("/redirect")] != []
    assert outbound.trap.hits.paths == []
    assert outbound.transport.refused == []


def test_an_endless_body_is_cut_at_the_size_cap(outbound: Outbound) -> None:
    # Given a result that streams 4 MiB without a Content-Length
    # When the client fetches it with a 256 KiB cap
    error = _cut_out(outbound, f"{RESULT_ORIGIN}/flood")
    # Then it stops at the cap with a permanent, clear reason
    assert (error.code, error.retryable) == ("result_too_large", False)
    assert str(RESULT_MAX_BYTES) in str(error) or "cap" in str(error)


def test_a_slow_drip_is_cut_at_the_time_cap(outbound: Outbound) -> None:
    # Given a result that sends one byte every 100 ms
    started = time.monotonic()
    # When the client fetches it (time cap 1 s, two attempts)
    error = _cut_out(outbound, f"{RESULT_ORIGIN}/drip")
    # Then it gives up saying so (retryable: a later delivery may find a faster host), before the drip ends
    assert error.code == "result_unavailable"
    assert "too long" in str(error)
    assert time.monotonic() - started < 9.0  # the drip would take 10 s per attempt


def test_a_result_in_the_documented_shape_on_a_public_host_is_fetched(outbound: Outbound) -> None:
    # Given a result URL like the reference's sample (plain http, OSS-signed query) on a public host
    # (the control case: the harness lets good fetches through)
    outbound.api.result_url = f"{RESULT_ORIGIN}/ok.png?OSSAccessKeyId=AK&Expires=2719383457&Signature=s%3D"
    receipt = outbound.client.submit(
        ImageUrl("https://input.example/in.jpg"), CutoutOptions(background=Background.TRANSPARENT)
    )
    # When it is fetched
    cutout = outbound.client.fetch(receipt)
    # Then https was tried first (its handshake failed), then plain http brought the image, and
    # nothing else was tried
    assert (cutout.width, cutout.height, cutout.content_type) == (120, 120, "image/png")
    cutout.body.close()
    assert (outbound.transport.tls_refused, outbound.transport.result_requests) == (1, 1)
    assert outbound.transport.refused == []


def _matches(alternatives: str, text: str) -> bool:
    return any(words in text for words in alternatives.split("|"))
