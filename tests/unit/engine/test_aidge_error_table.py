"""Every row of the Aidge error table, the edges of each row, and the words each error carries.

``error_from`` is the one place that turns an answer into an error (rule 2: a billed or possibly
billed answer is never sent again; rule 6: a rate limit or an exhausted quota waits). The rows are
taken from both sides: HTTP 499/500 (the 5xx row starts at 500), 401/402/403, 429 against 428/430,
502/504 against 501/503/505; every wording of the quota and gateway patterns; an API text kept
whole up to 300 characters and cut one past it; a transport failure's own words only when they
cannot carry a URL (rule 5).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.engine.aidge.errors import (
    API_MESSAGE_MAX_CHARS,
    AidgeApiError,
    AidgeContentCheckFailedError,
    AidgeContentRiskFilterError,
    AidgeInvalidInputError,
    AidgeModelFailedError,
    AidgeRateLimitedError,
    AidgeSensitiveContentError,
    AidgeSystemError,
    ResultExpiredError,
    ResultGoneError,
    ResultMissingAlphaError,
    ResultNotAnImageError,
    ResultSizeMismatchError,
    ResultTooLargeError,
    ResultUnavailableError,
    ResultUrlRefusedError,
    error_from,
    redacted,
)
from cutout.engine.errors import EngineError
from tests.unit.engine.aidge_doubles import failure_envelope, json_response, success_envelope

REQUEST = httpx.Request("POST", "https://api.example.test/cutout")


@pytest.mark.parametrize(
    ("status", "code", "retryable", "paid"),
    [
        (400, "aidge_http_400", False, False),
        (401, "aidge_unauthorized", False, False),
        (402, "aidge_http_402", False, False),
        (403, "aidge_unauthorized", False, False),
        (404, "aidge_http_404", False, False),
        (428, "aidge_http_428", False, False),
        (429, "aidge_rate_limited", True, False),
        (430, "aidge_http_430", False, False),
        (499, "aidge_http_499", False, False),
        (500, "aidge_http_5xx", True, False),
        (501, "aidge_http_5xx", True, False),
        (502, "engine_answer_lost", True, None),
        (503, "aidge_http_5xx", True, False),
        (504, "engine_answer_lost", True, None),
        (505, "aidge_http_5xx", True, False),
        (599, "aidge_http_5xx", True, False),
    ],
)
def test_each_http_status_without_an_envelope_maps_to_its_row(
    status: int, code: str, retryable: bool, paid: bool | None
) -> None:
    # Given an HTTP status answered without an Aidge envelope (a gateway or balancer answered)
    response = httpx.Response(status, content=b"<html>error</html>")
    # When the factory classifies it
    error = error_from(response)
    # Then it is that status's row: its code, whether to retry, and what it may have cost
    assert error is not None
    assert (error.code, error.retryable, error.paid) == (code, retryable, paid)
    assert f"HTTP {status}" in error.message


@pytest.mark.parametrize("status", [401, 403, 429])
def test_an_auth_or_rate_limit_status_wins_over_the_envelope_s_res_code(status: int) -> None:
    # Given an envelope with a resCode of its own, answered with 401, 403 or 429
    response = json_response(failure_envelope(1000, "denied"), status=status)
    # When the factory classifies it, Then the status decides (the resCode does not)
    error = error_from(response)
    assert error is not None
    assert error.code == ("aidge_rate_limited" if status == 429 else "aidge_unauthorized")
    assert error.api_code == 1000


@pytest.mark.parametrize(
    "message",
    [
        "The calling resources have been exhausted",
        "EXHAUSTED",
        "quota used up",
        "Quota",
        "insufficient balance",
        "Insufficient Resource for this app",
    ],
)
@pytest.mark.parametrize("status", [200, 400, 403, 500])
def test_every_wording_of_an_exhausted_quota_pauses_whatever_the_status(message: str, status: int) -> None:
    # Given an answer saying in any of its wordings that no calling resources are left
    response = json_response(failure_envelope(4000, message), status=status)
    # When the factory classifies it, Then it is the exhausted quota (we wait), not billed
    error = error_from(response)
    assert error is not None
    assert (error.code, error.retryable, error.paid) == ("aidge_quota_exhausted", False, False)


@pytest.mark.parametrize("message", ["insufficient permissions", "resource not found", "system busy"])
def test_words_near_the_quota_wording_are_not_an_exhausted_quota(message: str) -> None:
    # Given a failure whose message is close to, but is not, a quota message
    error = error_from(json_response(failure_envelope(500, message)))
    # When the factory classifies it, Then its resCode decides
    assert error is not None
    assert error.code == "aidge_500"


@pytest.mark.parametrize(
    ("gateway_code", "code"),
    [
        ("IncompleteSignature", "aidge_unauthorized"),
        ("InvalidAppKey", "aidge_unauthorized"),
        ("invalid_app_key", "aidge_unauthorized"),
        ("IllegalAccessToken", "aidge_unauthorized"),
        ("Unauthorized", "aidge_unauthorized"),
        ("Forbidden", "aidge_unauthorized"),
        ("ApiCallLimit", "aidge_rate_limited"),
        ("Throttling", "aidge_rate_limited"),
        ("FlowControl", "aidge_rate_limited"),
        ("flow control", "aidge_rate_limited"),
    ],
)
def test_every_gateway_code_pattern_maps_to_its_error(gateway_code: str, code: str) -> None:
    # Given a gateway answer (a string code, no resCode) in each of the recognised families
    response = json_response({"type": "ISV", "code": gateway_code, "message": "gateway says no"})
    # When the factory classifies it
    error = error_from(response)
    # Then it is the family's error, naming the gateway's code
    assert error is not None
    assert error.code == code
    assert gateway_code in error.message
    assert error.paid is False


@pytest.mark.parametrize("gateway_code", ["", "0", "SomethingElse", 17, None])
def test_an_unknown_or_empty_gateway_code_is_a_malformed_answer(gateway_code: object) -> None:
    # Given a failure with no resCode and a gateway code that names no known family
    payload: dict[str, Any] = {"success": False, "code": gateway_code, "message": "?"}
    # When the factory classifies it, Then it is an answer nobody documents: retryable, not billed
    error = error_from(json_response(payload))
    assert error is not None
    assert (error.code, error.retryable, error.paid) == ("aidge_malformed_response", True, False)


@pytest.mark.parametrize(
    ("res_code", "message", "says"),
    [
        (700, None, "no field named"),
        (700, "imageUrl", "imageUrl"),
        (4242, None, "no message"),
        (4242, "something new", "something new"),
    ],
)
def test_a_refusal_names_the_field_or_says_it_named_none(
    res_code: int, message: str | None, says: str
) -> None:
    # Given a refusal with or without a message
    payload: dict[str, Any] = {"success": False, "resCode": res_code, "requestId": "r"}
    if message is not None:
        payload["resMessage"] = message
    # When the factory classifies it, Then its sentence says what the API said, or that it said nothing
    error = error_from(json_response(payload))
    assert error is not None
    assert says in error.message
    assert str(res_code) in error.code


@settings(max_examples=60, deadline=None)
@given(length=st.integers(min_value=1, max_value=2 * API_MESSAGE_MAX_CHARS))
def test_an_api_text_is_kept_whole_up_to_the_limit_and_cut_past_it(length: int) -> None:
    # Given an API message of any length (one word, no URL)
    text = "x" * length
    # When the factory classifies the failure carrying it
    error = error_from(json_response(failure_envelope(4242, text)))
    # Then it is kept whole up to 300 characters; past that, it is cut to 300 with an ellipsis
    assert error is not None
    if length <= API_MESSAGE_MAX_CHARS:
        assert error.api_message == text
    else:
        assert error.api_message == "x" * (API_MESSAGE_MAX_CHARS - 1) + "…"
    assert API_MESSAGE_MAX_CHARS == 300


@pytest.mark.parametrize("length", [299, 300, 301])
def test_the_api_text_limit_from_both_sides(length: int) -> None:
    # Given API messages one under, at and one over the limit
    error = error_from(json_response(failure_envelope(4242, "y" * length)))
    # When classified, Then only the one over is cut (and to exactly the limit)
    assert error is not None
    assert error.api_message is not None
    assert len(error.api_message) == min(length, 300)
    assert error.api_message.endswith("…") is (length > 300)


@pytest.mark.parametrize(
    ("exception", "says"),
    [
        (httpx.ReadTimeout("t", request=REQUEST), "(no answer in time)"),
        (httpx.ReadError("r", request=REQUEST), "(the connection broke while reading the answer)"),
        (
            httpx.RemoteProtocolError("p", request=REQUEST),
            "(the server closed the connection without a complete answer)",
        ),
        (httpx.ConnectTimeout("t", request=REQUEST), "(while connecting)"),
        (httpx.WriteTimeout("t", request=REQUEST), "(while sending the request)"),
        (httpx.PoolTimeout("t", request=REQUEST), "(while waiting for a free connection)"),
        (httpx.TimeoutException("t", request=REQUEST), "(timeout)"),
    ],
)
def test_each_transport_failure_says_where_it_happened(exception: httpx.RequestError, says: str) -> None:
    # Given a transport failure at one phase of the call
    # When the factory classifies it, Then its sentence names that phase
    error = error_from(exception)
    assert says in error.message


@pytest.mark.parametrize(
    ("detail", "kept"),
    [
        ("[Errno 111] Connection refused", True),
        ("", False),
        ("failed for https://api.example.test/x", False),
        ("GET /x?sign=1", False),
        ("bad signature", False),
        ("app_key=5", False),
    ],
)
def test_a_connection_failure_keeps_its_words_only_when_they_cannot_carry_a_url(
    detail: str, kept: bool
) -> None:
    # Given a connection failure whose text is harmless, empty, or could carry a URL, query or signature
    error = error_from(httpx.ConnectError(detail, request=REQUEST))
    # When classified, Then its words are kept only when harmless; its type is always named
    assert error.code == "engine_unreachable"
    assert "ConnectError" in error.message
    if kept:
        assert error.message == f"Could not reach the Aidge API (ConnectError: {detail})."
    else:
        assert error.message == "Could not reach the Aidge API (ConnectError)."


def test_a_long_connection_failure_is_cut_at_the_limit() -> None:
    # Given a harmless but very long connection failure text
    error = error_from(httpx.ConnectError("z" * 1000, request=REQUEST))
    # When classified, Then at most 300 of its characters are kept
    assert "z" * API_MESSAGE_MAX_CHARS in error.message
    assert "z" * (API_MESSAGE_MAX_CHARS + 1) not in error.message


def test_redacting_skips_empty_secrets_and_errors_without_an_api_text() -> None:
    # Given a transport error (no API text) and secrets, one of them empty
    error = error_from(httpx.ConnectError("[Errno 111] Connection refused", request=REQUEST))
    # When it is redacted
    cleaned = redacted(error, ("", "111"))
    # Then the secret is blanked, the empty one blanked nothing, and the args follow the message
    assert (
        cleaned.message
        == "Could not reach the Aidge API (ConnectError: [Errno [redacted]] Connection refused)."
    )
    assert cleaned.args == (cleaned.message,)
    assert cleaned.api_message is None


@pytest.mark.parametrize(
    ("res_code", "error_class", "words"),
    [
        (500, AidgeSystemError, "internal system error"),
        (501, AidgeRateLimitedError, "rate limit"),
        (700, AidgeInvalidInputError, "invalid input"),
        (801, AidgeModelFailedError, "model failed"),
        (1000, AidgeSensitiveContentError, "sensitive content"),
        (1001, AidgeContentCheckFailedError, "content check failed"),
        (1002, AidgeContentRiskFilterError, "content risk filter"),
    ],
)
def test_each_documented_res_code_is_its_own_error_and_sentence(
    res_code: int, error_class: type[EngineError], words: str
) -> None:
    # Given a failure with one of the resCodes the API reference documents
    error = error_from(json_response(failure_envelope(res_code, "x")))
    # When classified, Then it is that code's own class, with its own sentence
    assert type(error) is error_class
    assert error is not None
    assert words in error.message


@pytest.mark.parametrize("res_code", [-1, 0, 100, 199, 201, 499, 502, 699, 701, 800, 802, 999, 1003, 4000])
def test_the_neighbours_of_documented_res_codes_are_generic_refusals(res_code: int) -> None:
    # Given a failure whose resCode is next to a documented one (below or above), or below the success code
    error = error_from(json_response(failure_envelope(res_code, "something")))
    # When classified, Then it is a generic permanent refusal naming the code, never a success
    assert type(error) is AidgeApiError
    assert error is not None
    assert (error.code, error.retryable, error.paid) == (f"aidge_{res_code}", False, False)


@pytest.mark.parametrize("message", ["quota remaining: 10", "resources exhausted soon", "success"])
def test_a_billed_success_is_a_success_whatever_its_message_says(message: str) -> None:
    # Given a billed success (HTTP 200, success: true, resCode 200) whose message mentions the quota
    envelope = {**success_envelope(), "resMessage": message}
    # When classified, Then it is a usable success: never taken for an exhausted quota (and paid again)
    assert error_from(json_response(envelope)) is None


RESULT_ERRORS = [
    ResultUrlRefusedError,
    ResultTooLargeError,
    ResultNotAnImageError,
    ResultSizeMismatchError,
    ResultMissingAlphaError,
    ResultUnavailableError,
    ResultExpiredError,
    ResultGoneError,
]


@pytest.mark.parametrize("error_class", RESULT_ERRORS)
def test_every_result_download_error_says_the_call_was_billed(error_class: type[EngineError]) -> None:
    # Given an error of the result download, raised only after a billed success
    # When asked what it cost, Then it was billed: its units are never given back, its record says paid
    assert error_class.paid is True
    assert error_class("failed").paid is True
    assert error_class.code.startswith("result_")
