"""S3's 2 KB user-metadata limit, kept in one place: what is shortened first, and a check before paying.

S3 refuses a PUT whose user-defined metadata is over 2 KB, "measured by taking the sum of the number
of bytes in the UTF-8 encoding of each key and value" (``x-amz-meta-`` not counted). Such a refusal
would come after the paid call, so:

- ``fit_metadata`` is what every output PUT's metadata goes through (the single cut-out, the master,
  each variant). The rule, in this order, until the metadata fits:

  1. ``master-key`` is left out (always ``masters/<source key>.png``: nothing is lost);
  2. ``source-key`` is cut to the bytes that are left (between characters, never inside a ``%XX``
     escape), and ``source-key-truncated: true`` says so (the source is still named exactly by
     ``source-bucket``, ``source-etag`` and ``source-version-id``, and in the event and the logs);
  3. the descriptive extras are left out: ``result-size-mismatch``, then ``colour-conversion``.

  The fields cutout's decisions read (source bucket, ETag and version, the ordering stamp, the
  variant's digest, the review reasons, width and height) are never shortened.
- ``check_metadata_room`` runs before the paid call: with the upload's own key, bucket, version and
  sequencer, and the largest value each later field can take, the metadata must fit after the rule
  (with at least ``MIN_SOURCE_KEY_BYTES`` of the key kept). If it cannot, the upload fails before
  anything is paid (``metadata_too_large``): with S3's own limits on keys and version ids it cannot.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, unquote

from cutout.failures import FailureReason

METADATA_LIMIT_BYTES = 2048  # S3's limit on user-defined metadata (keys + values, UTF-8)
MIN_SOURCE_KEY_BYTES = 64  # what is kept of the source key at the least
TRUNCATED_FLAG = "source-key-truncated"
# Left out or shortened, in this order (step 2, the source key, is between the first and the rest).
DROPPED_FIRST = ("master-key",)
DROPPED_LAST = ("result-size-mismatch", "colour-conversion")

# The largest value each field set after the paid call (or per variant) can take, for the check
# before paying. Values the API or a profile supply are bounded where they are read: the request id
# (a UUID-like id, kept to 64), usage and sizes (digits), the score, the engine's name, a profile's
# and a variant's names (profiles.spec: at most 64 characters each), the review reasons.
WORST_CASE_LATER_FIELDS: dict[str, str] = {
    "engine": "e" * 32,
    "background": "WHITE_BACKGROUND",
    "score": "0.0000",
    "width": "99999",
    "height": "99999",
    "request-id": "r" * 64,
    "usage": "9" * 10,
    "processed-at": "2026-12-31T23:59:59+00:00",
    "pipeline-version": "9" * 16,
    "result-size-mismatch": "reported 99999x99999",
    # normalisation (normalisation.report)
    "source-format": "f" * 8,
    "source-width": "99999",
    "source-height": "99999",
    "orientation-applied": "8",
    "colour-conversion": "c" * 80,
    "scale-factor": "0.123456",
    "fast-path": "false",
    # the variant (deliverables.store)
    "profile": "p" * 64,
    "variant": "v" * 64,
    "variant-digest": "d" * 64,
    "format": "webp",
    "quality": "100",
    # the ordering stamp (ordering.newest): S3's sequencer (hex), the last-modified time
    "source-sequencer": "0" * 64,
    "source-last-modified": "2026-12-31T23:59:59.999999+00:00",
    # the quality gate
    "review-reasons": "low_score,empty_mask,touches_edge,tiny_subject,mostly_transparent",
}


class MetadataTooLarge(FailureReason):
    """The output's metadata could not fit S3's 2 KB even after shortening: refused before paying."""

    code = "metadata_too_large"


def metadata_bytes(metadata: Mapping[str, str]) -> int:
    """Size as S3 counts it: the UTF-8 bytes of every key and value."""
    return sum(len(name.encode("utf-8")) + len(value.encode("utf-8")) for name, value in metadata.items())


def _cut_encoded(value: str, room: int) -> str:
    """The longest prefix of the percent-encoded ``value`` within ``room`` bytes that still decodes:
    never inside a ``%XX`` escape, never inside a multi-byte UTF-8 character (the values are
    printable ASCII: one byte a character)."""
    if len(value) <= room:
        return value
    cut = max(0, room)
    for back in (1, 2):  # not inside an escape ("%", "%X")
        if cut - back >= 0 and value[cut - back] == "%":
            cut -= back
            break
    prefix = value[:cut]
    while prefix:  # not inside a character: drop trailing escapes of a partial UTF-8 sequence
        try:
            unquote(prefix, errors="strict")
        except UnicodeDecodeError:
            prefix = prefix[:-3] if len(prefix) >= 3 and prefix[-3] == "%" else prefix[:-1]
            continue
        break
    return prefix


def _fit_source_key(fitted: dict[str, str], key: str, limit: int) -> bool:
    """Cut ``source-key`` to the bytes left (at least ``MIN_SOURCE_KEY_BYTES``); True if it all fits."""
    fitted["source-key"] = ""
    fitted[TRUNCATED_FLAG] = "true"
    room = max(limit - metadata_bytes(fitted), MIN_SOURCE_KEY_BYTES)
    fitted["source-key"] = _cut_encoded(key, room)
    return metadata_bytes(fitted) <= limit


def fit_metadata(metadata: Mapping[str, str], limit: int = METADATA_LIMIT_BYTES) -> dict[str, str]:
    """``metadata`` within ``limit`` bytes by the rule above; ``MetadataTooLarge`` if it cannot be."""
    fitted = dict(metadata)
    if metadata_bytes(fitted) <= limit:
        return fitted
    for name in DROPPED_FIRST:  # 1. derivable from the source key
        fitted.pop(name, None)
    if metadata_bytes(fitted) <= limit:
        return fitted
    key = fitted.get("source-key")
    if key is not None and _fit_source_key(fitted, key, limit):  # 2. the source key, cut
        return fitted
    for name in DROPPED_LAST:  # 3. descriptive extras
        fitted.pop(name, None)
        if key is not None and _fit_source_key(fitted, key, limit):
            return fitted
        if key is None and metadata_bytes(fitted) <= limit:
            return fitted
    raise MetadataTooLarge(
        f"the output's metadata needs {metadata_bytes(fitted)} bytes after shortening, more than S3's "
        f"{limit}: the fields that cannot be shortened are too long"
    )


def check_metadata_room(*, bucket: str, key: str, etag: str | None, version_id: str | None) -> int:
    """Before the paid call: the worst case of this upload's output metadata must fit S3's 2 KB.

    Returns the worst case's size after the rule (bytes); raises ``MetadataTooLarge``.
    """
    worst = {
        "source-bucket": bucket,
        "source-key": quote(key, safe="/"),
        "source-key-encoding": "rfc3986",
        "source-etag": etag or "0" * 34,
        # without one in the event, the HEAD may still find one (S3's are 32 characters)
        "source-version-id": version_id if version_id and version_id != "null" else "0" * 64,
        **WORST_CASE_LATER_FIELDS,
        "master-key": quote("masters/" + key + ".png", safe="/"),
    }
    return metadata_bytes(fit_metadata(worst))
