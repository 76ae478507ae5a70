"""The function's configuration: a typed model of its environment, validated once at start.

The names are the environment variables ``template.yaml`` sets on the function; the local stack
reads the same names from the template, so they are written down once here and once there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from cutout.engine.port import TARGET_SIDE_MAX, TARGET_SIDE_MIN, Background

GLOBAL_API_HOST = "api.aidc-ai.com"
# Admits a 45 MP camera JPEG at its finest quality or HEIC (measured: docs/benchmarks.md, "Object-size cap").
MAX_OBJECT_BYTES_DEFAULT = 60 * 1024 * 1024
# The pixel ceiling, from the header before decoding: a 45 MP camera (8256x5504) passes.
MAX_SOURCE_PIXELS_DEFAULT = 50_000_000


class SourceMode(StrEnum):
    """How the engine gets the image: a presigned GET URL (bytes never pass through) or base64."""

    URL = "url"
    BASE64 = "base64"


TargetSide = Annotated[int, Field(ge=0, le=TARGET_SIDE_MAX)]


def _comma_separated(value: object) -> object:
    """``"30,120,480"`` (as an environment variable holds it) → ``(30, 120, 480)``."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


DelaySteps = Annotated[
    tuple[Annotated[int, Field(ge=0, le=43200)], ...], BeforeValidator(_comma_separated), Field(min_length=1)
]


class Settings(BaseModel):
    """Environment of the processing function. ``0`` target sizes mean "keep the input's size"."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    output_bucket: str = Field(alias="OUTPUT_BUCKET", min_length=3)
    dead_letter_queue_url: str = Field(alias="DEAD_LETTER_QUEUE_URL", min_length=1)
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=1)
    aidge_secret_name: str = Field(alias="AIDGE_SECRET_NAME", min_length=1)
    aidge_api_host: str = Field(alias="AIDGE_API_HOST", default=GLOBAL_API_HOST)
    aidge_trial: bool = Field(alias="AIDGE_TRIAL", default=False)
    # The only non-public addresses a result download may reach: comma-separated IP addresses or
    # networks (the emulator's loopback address locally). Empty in production. Never a scheme rule.
    result_url_allowlist: str = Field(alias="RESULT_URL_ALLOWLIST", default="")
    # http result URLs (the API reference's sample is one): upgrade-then-http | upgrade | https-only.
    result_url_policy: str = Field(
        alias="RESULT_URL_POLICY",
        default="upgrade-then-http",
        pattern="^(upgrade-then-http|upgrade|https-only)$",
    )
    # Scheme of the API endpoint: https in production, http for the local emulator.
    aidge_api_scheme: str = Field(alias="AIDGE_API_SCHEME", default="https", pattern="^https?$")
    background: Background = Field(alias="BACKGROUND_TYPE", default=Background.TRANSPARENT)
    target_width: TargetSide = Field(alias="TARGET_WIDTH", default=0)
    target_height: TargetSide = Field(alias="TARGET_HEIGHT", default=0)
    source_mode: SourceMode = Field(alias="SOURCE_MODE", default=SourceMode.URL)
    max_object_bytes: int = Field(alias="MAX_OBJECT_BYTES", default=MAX_OBJECT_BYTES_DEFAULT, gt=0)
    # The work queue's redrive maxReceiveCount: on that receive a transient failure goes to the DLQ.
    max_receive_count: int = Field(alias="MAX_RECEIVE_COUNT", default=5, ge=1)
    # Attempts that really ran (counted beside the outcome) before a transient failure is final.
    max_attempts: int = Field(alias="MAX_ATTEMPTS", default=3, ge=1)
    record_concurrency: int = Field(alias="RECORD_CONCURRENCY", default=10, ge=1, le=50)
    presigned_url_ttl_seconds: int = Field(alias="PRESIGNED_URL_TTL_SECONDS", default=300, ge=30, le=3600)
    skip_unchanged: bool = Field(alias="SKIP_UNCHANGED_REUPLOADS", default=True)
    # The spending cap in API usage units per UTC day / month; 0 = no cap (template: DailyBudget…).
    daily_budget: int = Field(alias="DAILY_BUDGET", default=0, ge=0)
    monthly_budget: int = Field(alias="MONTHLY_BUDGET", default=0, ge=0)
    budget_units_per_call: int = Field(alias="BUDGET_UNITS_PER_CALL", default=1, ge=1)
    # The work queue, for pausing (its event source mapping) and re-enqueueing a paused last receive.
    # (its id is in an SSM parameter: the template cannot put it in the function's own environment).
    event_source_mapping_parameter: str = Field(alias="EVENT_SOURCE_MAPPING_PARAMETER", default="")
    work_queue_url: str = Field(alias="WORK_QUEUE_URL", default="")
    # The EventBridge bus completion events go to ("default" or a bus name); empty: no events.
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", default="")
    # Normalisation (cutout.normalisation): the pixel ceiling, privacy and the passthrough switch.
    max_source_pixels: int = Field(alias="MAX_SOURCE_PIXELS", default=MAX_SOURCE_PIXELS_DEFAULT, gt=0)
    normalise_gps_images: bool = Field(alias="NORMALISE_GPS_IMAGES", default=False)
    passthrough_cutouts: bool = Field(alias="PASSTHROUGH_CUTOUTS", default=True)
    # Where normalised images wait for the API to fetch them (URL mode); empty: they are sent as base64.
    staging_bucket: str = Field(alias="STAGING_BUCKET", default="")
    # The retry schedule (cutout.redelivery): seconds until a failed message's next receive, by
    # receive count; longer steps for a rate limit; ± jitter; capped below the queue's visibility timeout.
    retry_backoff_seconds: DelaySteps = Field(alias="RETRY_BACKOFF_SECONDS", default=(30, 120, 480))
    rate_limit_backoff_seconds: DelaySteps = Field(
        alias="RATE_LIMIT_BACKOFF_SECONDS", default=(120, 480, 900)
    )
    retry_jitter: float = Field(alias="RETRY_JITTER", default=0.2, ge=0.0, lt=1.0)
    work_queue_visibility_timeout: int = Field(alias="WORK_QUEUE_VISIBILITY_TIMEOUT", default=1020, ge=1)
    # The deliverables (docs/profiles.md): a profiles file, relative to the function's code
    # (LAMBDA_TASK_ROOT) unless absolute; the template sets `profiles.toml` by default. Empty: the
    # single cut-out mode, one cut-out per upload at the source's key, as BACKGROUND_TYPE and
    # TARGET_WIDTH/HEIGHT say.
    profiles_file: str = Field(alias="PROFILES_FILE", default="")

    @field_validator("target_width", "target_height")
    @classmethod
    def _target_in_range(cls, value: int) -> int:
        if value != 0 and not TARGET_SIDE_MIN <= value <= TARGET_SIDE_MAX:
            raise ValueError(f"must be 0 (keep the input's size) or {TARGET_SIDE_MIN}..{TARGET_SIDE_MAX}")
        return value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Validate the environment (``os.environ`` by default); raises ``ValidationError`` if wrong."""
        return cls.model_validate(dict(os.environ if environ is None else environ))
