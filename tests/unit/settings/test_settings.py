"""The function's settings: typed, read from the environment, and refused naming the variable."""

from __future__ import annotations

import pytest

from cutout.engine.port import Background
from cutout.quality_gate.thresholds import QualityThresholds
from cutout.settings import Settings, SourceMode
from cutout.typed import ValidationError, problem

REQUIRED = {
    "OUTPUT_BUCKET": "out-bucket",
    "DEAD_LETTER_QUEUE_URL": "http://sqs/dlq",
    "IDEMPOTENCY_TABLE": "table",
    "AIDGE_SECRET_NAME": "aidge",
}


def test_the_environment_is_read_into_typed_fields_with_defaults() -> None:
    # Given an environment with the required variables, a few optional ones as strings, and others
    environment = REQUIRED | {
        "TARGET_WIDTH": "1000",
        "AIDGE_TRIAL": "Yes",
        "SKIP_UNCHANGED_REUPLOADS": "off",
        "RETRY_BACKOFF_SECONDS": " 10, 60 ,300",
        "RETRY_JITTER": "0.5",
        "SOURCE_MODE": "base64",
        "PATH": "/usr/bin",
    }
    # When the settings are read
    settings = Settings.from_env(environment)
    # Then each value has its type, and unset ones their defaults
    assert settings.target_width == 1000
    assert settings.aidge_trial is True
    assert settings.skip_unchanged is False
    assert settings.retry_backoff_seconds == (10, 60, 300)
    assert settings.retry_jitter == 0.5
    assert settings.source_mode is SourceMode.BASE64
    assert settings.background is Background.TRANSPARENT
    assert settings.rate_limit_backoff_seconds == (120, 480, 900)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"OUTPUT_BUCKET": None}, "OUTPUT_BUCKET: Field required"),
        ({"OUTPUT_BUCKET": "ab"}, "OUTPUT_BUCKET: "),
        ({"MAX_ATTEMPTS": "0"}, "MAX_ATTEMPTS: "),
        ({"RECORD_CONCURRENCY": "many"}, "RECORD_CONCURRENCY: "),
        ({"AIDGE_TRIAL": "perhaps"}, "AIDGE_TRIAL: "),
        ({"RESULT_URL_POLICY": "http-first"}, "RESULT_URL_POLICY: "),
        ({"RETRY_BACKOFF_SECONDS": "30,soon"}, "RETRY_BACKOFF_SECONDS.1: "),
        ({"RETRY_BACKOFF_SECONDS": ","}, "RETRY_BACKOFF_SECONDS: "),
        ({"TARGET_WIDTH": "5"}, "TARGET_WIDTH must be 0"),
        ({"BACKGROUND_TYPE": "PINK"}, "BACKGROUND_TYPE: "),
    ],
)
def test_a_wrong_environment_is_refused_naming_its_variable(
    change: dict[str, str | None], named: str
) -> None:
    # Given the environment with one variable missing or wrong
    environment = {**REQUIRED, **change}
    environment = {name: value for name, value in environment.items() if value is not None}
    # When the settings are read
    with pytest.raises(ValidationError) as raised:
        Settings.from_env(environment)  # type: ignore[arg-type]
    # Then the error names the variable (and says what is wrong with it)
    assert named in str(raised.value)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    ("message", "loc", "msg"),
    [
        ("Expected `int` >= 1, got 0 - at `$.a[0].b`", ("a", 0, "b"), "Expected `int` >= 1, got 0"),
        ("Object missing required field `key` - at `$.s3.object`", ("s3", "object", "key"), "Field required"),
        ("Object contains unknown field `colour`", ("colour",), "unknown field"),
        ("bad - at `$.d[...]`", ("d", "..."), "bad"),
        ("plain", (), "plain"),
    ],
)
def test_msgspec_errors_become_a_location_and_message(
    message: str, loc: tuple[object, ...], msg: str
) -> None:
    # Given one of msgspec's validation messages
    # When it is read as a problem
    found = problem(message)
    # Then its path is the location (field names and indices), the rest the message
    assert found == {"loc": loc, "msg": msg}


def test_records_dump_copy_and_compare_like_the_models_they_replace() -> None:
    # Given thresholds validated from a mapping (lenient: "0.5" is a float), and the defaults
    thresholds = QualityThresholds.model_validate({"min_score": "0.5"})
    # When they are dumped and copied
    dumped = thresholds.model_dump()
    copied = thresholds.model_copy(update={"enabled": False})
    # Then the dump has every field by name, the copy only the change, and equality is by value
    assert dumped["min_score"] == 0.5
    assert set(dumped) == set(QualityThresholds.__struct_fields__)
    assert copied.enabled is False
    assert copied.min_score == 0.5
    assert thresholds == QualityThresholds(min_score=0.5)
    with pytest.raises(ValidationError, match="extra: unknown field"):
        QualityThresholds.model_validate({"extra": 1})
