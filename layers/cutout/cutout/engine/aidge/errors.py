"""The Aidge errors, and the one factory that turns an answer or a transport failure into one.

Every class fixes a stable ``code`` (a DLQ reason and a metric dimension: never rename one) and
whether it is retryable. ``error_from`` is the only place that decides which error an Aidge
answer stands for, so the table in the module docs and the behaviour cannot drift apart:

=====================================  ===========================  =========
answer                                 code                         retryable
=====================================  ===========================  =========
"resources have been exhausted"        ``aidge_quota_exhausted``    no
HTTP 401 / 403, gateway auth errors    ``aidge_unauthorized``       no
HTTP 429, resCode 501                  ``aidge_rate_limited``       yes
resCode 500                            ``aidge_500``                yes
resCode 700 (names the field)          ``aidge_700``                no
resCode 801                            ``aidge_801``                yes (few)
resCode 1000 (sensitive content)       ``aidge_1000``               no
resCode 1001                           ``aidge_1001``               yes (few)
resCode 1002                           ``aidge_1002``               no
any other resCode                      ``aidge_<resCode>``          no
HTTP 502 / 504 without an envelope    ``engine_answer_lost``       yes, never
                                                                    re-sent in the call
other HTTP 5xx                         ``aidge_http_5xx``           yes
other non-2xx                          ``aidge_http_<status>``      no
2xx, JSON, neither success nor error   ``aidge_malformed_response`` yes
2xx whose body is not JSON (cut off)   ``engine_answer_lost``       yes, never
                                                                    re-sent in the call
success without data.imageUrl          ``aidge_billed_without_result``  no (billed)
connect / write / pool timeout         ``engine_timeout``           yes
request sent, answer lost (read        ``engine_answer_lost``       yes, never
timeout, reset, dropped connection)                                 re-sent in the call
connection failure                     ``engine_unreachable``       yes
=====================================  ===========================  =========

**Billed** is any envelope with ``success: true`` and ``resCode: 200``, whatever else it holds:
such an answer is never sent again. An answer that may have been billed but could not be read
(``engine_answer_lost``) is not sent again within the invocation; the message goes back to the
queue, and only that case may ever lead to a second bill (``PossiblyBilledTwice``).
Each error's ``paid`` says what the failure cost: ``True`` billed, ``None`` possibly billed,
``False`` not billed (the pipeline marks any failure after a stored receipt as paid). The
result-download errors (``result_*``) are raised only after a billed success, so they say ``True``.
The spending guard gives a reservation back exactly when ``paid`` is ``False``
(``cutout.spending.guard.RELEASE_BY_PAID``).

Messages are built from Aidge's answer and our own words, never from the request: no secret, no
signature, no URL. The result-download errors (``result_*``) live here too, so the whole tree
can be imported from one module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, overload

import httpx

from cutout.engine.aidge.envelope import (
    SUCCESS_RES_CODE,
    cut_out_data,
    is_success,
    message_of,
    parse_envelope,
    request_id_of,
    res_code_of,
)
from cutout.engine.errors import EngineError, PermanentEngineError, RetryableEngineError

API_MESSAGE_MAX_CHARS = 300

# --- answers from the Aidge API ---------------------------------------------------------------


class AidgeSystemError(RetryableEngineError):
    """resCode 500: Aidge had an internal error."""

    code = "aidge_500"


class AidgeRateLimitedError(RetryableEngineError):
    """resCode 501 or HTTP 429: too many calls for this key; slow down."""

    code = "aidge_rate_limited"


class AidgeInvalidInputError(PermanentEngineError):
    """resCode 700: a request field is wrong; ``api_message`` names it."""

    code = "aidge_700"


class AidgeModelFailedError(RetryableEngineError):
    """resCode 801: the model failed on this call; worth one more try."""

    code = "aidge_801"


class AidgeSensitiveContentError(PermanentEngineError):
    """resCode 1000: the image has sensitive content; Aidge will not process it."""

    code = "aidge_1000"


class AidgeContentCheckFailedError(RetryableEngineError):
    """resCode 1001: the content check itself failed; worth one more try."""

    code = "aidge_1001"


class AidgeContentRiskFilterError(PermanentEngineError):
    """resCode 1002: the content risk filter failed; needs Aidge support."""

    code = "aidge_1002"


class AidgeApiError(PermanentEngineError):
    """Any other resCode; the instance's ``code`` is ``aidge_<resCode>``."""

    code = "aidge_error"


class AidgeQuotaExhaustedError(PermanentEngineError):
    """No calling resources left (trial used up, nothing bought): retrying cannot help."""

    code = "aidge_quota_exhausted"


class AidgeUnauthorizedError(PermanentEngineError):
    """The key, the secret or the signature was refused."""

    code = "aidge_unauthorized"


class AidgeHttpServerError(RetryableEngineError):
    """An HTTP 5xx without a usable Aidge envelope (a gateway or load balancer answered)."""

    code = "aidge_http_5xx"


class AidgeHttpError(PermanentEngineError):
    """Another non-2xx HTTP status; the instance's ``code`` is ``aidge_http_<status>``."""

    code = "aidge_http_error"


class AidgeMalformedResponseError(RetryableEngineError):
    """The answer was not JSON, or a success without the result."""

    code = "aidge_malformed_response"


class EngineTimeoutError(RetryableEngineError):
    """The engine did not answer in time (or no time was left to call it)."""

    code = "engine_timeout"


class AidgeBilledWithoutResultError(PermanentEngineError):
    """A billed success (``success: true``, ``resCode: 200``) without ``data.imageUrl``.

    Paid, and nothing to fetch: never sent again by itself (``cutout dlq replay --repay`` does,
    on purpose).
    """

    code = "aidge_billed_without_result"
    paid: ClassVar[bool | None] = True


class EngineAnswerLostError(RetryableEngineError):
    """The request reached the API but its answer did not arrive (read timeout, reset, dropped).

    The API may have done the work and billed it, so the call is not re-sent within this
    invocation (see ``retry.AIDGE_CALL_RETRY``): the message goes back to the queue instead,
    and the client waits for answers as long as its deadline allows to make this rare.
    """

    code = "engine_answer_lost"
    paid: ClassVar[bool | None] = None  # possibly billed


class EngineUnreachableError(RetryableEngineError):
    """No connection to the engine could be made or kept."""

    code = "engine_unreachable"


# --- downloading the result (data.imageUrl) ---------------------------------------------------


class ResultUrlRefusedError(PermanentEngineError):
    """The result URL points somewhere we never fetch from (scheme, address class, redirect)."""

    code = "result_url_refused"
    paid: ClassVar[bool | None] = True  # downloads follow a billed success


class ResultTooLargeError(PermanentEngineError):
    """The result is larger than the configured cap."""

    code = "result_too_large"
    paid: ClassVar[bool | None] = True  # downloads follow a billed success


class ResultNotAnImageError(PermanentEngineError):
    """The result is not a PNG, JPEG or WebP image."""

    code = "result_not_an_image"
    paid: ClassVar[bool | None] = True  # downloads follow a billed success


class ResultSizeMismatchError(PermanentEngineError):
    """The result's pixel size differs from what Aidge reported.

    No longer raised: such a result is paid for, so it is stored and flagged
    (``result-size-mismatch`` metadata). Kept so the code of older DLQ records stays known.
    """

    code = "result_size_mismatch"
    paid: ClassVar[bool | None] = True  # downloads follow a billed success


class ResultMissingAlphaError(PermanentEngineError):
    """A transparent background was asked for, and the result has no alpha channel."""

    code = "result_missing_alpha"
    paid: ClassVar[bool | None] = True  # downloads follow a billed success


class ResultUnavailableError(RetryableEngineError):
    """The result could not be fetched right now (404, 5xx, timeout, DNS); fetching is free to retry.

    ``status`` is the HTTP status the result host answered, when it answered one.
    """

    code = "result_unavailable"
    paid: ClassVar[bool | None] = True  # downloads follow a billed success

    def __init__(self, message: str, *, status: int | None = None, **facts: Any) -> None:
        super().__init__(message, **facts)
        self.status = status


class ResultExpiredError(PermanentEngineError):
    """The signed result URL is past its ``Expires`` (or the host says so): fetching cannot succeed.

    The call was paid; ``cutout dlq replay --repay`` pays again, on purpose.
    """

    code = "result_expired"
    paid: ClassVar[bool | None] = True  # downloads follow a billed success


class ResultGoneError(PermanentEngineError):
    """The result host refuses the result for good (403 Forbidden, or still 404/410 after retries).

    The call was paid; ``cutout dlq replay --repay`` pays again, on purpose.
    """

    code = "result_gone"
    paid: ClassVar[bool | None] = True  # downloads follow a billed success


# --- the factory ------------------------------------------------------------------------------

_URL_PATTERN = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
# The query parameters of a signed URL (S3 SigV4/V2, OSS v1/v4), also when echoed without their URL.
_SIGNED_PARAMETER_PATTERN = re.compile(
    r"\b(?:X-Amz-[A-Za-z-]+|X-Oss-[A-Za-z-]+|Signature|OSSAccessKeyId|AWSAccessKeyId|Expires"
    r"|security-token)=[^\s&;,)]*",
    re.IGNORECASE,
)
_QUOTA_PATTERN = re.compile(r"exhaust|quota|insufficient (?:balance|resource)", re.IGNORECASE)
# Gateway-level codes (the IOP gateway answers with ``code``/``message`` and no ``resCode``).
_GATEWAY_AUTH_PATTERN = re.compile(r"sign|appkey|app_key|accesstoken|unauthori|forbidden", re.IGNORECASE)
_GATEWAY_LIMIT_PATTERN = re.compile(r"limit|throttl|flow ?control", re.IGNORECASE)

_BY_RES_CODE: dict[int, tuple[type[EngineError], str]] = {
    500: (AidgeSystemError, "Aidge had an internal system error; the call can be retried."),
    501: (AidgeRateLimitedError, "Aidge's rate limit for this key was exceeded; retry more slowly."),
    801: (AidgeModelFailedError, "Aidge's model failed on this call; one more try may succeed."),
    1000: (
        AidgeSensitiveContentError,
        "Aidge found sensitive content in the image and will not process it; try another image.",
    ),
    1001: (AidgeContentCheckFailedError, "Aidge's content check failed; one more try may succeed."),
    1002: (
        AidgeContentRiskFilterError,
        "Aidge's content risk filter failed for this image; this needs Aidge support.",
    ),
}


def _trimmed(text: str | None) -> str | None:
    """An API-provided text on one line, without URLs or signed-URL parameters, and not too long."""
    if text is None:
        return None
    text = _URL_PATTERN.sub("[url]", " ".join(text.split()))
    text = _SIGNED_PARAMETER_PATTERN.sub("[signed parameter]", text)
    return text if len(text) <= API_MESSAGE_MAX_CHARS else text[: API_MESSAGE_MAX_CHARS - 1] + "…"


def _safe_detail(exc: Exception) -> str:
    """The exception's words if they cannot carry a URL or query, else only its type."""
    detail = " ".join(str(exc).split())
    if not detail or any(marker in detail for marker in ("://", "?", "sign", "=")):
        return type(exc).__name__
    return f"{type(exc).__name__}: {detail[:API_MESSAGE_MAX_CHARS]}"


_ANSWER_LOST_PHASES: dict[type[Exception], str] = {
    httpx.ReadTimeout: "no answer in time",
    httpx.ReadError: "the connection broke while reading the answer",
    httpx.RemoteProtocolError: "the server closed the connection without a complete answer",
}


def _from_request_error(exc: httpx.RequestError) -> EngineError:
    if isinstance(exc, httpx.DecodingError):
        return EngineAnswerLostError(
            "The Aidge API's answer arrived but could not be decoded (bad content encoding); it may "
            "have been billed, so it is not sent again in this invocation."
        )
    if isinstance(exc, httpx.ReadTimeout | httpx.ReadError | httpx.RemoteProtocolError):
        return EngineAnswerLostError(
            "The Aidge API received the request but its answer did not arrive "
            f"({_ANSWER_LOST_PHASES.get(type(exc), 'connection lost')}); it may have been billed, "
            "so it is not sent again in this invocation."
        )
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "while connecting",
            httpx.ReadTimeout: "while waiting for the answer",
            httpx.WriteTimeout: "while sending the request",
            httpx.PoolTimeout: "while waiting for a free connection",
        }.get(type(exc), "")
        return EngineTimeoutError(f"The Aidge API did not answer in time ({phase or 'timeout'}).")
    return EngineUnreachableError(f"Could not reach the Aidge API ({_safe_detail(exc)}).")


@dataclass(frozen=True, slots=True)
class _Facts:
    """What an answer tells about itself, whatever went wrong."""

    api_code: int | None = None
    api_message: str | None = None
    request_id: str | None = None

    @classmethod
    def of(cls, envelope: dict[str, Any] | None) -> _Facts:
        if envelope is None:
            return cls()
        return cls(
            api_code=res_code_of(envelope),
            api_message=_trimmed(message_of(envelope)),
            request_id=request_id_of(envelope),
        )

    def as_kwargs(self) -> dict[str, Any]:
        return {"api_code": self.api_code, "api_message": self.api_message, "request_id": self.request_id}


def _from_res_code(res_code: int, facts: _Facts) -> EngineError:
    if res_code == 700:
        return AidgeInvalidInputError(
            f"Aidge rejected the request as invalid input: {facts.api_message or 'no field named'}.",
            **facts.as_kwargs(),
        )
    known = _BY_RES_CODE.get(res_code)
    if known is not None:
        error_class, sentence = known
        return error_class(sentence, **facts.as_kwargs())
    return AidgeApiError(
        f"Aidge refused the call with error {res_code}: {facts.api_message or 'no message'}.",
        code=f"aidge_{res_code}",
        **facts.as_kwargs(),
    )


def _from_gateway_code(gateway_code: object, facts: _Facts) -> EngineError | None:
    """Gateway answers carry a string ``code`` and no ``resCode``; only two kinds are recognised."""
    if not isinstance(gateway_code, str) or gateway_code in ("", "0"):
        return None
    if _GATEWAY_AUTH_PATTERN.search(gateway_code):
        return AidgeUnauthorizedError(
            f"The Aidge gateway refused the credentials ({_trimmed(gateway_code)}); check the app key, "
            "the secret and the clock.",
            **facts.as_kwargs(),
        )
    if _GATEWAY_LIMIT_PATTERN.search(gateway_code):
        return AidgeRateLimitedError(
            f"The Aidge gateway rate-limited the call ({_trimmed(gateway_code)}); retry more slowly.",
            **facts.as_kwargs(),
        )
    return None


def _from_http_status(status: int, facts: _Facts) -> EngineError:
    if status in (401, 403):
        return AidgeUnauthorizedError(
            f"Aidge refused the credentials (HTTP {status}); check the app key, the secret and the clock.",
            **facts.as_kwargs(),
        )
    if status == 429:
        return AidgeRateLimitedError(
            f"Aidge rate-limited the call (HTTP {status}); retry more slowly.", **facts.as_kwargs()
        )
    if status in (502, 504):
        return EngineAnswerLostError(
            f"A gateway answered HTTP {status} after the request was sent: the API may have done the "
            "work and billed it, so it is not sent again in this invocation.",
            **facts.as_kwargs(),
        )
    if status >= 500:
        return AidgeHttpServerError(
            f"The Aidge API answered HTTP {status}; the call can be retried.", **facts.as_kwargs()
        )
    return AidgeHttpError(
        f"The Aidge API answered HTTP {status}.", code=f"aidge_http_{status}", **facts.as_kwargs()
    )


def _from_failed_envelope(status: int, envelope: dict[str, Any], facts: _Facts) -> EngineError | None:
    """A failure the envelope explains (quota, auth, rate limit, resCode, gateway code), if any."""
    raw_message = message_of(envelope)
    if raw_message and _QUOTA_PATTERN.search(raw_message):
        return AidgeQuotaExhaustedError(
            "The Aidge account has no calling resources left (trial quota used up or no plan "
            "bought); buy or renew a plan, or use the trial header.",
            **facts.as_kwargs(),
        )
    if status in (401, 403, 429):
        return _from_http_status(status, facts)
    if facts.api_code is not None and facts.api_code != SUCCESS_RES_CODE:
        return _from_res_code(facts.api_code, facts)
    if facts.api_code is None:
        return _from_gateway_code(envelope.get("code"), facts)
    return None


def _malformed_success(envelope: dict[str, Any] | None, facts: _Facts) -> EngineError | None:
    """For an HTTP 2xx: ``None`` if it is a usable success, else why it is malformed."""
    if envelope is None:
        return EngineAnswerLostError(
            "The Aidge API answered HTTP 2xx with a body that is not a JSON object (cut off or garbled): "
            "it may have been billed, so it is not sent again in this invocation."
        )
    if not is_success(envelope):
        return AidgeMalformedResponseError(
            "The Aidge API answered neither a success nor an error it documents.", **facts.as_kwargs()
        )
    if cut_out_data(envelope) is None:
        return AidgeBilledWithoutResultError(
            "The Aidge API reported success (billed) without data.imageUrl: there is no result to fetch, "
            "and the call is not sent again (cutout dlq replay --repay pays once more, on purpose).",
            **facts.as_kwargs(),
        )
    return None


@overload
def error_from(outcome: httpx.RequestError) -> EngineError: ...
@overload
def error_from(outcome: httpx.Response) -> EngineError | None: ...
def error_from(outcome: httpx.Response | httpx.RequestError) -> EngineError | None:
    """The error an Aidge answer or a request failure stands for; ``None`` for a usable success.

    A response must have been read (``response.content`` available). A success is usable when it
    is HTTP 2xx, ``success: true``, ``resCode: 200`` and carries ``data.imageUrl`` (``width`` and
    ``height`` are optional). Precedence follows the table in the module docs: what the envelope says (quota,
    then auth/rate-limit statuses, then resCode), then the HTTP status, then the success checks.
    """
    if isinstance(outcome, httpx.RequestError):
        return _from_request_error(outcome)
    envelope = parse_envelope(outcome.content)
    facts = _Facts.of(envelope)
    if envelope is not None and (not is_success(envelope) or not outcome.is_success):
        explained = _from_failed_envelope(outcome.status_code, envelope, facts)
        if explained is not None:
            return explained
    if not outcome.is_success:
        return _from_http_status(outcome.status_code, facts)
    return _malformed_success(envelope, facts)


def redacted(error: EngineError, secrets: tuple[str, ...]) -> EngineError:
    """``error`` with any of ``secrets`` (the app secret, a signature) blanked out of its text.

    A belt-and-braces pass: messages are never built from request values, but an API could echo
    one back in ``resMessage``.
    """
    for secret in (s for s in secrets if s):
        error.message = error.message.replace(secret, "[redacted]")
        if error.api_message:
            error.api_message = error.api_message.replace(secret, "[redacted]")
    error.args = (error.message,)
    return error
