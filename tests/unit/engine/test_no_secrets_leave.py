"""No signed URL and no secret in any DLQ record or event, whatever failure built it.

One walk over every way the Aidge adapter fails (each kind of API answer, each request failure,
each result-download failure, an expired receipt), with a hostile twist everywhere a text can come
from outside: the API echoes the signed result URL, the presigned input URL, the app secret and a
bare signature query in its message; the result host puts the URL in its error body; transport
errors carry the URL in their text. Every failure then goes through each builder of what leaves
the function: the DLQ record (with the paid receipt), the ``Cutout Image Failed`` event, the
error's ``to_dict`` and ``str``. None may hold a signature, a credential or the secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cutout.announcements.events import PAUSED, pause_announcement
from cutout.announcements.facts import failed_announcement
from cutout.dead_letter.record import failure_record
from cutout.engine.aidge import AidgeClient
from cutout.engine.errors import EngineError
from cutout.engine.port import CutoutOptions, ImageUrl
from cutout.events import PaidReceipt, UploadedObject
from cutout.failures import FailureReason
from cutout.redelivery.delivery import Delivery
from tests.unit.engine.aidge_doubles import APP_SECRET, RESULT_HOST, FakeServers, result_receipt

ACCESS_KEY_ID = "LTAI5tSECRETKEYID"
SIGNATURE = "Zm9vYmFyc2lnbmF0dXJl"
SIGNED_RESULT_URL = f"https://{RESULT_HOST}/data/cut.png?OSSAccessKeyId={ACCESS_KEY_ID}&Expires=2719383457&Signature={SIGNATURE}"
HTTP_SIGNED_RESULT_URL = SIGNED_RESULT_URL.replace("https://", "http://", 1)
PRESIGNED_INPUT_URL = (
    "https://input-bucket.s3.eu-west-1.amazonaws.com/shoes/red.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261207%2Feu-west-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20261207T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=deadbeefcafe"
)
# What must never leave: signatures, credentials, expiry parameters of a signed URL, the secret.
FORBIDDEN = (
    "Signature=",
    "X-Amz-",
    "Expires=",
    "OSSAccessKeyId",
    ACCESS_KEY_ID,
    SIGNATURE,
    "AKIAIOSFODNN7EXAMPLE",
    "deadbeefcafe",
    APP_SECRET,
    "/data/cut.png?",
)
HOSTILE_TEXT = (
    f"bad imageUrl {PRESIGNED_INPUT_URL} (result {SIGNED_RESULT_URL}); sign={APP_SECRET} "
    f"X-Amz-Signature=deadbeefcafe&Signature={SIGNATURE}&OSSAccessKeyId={ACCESS_KEY_ID}"
)


def _envelope(res_code: int, message: str = HOSTILE_TEXT, **extra: Any) -> dict[str, Any]:
    return {"success": False, "resCode": res_code, "resMessage": message, "requestId": "req-1", **extra}


def _json(payload: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(payload).encode())


def _raising(error: type[httpx.RequestError]) -> Callable[[httpx.Request], httpx.Response]:
    def raise_it(request: httpx.Request) -> httpx.Response:
        raise error(f"failed for {SIGNED_RESULT_URL} {PRESIGNED_INPUT_URL}", request=request)

    return raise_it


# --- every way the paid call fails ----------------------------------------------------------------

API_FAILURES: dict[str, Any] = {
    **{f"resCode {code}": _json(_envelope(code)) for code in (500, 501, 700, 801, 1000, 1001, 1002, 9999)},
    "quota exhausted": _json(_envelope(400, f"resources have been exhausted {SIGNED_RESULT_URL}")),
    **{
        f"HTTP {status}": httpx.Response(status, content=HOSTILE_TEXT.encode())
        for status in (400, 401, 403, 404, 418, 429, 500, 502, 503, 504)
    },
    "HTTP 403 with an envelope": _json(_envelope(403), 403),
    "gateway auth code": _json({"code": "IncompleteSignature", "message": HOSTILE_TEXT, "request_id": "r"}),
    "gateway limit code": _json({"code": "ApiCallLimit", "message": HOSTILE_TEXT, "request_id": "r"}),
    "neither success nor error": _json({"success": True, "resCode": 300, "resMessage": HOSTILE_TEXT}),
    "billed without a result": _json(
        {"success": True, "resCode": 200, "resMessage": HOSTILE_TEXT, "data": {}}
    ),
    "body cut off": httpx.Response(
        200, content=b'{"success": true, "data": {"imageUrl": "' + SIGNED_RESULT_URL.encode()
    ),
    **{
        f"transport {error.__name__}": _raising(error)
        for error in (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.ReadTimeout,
            httpx.ReadError,
            httpx.RemoteProtocolError,
            httpx.WriteTimeout,
            httpx.PoolTimeout,
            httpx.DecodingError,
        )
    },
}


def _result_host(answer: Callable[[httpx.Request], httpx.Response] | httpx.Response) -> Any:
    return answer


def _redirect(location: str) -> httpx.Response:
    return httpx.Response(302, headers={"Location": location})


DOWNLOAD_FAILURES: dict[str, tuple[str, Any]] = {
    "403 expired": (
        SIGNED_RESULT_URL,
        httpx.Response(
            403, content=f"<Message>Request has expired</Message><URL>{SIGNED_RESULT_URL}</URL>".encode()
        ),
    ),
    "403 signature mismatch": (
        SIGNED_RESULT_URL,
        httpx.Response(403, content=f"SignatureDoesNotMatch {SIGNATURE}".encode()),
    ),
    **{
        f"HTTP {status}": (SIGNED_RESULT_URL, httpx.Response(status, content=SIGNED_RESULT_URL.encode()))
        for status in (404, 410, 500, 503)
    },
    "redirect to another host": (
        SIGNED_RESULT_URL,
        _redirect(f"https://elsewhere.example.com/x.png?Signature={SIGNATURE}"),
    ),
    "redirect down to http": (SIGNED_RESULT_URL, _redirect(HTTP_SIGNED_RESULT_URL)),
    "redirect without location": (SIGNED_RESULT_URL, httpx.Response(302)),
    "redirect loop": (SIGNED_RESULT_URL, _redirect(SIGNED_RESULT_URL)),
    "not an image": (
        SIGNED_RESULT_URL,
        httpx.Response(200, content=f"<html>{SIGNED_RESULT_URL}</html>".encode()),
    ),
    "too large": (
        SIGNED_RESULT_URL,
        httpx.Response(200, content=b"x" * 64, headers={"Content-Length": str(10**10)}),
    ),
    "no alpha": (SIGNED_RESULT_URL, None),  # filled below: a JPEG for a transparent background
    **{
        f"transport {error.__name__}": (SIGNED_RESULT_URL, _raising(error))
        for error in (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.ReadError)
    },
    "private address": (
        f"https://10.0.0.7/data/cut.png?OSSAccessKeyId={ACCESS_KEY_ID}&Expires=2719383457&Signature={SIGNATURE}",
        httpx.Response(200),
    ),
    "credentials in the URL": (
        f"https://user:{APP_SECRET}@{RESULT_HOST}/data/cut.png?Signature={SIGNATURE}",
        httpx.Response(200),
    ),
    "unknown scheme": (
        f"ftp://{RESULT_HOST}/data/cut.png?Signature={SIGNATURE}&Expires=2719383457",
        httpx.Response(200),
    ),
    "unresolvable host": (
        f"https://nowhere.example.net/data/cut.png?Signature={SIGNATURE}&Expires=2719383457",
        httpx.Response(200),
    ),
    "not a URL": (f"https://[{SIGNATURE}/x?Expires=1", httpx.Response(200)),
}


def _failure_of(call: Callable[[], object]) -> EngineError:
    with pytest.raises(EngineError) as raised:
        call()
    return raised.value


def _every_failure(make_client: Callable[..., AidgeClient]) -> Iterator[tuple[str, FailureReason]]:
    import io

    from PIL import Image

    for name, answer in API_FAILURES.items():
        client = make_client(FakeServers(api_answers=[answer]), random_value=0.0)
        yield (
            f"paid call: {name}",
            _failure_of(lambda c=client: c.submit(ImageUrl(PRESIGNED_INPUT_URL), CutoutOptions())),
        )
    jpeg = io.BytesIO()
    Image.new("RGB", (200, 100)).save(jpeg, "JPEG")
    for name, (url, planned) in DOWNLOAD_FAILURES.items():
        answer = httpx.Response(200, content=jpeg.getvalue()) if planned is None else planned
        client = make_client(FakeServers(result_answers=[answer]), random_value=0.0)
        receipt = result_receipt(url)
        yield f"download: {name}", _failure_of(lambda c=client, r=receipt: c.fetch(r))
    expired = result_receipt(SIGNED_RESULT_URL.replace("2719383457", "1000"), expires_at=1000)
    client = make_client(FakeServers(result_answers=[httpx.Response(200)]))
    yield "download: receipt past its Expires", _failure_of(lambda: client.fetch(expired))


UPLOAD = UploadedObject("input-bucket", "shoes/red.jpg", version_id="v1", etag="e1", sequencer="0A")


def _what_leaves(failure: FailureReason) -> dict[str, str]:
    receipt = PaidReceipt(
        object_identity="id-1",
        request_id="req-1",
        expires_at=2719383457,
        reported_width=200,
        reported_height=100,
    )
    return {
        "DLQ record": failure_record(UPLOAD, failure, Delivery(), "aidge", paid=True, receipt=receipt),
        "DLQ record, not paid": failure_record(UPLOAD, failure, Delivery(receive_count=3), "aidge"),
        "failed event": json.dumps(failed_announcement(UPLOAD, failure, engine="aidge").to_dict()),
        # the pause event is built the same way from the reason that paused (budget/pause.py)
        "paused event": json.dumps(
            pause_announcement(PAUSED, reason_code=failure.code, message=failure.message).to_dict()
        ),
        "error dict": json.dumps(failure.to_dict()),
        "error text": str(failure),
    }


def test_no_failure_path_puts_a_signed_url_or_a_secret_in_a_record_or_an_event(
    make_client: Callable[..., AidgeClient],
) -> None:
    # Given every failure of the Aidge adapter, built from hostile answers
    failures = list(_every_failure(make_client))
    assert len(failures) >= len(API_FAILURES) + len(DOWNLOAD_FAILURES)
    # When each goes through every builder of what leaves the function
    leaks = [
        f"{path} -> {channel}: {marker!r} in {text[:300]!r}"
        for path, failure in failures
        for channel, text in _what_leaves(failure).items()
        for marker in FORBIDDEN
        if marker in text
    ]
    # Then not one of them holds a signature, a credential, an expiry parameter or the secret
    assert leaks == []
