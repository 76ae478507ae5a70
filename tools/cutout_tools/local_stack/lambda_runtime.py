"""What Lambda's SQS event source mapping hands the function, rebuilt locally.

``sqs_event_from_messages`` turns messages received with ``ReceiveMessage`` into the exact event
shape Lambda delivers (``Records`` with ``messageId``, ``receiptHandle``, ``body``, ``attributes``,
``eventSource: aws:sqs``, ``eventSourceARN``, ...). ``LocalLambdaContext`` is a Lambda-like context
whose remaining time counts down from the function's timeout.
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LambdaHandler = Callable[..., Any]


def load_handler(code_dir: Path, handler: str) -> LambdaHandler:
    """The function ``handler`` (``module.function``, as in the template) loaded from ``code_dir``.

    Like Lambda: the module is read from its file in the function's code directory, not imported
    from wherever the package happens to be installed.
    """
    module_name, _, function_name = handler.rpartition(".")
    if not module_name or not function_name:
        raise ValueError(f"Handler {handler!r} is not module.function")
    path = Path(code_dir) / (module_name.replace(".", "/") + ".py")
    spec = importlib.util.spec_from_file_location(f"cutout_local_function_{module_name}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot load the function's module from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    loaded: Any = getattr(module, function_name, None)
    if not callable(loaded):
        raise TypeError(f"{path} has no function {function_name}")
    function: LambdaHandler = loaded
    return function


def sqs_event_from_messages(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS event as Lambda builds it from ``ReceiveMessage`` results (with all attributes)."""
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
                    "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
                    "ApproximateFirstReceiveTimestamp": attributes.get(
                        "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
                    ),
                },
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody")
                or hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


@dataclass
class LocalLambdaContext:
    """The parts of ``LambdaContext`` the handler and Powertools use."""

    function_name: str = "ProcessUploadFunction"
    memory_limit_in_mb: int = 256
    timeout_seconds: float = 120.0
    region: str = "us-east-1"
    account_id: str = "123456789012"
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/ProcessUploadFunction"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))
