"""AidgeConfig: safe defaults, the secret kept out of text, http only for the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from cutout.engine.aidge import CHINA_HOST, GLOBAL_HOST, AidgeConfig, ResultUrlPolicy, parse_allowlist
from cutout.settings import Settings
from tests.unit.engine.aidge_doubles import APP_SECRET


def test_defaults_are_explicit_and_fit_a_lambda() -> None:
    # Given only the key pair
    # When building the config
    config = AidgeConfig(app_key="512345", app_secret=APP_SECRET)
    # Then the global https endpoint, explicit timeouts (a long read: an abandoned answer may be
    # billed) and a deadline that fits the default Lambda timeout (120 s) with room to download
    assert config.endpoint == f"https://{GLOBAL_HOST}/rest/ai/image/cut/out"
    assert (config.timeouts.connect, config.timeouts.read, config.timeouts.write, config.timeouts.pool) == (
        3.0,
        60.0,
        30.0,
        3.0,
    )
    assert config.timeouts.read <= config.call_deadline_seconds <= 90
    assert config.result_max_bytes == 50 * 1024 * 1024
    assert config.result_url_allowlist == ()
    assert config.result_url_policy is ResultUrlPolicy.UPGRADE_THEN_HTTP
    assert config.trial is False


def test_the_secret_never_shows_in_text() -> None:
    # Given a config
    config = AidgeConfig(app_key="512345", app_secret=APP_SECRET, host=CHINA_HOST)
    # When it is printed or logged
    texts = [repr(config), str(config), f"{config}"]
    # Then the secret is in none of them, and the useful facts are
    assert all(APP_SECRET not in text for text in texts)
    assert CHINA_HOST in repr(config)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"app_key": " "}, "app_key"),
        ({"app_secret": ""}, "app_secret"),
        ({"scheme": "ftp"}, "scheme"),
        ({"host": "api.aidc-ai.com/rest"}, "host"),
        ({"host": "user@api.aidc-ai.com"}, "host"),
        ({"scheme": "http"}, "http is allowed only"),
        ({"scheme": "http", "host": "emulator.internal:8080"}, "http is allowed only"),
        ({"call_deadline_seconds": 0}, "deadline"),
        ({"result_max_bytes": 0}, "caps"),
        ({"result_url_allowlist": ("http://127.0.0.1:9000/path",)}, "origin"),
        ({"result_url_allowlist": ("127.0.0.1:9000",)}, "IP address"),
        ({"result_url_allowlist": ("emulator.internal",)}, "never host names"),
        ({"result_url_policy": "http-first"}, "http-first"),
    ],
)
def test_wrong_configs_are_refused(overrides: dict[str, Any], message: str) -> None:
    # Given a config value that cannot be right
    values: dict[str, Any] = {"app_key": "512345", "app_secret": APP_SECRET, **overrides}
    # When building the config
    # Then it is refused with a reason, and the reason never holds the secret
    with pytest.raises(ValueError, match=message) as caught:
        AidgeConfig(**values)
    assert APP_SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "allowlist"),
    [
        ("127.0.0.1:8080", ()),
        ("localhost:8080", ()),
        ("[::1]:8080", ()),
        ("10.0.0.7:8080", ("10.0.0.7",)),
    ],
)
def test_http_is_accepted_for_the_local_emulator(host: str, allowlist: tuple[str, ...]) -> None:
    # Given a loopback or allowlisted emulator host
    # When building an http config
    config = AidgeConfig(
        app_key="512345", app_secret=APP_SECRET, scheme="http", host=host, result_url_allowlist=allowlist
    )
    # Then the endpoint is plain http on that host
    assert config.endpoint == f"http://{host}/rest/ai/image/cut/out"


def test_allowlist_text_is_parsed_and_normalised() -> None:
    # Given the RESULT_URL_ALLOWLIST format: addresses or networks (an old-style origin on an IP
    # literal is read as its address only)
    text = " 127.0.0.1 , http://127.0.0.1:9000/ , 10.0.0.0/8, ::1,"
    # When parsing it
    entries = parse_allowlist(text)
    # Then each entry is a normalised network
    assert entries == ("127.0.0.1/32", "127.0.0.1/32", "10.0.0.0/8", "::1/128")


def test_from_settings_reads_the_function_environment() -> None:
    # Given the function's environment pointing at a local emulator
    settings = Settings.from_env(
        {
            "OUTPUT_BUCKET": "out-bucket",
            "DEAD_LETTER_QUEUE_URL": "http://sqs/dlq",
            "IDEMPOTENCY_TABLE": "table",
            "AIDGE_SECRET_NAME": "aidge",
            "AIDGE_API_HOST": "127.0.0.1:8123",
            "AIDGE_API_SCHEME": "http",
            "AIDGE_TRIAL": "true",
            "RESULT_URL_ALLOWLIST": "127.0.0.1",
            "RESULT_URL_POLICY": "upgrade",
        }
    )
    # When building the config with the key pair
    config = AidgeConfig.from_settings(
        settings, app_key="512345", app_secret=APP_SECRET, call_deadline_seconds=20
    )
    # Then every setting is carried over
    assert config.endpoint == "http://127.0.0.1:8123/rest/ai/image/cut/out"
    assert config.trial is True
    assert config.result_url_allowlist == ("127.0.0.1/32",)
    assert config.result_url_policy is ResultUrlPolicy.UPGRADE
    assert config.call_deadline_seconds == 20
