"""Getting the input image's bytes (download of ``imageUrl``) and checking them like the service.

The download is bounded in size and time: the emulator fetches whatever URL a caller sends
(presigned URLs of a local S3 on loopback, in tests and the local stack), and a stuck or huge
download must not pin a server thread.
"""

from __future__ import annotations

import io
import time
import warnings

import httpx
from PIL import Image, UnidentifiedImageError

from cutout.engine.port import TARGET_SIDE_MAX, TARGET_SIDE_MIN
from cutout_tools.emulator.inputs import InvalidInputError

DOWNLOAD_MAX_BYTES_DEFAULT = 32 * 1024 * 1024
DOWNLOAD_TIMEOUT_SECONDS_DEFAULT = 20.0
IMAGE_SIDE_MIN = TARGET_SIDE_MIN
IMAGE_SIDE_MAX = TARGET_SIDE_MAX


def download_image(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int = DOWNLOAD_MAX_BYTES_DEFAULT,
    timeout_seconds: float = DOWNLOAD_TIMEOUT_SECONDS_DEFAULT,
) -> bytes:
    """The body of ``GET url``; any failure is a 700 on ``imageUrl``, as the service reports it."""
    scheme = url.split(":", 1)[0].lower()
    if scheme not in {"http", "https"}:
        raise InvalidInputError("imageUrl", "must be an http or https URL")
    deadline = time.monotonic() + timeout_seconds
    try:
        # A strict fetcher: redirects are not followed (a SigV4-signed URL cannot follow one to
        # another host anyway), so a presigned URL on the wrong S3 endpoint shows in tests.
        with client.stream("GET", url, timeout=timeout_seconds, follow_redirects=False) as response:
            if response.is_redirect:
                raise InvalidInputError(
                    "imageUrl",
                    f"could not be downloaded (HTTP {response.status_code} redirect; "
                    "redirects are not followed)",
                )
            if response.status_code != 200:
                raise InvalidInputError("imageUrl", f"could not be downloaded (HTTP {response.status_code})")
            chunks: list[bytes] = []
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise InvalidInputError("imageUrl", f"is larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise InvalidInputError("imageUrl", f"took more than {timeout_seconds:g} s to download")
                chunks.append(chunk)
    except httpx.HTTPError as error:
        raise InvalidInputError("imageUrl", f"could not be downloaded ({type(error).__name__})") from None
    return b"".join(chunks)


def image_size(data: bytes, field: str) -> tuple[int, int]:
    """Width and height of a decodable image within 100..3000 pixels per side, else a 700 on ``field``."""
    too_large = f"image is larger than {IMAGE_SIDE_MAX}x{IMAGE_SIDE_MAX} pixels"
    try:
        with warnings.catch_warnings():
            # Pillow warns (then errors) on huge images before we can read their size: both are ours.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if not (
                    IMAGE_SIDE_MIN <= width <= IMAGE_SIDE_MAX and IMAGE_SIDE_MIN <= height <= IMAGE_SIDE_MAX
                ):
                    raise InvalidInputError(
                        field,
                        f"image is {width}x{height} pixels; each side must be between "
                        f"{IMAGE_SIDE_MIN} and {IMAGE_SIDE_MAX}",
                    )
                image.load()  # a truncated or corrupt file fails here, not in the engine
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise InvalidInputError(field, too_large) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidInputError(field, "is not a decodable image") from None
    return width, height
