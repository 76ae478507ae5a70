"""The function's configuration: a typed model of its environment, validated once at start.

The names are the environment variables ``template.yaml`` sets on the function; the local stack
reads the same names from the template, so they are written down once here and once there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta, field

from cutout.engine.port import TARGET_SIDE_MAX, TARGET_SIDE_MIN, Background
from cutout.typed import Model, ValidationError

GLOBAL_API_HOST = "api.aidc-ai.com"
# Admits a 45 MP camera JPEG at its finest quality or HEIC (measured: docs/benchmarks.md, "Object-size cap").
MAX_OBJECT_BYTES_DEFAULT = 60 * 1024 * 1024
# The pixel ceiling, from the header before decoding: a 45 MP camera (8256x5504) passes.
MAX_SOURCE_PIXELS_DEFAULT = 50_000_000


class SourceMode(StrEnum):
    """How the engine gets the image: a presigned GET URL (bytes never pass through) or base64."""

    URL = "url"
    BASE64 = "base64"


TargetSide = Annotated[int, Meta(ge=0, le=TARGET_SIDE_MAX)]
DelaySteps = Annotated[tuple[Annotated[int, Meta(ge=0, le=43200)], ...], Meta(min_length=1)]
NonEmpty = Annotated[str, Meta(min_length=1)]
# Comma-separated in the environment ("30,120,480").
_LISTS = ("RETRY_BACKOFF_SECONDS", "RATE_LIMIT_BACKOFF_SECONDS")
# What pydantic read as booleans; msgspec alone reads only true/false/1/0.
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class Settings(Model, frozen=True, kw_only=True):
    """Environment of the processing function. ``0`` target sizes mean "keep the input's size".

    Each field's input name is its environment variable (``field(name=...)``); errors name it.
    """

    output_bucket: Annotated[str, Meta(min_length=3)] = field(name="OUTPUT_BUCKET")
    dead_letter_queue_url: NonEmpty = field(name="DEAD_LETTER_QUEUE_URL")
    idempotency_table: NonEmpty = field(name="IDEMPOTENCY_TABLE")
    aidge_secret_name: NonEmpty = field(name="AIDGE_SECRET_NAME")
    aidge_api_host: str = field(name="AIDGE_API_HOST", default=GLOBAL_API_HOST)
    aidge_trial: bool = field(name="AIDGE_TRIAL", default=False)
    # The only non-public addresses a result download may reach: comma-separated IP addresses or
    # networks (the emulator's loopback address locally). Empty in production. Never a scheme rule.
    result_url_allowlist: str = field(name="RESULT_URL_ALLOWLIST", default="")
    # http result URLs (the API reference's sample is one): upgrade-then-http | upgrade | https-only.
    result_url_policy: Annotated[str, Meta(pattern="^(upgrade-then-http|upgrade|https-only)$")] = field(
        name="RESULT_URL_POLICY", default="upgrade-then-http"
    )
    # Scheme of the API endpoint: https in production, http for the local emulator.
    aidge_api_scheme: Annotated[str, Meta(pattern="^https?$")] = field(
        name="AIDGE_API_SCHEME", default="https"
    )
    background: Background = field(name="BACKGROUND_TYPE", default=Background.TRANSPARENT)
    target_width: TargetSide = field(name="TARGET_WIDTH", default=0)
    target_height: TargetSide = field(name="TARGET_HEIGHT", default=0)
    source_mode: SourceMode = field(name="SOURCE_MODE", default=SourceMode.URL)
    max_object_bytes: Annotated[int, Meta(gt=0)] = field(
        name="MAX_OBJECT_BYTES", default=MAX_OBJECT_BYTES_DEFAULT
    )
    # The work queue's redrive maxReceiveCount: on that receive a transient failure goes to the DLQ.
    max_receive_count: Annotated[int, Meta(ge=1)] = field(name="MAX_RECEIVE_COUNT", default=5)
    # Attempts that really ran (counted beside the outcome) before a transient failure is final.
    max_attempts: Annotated[int, Meta(ge=1)] = field(name="MAX_ATTEMPTS", default=3)
    record_concurrency: Annotated[int, Meta(ge=1, le=50)] = field(name="RECORD_CONCURRENCY", default=10)
    presigned_url_ttl_seconds: Annotated[int, Meta(ge=30, le=3600)] = field(
        name="PRESIGNED_URL_TTL_SECONDS", default=300
    )
    skip_unchanged: bool = field(name="SKIP_UNCHANGED_REUPLOADS", default=True)
    # The spending cap in API usage units per UTC day / month; 0 = no cap (template: DailyBudget…).
    daily_budget: Annotated[int, Meta(ge=0)] = field(name="DAILY_BUDGET", default=0)
    monthly_budget: Annotated[int, Meta(ge=0)] = field(name="MONTHLY_BUDGET", default=0)
    budget_units_per_call: Annotated[int, Meta(ge=1)] = field(name="BUDGET_UNITS_PER_CALL", default=1)
    # The SSM parameter holding the caps the function reads at run time (cutout.spending.caps): what
    # `cutout resume --daily-budget` changes. Empty: DAILY_BUDGET/MONTHLY_BUDGET, fixed for the version.
    budget_parameter: str = field(name="BUDGET_PARAMETER", default="")
    # The work queue, for pausing (its event source mapping) and re-enqueueing a paused last receive.
    # (its id is in an SSM parameter: the template cannot put it in the function's own environment).
    event_source_mapping_parameter: str = field(name="EVENT_SOURCE_MAPPING_PARAMETER", default="")
    work_queue_url: str = field(name="WORK_QUEUE_URL", default="")
    # The EventBridge bus completion events go to ("default" or a bus name); empty: no events.
    event_bus_name: str = field(name="EVENT_BUS_NAME", default="")
    # Normalisation (cutout.normalisation): the pixel ceiling, privacy and the passthrough switch.
    max_source_pixels: Annotated[int, Meta(gt=0)] = field(
        name="MAX_SOURCE_PIXELS", default=MAX_SOURCE_PIXELS_DEFAULT
    )
    normalise_gps_images: bool = field(name="NORMALISE_GPS_IMAGES", default=False)
    passthrough_cutouts: bool = field(name="PASSTHROUGH_CUTOUTS", default=True)
    # Where normalised images wait for the API to fetch them (URL mode); empty: they are sent as base64.
    staging_bucket: str = field(name="STAGING_BUCKET", default="")
    # The retry schedule (cutout.redelivery): seconds until a failed message's next receive, by
    # receive count; longer steps for a rate limit; ± jitter; capped below the queue's visibility timeout.
    retry_backoff_seconds: DelaySteps = field(name="RETRY_BACKOFF_SECONDS", default=(30, 120, 480))
    rate_limit_backoff_seconds: DelaySteps = field(name="RATE_LIMIT_BACKOFF_SECONDS", default=(120, 480, 900))
    retry_jitter: Annotated[float, Meta(ge=0.0, lt=1.0)] = field(name="RETRY_JITTER", default=0.2)
    # How long an upload may be held back by the API's rate limit before it is recorded on the DLQ
    # (``rate_limited_too_long``); until then a rate limit uses up no attempt (template:
    # RateLimitPatienceSeconds). Within the queue's 14-day retention, counted from the first limit met.
    rate_limit_patience_seconds: Annotated[int, Meta(ge=60, le=1_209_600)] = field(
        name="RATE_LIMIT_PATIENCE_SECONDS", default=86_400
    )
    # The event source mapping's MaximumConcurrency as deployed (template: MaxConcurrency): the
    # pipeline lowers it while the API throttles and brings it back to this; 0: never touched.
    max_concurrency: Annotated[int, Meta(ge=0, le=1000)] = field(name="MAX_CONCURRENCY", default=0)
    work_queue_visibility_timeout: Annotated[int, Meta(ge=1)] = field(
        name="WORK_QUEUE_VISIBILITY_TIMEOUT", default=1020
    )
    # The deliverables (docs/profiles.md): a profiles file, relative to the function's code
    # (LAMBDA_TASK_ROOT) unless absolute; the template sets `profiles.toml` by default. Empty: the
    # single cut-out mode, one cut-out per upload at the source's key, as BACKGROUND_TYPE and
    # TARGET_WIDTH/HEIGHT say.
    profiles_file: str = field(name="PROFILES_FILE", default="")

    def __post_init__(self) -> None:
        for name, value in (("TARGET_WIDTH", self.target_width), ("TARGET_HEIGHT", self.target_height)):
            if value != 0 and not TARGET_SIDE_MIN <= value <= TARGET_SIDE_MAX:
                raise ValueError(
                    f"{name} must be 0 (keep the input's size) or {TARGET_SIDE_MIN}..{TARGET_SIDE_MAX}"
                )

    @classmethod
    def _prepare(cls, obj: object) -> object:
        """Environment strings as the types read them: lists split at commas, yes/no booleans."""
        if not isinstance(obj, Mapping):
            return obj
        values = dict(obj)
        for name in _LISTS:
            if isinstance(values.get(name), str):
                values[name] = [part.strip() for part in values[name].split(",") if part.strip()]
        for info in msgspec.structs.fields(cls):
            value = values.get(info.encode_name)
            if info.type is bool and isinstance(value, str):
                word = value.strip().lower()
                values[info.encode_name] = True if word in _TRUE else False if word in _FALSE else value
        return values

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Validate the environment (``os.environ`` by default); raises ``ValidationError`` if wrong.

        The error's locations are the environment variables' names.
        """
        return cls.model_validate(dict(os.environ if environ is None else environ))


__all__ = ["Settings", "SourceMode", "ValidationError"]
