"""Fixtures: moto as an HTTP server, the Aidge emulator, the in-process handler, and a stack.

Each test gets a fresh ``World`` (tests/functional/pipeline/world.py: buckets, work queue with
redrive to a DLQ, idempotency table, secret, the production wiring) plus a CloudFormation stack in
moto whose outputs name that world's resources, the way template.yaml's outputs do, so the
commands are exercised end to end through ``--endpoint-url`` and ``--stack-name``.
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from cutout_tools.cli import main
from cutout_tools.emulator import AidgeEmulator, FaultPlan
from cutout_tools.operations import OUTPUT_NAMES, StackResources
from tests.functional.aidge_testkit import FakeCutoutEngine
from tests.functional.pipeline.world import KEY_NAME, KEY_SECRET, REGION, World


@pytest.fixture(scope="session")
def operations_emulator() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(
        key_name=KEY_NAME, key_secret=KEY_SECRET, engine=FakeCutoutEngine(), seed=11
    ) as emulator:
        yield emulator


@pytest.fixture
def make_world(
    aws_environment: str, operations_emulator: AidgeEmulator, lambda_handler: Callable[..., dict[str, Any]]
) -> Iterator[Callable[..., World]]:
    def _make(**overrides: str) -> World:
        return World(operations_emulator, lambda_handler, overrides=overrides)

    yield _make
    operations_emulator.configure(latency_ms=0, faults=FaultPlan())


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()


def resources_of(world: World) -> StackResources:
    return StackResources(
        input_bucket=world.input_bucket,
        output_bucket=world.output_bucket,
        work_queue_url=world.work_queue_url,
        dead_letter_queue_url=world.dlq_url,
    )


def create_stack_naming(resources: StackResources, stack_name: str) -> None:
    """A CloudFormation stack in moto whose outputs name ``resources`` as template.yaml's do."""
    values = {
        "InputBucketName": resources.input_bucket,
        "OutputBucketName": resources.output_bucket,
        "WorkQueueUrl": resources.work_queue_url,
        "DeadLetterQueueUrl": resources.dead_letter_queue_url,
    }
    assert set(values) == set(OUTPUT_NAMES.values())
    template = {
        "Resources": {"Marker": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {name: {"Value": value} for name, value in values.items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=stack_name, TemplateBody=json.dumps(template)
    )


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@dataclass(frozen=True)
class Operator:
    """Runs ``cutout ...`` against the world's stack, as a person would with --endpoint-url."""

    world: World
    endpoint_url: str
    stack_name: str

    @property
    def resources(self) -> StackResources:
        return resources_of(self.world)

    def run(self, *argv: str, target: bool = True) -> CliResult:
        arguments = (
            [*argv, "--endpoint-url", self.endpoint_url, "--stack-name", self.stack_name]
            if target
            else [*argv]
        )
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                exit_code = main(arguments)
            except SystemExit as stop:  # argparse's usage errors
                exit_code = int(stop.code or 0)
        return CliResult(exit_code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def operator(world: World, aws_environment: str) -> Operator:
    stack_name = f"cutout-ops-{uuid.uuid4().hex[:8]}"
    create_stack_naming(resources_of(world), stack_name)
    return Operator(world=world, endpoint_url=aws_environment, stack_name=stack_name)


SHIPPED_PROFILES = Path(__file__).parents[3] / "functions" / "process_upload" / "profiles.toml"


@pytest.fixture
def deliverables_operator(make_world: Callable[..., World], aws_environment: str) -> Operator:
    """An operator of a stack with the shipped profiles (the template's default): masters and variants."""
    world = make_world(PROFILES_FILE=str(SHIPPED_PROFILES))
    stack_name = f"cutout-ops-{uuid.uuid4().hex[:8]}"
    create_stack_naming(resources_of(world), stack_name)
    return Operator(world=world, endpoint_url=aws_environment, stack_name=stack_name)
