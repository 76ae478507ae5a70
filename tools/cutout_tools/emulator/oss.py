"""Result URLs the way Aidge hands them out: signed Alibaba Cloud OSS URLs, checked on every GET.

The API reference's sample answers

    http://nhci-image.oss-ap-southeast-1.aliyuncs.com/data%2Fgeneral_matting_online%2FAIDC_AIB_SERVICE%2F
    7089bce4…_202406261430_0.8799999952316284.jpg?OSSAccessKeyId=LTAI5t…&Expires=2719383457&Signature=3z8y…%3D

that is plain http, an OSS virtual-hosted bucket host, the object key percent-encoded as one path
segment (``%2F``), and an OSS signature v1 in the query (``Expires`` in Unix seconds; the sample's
is its timestamp + 10⁹ s). The emulator builds the same shape on an OSS-shaped host name (the
tests and the local stack resolve it to the emulator's loopback address through the client's
resolver seam), and verifies the signature and ``Expires`` like OSS: a wrong one, or a URL past
its ``Expires``, gets OSS's 403 XML; an unknown key gets 404 ``NoSuchKey``.

Signature v1 (OSS's "Add signatures to URLs"): ``base64(HMAC-SHA1(secret, "GET\\n\\n\\n" + Expires
+ "\\n/" + bucket + "/" + key))``; it covers neither the scheme nor the port.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit
from xml.sax.saxutils import escape

# The shape of the sample's host: <bucket>.oss-<region>.aliyuncs.com. Never resolved through DNS by
# the tests or the local stack (their resolver maps it to the emulator's address).
RESULT_BUCKET = "cutout-emulator-results"
RESULT_REGION_HOST = "oss-ap-southeast-1.aliyuncs.com"
RESULT_HOST = f"{RESULT_BUCKET}.{RESULT_REGION_HOST}"
KEY_PREFIX = "data/general_matting_online/AIDC_AIB_SERVICE/"
ACCESS_KEY_ID = "LTAI5tCutoutEmulator0000"
# The sample's Expires is its own timestamp + 1 000 000 000 s: results are signed "for ever".
SAMPLE_TTL_SECONDS = 1_000_000_000


@dataclass(frozen=True)
class OssSigner:
    """Signs and checks result URLs for one emulator (its own throw-away secret)."""

    bucket: str = RESULT_BUCKET
    access_key_id: str = ACCESS_KEY_ID
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(30), repr=False)

    def signature(self, key: str, expires: int) -> str:
        text = f"GET\n\n\n{expires}\n/{self.bucket}/{key}"
        digest = hmac.new(self.secret.encode(), text.encode("utf-8"), hashlib.sha1).digest()
        return base64.b64encode(digest).decode("ascii")

    def url(self, base: str, key: str, expires: int) -> str:
        """``{base}/{key as one encoded segment}?OSSAccessKeyId=…&Expires=…&Signature=…``."""
        query = (
            f"OSSAccessKeyId={quote(self.access_key_id, safe='')}&Expires={expires}"
            f"&Signature={quote(self.signature(key, expires), safe='')}"
        )
        return f"{base.rstrip('/')}/{quote(key, safe='')}?{query}"

    def problem(self, key: str, query: dict[str, str], now: float | None = None) -> tuple[str, str] | None:
        """``None`` if the query signs ``key`` and is not expired, else OSS's (Code, Message)."""
        access_key_id, expires, signature = (query.get(n) for n in ("OSSAccessKeyId", "Expires", "Signature"))
        if not access_key_id or not expires or not signature:
            return "AccessDenied", "AccessDenied: the request is not signed."
        if access_key_id != self.access_key_id:
            return "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records."
        if not expires.isdigit():
            return "AccessDenied", "Invalid expires."
        if not hmac.compare_digest(signature, self.signature(key, int(expires))):
            return (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
            )
        if int(expires) < int(time.time() if now is None else now):
            return "AccessDenied", "Request has expired."
        return None


def result_key(result_id: str, score: float, extension: str, when: float | None = None) -> str:
    """An object key shaped like the sample's: ``data/…/<id>_<yyyymmddHHMM>_<score><ext>``."""
    stamp = datetime.fromtimestamp(time.time() if when is None else when, UTC).strftime("%Y%m%d%H%M")
    return f"{KEY_PREFIX}{result_id}_{stamp}_{score!r}{extension}"


def key_of(raw_path: str) -> str:
    """The object key of a GET's path (``/data%2F…``): one segment, percent-decoded."""
    return unquote(urlsplit(raw_path).path.lstrip("/"))


def error_xml(code: str, message: str, host: str, request_id: str) -> bytes:
    """OSS's error document."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{escape(code)}</Code>\n  <Message>{escape(message)}</Message>\n"
        f"  <RequestId>{escape(request_id)}</RequestId>\n  <HostId>{escape(host)}</HostId>\n</Error>\n"
    ).encode()
