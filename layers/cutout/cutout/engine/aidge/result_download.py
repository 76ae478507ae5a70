"""Fetching ``data.imageUrl`` safely: checked URL, capped size and time, verified image.

One attempt of a download (the client retries ``result_unavailable`` around it):

1. the URL is checked by ``UrlGuard`` (scheme, allowlist, every resolved address) and pinned;
2. redirects are followed by hand, at most ``max_redirects``, each hop re-checked and never to
   another host;
3. the body is streamed into a ``SpooledTemporaryFile`` (memory up to ``spool_bytes``, then a
   temporary file), refused early on ``Content-Length`` and cut off while counting;
4. Pillow reads the header only: PNG, JPEG or WebP, exactly the reported size, and an alpha
   channel when the background is transparent.

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
    ResultMissingAlphaError,
    ResultNotAnImageError,
    ResultSizeMismatchError,
    ResultTooLargeError,
    ResultUnavailableError,
    ResultUrlRefusedError,
)
from cutout.engine.aidge.url_safety import UrlGuard

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


def verify_image(
    stream: IO[bytes], *, expected_width: int, expected_height: int, require_alpha: bool
) -> tuple[str, int, int]:
    """(content type, width, height) if the image is what Aidge reported, else the matching error."""
    content_type, width, height, has_alpha = image_facts(stream)
    if (width, height) != (expected_width, expected_height):
        raise ResultSizeMismatchError(
            f"The result is {width}x{height} pixels; Aidge reported {expected_width}x{expected_height}."
        )
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
    ) -> None:
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
        expected_width: int,
        expected_height: int,
        require_alpha: bool,
        deadline: float,
    ) -> DownloadedImage:
        """One attempt, finished by ``deadline`` (a ``clock()`` value) or ``ResultUnavailableError``."""
        try:
            current = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise ResultUrlRefusedError("The result URL was refused: it is not a valid URL.") from None
        first_host = current.host.lower()
        for _hop in range(self._max_redirects + 1):
            pinned = self._guard.check(current)
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
                        current = self._next_hop(current, response, first_host)
                        continue
                    self._raise_for_status(response.status_code, first_host)
                    spool = self._spool(response, deadline, first_host)
            except httpx.TimeoutException:
                raise ResultUnavailableError(
                    f"Downloading the result from {first_host!r} timed out."
                ) from None
            except httpx.RequestError as exc:  # transport failures, undecodable content encodings
                raise ResultUnavailableError(
                    f"Downloading the result from {first_host!r} failed ({type(exc).__name__})."
                ) from None
            return self._verified(spool, expected_width, expected_height, require_alpha)
        raise ResultUrlRefusedError(f"The result URL was refused: more than {self._max_redirects} redirects.")

    @staticmethod
    def _next_hop(current: httpx.URL, response: httpx.Response, first_host: str) -> httpx.URL:
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
    def _raise_for_status(status: int, host: str) -> None:
        if 200 <= status < 300:
            return
        raise ResultUnavailableError(f"The result host {host!r} answered HTTP {status}.")

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
        spool: IO[bytes], expected_width: int, expected_height: int, require_alpha: bool
    ) -> DownloadedImage:
        try:
            content_type, width, height = verify_image(
                spool,
                expected_width=expected_width,
                expected_height=expected_height,
                require_alpha=require_alpha,
            )
            size = spool.seek(0, 2)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return DownloadedImage(
            body=cast(BinaryIO, spool), size=size, content_type=content_type, width=width, height=height
        )
