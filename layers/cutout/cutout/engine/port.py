"""The background-removal port.

An engine takes an image (a URL it can fetch, or the bytes) and options, and returns a
``Cutout``. Engines whose result lives remotely for a while after a paid call (Aidge) also
implement ``ResumableBackgroundRemover``: ``submit`` is the billed step and returns a small,
JSON-serialisable ``CutoutReceipt``; ``fetch`` turns a receipt into a ``Cutout`` and may be
repeated for free while the result lives. The pipeline stores the receipt before it writes the
output, so a crash in between never pays twice.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, BinaryIO, Protocol, runtime_checkable

TARGET_SIDE_MIN = 100
TARGET_SIDE_MAX = 3000
EXTENSION_BY_CONTENT_TYPE = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


class Background(StrEnum):
    """The background of the result, spelled as the Aidge API spells it."""

    WHITE = "WHITE_BACKGROUND"
    TRANSPARENT = "TRANSPARENT"


@dataclass(frozen=True, slots=True)
class CutoutOptions:
    """What the caller wants back. Target sizes, when given, are 100 to 3000 pixels each."""

    background: Background = Background.TRANSPARENT
    target_width: int | None = None
    target_height: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "background", Background(self.background))
        for name in ("target_width", "target_height"):
            value = getattr(self, name)
            if value is not None and not TARGET_SIDE_MIN <= value <= TARGET_SIDE_MAX:
                raise ValueError(
                    f"{name} must be between {TARGET_SIDE_MIN} and {TARGET_SIDE_MAX} pixels, got {value}"
                )


@dataclass(frozen=True, slots=True)
class ImageUrl:
    """An image the engine fetches itself (for Aidge: a short-lived presigned S3 GET URL)."""

    url: str = field(repr=False)  # presigned URLs carry credentials-like signatures: keep them out of reprs


@dataclass(frozen=True, slots=True)
class ImageBytes:
    """An image passed by value."""

    data: bytes = field(repr=False)


ImageSource = ImageUrl | ImageBytes


@dataclass(frozen=True, slots=True)
class CutoutReceipt:
    """Proof of a paid call: where the result is and what it is. JSON-serialisable via ``to_dict``.

    ``width``/``height`` are what the engine reported (``None``: not reported). ``expires_at`` is
    the result URL's own expiry (Unix seconds, OSS's ``Expires``), when it says.
    """

    engine: str
    result_url: str = field(repr=False)
    width: int | None
    height: int | None
    score: float | None
    usage: int
    request_id: str | None
    background: Background
    expires_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CutoutReceipt:
        return cls(**{**data, "background": Background(data["background"])})


@dataclass(frozen=True, slots=True)
class Cutout:
    """The result: the image (a seekable stream at position 0, with its real content type) and facts."""

    body: BinaryIO = field(repr=False)
    size: int
    content_type: str
    width: int
    height: int
    score: float | None
    usage: int
    request_id: str | None
    engine: str
    # What the engine reported when the image is not that size (stored, and flagged in metadata).
    reported_size: tuple[int, int] | None = None

    @classmethod
    def from_bytes(cls, data: bytes, **facts: Any) -> Cutout:
        return cls(body=io.BytesIO(data), size=len(data), **facts)

    @property
    def extension(self) -> str:
        """The file extension of the real format: ``.png`` for PNG, ``.jpg`` for JPEG, ``.webp``."""
        return EXTENSION_BY_CONTENT_TYPE.get(self.content_type, ".bin")

    def read(self) -> bytes:
        """All the bytes (rewinds first). Prefer ``body`` for streaming large results."""
        self.body.seek(0)
        data = self.body.read()
        self.body.seek(0)
        return data


@runtime_checkable
class BackgroundRemover(Protocol):
    """Anything that removes a background."""

    @property
    def engine_name(self) -> str: ...

    def remove_background(self, source: ImageSource, options: CutoutOptions) -> Cutout: ...


@runtime_checkable
class ResumableBackgroundRemover(BackgroundRemover, Protocol):
    """An engine whose paid step and download are separate (see the module docstring)."""

    def submit(
        self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
    ) -> CutoutReceipt:
        """The billed call. ``deadline`` is an absolute ``time.monotonic()`` value for all retries."""
        ...

    def fetch(self, receipt: CutoutReceipt, *, deadline: float | None = None) -> Cutout:
        """Download the result of a paid call; free, and repeatable while the result lives."""
        ...
