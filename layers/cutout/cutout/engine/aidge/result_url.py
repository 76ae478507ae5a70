"""Facts read from a result URL without fetching it: when its signature expires.

Aidge's results are signed Alibaba Cloud OSS URLs (``?OSSAccessKeyId=…&Expires=…&Signature=…``,
signature v1: ``Expires`` is Unix seconds). The expiry is kept in the receipt, so a replay can tell
"past Expires" (``result_expired``) from a fetch failure without asking the host.
"""

from __future__ import annotations

import httpx


def expires_at(url: str) -> int | None:
    """The URL's ``Expires`` (Unix seconds), or ``None`` when it carries none (or not a number).

    Read right after a billed success: it never raises, whatever the URL holds (only ASCII digits
    are a number; ``str.isdigit`` alone also takes Unicode digits ``int`` refuses, such as ``²``).
    """
    try:
        value = httpx.URL(url).params.get("Expires")
    except (httpx.InvalidURL, TypeError):
        return None
    if value is None:
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value)
