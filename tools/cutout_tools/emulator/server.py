"""The Aidge-compatible emulator: a real HTTP server speaking the background-removal contract.

It checks the v2 signature, validates the parameters as the reference describes (resCode 700 naming
the field), runs a local engine (the studio engine by default), answers the documented envelope
(every field of the reference's sample response) and serves the result at a signed OSS-shaped URL
exactly like the sample's (``oss.py``): ``http://<bucket>.oss-<region>.aliyuncs.com:<port>/<key>?
OSSAccessKeyId=…&Expires=…&Signature=…``, checked on every GET (OSS's 403 XML otherwise). The
same port speaks https too (TLS is recognised by its first byte), with a throw-away certificate
for that host signed by a throw-away CA (``tls.py``; clients trust ``ca_pem``), so the client's
upgrade-to-https and its fallback to http both run for real. The host name resolves to the
emulator's address only through ``result_resolver`` (the client's resolver seam).

Faults (error codes, timeouts, malformed bodies, a first-GET 404 on the result) and latency
are injected from a seeded RNG, and every call is accounted (``/_emulator/stats``): ``timeout`` and
``malformed`` are billed, as the real service would bill work whose answer was lost, and recorded
as undelivered, like a real answer the client had stopped waiting for. So tests and the local
stack can check "never pay twice" and "never pay for a bad input", and what a lost answer costs.

Control endpoints (no signature; bind to loopback):
``GET /_emulator/stats``, ``GET|POST /_emulator/config`` (``{"latency_ms", "faults", "timeout_seconds"}``),
``POST /_emulator/reset`` (clears stats and results, re-seeds the RNG).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import random
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx

from cutout.engine.port import BackgroundRemover, CutoutOptions, ImageBytes
from cutout_tools.emulator.auth import MAX_CLOCK_SKEW_SECONDS_DEFAULT, signature_problem
from cutout_tools.emulator.envelope import RequestIds, error_envelope, success_envelope
from cutout_tools.emulator.faults import RES_MESSAGES, Fault, FaultPlan
from cutout_tools.emulator.images import (
    DOWNLOAD_MAX_BYTES_DEFAULT,
    DOWNLOAD_TIMEOUT_SECONDS_DEFAULT,
    download_image,
    image_size,
)
from cutout_tools.emulator.inputs import (
    ImageReference,
    InvalidInputError,
    api_parameters,
    cutout_options,
    single_values,
)
from cutout_tools.emulator.oss import (
    RESULT_HOST,
    SAMPLE_TTL_SECONDS,
    OssSigner,
    error_xml,
    key_of,
    result_key,
)
from cutout_tools.emulator.results import (
    MAX_RESULT_BYTES_DEFAULT,
    MAX_RESULTS_DEFAULT,
    ResultStore,
    StoredResult,
)
from cutout_tools.emulator.stats import EmulatorStats
from cutout_tools.emulator.tls import ThrowAwayCertificates, client_context

logger = logging.getLogger("cutout_tools.emulator")

API_PATH = "/rest/ai/image/cut/out"
RESULT_ID = re.compile(r"^data/general_matting_online/AIDC_AIB_SERVICE/(?P<id>[0-9a-f]{32})_")
TLS_HANDSHAKE = 0x16
QUEUE_TIMEOUT_SECONDS_DEFAULT = (
    20.0  # longest wait for a free engine before answering 501  # the first byte of a TLS ClientHello record
)
TIMEOUT_SECONDS_DEFAULT = 60.0
MAX_BODY_BYTES = 64 * 1024 * 1024  # base64 of the largest input the pipeline sends, with room
STUDIO_ENGINE = ("cutout_tools.studio", "StudioEngine")
# What a gateway cut off mid-answer looks like: HTTP 200, JSON content type, not JSON.
MALFORMED_BODY = b'{"data": {"score": 0.87, "imageUrl": "http://'
JSON_TYPE = "application/json;charset=UTF-8"


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer one request with. ``hold`` means: answer nothing (the ``timeout`` fault).

    ``billed`` marks an answer that was billed (``billed_object``: the object it is for), so one
    that cannot be delivered is recorded as such.
    """

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    hold: bool = False
    billed: bool = False
    billed_object: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, payload: Any) -> Reply:
        return cls(status=status, body=json.dumps(payload).encode("utf-8"))


def load_studio_engine() -> BackgroundRemover:
    """The default engine, imported on first use so the emulator works before/without it."""
    module_name, class_name = STUDIO_ENGINE
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise RuntimeError(
            f"the studio engine ({module_name}.{class_name}) cannot be imported: {error}"
        ) from error
    return cast(BackgroundRemover, getattr(module, class_name)())


class RateLimit:
    """A token bucket: ``admit()`` is True for at most ``rate`` calls a second (bursts up to one
    second's worth); rate 0 admits everything. What an API account's QPS limit does."""

    def __init__(self, rate: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rate = 0.0
        self._tokens = 0.0
        self._at = clock()
        self.set_rate(rate)

    def set_rate(self, rate: float) -> None:
        with self._lock:
            self._rate = float(rate)
            self._tokens = max(1.0, self._rate)
            self._at = self._clock()

    def admit(self) -> bool:
        with self._lock:
            if self._rate <= 0:
                return True
            now = self._clock()
            self._tokens = min(max(1.0, self._rate), self._tokens + (now - self._at) * self._rate)
            self._at = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


class AidgeEmulator:
    """An Aidge background-removal endpoint on ``host:port`` (``port=0``: any free port).

    ``start()`` serves in a background thread; ``url`` is then the base URL to call; ``stop()``
    ends it. Also a context manager. ``engine=None`` uses the studio engine.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        key_name: str,
        key_secret: str,
        engine: BackgroundRemover | None = None,
        latency_ms: float = 0,
        faults: FaultPlan | None = None,
        seed: int | None = None,
        public_url: str | None = None,
        timeout_seconds: float = TIMEOUT_SECONDS_DEFAULT,
        max_results: int = MAX_RESULTS_DEFAULT,
        max_result_bytes: int = MAX_RESULT_BYTES_DEFAULT,
        download_max_bytes: int = DOWNLOAD_MAX_BYTES_DEFAULT,
        download_timeout_seconds: float = DOWNLOAD_TIMEOUT_SECONDS_DEFAULT,
        max_clock_skew_seconds: float = MAX_CLOCK_SKEW_SECONDS_DEFAULT,
        engine_concurrency: int | None = None,
        result_ttl_seconds: float = SAMPLE_TTL_SECONDS,
        tls: bool = True,
        queue_timeout_seconds: float = QUEUE_TIMEOUT_SECONDS_DEFAULT,
        results_on_address: bool = False,
    ) -> None:
        if not key_name or not key_secret:
            raise ValueError("the emulator needs a key name and a key secret")
        if latency_ms < 0 or timeout_seconds < 0:
            raise ValueError("latency_ms and timeout_seconds must not be negative")
        self._host = host
        self._port = port
        self._key_name = key_name
        self._key_secret = key_secret
        self._engine = engine
        self._public_url = public_url.rstrip("/") if public_url else None
        self._seed = seed
        self._download_max_bytes = download_max_bytes
        self._download_timeout_seconds = download_timeout_seconds
        self._max_clock_skew_seconds = max_clock_skew_seconds
        self._engine_slots = threading.BoundedSemaphore(engine_concurrency or os.cpu_count() or 2)
        self._config_lock = threading.Lock()
        self._latency_ms = float(latency_ms)
        self._faults = faults or FaultPlan()
        self._timeout_seconds = float(timeout_seconds)
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not cryptography
        self._stats = EmulatorStats()
        self._results = ResultStore(max_results=max_results, max_bytes=max_result_bytes)
        self._stopping = threading.Event()
        self._server: _EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self._result_ttl_seconds = float(result_ttl_seconds)
        self._queue_timeout_seconds = float(queue_timeout_seconds)
        # The account's rate limit (none unless configured): past it, the documented 501, unbilled.
        self._rate_limit = RateLimit()
        # Result URLs on the emulator's own address (no resolver needed), for callers that cannot
        # take the client's resolver seam (a separate process, a naive baseline in a benchmark).
        self._results_on_address = results_on_address
        self._signer = OssSigner()
        self._tls = tls
        self._certificates: ThrowAwayCertificates | None = None

    def __repr__(self) -> str:  # the secret stays out of reprs and tracebacks
        return f"AidgeEmulator(url={self._url_or_none()!r}, key_name={self._key_name!r})"

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> AidgeEmulator:
        """Bind, then serve in a daemon thread. Raises if already started or the engine is missing."""
        if self._server is not None:
            raise RuntimeError("the emulator is already started")
        if self._engine is None:
            self._engine = load_studio_engine()
        self._stopping.clear()
        # Redirects are not followed: a strict fetcher, so a presigned URL that redirects shows.
        self._http = httpx.Client(follow_redirects=False, trust_env=False)
        tls_context = None
        if self._tls:
            self._certificates = ThrowAwayCertificates.create([RESULT_HOST, "localhost", "127.0.0.1", "::1"])
            tls_context = self._certificates.server_context()
        self._server = _EmulatorHTTPServer((self._host, self._port), _Handler, self, tls_context)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"aidge-emulator-{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        logger.info("Aidge emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, release held (``timeout``) requests and close the socket. Idempotent."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._certificates is not None:
            self._certificates.delete()
            self._certificates = None

    def __enter__(self) -> AidgeEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- facts --------------------------------------------------------------------------------

    def _url_or_none(self) -> str | None:
        if self._server is None:
            return None
        host, port = self._server.server_address[:2]
        reachable_host = "127.0.0.1" if host in {"0.0.0.0", ""} else str(host)  # noqa: S104
        return f"http://{reachable_host}:{port}"

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. ``http://127.0.0.1:54321``."""
        url = self._url_or_none()
        if url is None:
            raise RuntimeError("the emulator is not started")
        return url

    @property
    def api_url(self) -> str:
        """The full URL of the background-removal call."""
        return self.url + API_PATH

    @property
    def public_url(self) -> str:
        """The base URL of result URLs: ``public_url`` if given, else ``http://<OSS-shaped host>:<port>``."""
        if self._public_url:
            return self._public_url
        if self._results_on_address:
            return self.url
        return f"http://{RESULT_HOST}:{self.url.rsplit(':', 1)[1]}"

    @property
    def address(self) -> str:
        """The IP address clients reach the emulator on (what the local stack allowlists)."""
        return self.url.split("://", 1)[1].rsplit(":", 1)[0].strip("[]")

    @property
    def result_host(self) -> str:
        """The OSS-shaped host name of result URLs (resolve it with ``result_resolver``)."""
        return RESULT_HOST

    @property
    def ca_pem(self) -> bytes:
        """The throw-away CA that signed the emulator's https certificate (trust it, nothing else)."""
        if self._certificates is None:
            raise RuntimeError("the emulator is not started, or runs without TLS")
        return self._certificates.ca_pem

    def client_ssl_context(self) -> ssl.SSLContext:
        """The default trust store plus ``ca_pem``: what a client of the emulator's https verifies with."""
        return client_context(self.ca_pem)

    def result_resolver(self, host: str, port: int) -> Sequence[tuple[Any, ...]]:
        """``socket.getaddrinfo`` that answers the emulator's address for its result host.

        The client's resolver seam: the result URL keeps the documented shape and the production
        policy checks it; only the name lookup is local (the address must still be allowlisted).
        """
        if host.lower().rstrip(".") == RESULT_HOST and self._server is not None:
            address = self.address
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)

    @property
    def key_name(self) -> str:
        return self._key_name

    @property
    def engine(self) -> BackgroundRemover | None:
        return self._engine

    def stats(self) -> dict[str, Any]:
        """Calls, billed calls, per-object counts, faults and result fetches (see ``EmulatorStats``)."""
        snapshot = self._stats.snapshot()
        snapshot["results_stored"] = len(self._results)
        return snapshot

    def config(self) -> dict[str, Any]:
        with self._config_lock:
            return {
                "latency_ms": self._latency_ms,
                "faults": self._faults.to_specs(),
                "timeout_seconds": self._timeout_seconds,
                "seed": self._seed,
            }

    # --- run-time control ---------------------------------------------------------------------

    def configure(
        self,
        *,
        latency_ms: float | None = None,
        faults: FaultPlan | None = None,
        timeout_seconds: float | None = None,
        calls_per_second: float | None = None,
    ) -> None:
        """Change latency, faults, the hold time of ``timeout`` faults, or the account's rate limit
        (``calls_per_second``; 0 lifts it) while serving."""
        if min(latency_ms or 0, timeout_seconds or 0, calls_per_second or 0) < 0:
            raise ValueError("latency_ms, timeout_seconds and calls_per_second must not be negative")
        if calls_per_second is not None:
            self._rate_limit.set_rate(calls_per_second)
        with self._config_lock:
            if latency_ms is not None:
                self._latency_ms = float(latency_ms)
            if faults is not None:
                self._faults = faults
            if timeout_seconds is not None:
                self._timeout_seconds = float(timeout_seconds)

    def reset(self) -> None:
        """Forget stats and results; re-seed the fault RNG so a seeded run replays from the start."""
        self._stats.reset()
        self._results.clear()
        with self._config_lock:
            self._rng.seed(self._seed)

    # --- the API ------------------------------------------------------------------------------

    def _draw_fault(self) -> tuple[Fault | None, float, float]:
        with self._config_lock:
            return self._faults.choose(self._rng), self._latency_ms, self._timeout_seconds

    def answer_api_call(self, query: dict[str, str], body: bytes, content_type: str) -> Reply:
        """Everything ``POST /rest/ai/image/cut/out`` does, minus the socket."""
        self._stats.record_call()
        fault, latency_ms, _ = self._draw_fault()
        if latency_ms > 0:
            self._stopping.wait(latency_ms / 1000)
        ids = RequestIds.new()

        problem = signature_problem(
            query,
            key_name=self._key_name,
            key_secret=self._key_secret,
            max_clock_skew_seconds=self._max_clock_skew_seconds,
        )
        if problem is not None:
            return self._error(401, problem, ids, http_status=401)

        if not self._rate_limit.admit():
            self._stats.record_fault("rate_limited")
            return self._error(501, f"{RES_MESSAGES[501]} (over the account's rate limit)", ids)

        parameters: dict[str, object] | None = None
        body_error: InvalidInputError | None = None
        try:
            parameters = api_parameters(query, body, content_type)
        except InvalidInputError as error:
            body_error = error
        reference = ImageReference.from_parameters(parameters or {})
        if reference.object_id is not None:
            self._stats.record_object_call(reference.object_id)

        if fault is not None and fault is not Fault.RESULT_404:
            return self._play_fault(fault, ids, reference.object_id)

        try:
            if body_error is not None:
                raise body_error
            options = cutout_options(parameters or {})
            reference.check_given()
            image, field = self._image_bytes(reference)
            image_size(image, field)
        except InvalidInputError as error:
            return self._error(700, error.res_message, ids)
        return self._run_engine(image, options, reference, ids, result_404=fault is Fault.RESULT_404)

    def _image_bytes(self, reference: ImageReference) -> tuple[bytes, str]:
        if reference.base64_data is not None:
            return reference.base64_data, "imageBase64"
        assert reference.url is not None  # check_given() passed  # noqa: S101
        if self._http is None:
            raise InvalidInputError("imageUrl", "could not be downloaded (emulator stopping)")
        data = download_image(
            self._http,
            reference.url,
            max_bytes=self._download_max_bytes,
            timeout_seconds=self._download_timeout_seconds,
        )
        return data, "imageUrl"

    def _run_engine(
        self,
        image: bytes,
        options: CutoutOptions,
        reference: ImageReference,
        ids: RequestIds,
        *,
        result_404: bool,
    ) -> Reply:
        engine = self._engine
        if engine is None:
            return self._error(801, RES_MESSAGES[801], ids)
        # A real service answers in its own time whatever our concurrency, and throttles past its
        # rate limit (501). The local engine shares the machine's cores, so a call waits for an
        # engine slot at most this long, then gets the documented 501 (not billed), instead of
        # queueing for minutes behind every other caller.
        if not self._engine_slots.acquire(timeout=self._queue_timeout_seconds):
            self._stats.record_fault("throttled")
            return self._error(501, f"{RES_MESSAGES[501]} (the emulator's engines are busy)", ids)
        try:
            try:
                cutout = engine.remove_background(ImageBytes(image), options)
                data = cutout.read()
            finally:
                self._engine_slots.release()
        except Exception:
            logger.exception("the engine failed; answering 801 (requestId %s)", ids.request_id)
            return self._error(801, RES_MESSAGES[801], ids)
        result_id = self._results.put(
            StoredResult(
                data=data,
                content_type=cutout.content_type,
                extension=cutout.extension,
                not_found_first_get=result_404,
            )
        )
        score = cutout.score if cutout.score is not None else 1.0
        key = result_key(result_id, score, cutout.extension)
        self._results.name(result_id, key)
        expires = int(time.time() + self._result_ttl_seconds)
        if result_404:
            self._stats.record_fault(Fault.RESULT_404.value)
        self._stats.record_billed(reference.object_id)
        self._stats.record_response(200)
        logger.info(
            "cut/out 200 requestId=%s object=%s %dx%d%s",
            ids.request_id,
            reference.object_id,
            cutout.width,
            cutout.height,
            " (result404 fault)" if result_404 else "",
        )
        envelope = success_envelope(
            ids,
            image_url=self._signer.url(self.public_url, key, expires),
            score=score,
            width=cutout.width,
            height=cutout.height,
        )
        return Reply(
            status=200,
            body=json.dumps(envelope).encode("utf-8"),
            billed=True,
            billed_object=reference.object_id,
        )

    def _play_fault(self, fault: Fault, ids: RequestIds, object_id: str | None) -> Reply:
        self._stats.record_fault(fault.value)
        res_code = fault.res_code
        if res_code is not None:
            return self._error(res_code, f"{RES_MESSAGES[res_code]} (fault injected by the emulator)", ids)
        self._stats.record_response(fault.value)
        # The work was done and billed; the answer is held (then dropped) or garbled on the way back,
        # as a gateway timeout or a cut connection would lose it. The soak measures what that costs.
        self._stats.record_billed(object_id)
        self._stats.record_undelivered(object_id, fault.value)
        logger.info("cut/out %s fault requestId=%s (billed, answer undelivered)", fault.value, ids.request_id)
        if fault is Fault.TIMEOUT:
            return Reply(status=0, hold=True)
        return Reply(status=200, body=MALFORMED_BODY)

    def record_undelivered(self, object_id: str | None, why: str) -> None:
        """A billed answer the client never got (the handler saw the connection gone)."""
        self._stats.record_undelivered(object_id, why)
        logger.warning("cut/out billed answer undelivered (%s) object=%s", why, object_id)

    def _error(self, res_code: int, message: str, ids: RequestIds, *, http_status: int = 200) -> Reply:
        self._stats.record_response(res_code)
        logger.info("cut/out %d requestId=%s %s", res_code, ids.request_id, message)
        return Reply.json(http_status, error_envelope(ids, res_code=res_code, res_message=message))

    def hold_seconds(self) -> float:
        with self._config_lock:
            return self._timeout_seconds

    # --- results and control ------------------------------------------------------------------

    def answer_result_fetch(self, raw_path: str, host: str = RESULT_HOST, scheme: str = "http") -> Reply:
        """A GET of a result URL, answered like OSS: signature and Expires first, then the key."""
        key = key_of(raw_path)
        query = single_values(parse_qs(urlsplit(raw_path).query, keep_blank_values=True))
        oss_request_id = secrets_token()
        headers = (("Server", "AliyunOSS"), ("x-oss-request-id", oss_request_id))
        problem = self._signer.problem(key, query)
        if problem is not None:
            self._stats.record_result_refused(problem[0])
            return Reply(
                status=403,
                body=error_xml(*problem, host=host, request_id=oss_request_id),
                content_type="application/xml",
                headers=headers,
            )
        match = RESULT_ID.match(key)
        result = self._results.get(match["id"], key) if match else None
        self._stats.record_result_fetch(found=result is not None, scheme=scheme)
        if result is None:
            return Reply(
                status=404,
                body=error_xml("NoSuchKey", "The specified key does not exist.", host, oss_request_id),
                content_type="application/xml",
                headers=headers,
            )
        return Reply(status=200, body=result.data, content_type=result.content_type, headers=headers)

    def answer_config_change(self, body: bytes) -> Reply:
        try:
            self.configure(**_config_change(body))
        except (ValueError, TypeError) as error:
            return Reply.json(400, {"error": str(error)})
        logger.info("configuration changed: %s", self.config())
        return Reply.json(200, self.config())


def _config_change(body: bytes) -> dict[str, Any]:
    """The keyword arguments of ``configure`` from a ``/_emulator/config`` body; raises on bad input."""
    change = json.loads(body or b"{}")
    if not isinstance(change, dict):
        raise TypeError("the body must be a JSON object")
    unknown = set(change) - {"latency_ms", "faults", "timeout_seconds"}
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    faults = change.get("faults")
    if faults is not None and not (isinstance(faults, list) and all(isinstance(f, str) for f in faults)):
        raise TypeError('"faults" must be a list of "KIND:PROBABILITY" strings')
    return {
        "latency_ms": _number_or_none(change, "latency_ms"),
        "faults": FaultPlan.parse(faults) if faults is not None else None,
        "timeout_seconds": _number_or_none(change, "timeout_seconds"),
    }


def _number_or_none(change: dict[str, Any], name: str) -> float | None:
    value = change.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f'"{name}" must be a number')
    return float(value)


class _EmulatorHTTPServer(ThreadingHTTPServer):
    """One thread per connection; daemon threads so a held request never blocks shutdown."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        emulator: AidgeEmulator,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.emulator = emulator
        self.tls_context = tls_context
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """http and https on one port: a connection that opens with a TLS record gets TLS."""
        if self.tls_context is None or not _opens_with_tls(request):
            super().finish_request(request, client_address)
            return
        try:
            request.settimeout(10)
            wrapped = self.tls_context.wrap_socket(request, server_side=True)
            wrapped.settimeout(None)
        except (ssl.SSLError, OSError) as error:  # e.g. a client that does not trust the test CA
            logger.debug("TLS handshake failed: %s", error)
            return
        try:
            super().finish_request(wrapped, client_address)
        finally:
            with contextlib.suppress(OSError):
                wrapped.close()


def _opens_with_tls(connection: socket.socket) -> bool:
    try:
        connection.settimeout(10)
        first = connection.recv(1, socket.MSG_PEEK)
        connection.settimeout(None)
    except OSError:
        return False
    return first[:1] == bytes([TLS_HANDSHAKE])


def secrets_token() -> str:
    return os.urandom(12).hex().upper()


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as the real gateway; routes to the emulator's ``answer_*``."""

    protocol_version = "HTTP/1.1"
    server_version = "AidgeEmulator/1.0"
    timeout = 120  # idle keep-alive connections do not pin a thread forever
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: _EmulatorHTTPServer

    @property
    def emulator(self) -> AidgeEmulator:
        return self.server.emulator

    # -- routing --

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        if parts.path == API_PATH:
            query = single_values(parse_qs(parts.query, keep_blank_values=True))
            reply = self.emulator.answer_api_call(query, body, self.headers.get("Content-Type", ""))
        elif parts.path == "/_emulator/config":
            reply = self.emulator.answer_config_change(body)
        elif parts.path == "/_emulator/reset":
            self.emulator.reset()
            reply = Reply.json(200, {"reset": True})
        else:
            reply = Reply.json(404, {"error": f"no such endpoint: POST {parts.path}"})
        self._send(reply)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/data%2F") or path.startswith("/data/"):
            reply = self.emulator.answer_result_fetch(
                self.path,
                self.headers.get("Host", RESULT_HOST).split(":")[0],
                "https" if isinstance(self.connection, ssl.SSLSocket) else "http",
            )
        elif path == "/_emulator/stats":
            reply = Reply.json(200, self.emulator.stats())
        elif path == "/_emulator/config":
            reply = Reply.json(200, self.emulator.config())
        elif path in {"/", "/_emulator/health"}:
            reply = Reply.json(200, {"service": "aidge-emulator", "api": API_PATH})
        else:
            reply = Reply.json(404, {"error": f"no such endpoint: GET {path}"})
        self._send(reply)

    # -- plumbing --

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked), or ``None`` after answering 413/400."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._send(Reply.json(400, {"error": "bad Content-Length"}), close=True)
            return None
        if length > MAX_BODY_BYTES:
            self._send(Reply.json(413, {"error": "request body too large"}), close=True)
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                self._send(Reply.json(400, {"error": "bad chunked encoding"}), close=True)
                return None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self._send(Reply.json(413, {"error": "request body too large"}), close=True)
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after each chunk

    def _send(self, reply: Reply, *, close: bool = False) -> None:
        if reply.hold:
            self._hold()
            return
        if reply.billed and self._client_gone():
            # The client hung up before the answer was ready (its own deadline, or a crash): billed,
            # and lost. Nothing else may ever explain a second bill for the same object.
            self.close_connection = True
            self.emulator.record_undelivered(reply.billed_object, "client_gone")
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            if reply.billed:
                self.emulator.record_undelivered(reply.billed_object, "write_failed")
            raise

    def _hold(self) -> None:
        """The ``timeout`` fault: say nothing until the hold time passes, the client leaves, or the
        emulator stops; then drop the connection without an answer."""
        self.close_connection = True
        deadline = time.monotonic() + self.emulator.hold_seconds()
        stopping = self.emulator._stopping
        while not stopping.is_set() and time.monotonic() < deadline:
            if self._client_gone():
                return
            stopping.wait(min(0.1, max(0.0, deadline - time.monotonic())))

    def _client_gone(self) -> bool:
        if isinstance(self.connection, ssl.SSLSocket):
            return False  # no cheap peek under TLS (the API is called over plain http locally)
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The default logs the request line, whose query holds the signature: log the path only.
        logger.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s: %s", self.address_string(), format % args)
