"""Where deliverables live in the output bucket: deterministic keys that keep the source's name.

``<variant>/<source key>.<ext>`` — the source key whole, extension included, then the variant's
own extension: ``shoes/red.jpg`` → ``amazon-main/shoes/red.jpg.jpg`` and ``site/shoes/red.jpg.png``.
Appending (never replacing) makes the mapping one-to-one: ``red.jpg``, ``red.png``, ``red.webp``
and ``red`` in one folder get four different outputs, so no upload can overwrite another's, with
no lookup and no race. The master (the transparent result of the one paid call, kept so variants
can be made again without paying) is ``masters/<source key>.png``; a variant can never be named
``masters`` (variant names are checked against it), so the two never meet.
"""

from __future__ import annotations

from cutout.profiles.spec import RESERVED_NAMES
from cutout.storage.output import MAX_KEY_BYTES, OutputKeyTooLong

MASTERS_PREFIX = "masters/"


def _checked(key: str) -> str:
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise OutputKeyTooLong(
            f"The output key would be longer than {MAX_KEY_BYTES} bytes; shorten the upload's key."
        )
    return key


def master_key(source_key: str) -> str:
    return _checked(f"{MASTERS_PREFIX}{source_key}.png")


def variant_key(source_key: str, variant: str, extension: str) -> str:
    if variant in RESERVED_NAMES:
        raise ValueError(f"{variant!r} is reserved for cutout's own outputs")
    return _checked(f"{variant}/{source_key}{extension}")
