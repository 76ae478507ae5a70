"""The gateway's check of the v2 signature: known ``app_key``, fresh ``timestamp``, valid ``sign``.

The verdict is a short reason for ``resMessage`` (or ``None`` when the call may proceed); it never
quotes the secret or the expected signature.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from cutout.engine.aidge import signing

MAX_CLOCK_SKEW_SECONDS_DEFAULT = 15 * 60


def signature_problem(
    query: Mapping[str, str],
    *,
    key_name: str,
    key_secret: str,
    now: float | None = None,
    max_clock_skew_seconds: float = MAX_CLOCK_SKEW_SECONDS_DEFAULT,
) -> str | None:
    """Why the call is not authenticated, or ``None`` if it is."""
    expected = {
        "partner_id": (signing.PARTNER_ID, "invalid partner_id"),
        "sign_method": (signing.SIGN_METHOD, "unsupported sign_method"),
        "sign_ver": (signing.SIGN_VERSION, "unsupported sign_ver"),
        "app_key": (key_name, "invalid app_key"),
    }
    for name, (value, problem) in expected.items():
        if query.get(name) != value:
            return problem
    timestamp = query.get("timestamp", "")
    if not timestamp.isdigit():
        return "invalid timestamp"
    current_ms = (time.time() if now is None else now) * 1000
    if abs(current_ms - int(timestamp)) > max_clock_skew_seconds * 1000:
        return "timestamp expired"
    signature = query.get("sign", "")
    if not signature or not signing.verify(key_secret, timestamp, signature):
        return "invalid signature"
    return None
