"""The cold start in Lambda: the pipeline built during Init, without the garbage collector's rescans.

Loading the function (our modules, botocore's service models for the clients, the validated settings)
makes a few hundred thousand objects that live as long as the execution environment. CPython's
cyclic collector, driven by allocation counts, scans them again and again while they are being
made (a full collection in the middle of the imports, over a hundred young ones): about an eighth of
the init's CPU, and a full collection right after it finds no garbage (docs/observability.md,
"Cold start"). So, in Lambda only:

- ``pause()`` (the handler module's first import) stops the collector;
- ``finish()`` (the handler module's last statement) builds the production pipeline, so that its
  clients and validated configuration are made during Lambda's Init phase (a bad configuration
  fails Init, and a SnapStart snapshot holds the built pipeline) instead of in the first
  invocation; then it moves everything alive into the permanent generation (``gc.freeze``: later
  collections, warm invocations' included, never scan it again) and turns the collector back on.

Outside Lambda (tests, tools, the local stack's in-process functions) both do nothing. "In Lambda"
is ``AWS_LAMBDA_RUNTIME_API``, which the Lambda runtime (and SAM's emulator of it) sets in every
function's process.
"""

from __future__ import annotations

import gc

from cutout.lambda_runtime import RUNTIME_API_VARIABLE, in_lambda

__all__ = ["RUNTIME_API_VARIABLE", "finish", "in_lambda", "pause"]


def pause() -> None:
    """Stop the cyclic collector while the function loads (in Lambda)."""
    if in_lambda():
        gc.disable()


def finish() -> None:
    """Build the production pipeline, freeze what init made, collector back on (in Lambda)."""
    if not in_lambda():
        return
    try:
        from cutout.entrypoint import default_pipeline

        default_pipeline()
    finally:
        gc.freeze()
        gc.enable()


pause()  # the handler module imports this module first, before anything heavy
