"""Naming and describing the output object.

The output keeps the input's key whole and appends the extension of the result's real format
(``shoes/red.jpg`` → ``shoes/red.jpg.png`` for a transparent cut-out), like every deliverable
(``cutout.variants.keys``): ``red.jpg`` and ``red.png`` in one folder get two outputs, never one.
Until 0.3.0 the extension was replaced (``shoes/red.png``), so those two uploads shared one output;
``legacy_output_key_for`` names that layout, only for tools that read outputs made before the
change (``cutout backfill --inventory``); the pipeline does not look there any more.

Its user metadata travels in the same PUT. S3 sends user metadata as HTTP headers, so every
value must be printable ASCII: the source key (the only value that can hold any Unicode or
control character) is always percent-encoded (RFC 3986, ``/`` kept), and the total stays under
S3's 2 KiB limit.
"""

from __future__ import annotations

import posixpath
from datetime import UTC, datetime
from urllib.parse import quote

from cutout import __version__
from cutout.engine.port import Cutout, CutoutOptions
from cutout.events import UploadedObject
from cutout.failures import FailureReason
from cutout.storage.objects import ObjectHead

METADATA_LIMIT_BYTES = 2048
MAX_KEY_BYTES = 1024
_SOURCE_KEY_ROOM = 900  # leaves room for the other fields within S3's 2 KiB


class OutputKeyTooLong(FailureReason):
    """The output key would exceed S3's 1024-byte key limit (a 1020-byte key without extension)."""

    code = "output_key_too_long"


def output_key_for(source_key: str, extension: str) -> str:
    """The output key: the source key whole, then ``extension`` (``red.jpg`` → ``red.jpg.png``)."""
    return _checked(source_key + extension)


def legacy_output_key_for(source_key: str, extension: str) -> str:
    """The output key before 0.3.0: the source key with its extension replaced (``red.png``).

    Read only, by tools that recognise outputs made before the change; nothing is written at these
    keys any more, and the pipeline no longer looks there (0.3.0).
    """
    # rpartition, not posixpath.split: that strips repeated slashes ("a//b.jpg" -> "a/b.png").
    directory, slash, name = source_key.rpartition("/")
    stem, _ = posixpath.splitext(name)
    # A dot-file such as ".jpg" has no stem: keep its name rather than producing ".png".
    return _checked(directory + slash + (stem or name) + extension)


def _checked(key: str) -> str:
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise OutputKeyTooLong(f"the output key would be longer than {MAX_KEY_BYTES} bytes")
    return key


_PRINTABLE_ASCII = "".join(chr(code) for code in range(0x20, 0x7F))


def _header_safe(value: str) -> str:
    """Percent-encode only what is not printable ASCII (controls, non-ASCII)."""
    return quote(value, safe=_PRINTABLE_ASCII)


def _encoded_prefix(key: str, room: int) -> str:
    """The longest percent-encoded prefix of ``key`` within ``room`` characters, cut between
    characters: never inside a ``%XX`` escape or a multi-byte UTF-8 sequence (it must decode)."""
    pieces: list[str] = []
    used = 0
    for character in key:
        piece = quote(character, safe="/")
        if used + len(piece) > room:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces)


def output_metadata(
    upload: UploadedObject,
    source: ObjectHead,
    cutout: Cutout,
    options: CutoutOptions,
    processed_at: datetime | None = None,
) -> dict[str, str]:
    """The output's user metadata (``x-amz-meta-*``): where it came from and what made it."""
    encoded_key = quote(upload.key, safe="/")
    metadata = {
        "source-bucket": upload.bucket,
        "source-key": _encoded_prefix(upload.key, _SOURCE_KEY_ROOM),
        "source-key-encoding": "rfc3986",
        "source-etag": source.etag or upload.etag or "",
        "engine": cutout.engine,
        "background": options.background.value,
        "score": "" if cutout.score is None else f"{cutout.score:.4f}",
        "width": str(cutout.width),
        "height": str(cutout.height),
        "request-id": cutout.request_id or "",
        "usage": str(cutout.usage),
        "processed-at": (processed_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "pipeline-version": __version__,  # the code that made it (the layer's release)
    }
    if cutout.reported_size is not None:  # stored and flagged: the engine reported another size
        metadata["result-size-mismatch"] = f"reported {cutout.reported_size[0]}x{cutout.reported_size[1]}"
    version_id = upload.version_id or source.version_id
    if version_id and version_id != "null":
        metadata["source-version-id"] = version_id
    if len(encoded_key) > _SOURCE_KEY_ROOM:
        metadata["source-key-truncated"] = "true"
    return {name: _header_safe(value) for name, value in metadata.items() if value != ""}
