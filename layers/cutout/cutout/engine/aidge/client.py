"""``AidgeClient``: the Aidge Image Background Removal API behind the engine port.

One ``httpx.Client`` per ``AidgeClient`` (connection reuse across a warm Lambda's invocations),
explicit timeouts, and seams for everything a test must control: ``transport`` (an
``httpx.MockTransport``), ``sleep``, ``clock``, ``random`` and the DNS ``resolver``.

``submit`` is the billed call and returns a ``CutoutReceipt``; ``fetch`` downloads the result
and may be repeated for free while the result URL lives. Both retry what the policies in
``retry.py`` call retryable, and both stop at a deadline: the earlier of the caller's (an
absolute ``clock()`` value, e.g. from the Lambda's remaining time) and the config's. When the
next wait would pass the deadline the last error is raised as it is.

A paid attempt starts only when the time left covers the answer budget (``answer_times``: the
API's observed high-percentile answer time in this process, with a floor), and its read is given
all the time left: once sent, our own deadline never cuts the answer short below that budget.
"""

from __future__ import annotations

import base64
import json
import random as _random
import socket
import ssl
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from cutout.engine.aidge import log_redaction
from cutout.engine.aidge.answer_times import ANSWER_TIMES, AnswerTimes
from cutout.engine.aidge.config import AidgeConfig
from cutout.engine.aidge.envelope import cut_out_data, parse_envelope
from cutout.engine.aidge.errors import (
    EngineTimeoutError,
    ResultExpiredError,
    ResultGoneError,
    ResultUnavailableError,
    error_from,
    redacted,
)
from cutout.engine.aidge.result_download import ResultDownloader
from cutout.engine.aidge.result_url import expires_at
from cutout.engine.aidge.retry import RetryPolicy, next_delay
from cutout.engine.aidge.signing import signed_query
from cutout.engine.aidge.url_safety import Resolver, UrlGuard
from cutout.engine.errors import EngineError
from cutout.engine.port import (
    Background,
    Cutout,
    CutoutOptions,
    CutoutReceipt,
    ImageBytes,
    ImageSource,
    ImageUrl,
)

if TYPE_CHECKING:
    from cutout.engine.port import ResumableBackgroundRemover

ENGINE_NAME = "aidge"
# Aidge answers are a few hundred bytes; a body past this cap is cut and reads as malformed.
MAX_ENVELOPE_BYTES = 1024 * 1024
USER_AGENT = "cutout-aidge-client"

T = TypeVar("T")

log_redaction.install()  # httpx logs request URLs, whose query holds the signature


def request_body(source: ImageSource, options: CutoutOptions) -> dict[str, Any]:
    """The JSON body of ``/ai/image/cut/out`` for this source and these options, as a dict."""
    body: dict[str, Any] = json.loads(encoded_request_body(source, options))
    return body


def encoded_request_body(source: ImageSource, options: CutoutOptions) -> bytes:
    """The request body as the bytes sent, encoded once (and reused by every retry).

    For an image passed by value the base64 text is spliced in as bytes: the image's bytes, its
    base64 and the body are the only copies alive (about 3.7x the image at the peak, against 6x
    for a dict serialised by ``json=``: the base64 as bytes and as str, the JSON as str and bytes).
    """
    fields: dict[str, Any] = {"backGroundType": options.background.value}
    if isinstance(source, ImageUrl):
        fields["imageUrl"] = source.url
    elif not isinstance(source, ImageBytes):  # pragma: no cover - the type union is closed
        raise TypeError(f"unsupported image source: {type(source).__name__}")
    if options.target_width is not None:
        fields["targetWidth"] = options.target_width
    if options.target_height is not None:
        fields["targetHeight"] = options.target_height
    head = json.dumps(fields, separators=(",", ":")).encode("ascii")
    if not isinstance(source, ImageBytes):
        return head
    return b"".join((head[:-1], b',"imageBase64":"', base64.b64encode(source.data), b'"}'))


# The retry jitter's generator. SnapStart: every environment restored from one snapshot would repeat
# a seeded generator's draws (the module-level ``random`` is seeded before the snapshot is taken);
# the OS's generator (os.urandom) holds no state in memory, so it needs no reseeding after a restore.
_SYSTEM_RANDOM = _random.SystemRandom()


class AidgeClient:
    """The Aidge adapter; implements ``ResumableBackgroundRemover``. Close it, or use ``with``."""

    def __init__(
        self,
        config: AidgeConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _SYSTEM_RANDOM.random,
        resolver: Resolver = socket.getaddrinfo,
        verify: ssl.SSLContext | None = None,
        wall_clock: Callable[[], float] = time.time,
        answer_times: AnswerTimes | None = None,
    ) -> None:
        self._config = config
        self._sleep = sleep
        self._clock = clock
        self._random = random
        self._wall_clock = wall_clock
        self._answer_times = ANSWER_TIMES if answer_times is None else answer_times
        # trust_env=False: no proxy variables or .netrc credentials leak into these requests.
        # ``verify``: the default CA bundle; the local stack adds its emulator's test CA.
        self._http = httpx.Client(
            transport=transport,
            timeout=config.timeouts.bounded(config.call_deadline_seconds),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
            verify=True if verify is None else verify,
        )
        self._downloader = ResultDownloader(
            self._http,
            UrlGuard(config.allowed_networks, resolver),
            timeouts=config.timeouts,
            max_bytes=config.result_max_bytes,
            spool_bytes=config.result_spool_bytes,
            max_redirects=config.result_max_redirects,
            clock=clock,
            policy=config.result_url_policy,
        )

    @property
    def engine_name(self) -> str:
        return ENGINE_NAME

    def __repr__(self) -> str:
        return f"AidgeClient(host={self._config.host!r}, trial={self._config.trial})"

    # --- the port ---------------------------------------------------------------------------

    def submit(
        self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
    ) -> CutoutReceipt:
        """The billed call: a receipt saying where the result is (store it before anything else).

        ``deadline`` is an absolute ``clock()`` value; the earlier of it and
        ``config.call_deadline_seconds`` from now bounds all attempts. No attempt starts with less
        time left than the answer budget (``answer_budget_seconds``). Raises an ``EngineError``
        (see ``errors.py``): the last one when retries run out or the next wait would pass the
        deadline; ``paid_call_deferred`` when not even the first attempt could start.
        """
        body = encoded_request_body(source, options)
        end = self._deadline(deadline)
        # Once sent, an answer may be read until the caller's deadline (the invocation's), not only
        # until the call's own: an answer cut short may have been billed and would be paid again.
        read_until = end if deadline is None else max(end, deadline)

        def attempt(attempt_deadline: float) -> CutoutReceipt:
            return self._call_once(body, options.background, read_until)

        return self._with_retries(attempt, self._config.call_retry, end, self.answer_budget_seconds)

    def answer_budget_seconds(self) -> float:
        """The time a paid attempt must have left to start: the observed answer bound, or the floor."""
        return self._answer_times.budget(self._config.min_call_seconds, self._config.call_deadline_seconds)

    def fetch(self, receipt: CutoutReceipt, *, deadline: float | None = None) -> Cutout:
        """Download and verify the result of ``submit``; free, so it may be repeated.

        Retries ``result_unavailable`` a few times within the deadline; every other error is
        permanent. The ``Cutout.body`` is a spooled temporary file: close it when done.
        """
        if receipt.engine != ENGINE_NAME:
            raise ValueError(f"a receipt of engine {receipt.engine!r} cannot be fetched by {ENGINE_NAME!r}")
        end = self._deadline(deadline)
        if receipt.expires_at is not None and self._wall_clock() >= receipt.expires_at:
            raise ResultExpiredError(
                "The signed result URL expired before it could be fetched (its Expires has passed); "
                "the call was paid: `cutout dlq replay --repay` pays again, on purpose."
            )

        def attempt(attempt_deadline: float) -> Cutout:
            image = self._downloader.download(
                receipt.result_url,
                expected_width=receipt.width,
                expected_height=receipt.height,
                require_alpha=receipt.background is Background.TRANSPARENT,
                deadline=min(attempt_deadline, self._clock() + self._config.result_max_seconds),
            )
            return Cutout(
                body=image.body,
                size=image.size,
                content_type=image.content_type,
                width=image.width,
                height=image.height,
                score=receipt.score,
                usage=receipt.usage,
                request_id=receipt.request_id,
                engine=ENGINE_NAME,
                reported_size=image.reported_size,
            )

        try:
            return self._with_retries(attempt, self._config.fetch_retry, end, lambda: 0.0)
        except ResultUnavailableError as error:
            if error.status in (404, 410):  # still not there after the retries: the object is gone
                raise ResultGoneError(
                    f"{error.message} The result is gone (still {error.status} after retries); the call "
                    "was paid: `cutout dlq replay --repay` pays again, on purpose."
                ) from None
            raise

    def remove_background(
        self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
    ) -> Cutout:
        """``fetch(submit(...))`` under one deadline.

        Convenient, but a failed fetch loses the receipt of a paid call: pipelines that must
        never pay twice call ``submit``, store the receipt, then ``fetch``.
        """
        return self.fetch(self.submit(source, options, deadline=deadline), deadline=deadline)

    # --- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AidgeClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------------

    def _deadline(self, caller_deadline: float | None) -> float:
        own = self._clock() + self._config.call_deadline_seconds
        return own if caller_deadline is None else min(own, caller_deadline)

    def _with_retries(
        self,
        attempt: Callable[[float], T],
        policy: RetryPolicy,
        deadline: float,
        min_attempt_seconds: Callable[[], float],
    ) -> T:
        attempt_number = 0
        while True:
            attempt_number += 1
            remaining = deadline - self._clock()
            needed = min_attempt_seconds()
            if remaining <= 0 or remaining < needed:
                raise EngineTimeoutError(
                    f"Only {max(remaining, 0.0):.1f} s were left before the deadline and an attempt needs "
                    f"{needed:.1f} s; it was not started (nothing was sent).",
                    code="paid_call_deferred" if needed > 0 and attempt_number == 1 else None,
                )
            try:
                return attempt(deadline)
            except EngineError as error:
                delay = next_delay(policy, error, attempt_number, self._random())
                if delay is None or self._clock() + delay + min_attempt_seconds() >= deadline:
                    raise
                self._sleep(delay)

    def _call_once(self, body: bytes, background: Background, deadline: float) -> CutoutReceipt:
        query = signed_query(self._config.app_key, self._config.app_secret)  # fresh timestamp
        secrets = (self._config.app_secret, query["sign"])
        # Aidge's public examples always send the trial header, "true" or "false": so do we.
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "x-iop-trial": "true" if self._config.trial else "false",
        }
        # The answer's read budget is reserved before sending: the start check made sure the time
        # left covers the budget, and the read waits the longer of the budget and the configured
        # read timeout, within the caller's (invocation's) deadline: our own call deadline never
        # cuts an answer short below the budget the start check reserved.
        timeouts = self._config.timeouts
        left = max(deadline - self._clock(), 0.001)
        read_seconds = min(left, max(timeouts.read, self.answer_budget_seconds()))
        timeout = httpx.Timeout(
            connect=min(timeouts.connect, left),
            write=min(timeouts.write, left),
            pool=min(timeouts.pool, left),
            read=read_seconds,
        )
        sent_at = self._clock()
        try:
            with self._http.stream(
                "POST",
                self._config.endpoint,
                params=query,
                content=body,
                headers=headers,
                timeout=timeout,
            ) as streamed:
                content = bytearray()
                for chunk in streamed.iter_bytes():
                    content += chunk
                    if len(content) > MAX_ENVELOPE_BYTES:
                        break  # the cut body is not JSON: the factory reports it as malformed
                response = httpx.Response(streamed.status_code, content=bytes(content))
        except httpx.RequestError as exc:
            if isinstance(exc, httpx.ReadTimeout | httpx.ReadError | httpx.RemoteProtocolError):
                self._answer_times.observe(self._clock() - sent_at)  # the answer takes at least this
            # ``from None``: the httpx exception holds the request, whose URL carries the signature.
            raise redacted(error_from(exc), secrets) from None
        self._answer_times.observe(self._clock() - sent_at)
        error = error_from(response)
        if error is not None:
            raise redacted(error, secrets)
        envelope = parse_envelope(response.content)
        data = cut_out_data(envelope) if envelope is not None else None
        assert data is not None  # noqa: S101 - error_from returned None, so the data is there
        return CutoutReceipt(
            engine=ENGINE_NAME,
            result_url=data.image_url,
            width=data.width,
            height=data.height,
            score=data.score,
            usage=data.usage,
            request_id=data.request_id,
            background=background,
            expires_at=expires_at(data.image_url),
        )


if TYPE_CHECKING:

    def _conforms_to_the_port(client: AidgeClient) -> ResumableBackgroundRemover:
        return client
