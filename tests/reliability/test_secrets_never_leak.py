"""Secrets stay secret: with a recognisable Aidge secret configured, run the pipeline through
success, every kind of API failure, a wrong secret and a refused input, then scan everything that
was produced (stdout, stderr, every log record, DLQ records, output metadata, the text and
tracebacks of the errors raised) for the secret and for every request signature (``sign=``).

Log levels: our loggers, the emulator's, Powertools' and httpx's at DEBUG; other libraries at INFO.
botocore at DEBUG prints whole AWS response bodies (GetSecretValue's too) — a property of boto3 in
any Lambda, so the function never lowers the root logger, and this test does not either.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

import boto3
import pytest

import cutout.engine.aidge.client as aidge_client_module
from cutout.engine.aidge.client import AidgeClient
from cutout.engine.aidge.config import AidgeConfig
from cutout.engine.errors import EngineError
from cutout.engine.port import Background, CutoutOptions, ImageBytes
from cutout_tools.emulator import FaultPlan
from tests.functional.aidge_testkit import product_photo
from tests.functional.pipeline.world import KEY_SECRET, REGION, World

WRONG_SECRET = "wrong-secret-LEAKCANARY-7f3a9c"
FAULTS = ["500", "501", "700", "801", "1000", "1001", "1002", "timeout", "malformed", "result404"]


class SignatureRecorder:
    """Wraps ``signed_query`` to learn every signature the client sent (they must not leak either)."""

    def __init__(self, real: Callable[..., dict[str, str]]) -> None:
        self._real = real
        self.signatures: list[str] = []

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        query = self._real(*args, **kwargs)
        self.signatures.append(query["sign"])
        return query


def _everything_produced(worlds: list[World], errors: list[BaseException], captured: str, logs: str) -> str:
    parts = [captured, logs]
    for world in worlds:
        parts.append(json.dumps(world.dlq_records()))
        parts.append(json.dumps([output["metadata"] for output in world.outputs().values()]))
    for error in errors:
        parts.append(str(error))
        parts.append(repr(error))
        parts.append("".join(traceback.format_exception(error)))
        if isinstance(error, EngineError):
            parts.append(json.dumps(error.to_dict()))
    return "\n".join(parts)


@pytest.mark.slow
def test_no_secret_or_signature_appears_in_anything_the_pipeline_produces(
    make_world: Callable[..., World],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a recorder of every signature sent, logs captured at DEBUG,
    recorder = SignatureRecorder(aidge_client_module.signed_query)
    monkeypatch.setattr(aidge_client_module, "signed_query", recorder)
    # Every log line the function could emit: ours and the emulator's at DEBUG, third-party libraries
    # at INFO (in Lambda the root logger stays at WARNING; botocore's DEBUG lines print whole response
    # bodies, GetSecretValue's included, so the root logger must never be set to DEBUG there).
    caplog.set_level(logging.INFO)
    for name in ("cutout", "cutout_tools", "aws_lambda_powertools", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    # ... a pipeline that records transient failures at once (one receive), and one with a wrong secret
    world = make_world(MAX_RECEIVE_COUNT="1")
    world.emulator.configure(timeout_seconds=0.3)
    wrong = make_world(MAX_RECEIVE_COUNT="1")
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId=wrong.environment["AIDGE_SECRET_NAME"],
        SecretString=json.dumps({"app_key": "512345", "app_secret": WRONG_SECRET}),
    )

    # When it meets success, each API fault, a refused input and a wrong secret
    world.upload("ok.jpg", product_photo())
    world.drain()
    for fault in FAULTS:
        world.emulator.configure(faults=FaultPlan.parse([f"{fault}:1.0"]))
        world.upload(f"fault-{fault}.jpg", product_photo(300 + len(fault), 300))
        world.drain(timeout_seconds=120)
    world.emulator.configure(faults=FaultPlan())
    world.upload("refused.jpg", b"%PDF-1.7 not an image")
    world.drain()
    wrong.upload("wrong-secret.jpg", product_photo())
    wrong.drain()
    # ... and the client is called directly, keeping the errors it raises
    errors: list[BaseException] = []
    for secret in (KEY_SECRET, WRONG_SECRET):
        config = AidgeConfig(
            app_key="512345",
            app_secret=secret,
            host=world.emulator.url.split("://", 1)[1],
            scheme="http",
            result_url_allowlist=(world.emulator.address,),
            call_deadline_seconds=6.0,
        )
        with AidgeClient(
            config, resolver=world.emulator.result_resolver, verify=world.emulator.client_ssl_context()
        ) as client:
            for fault in ["700", "500", "timeout", "malformed"]:
                world.emulator.configure(faults=FaultPlan.parse([f"{fault}:1.0"]))
                try:
                    client.remove_background(
                        ImageBytes(product_photo()), CutoutOptions(Background.TRANSPARENT)
                    )
                except EngineError as error:
                    errors.append(error)
            errors.append(AssertionError(repr(client) + repr(config)))
    world.emulator.configure(faults=FaultPlan())

    # Then the run did produce all of that (outputs, DLQ records, errors, logs),
    captured = capsys.readouterr()
    logs = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    produced = _everything_produced([world, wrong], errors, captured.out + captured.err, logs)
    assert len(world.outputs()) >= 1
    assert len(errors) == 10
    assert len(recorder.signatures) >= 20
    assert "aidge_unauthorized" in produced
    # ... and neither secret, nor any signature, nor a signed query appears anywhere in it
    assert KEY_SECRET not in produced
    assert WRONG_SECRET not in produced
    leaked = [signature for signature in set(recorder.signatures) if signature in produced]
    assert leaked == []
    assert re.findall(r"sign=(?!\[redacted\])", produced) == []  # a signed query appears only blanked
