"""Keep request signatures out of third-party logs.

httpx logs every request at INFO as ``HTTP Request: POST <full URL> ...``; our URL's query carries
the signature (``sign=``), valid for replays within the API's clock-skew window. Lambda emits
INFO lines as soon as its application log level is INFO, so the filter below rewrites those
records with the signature blanked before any handler sees them.
"""

from __future__ import annotations

import logging
import re

_SIGNATURE = re.compile(r"([?&]sign=)[^&\s\"']+", re.IGNORECASE)
REDACTED = "[redacted]"
# The loggers that may print a request URL (httpx's request line; httpcore logs no URLs).
URL_LOGGERS = ("httpx",)


class SignatureRedactingFilter(logging.Filter):
    """Replaces ``sign=<value>`` in a record's message with ``sign=[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001  (a malformed record is left for logging to report)
            return True
        if "sign=" in message.lower():
            record.msg = _SIGNATURE.sub(rf"\g<1>{REDACTED}", message)
            record.args = ()
        return True


_FILTER = SignatureRedactingFilter()


def install() -> None:
    """Attach the filter to the loggers that print request URLs (idempotent)."""
    for name in URL_LOGGERS:
        target = logging.getLogger(name)
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
