"""Where held outputs go: under ``review/``, never at a published key, with the reasons attached.

``review/<published key>`` keeps the way back obvious: ``cutout review approve`` copies it to the
published key (an S3 copy, no API call) and deletes the held copy; ``reject`` deletes it.
"""

from __future__ import annotations

from cutout.quality_gate.judge import Verdict

REVIEW_PREFIX = "review/"
REVIEW_TAG = "cutout-review"
REVIEW_METADATA = "review-reasons"


def review_key(published_key: str) -> str:
    return REVIEW_PREFIX + published_key


def published_key(held_key: str) -> str:
    if not held_key.startswith(REVIEW_PREFIX):
        raise ValueError(f"{held_key!r} is not under {REVIEW_PREFIX}")
    return held_key[len(REVIEW_PREFIX) :]


def review_metadata(verdict: Verdict) -> dict[str, str]:
    return {REVIEW_METADATA: ",".join(verdict.reasons)}


def review_tags(verdict: Verdict) -> dict[str, str]:
    # Tag values allow letters, digits, spaces and + - = . _ : / @: reasons joined by "+".
    return {REVIEW_TAG: "+".join(verdict.reasons)}
