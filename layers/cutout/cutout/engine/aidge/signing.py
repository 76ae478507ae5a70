"""Aidge request signing, sign_ver v2 (see docs/engines.md).

``sign = HEX_UPPER(HMAC-SHA256(key=secret, msg=secret + timestamp_ms))``; the body is not signed.
"""

from __future__ import annotations

import hashlib
import hmac
import time

PARTNER_ID = "aidge"
SIGN_METHOD = "sha256"
SIGN_VERSION = "v2"


def sign(secret: str, timestamp_ms: str) -> str:
    """The upper-case hex HMAC-SHA256 of ``secret + timestamp_ms`` keyed with ``secret``."""
    message = (secret + timestamp_ms).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()


def timestamp_ms(now: float | None = None) -> str:
    """Unix time in milliseconds as a decimal string (``now`` in seconds, for tests)."""
    return str(int((time.time() if now is None else now) * 1000))


def signed_query(app_key: str, secret: str, now: float | None = None) -> dict[str, str]:
    """The query parameters every call carries."""
    ts = timestamp_ms(now)
    return {
        "partner_id": PARTNER_ID,
        "sign_method": SIGN_METHOD,
        "sign_ver": SIGN_VERSION,
        "app_key": app_key,
        "timestamp": ts,
        "sign": sign(secret, ts),
    }


def verify(secret: str, timestamp_ms: str, signature: str) -> bool:
    """Constant-time check of a signature (the emulator's side)."""
    return hmac.compare_digest(sign(secret, timestamp_ms), signature.upper())
