"""Rare-path boto3 clients (SQS, SSM, Lambda) are built on their first call, once, deadline attached."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

import boto3
import pytest

from cutout.aws_clients import LazyClient, lazy_client
from cutout.deadline import OutOfTime, invocation_deadline
from cutout.wiring import aws_pipeline
from tests.unit.pipeline.harness import settings

OFFLINE = {"region_name": "us-east-1", "aws_access_key_id": "a", "aws_secret_access_key": "b"}


class RecordingSession(boto3.session.Session):
    """A real boto3 session (clients are built offline) that records which services it built."""

    built: list[str]

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.built.append(service_name)
        return super().client(service_name, *args, **kwargs)  # type: ignore[call-overload]


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> list[RecordingSession]:
    made: list[RecordingSession] = []

    def session() -> RecordingSession:
        made.append(RecordingSession(**OFFLINE))
        made[-1].built = []
        return made[-1]

    monkeypatch.setattr(boto3.session, "Session", session)
    return made


def test_the_production_wiring_builds_at_init_only_the_clients_every_upload_needs(
    sessions: list[RecordingSession],
) -> None:
    # Given settings with pausing and completion events configured
    configured = settings(
        EVENT_SOURCE_MAPPING_PARAMETER="/cutout/mapping-id",
        WORK_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/work",
        EVENT_BUS_NAME="default",
    )
    # When the production pipeline is built
    pipeline = aws_pipeline(configured)
    # Then S3, DynamoDB, EventBridge and Secrets Manager are built, and SQS, SSM and Lambda are not
    (session,) = sessions
    assert sorted(session.built) == ["dynamodb", "events", "s3", "secretsmanager"]
    # And the DLQ's client comes into being on its first use, with the invocation deadline attached
    dead_letter_client = pipeline.dead_letter_queue._sqs  # type: ignore[attr-defined]
    assert isinstance(dead_letter_client, LazyClient)
    assert not dead_letter_client.built
    assert dead_letter_client.meta.service_model.service_name == "sqs"
    assert session.built.count("sqs") == 1


def test_a_lazy_client_is_built_once_on_first_use_with_the_deadline_attached() -> None:
    # Given a lazy SQS client on an offline session
    session = boto3.session.Session(**OFFLINE)
    client = lazy_client(session, "sqs", config=None, attempt_seconds=4.0)
    assert not client.built
    # When it is used (an attempt that could not end in time), twice
    invocation_deadline.start(2.0)
    try:
        with pytest.raises(OutOfTime):
            client.get_queue_url(QueueName="work")
        real = client.resolve()
        # Then it was built once, and the deadline stopped the attempt before anything was sent
        assert client.resolve() is real
        assert client.built
    finally:
        invocation_deadline.start(None)


def test_threads_that_first_use_a_lazy_client_together_share_one_build() -> None:
    # Given a lazy client whose build is slow
    builds: list[object] = []

    def build() -> object:
        time.sleep(0.05)
        builds.append(object())
        return builds[-1]

    client = LazyClient(build)
    start = threading.Barrier(4)
    seen: list[object] = []

    def use() -> None:
        start.wait()
        seen.append(client.resolve())

    # When four threads use it at once
    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then it was built once and every thread got that client
    assert len(builds) == 1
    assert seen == [builds[0]] * 4


def test_a_copy_made_without_init_does_not_recurse() -> None:
    # Given a lazy client, copied the way copy/pickle do (no __init__)
    blank = copy.copy(LazyClient(object))
    del blank.__dict__["_build"]
    # When an attribute is read, then it is simply missing
    with pytest.raises(AttributeError):
        _ = blank.anything
