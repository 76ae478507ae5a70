"""The local stack: template.yaml deployed into moto, the emulator, and a local event source mapping.

``LocalStack`` (stack.py) is the API the CLI (``cutout local up|run``), the e2e tests and the soak
test use; ``deploy.py`` deploys the template and applies what moto skips; ``poller.py`` plays the
SQS event source mapping; ``lambda_runtime.py`` builds Lambda's event and context.

Names load on first use: the CLI imports ``command`` from this package for every ``--help``, and
``LocalStack`` pulls in moto, boto3 and the SAM translator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cutout_tools.local_stack.defaults import DEFAULT_PORT, DEFAULT_REGION, DEFAULT_STACK_NAME

if TYPE_CHECKING:
    from cutout_tools.local_stack.poller import BatchOutcome, EventSourcePoller
    from cutout_tools.local_stack.stack import LocalStack

_LAZY = {
    "LocalStack": "cutout_tools.local_stack.stack",
    "EventSourcePoller": "cutout_tools.local_stack.poller",
    "BatchOutcome": "cutout_tools.local_stack.poller",
}

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_REGION",
    "DEFAULT_STACK_NAME",
    "BatchOutcome",
    "EventSourcePoller",
    "LocalStack",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
