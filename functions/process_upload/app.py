"""Lambda entry point: Powertools decorators and one call. The work lives in the `cutout` layer."""

from __future__ import annotations

from cutout import cold_start  # first: in Lambda, the garbage collector waits while the rest loads

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cutout.entrypoint import Pipeline, handle_event
from cutout.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, pipeline: Pipeline | None = None
) -> dict[str, Any]:
    return handle_event(event, context, pipeline)


cold_start.finish()  # in Lambda: the production pipeline built during Init, the collector back on
