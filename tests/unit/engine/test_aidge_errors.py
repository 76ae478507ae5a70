"""The one factory: every Aidge answer and transport failure maps to a stable code."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cutout.engine.aidge.errors import error_from, redacted
from cutout.engine.errors import EngineError, PermanentEngineError
from tests.unit.engine.aidge_doubles import failure_envelope, json_response, success_envelope

QUOTA_MESSAGE = "The calling resources have been exhausted, please purchase or apply for a trial"


@pytest.mark.parametrize(
    ("response", "code", "retryable", "api_code"),
    [
        (json_response(failure_envelope(500, "system error")), "aidge_500", True, 500),
        (json_response(failure_envelope(501, "rate limit exceed")), "aidge_rate_limited", True, 501),
        (json_response(failure_envelope(700, "invalid input: targetWidth")), "aidge_700", False, 700),
        (json_response(failure_envelope(801, "model failed")), "aidge_801", True, 801),
        (json_response(failure_envelope(1000, "content has sensitive data")), "aidge_1000", False, 1000),
        (json_response(failure_envelope(1001, "content control failed")), "aidge_1001", True, 1001),
        (json_response(failure_envelope(1002, "content risk filter failed")), "aidge_1002", False, 1002),
        (json_response(failure_envelope(4242, "something new")), "aidge_4242", False, 4242),
        (json_response({**failure_envelope(500), "resCode": "500"}), "aidge_500", True, 500),
        # the quota message wins over its resCode and HTTP status
        (json_response(failure_envelope(4000, QUOTA_MESSAGE)), "aidge_quota_exhausted", False, 4000),
        (
            json_response(failure_envelope(500, QUOTA_MESSAGE), status=403),
            "aidge_quota_exhausted",
            False,
            500,
        ),
        # HTTP statuses
        (httpx.Response(401, content=b"Unauthorized"), "aidge_unauthorized", False, None),
        (json_response(failure_envelope(700, "bad sign"), status=403), "aidge_unauthorized", False, 700),
        (httpx.Response(429, content=b""), "aidge_rate_limited", True, None),
        # a gateway 502/504 after the request was sent: possibly billed, never re-sent in the call
        (httpx.Response(502, content=b"<html>Bad Gateway</html>"), "engine_answer_lost", True, None),
        (httpx.Response(504, content=b"<html>Gateway Timeout</html>"), "engine_answer_lost", True, None),
        (httpx.Response(503, content=b""), "aidge_http_5xx", True, None),
        (httpx.Response(500, content=b""), "aidge_http_5xx", True, None),
        (httpx.Response(404, content=b"not found"), "aidge_http_404", False, None),
        (httpx.Response(400, content=b"{}"), "aidge_http_400", False, None),
        (json_response(failure_envelope(801), status=500), "aidge_801", True, 801),
        # gateway answers without resCode
        (
            json_response({"type": "ISV", "code": "IncompleteSignature", "message": "sign mismatch"}),
            "aidge_unauthorized",
            False,
            None,
        ),
        (
            json_response({"type": "ISP", "code": "ApiCallLimit", "message": "too many"}),
            "aidge_rate_limited",
            True,
            None,
        ),
        # a 2xx that is not a JSON object (cut off, garbled): possibly billed, like a lost answer
        (httpx.Response(200, content=b"<html>hello</html>"), "engine_answer_lost", True, None),
        (httpx.Response(200, content=b"[1, 2]"), "engine_answer_lost", True, None),
        (httpx.Response(200, content=b""), "engine_answer_lost", True, None),
        (
            httpx.Response(200, content=b'{"data": {"score": 0.87, "imageUrl": "http://'),
            "engine_answer_lost",
            True,
            None,
        ),
        # a billed success (success: true, resCode: 200) without a result: permanent, never re-sent
        (json_response({**success_envelope(), "data": {}}), "aidge_billed_without_result", False, 200),
        (json_response({**success_envelope(), "data": None}), "aidge_billed_without_result", False, 200),
        (json_response(success_envelope(image_url="")), "aidge_billed_without_result", False, 200),
        # JSON that is neither a success nor a documented error: not billed, retryable
        (json_response({**success_envelope(), "success": False}), "aidge_malformed_response", True, 200),
        (json_response({"success": False}), "aidge_malformed_response", True, None),
    ],
)
def test_answers_map_to_stable_codes(
    response: httpx.Response, code: str, retryable: bool, api_code: int | None
) -> None:
    # Given an answer of the Aidge API
    # When the factory classifies it
    error = error_from(response)
    # Then it is the tabled error, retryable or not, with the API's code
    assert error is not None
    assert (error.code, error.retryable, error.api_code) == (code, retryable, api_code)
    assert isinstance(error, EngineError)
    assert error.message.endswith(".")


def test_a_usable_success_is_no_error() -> None:
    # Given the sample success of the API reference
    response = json_response(success_envelope())
    # When the factory classifies it
    error = error_from(response)
    # Then there is no error
    assert error is None


@pytest.mark.parametrize(
    "data",
    [
        {"imageUrl": "http://b.oss-ap-southeast-1.aliyuncs.com/x.png?Expires=1", "usage": 1},
        {"imageUrl": "http://b.oss-ap-southeast-1.aliyuncs.com/x.png", "width": 0, "height": None},
    ],
)
def test_a_success_without_width_and_height_is_usable(data: dict[str, Any]) -> None:
    # Given a billed success that omits (or blanks) width and height, which the reference's
    # response table never promises (the template's default sends no target size)
    response = json_response({**success_envelope(), "data": data})
    # When the factory classifies it
    # Then it is a usable success, not a malformed answer to send again
    assert error_from(response) is None


@pytest.mark.parametrize(
    ("response", "paid"),
    [
        (json_response({**success_envelope(), "data": {}}), True),
        (httpx.Response(200, content=b"not json"), None),
        (httpx.Response(504, content=b""), None),
        (json_response(failure_envelope(500)), False),
    ],
)
def test_each_error_says_what_it_cost(response: httpx.Response, paid: bool | None) -> None:
    # Given an answer that failed
    # When the factory classifies it
    error = error_from(response)
    # Then the error says whether it was billed (True), possibly billed (None) or not (False)
    assert error is not None
    assert error.paid is paid


def test_failure_carries_what_support_needs() -> None:
    # Given a 700 that names the offending field
    response = json_response(failure_envelope(700, "targetWidth must be between 100 and 3000"))
    # When the factory classifies it
    error = error_from(response)
    # Then the message names the field, and the facts are kept
    assert error is not None
    assert "targetWidth" in error.message
    assert error.to_dict() == {
        "code": "aidge_700",
        "message": error.message,
        "retryable": False,
        "api_code": 700,
        "api_message": "targetWidth must be between 100 and 3000",
        "request_id": "req-failure-1",
    }
    assert isinstance(error, PermanentEngineError)


def test_request_id_falls_back_to_the_gateway_fields() -> None:
    # Given a failure without requestId but with the gateway's request_id
    payload: dict[str, Any] = {"success": False, "resCode": 500, "request_id": "gw-1"}
    # When the factory classifies it
    error = error_from(json_response(payload))
    # Then the gateway's id is kept
    assert error is not None
    assert error.request_id == "gw-1"


def test_long_api_messages_are_trimmed() -> None:
    # Given a failure with a very long message
    response = json_response(failure_envelope(4242, "x" * 5000))
    # When the factory classifies it
    error = error_from(response)
    # Then the message stays short enough for a DLQ record
    assert error is not None
    assert error.api_message is not None
    assert len(error.api_message) <= 300
    assert len(error.message) < 400


REQUEST = httpx.Request("POST", "https://api.aidc-ai.com/rest/ai/image/cut/out?sign=ABCDEF&app_key=1")


@pytest.mark.parametrize(
    ("exception", "code"),
    [
        (httpx.ConnectTimeout("timed out", request=REQUEST), "engine_timeout"),
        (httpx.ReadTimeout("timed out", request=REQUEST), "engine_answer_lost"),
        (httpx.ReadError("connection reset", request=REQUEST), "engine_answer_lost"),
        (httpx.RemoteProtocolError("server disconnected", request=REQUEST), "engine_answer_lost"),
        (httpx.WriteTimeout("timed out", request=REQUEST), "engine_timeout"),
        (httpx.PoolTimeout("timed out", request=REQUEST), "engine_timeout"),
        (httpx.ConnectError("[Errno 111] Connection refused", request=REQUEST), "engine_unreachable"),
        (
            httpx.ConnectError(f"failed for {REQUEST.url}", request=REQUEST),
            "engine_unreachable",
        ),
        (httpx.DecodingError("bad gzip", request=REQUEST), "engine_answer_lost"),  # arrived, unreadable
    ],
)
def test_request_failures_are_retryable(exception: httpx.RequestError, code: str) -> None:
    # Given a transport failure (whose request URL carries a signature)
    # When the factory classifies it
    error = error_from(exception)
    # Then it is the tabled retryable error, and the URL/signature is not in it
    assert (error.code, error.retryable) == (code, True)
    assert "ABCDEF" not in str(error)
    assert "://" not in str(error)


def test_redacted_blanks_secrets_echoed_by_the_api() -> None:
    # Given an API message that echoes a secret value
    error = error_from(json_response(failure_envelope(700, "bad sign TOPSECRET given")))
    assert error is not None
    # When redacting
    cleaned = redacted(error, ("TOPSECRET",))
    # Then no text of the error holds it
    assert "TOPSECRET" not in str(cleaned)
    assert "TOPSECRET" not in repr(cleaned)
    assert "TOPSECRET" not in repr(cleaned.to_dict())


def test_urls_in_api_messages_are_blanked() -> None:
    # Given an API message that quotes a (signed) URL, such as the input's presigned URL
    message = "invalid input: imageUrl https://in.s3.amazonaws.com/a.jpg?X-Amz-Signature=abc is unreachable"
    # When the factory classifies it
    error = error_from(json_response(failure_envelope(700, message)))
    # Then the field is still named, the URL is not
    assert error is not None
    assert "imageUrl" in error.message
    assert "X-Amz-Signature" not in str(error)
    assert "X-Amz-Signature" not in (error.api_message or "")
