"""The JSON Schemas of cutout's EventBridge events (``schemas/events/``), for tests to validate against."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas" / "events"


def schema_file(detail_type: str) -> Path:
    """``Cutout Image Needs Review`` → ``schemas/events/cutout-image-needs-review.json``."""
    return SCHEMAS_DIR / (detail_type.lower().replace(" ", "-") + ".json")


@cache
def validator(detail_type: str) -> Draft202012Validator:
    schema = json.loads(schema_file(detail_type).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def validation_errors(detail_type: str, detail: dict[str, Any]) -> list[str]:
    """Every way ``detail`` breaks its detail-type's schema (empty when it is valid)."""
    return [
        f"{list(error.absolute_path)}: {error.message}"
        for error in validator(detail_type).iter_errors(detail)
    ]
