"""Whether this process is a Lambda function's: ``AWS_LAMBDA_RUNTIME_API``, which the Lambda runtime
(and SAM's emulator of it) sets in every function's process.

Its own module so that the start-up checks can ask without importing ``cutout.cold_start`` (which
builds the production pipeline through the entry point: the wiring must never reach that).
"""

from __future__ import annotations

import os

RUNTIME_API_VARIABLE = "AWS_LAMBDA_RUNTIME_API"


def in_lambda() -> bool:
    return bool(os.environ.get(RUNTIME_API_VARIABLE))
