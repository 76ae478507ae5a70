"""The Aidge adapter: signed calls to ``/ai/image/cut/out`` and a safe download of the result.

Use ``AidgeClient(AidgeConfig(app_key=..., app_secret=...))``; see ``client.py`` for the
behaviour, ``errors.py`` for the stable error codes and ``retry.py`` for the retry table.
"""

from cutout.engine.aidge.client import ENGINE_NAME, AidgeClient, request_body
from cutout.engine.aidge.config import CHINA_HOST, GLOBAL_HOST, AidgeConfig, AidgeTimeouts, parse_allowlist
from cutout.engine.aidge.errors import (
    AidgeApiError,
    AidgeContentCheckFailedError,
    AidgeContentRiskFilterError,
    AidgeHttpError,
    AidgeHttpServerError,
    AidgeInvalidInputError,
    AidgeMalformedResponseError,
    AidgeModelFailedError,
    AidgeQuotaExhaustedError,
    AidgeRateLimitedError,
    AidgeSensitiveContentError,
    AidgeSystemError,
    AidgeUnauthorizedError,
    EngineAnswerLostError,
    EngineTimeoutError,
    EngineUnreachableError,
    ResultMissingAlphaError,
    ResultNotAnImageError,
    ResultSizeMismatchError,
    ResultTooLargeError,
    ResultUnavailableError,
    ResultUrlRefusedError,
    error_from,
)
from cutout.engine.aidge.retry import AIDGE_CALL_RETRY, RESULT_FETCH_RETRY, RetryPolicy, next_delay

__all__ = [
    "AIDGE_CALL_RETRY",
    "CHINA_HOST",
    "ENGINE_NAME",
    "GLOBAL_HOST",
    "RESULT_FETCH_RETRY",
    "AidgeApiError",
    "AidgeClient",
    "AidgeConfig",
    "AidgeContentCheckFailedError",
    "AidgeContentRiskFilterError",
    "AidgeHttpError",
    "AidgeHttpServerError",
    "AidgeInvalidInputError",
    "AidgeMalformedResponseError",
    "AidgeModelFailedError",
    "AidgeQuotaExhaustedError",
    "AidgeRateLimitedError",
    "AidgeSensitiveContentError",
    "AidgeSystemError",
    "AidgeTimeouts",
    "AidgeUnauthorizedError",
    "EngineAnswerLostError",
    "EngineTimeoutError",
    "EngineUnreachableError",
    "ResultMissingAlphaError",
    "ResultNotAnImageError",
    "ResultSizeMismatchError",
    "ResultTooLargeError",
    "ResultUnavailableError",
    "ResultUrlRefusedError",
    "RetryPolicy",
    "error_from",
    "next_delay",
    "parse_allowlist",
    "request_body",
]
