"""What the Lambda handler calls: pick the event's path and give it the pipeline's ports.

Ports are optional: production passes nothing and gets the AWS adapters, built once per process
(cold start) from the validated settings; tests pass in-memory fakes.
"""

from __future__ import annotations

import threading
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cutout.pipeline.assembly import Pipeline
from cutout.pipeline.batch import handle_direct_event, handle_sqs_batch
from cutout.settings import Settings

__all__ = ["Pipeline", "default_pipeline", "handle_event", "resume_if_budget_allows"]


_default_pipeline: Pipeline | None = None
_default_lock = threading.Lock()


def default_pipeline() -> Pipeline:
    """The production pipeline, validated and built on first use, then reused by warm invocations."""
    global _default_pipeline  # noqa: PLW0603  (one set of clients per Lambda execution environment)
    with _default_lock:
        if _default_pipeline is None:
            from cutout.wiring import aws_pipeline  # boto3 and friends load only when needed

            _default_pipeline = aws_pipeline(Settings.from_env())
        return _default_pipeline


RESUME_EVENT_KEY = "cutout"


def resume_if_budget_allows(
    pipeline: Pipeline, *, by: str, context: LambdaContext | None = None
) -> dict[str, Any]:
    """Enable the event source again if cutout paused it and the current period's budget has room."""
    from cutout.spending.schedule import scheduled_resume  # issue 24: marker, Paused metric, backlog

    remaining = context.get_remaining_time_in_millis() / 1000.0 if context is not None else None
    return scheduled_resume(pipeline.spending, pipeline.pauser, by=by, remaining_seconds=remaining)


def is_sqs_batch(event: dict[str, Any]) -> bool:
    records = event.get("Records") or []
    return bool(records) and all(record.get("eventSource") == "aws:sqs" for record in records)


def handle_event(
    event: dict[str, Any], context: LambdaContext, pipeline: Pipeline | None = None
) -> dict[str, Any]:
    pipeline = pipeline or default_pipeline()
    if event.get(RESUME_EVENT_KEY) == "resume":  # the template's schedule, or `cutout resume`
        return resume_if_budget_allows(pipeline, by=str(event.get("by") or "schedule"), context=context)
    if is_sqs_batch(event):
        return handle_sqs_batch(
            event,
            context,
            processor=pipeline.processor,
            dead_letter_queue=pipeline.dead_letter_queue,
            max_receive_count=pipeline.settings.max_receive_count,
            max_workers=pipeline.settings.record_concurrency,
            retry_schedule=pipeline.retry_schedule(),
            visibility=pipeline.message_visibility,
            pauser=pipeline.pauser,
            governor=pipeline.governor,
        )
    return handle_direct_event(event, context, pipeline.processor)
