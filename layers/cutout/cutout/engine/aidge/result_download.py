"""Fetching ``data.imageUrl`` safely: checked URL, capped size and time, verified image.

One attempt of a download (the client retries ``result_unavailable`` around it):

1. the ``ResultUrlPolicy`` decides the schemes: an ``https`` URL is fetched over https; an
   ``http`` one (the API reference's own sample) over https first, on the same host, path and
   query, then (``upgrade-then-http`` only) over plain http if https failed for a TLS or
   connection reason; never on an HTTP answer;
2. each URL is checked by ``UrlGuard`` (every resolved address public, or allowlisted) and pinned;
   redirects are followed by hand, at most ``max_redirects``, each hop re-checked, never to
   another host, and never from https down to http;
3. the body is streamed into a ``SpooledTemporaryFile`` (memory up to ``spool_bytes``, then a
   temporary file), refused early on ``Content-Length`` and cut off while counting;
4. Pillow reads the header only: PNG, JPEG or WebP, and an alpha channel when the background is
   transparent. A size other than the reported one (when one was reported) is not an error: the
   paid result is kept and the mismatch returned, for the output's metadata.

Error messages name the host at most, never the signed URL.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, BinaryIO, cast

import httpx
from PIL import Image, UnidentifiedImageError

from cutout.engine.aidge.config import AidgeTimeouts
from cutout.engine.aidge.errors import (
    ResultExpiredError,
    ResultGoneError,
    ResultMissingAlphaError,
    ResultNotAnImageError,
    ResultTooLargeError,
    ResultUnavailableError,
    ResultUrlRefusedError,
)
from cutout.engine.aidge.url_safety import ResultUrlPolicy, UrlGuard

CONTENT_TYPE_BY_FORMAT = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


@dataclass(frozen=True, slots=True)
class DownloadedImage:
    """A verified result: a seekable stream at position 0 and what it is."""

    body: BinaryIO = field(repr=False)
    size: int
    content_type: str
    width: int
    height: int
    reported_size: tuple[int, int] | None = None  # set only when the image is not that size


def image_facts(stream: IO[bytes]) -> tuple[str, int, int, bool]:
    """(content type, width, height, has alpha) from the image header; rewinds ``stream``.

    Raises ``ResultNotAnImageError`` for anything but PNG, JPEG or WebP.
    """
    stream.seek(0)
    try:
        with Image.open(stream, formats=tuple(CONTENT_TYPE_BY_FORMAT)) as image:
            image_format = image.format or ""
            width, height = image.size
            has_alpha = image.mode in ALPHA_MODES or "transparency" in image.info
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise ResultNotAnImageError("The result is not a readable PNG, JPEG or WebP image.") from None
    finally:
        stream.seek(0)
    content_type = CONTENT_TYPE_BY_FORMAT.get(image_format)
    if content_type is None:
        raise ResultNotAnImageError(
            f"The result is a {image_format or 'unknown'} image, not PNG, JPEG or WebP."
        )
    return content_type, width, height, has_alpha


def verify_image(stream: IO[bytes], *, require_alpha: bool) -> tuple[str, int, int]:
    """(content type, width, height) of a usable result, else the matching error."""
    content_type, width, height, has_alpha = image_facts(stream)
    if require_alpha and not has_alpha:
        raise ResultMissingAlphaError(
            f"A transparent background was asked for, but the result ({content_type}) has no alpha channel."
        )
    return content_type, width, height


class ResultDownloader:
    """Downloads and verifies result images over a shared ``httpx.Client`` (see the module docs)."""

    def __init__(
        self,
        http: httpx.Client,
        guard: UrlGuard,
        *,
        timeouts: AidgeTimeouts,
        max_bytes: int,
        spool_bytes: int,
        max_redirects: int,
        clock: Callable[[], float],
        policy: ResultUrlPolicy = ResultUrlPolicy.UPGRADE_THEN_HTTP,
    ) -> None:
        self._policy = policy
        self._http = http
        self._guard = guard
        self._timeouts = timeouts
        self._max_bytes = max_bytes
        self._spool_bytes = spool_bytes
        self._max_redirects = max_redirects
        self._clock = clock

    def download(
        self,
        url: str,
        *,
        expected_width: int | None,
        expected_height: int | None,
        require_alpha: bool,
        deadline: float,
    ) -> DownloadedImage:
        """One attempt, finished by ``deadline`` (a ``clock()`` value) or ``ResultUnavailableError``."""
        try:
            current = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise ResultUrlRefusedError("The result URL was refused: it is not a valid URL.") from None
        first_host = current.host.lower()
        plain_http_allowed = True  # until a hop has been made over https
        for _hop in range(self._max_redirects + 1):
            candidates = self._candidates(current, plain_http_allowed)
            for index, candidate in enumerate(candidates):
                fallback_left = index + 1 < len(candidates)
                try:
                    outcome = self._get(candidate, deadline, first_host)
                except _ConnectionFailed as failed:
                    if fallback_left:
                        continue  # https refused (TLS or connection): the policy allows plain http
                    raise failed.error from None
                if isinstance(outcome, httpx.URL):
                    plain_http_allowed = candidate.scheme == "http"
                    current = outcome
                    break
                return self._verified(outcome, expected_width, expected_height, require_alpha)
        raise ResultUrlRefusedError(f"The result URL was refused: more than {self._max_redirects} redirects.")

    def _candidates(self, url: httpx.URL, plain_http_allowed: bool) -> list[httpx.URL]:
        """The URLs to try for one hop, in order (the policy; see the module docs)."""
        if url.scheme != "http":
            return [url]  # https, or a scheme the guard refuses with its reason
        if not plain_http_allowed:
            raise ResultUrlRefusedError(
                "The result URL was refused: an https result redirects to plain http."
            )
        if self._policy is ResultUrlPolicy.HTTPS_ONLY:
            raise ResultUrlRefusedError(
                "The result URL was refused: it is plain http and RESULT_URL_POLICY is https-only."
            )
        # The same URL over https: the explicit port (if any) is kept, a default one becomes 443.
        upgraded = url.copy_with(scheme="https", port=url.port)
        if self._policy is ResultUrlPolicy.UPGRADE:
            return [upgraded]
        return [upgraded, url]

    def _get(self, url: httpx.URL, deadline: float, first_host: str) -> httpx.URL | IO[bytes]:
        """One GET: the next hop's URL (a redirect) or the spooled body."""
        pinned = self._guard.check(url)
        try:
            with self._http.stream(
                "GET",
                pinned.url,
                headers={**pinned.headers, "Accept": "image/png, image/webp, image/jpeg"},
                extensions=pinned.extensions,
                timeout=self._timeouts.bounded(deadline - self._clock()),
                follow_redirects=False,
            ) as response:
                if response.status_code in REDIRECT_STATUSES:
                    return self._next_hop(url, response, first_host)
                self._raise_for_status(response, first_host)
                return self._spool(response, deadline, first_host)
        except httpx.ConnectTimeout:
            raise _ConnectionFailed(
                ResultUnavailableError(
                    f"Connecting to the result host {first_host!r} ({url.scheme}) timed out."
                )
            ) from None
        except httpx.ConnectError as exc:  # TLS handshake failures are ConnectErrors in httpx
            raise _ConnectionFailed(
                ResultUnavailableError(
                    f"Connecting to the result host {first_host!r} over {url.scheme} failed "
                    f"({type(exc).__name__})."
                )
            ) from None
        except httpx.TimeoutException:
            raise ResultUnavailableError(f"Downloading the result from {first_host!r} timed out.") from None
        except httpx.RequestError as exc:  # transport failures, undecodable content encodings
            raise ResultUnavailableError(
                f"Downloading the result from {first_host!r} failed ({type(exc).__name__})."
            ) from None

    @staticmethod
    def _next_hop(current: httpx.URL, response: httpx.Response, first_host: str) -> httpx.URL:
        """The redirect's target: same host only (the scheme is checked by the policy next hop)."""
        location = response.headers.get("location")
        if not location:
            raise ResultUnavailableError(f"The result host {first_host!r} redirected without a Location.")
        try:
            target = current.join(location)
        except httpx.InvalidURL:
            raise ResultUrlRefusedError(
                "The result URL was refused: it redirects to an invalid URL."
            ) from None
        if target.host.lower() != first_host:
            raise ResultUrlRefusedError(
                f"The result URL was refused: {first_host!r} redirects to another host ({target.host!r})."
            )
        return target

    @staticmethod
    def _raise_for_status(response: httpx.Response, host: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 403:
            # OSS answers 403 AccessDenied "Request has expired" past Expires, else e.g.
            # SignatureDoesNotMatch: no retry can help either way.
            body = response.read()[:4096].decode("utf-8", errors="replace").lower()
            if "expired" in body:
                raise ResultExpiredError(f"The result host {host!r} says the signed result URL has expired.")
            raise ResultGoneError(f"The result host {host!r} refuses the result (HTTP 403).")
        if status == 410:
            raise ResultGoneError(f"The result host {host!r} says the result is gone (HTTP 410).")
        raise ResultUnavailableError(f"The result host {host!r} answered HTTP {status}.", status=status)

    def _spool(self, response: httpx.Response, deadline: float, host: str) -> IO[bytes]:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise ResultTooLargeError(
                f"The result is {int(declared)} bytes, over the {self._max_bytes}-byte cap."
            )
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=self._spool_bytes, mode="w+b")  # noqa: SIM115
        try:
            received = 0
            for chunk in response.iter_bytes():  # as they arrive: no buffering past the caps
                received += len(chunk)
                self._check_progress(received, deadline, host)
                spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    def _check_progress(self, received: int, deadline: float, host: str) -> None:
        if received > self._max_bytes:
            raise ResultTooLargeError(f"The result is over the {self._max_bytes}-byte cap.")
        if self._clock() > deadline:
            raise ResultUnavailableError(f"Downloading the result from {host!r} took too long.")

    @staticmethod
    def _verified(
        spool: IO[bytes], expected_width: int | None, expected_height: int | None, require_alpha: bool
    ) -> DownloadedImage:
        try:
            content_type, width, height = verify_image(spool, require_alpha=require_alpha)
            size = spool.seek(0, 2)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        reported = (
            (expected_width, expected_height)
            if expected_width is not None and expected_height is not None
            else None
        )
        mismatch = reported if reported is not None and reported != (width, height) else None
        return DownloadedImage(
            body=cast(BinaryIO, spool),
            size=size,
            content_type=content_type,
            width=width,
            height=height,
            reported_size=mismatch,
        )


class _ConnectionFailed(Exception):  # noqa: N818  (internal signal, never leaves this module)
    """No connection (or no TLS session) to the result host: the policy may fall back to http."""

    def __init__(self, error: ResultUnavailableError) -> None:
        super().__init__(error.message)
        self.error = error
