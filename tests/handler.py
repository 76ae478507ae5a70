"""Load the Lambda handler the way Lambda does: from functions/process_upload/app.py."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

APP_PATH = Path(__file__).resolve().parent.parent / "functions" / "process_upload" / "app.py"


def load_lambda_handler() -> Callable[..., dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("process_upload_app", APP_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Callable[..., dict[str, Any]] = module.lambda_handler
    return handler
