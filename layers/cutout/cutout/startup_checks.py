"""Start-up checks: what must hold before the function may pay for anything, checked during Init.

A failed check raises ``StartupCheckFailed`` while the production pipeline is built (Lambda's Init,
``cutout.cold_start``): Init fails with the check's sentence in the log, no record is processed,
nothing is paid, and ``FunctionErrorsAlarm`` goes red. The checks:

1. **Conditional writes.** Every output PUT after the paid call is conditional (``If-None-Match: *``
   or ``If-Match``): with a botocore whose S3 model lacks those parameters, each would fail after
   paying. The layer ships no boto3 of its own (it uses the runtime's), so the runtime's model is
   what is checked.
2. **The pause's parameters exist.** The SSM parameters named by ``EVENT_SOURCE_MAPPING_PARAMETER``
   and ``BUDGET_PARAMETER`` (if set), and the event source mapping the first names. Without them a
   spent budget could not pause the pipeline (it would still wait, counted as ``PauseFailed``, but
   every record would be received again and again).
"""

from __future__ import annotations

from typing import Any

CONDITIONAL_PUT_PARAMETERS = ("IfNoneMatch", "IfMatch")


class StartupCheckFailed(RuntimeError):  # noqa: N818  (what Init fails with)
    """A start-up check failed: the function must not run (nothing would be paid for)."""


def check_conditional_puts(s3: Any) -> None:
    """The S3 client's model knows PutObject's ``IfNoneMatch`` and ``IfMatch``."""
    import botocore

    members = s3.meta.service_model.operation_model("PutObject").input_shape.members
    missing = [name for name in CONDITIONAL_PUT_PARAMETERS if name not in members]
    if missing:
        raise StartupCheckFailed(
            f"cutout cannot start: the runtime's botocore {botocore.__version__} does not know "
            f"PutObject's {' and '.join(missing)} (S3 conditional writes), which every output write "
            "uses; it would fail after the paid call. Use a newer Lambda runtime, or ship boto3 and "
            "botocore in the layer (layers/cutout/requirements.txt)."
        )


def _error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    return str(((response or {}).get("Error") or {}).get("Code") or "") if isinstance(response, dict) else ""


def check_parameter(ssm: Any, name: str, setting: str) -> str:
    """The SSM parameter ``name`` (named by the setting ``setting``) exists; returns its value."""
    try:
        return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except Exception as error:
        raise StartupCheckFailed(
            f"cutout cannot start: the SSM parameter {name} ({setting}) cannot be read "
            f"({_error_code(error) or type(error).__name__}); it is part of the stack: redeploy it, "
            "or check the function role's ssm:GetParameter."
        ) from error


def check_mapping(lambdas: Any, uuid: str, parameter: str) -> None:
    """The event source mapping ``uuid`` (read from ``parameter``) exists and can be read."""
    try:
        lambdas.get_event_source_mapping(UUID=uuid)
    except Exception as error:
        raise StartupCheckFailed(
            f"cutout cannot start: the event source mapping {uuid} named by {parameter} cannot be read "
            f"({_error_code(error) or type(error).__name__}); without it a spent budget cannot pause "
            "the pipeline: redeploy the stack, or check the role's lambda:GetEventSourceMapping."
        ) from error


def run_startup_checks(settings: Any, *, s3: Any, ssm: Any, lambdas: Any, remote: bool | None = None) -> None:
    """Every check above, for ``settings``; raises ``StartupCheckFailed`` at the first that fails.

    ``remote`` (default: in Lambda, ``cutout.lambda_runtime.in_lambda``): also the checks that call
    AWS (SSM, Lambda). They build the SSM and Lambda clients during Init (5-20 ms each, once per
    execution environment, and a call each), which the wiring otherwise leaves to the first pause;
    outside Lambda (tests, the local stack, tools) they are left out.
    """
    from cutout.lambda_runtime import in_lambda

    check_conditional_puts(s3)
    if not (in_lambda() if remote is None else remote):
        return
    if settings.event_source_mapping_parameter:
        uuid = check_parameter(ssm, settings.event_source_mapping_parameter, "EVENT_SOURCE_MAPPING_PARAMETER")
        check_mapping(lambdas, uuid, settings.event_source_mapping_parameter)
    if settings.budget_parameter:
        from cutout.spending.caps import BudgetCapsError, parse_caps

        value = check_parameter(ssm, settings.budget_parameter, "BUDGET_PARAMETER")
        try:
            parse_caps(value, where=f"SSM parameter {settings.budget_parameter}")
        except BudgetCapsError as error:
            raise StartupCheckFailed(f"cutout cannot start: {error}") from error
