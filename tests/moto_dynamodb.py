"""DynamoDB in this process (moto's ``mock_aws``), for the unit tests of the DynamoDB adapters: the
budget ledger, the dead-letter checkpoint. No server, no network: the credentials are moto's dummies
and no endpoint URL from the environment may send the client elsewhere. Where moto cannot tell (a
read's consistency, an error code it never answers), ``stubbed_dynamodb`` scripts the exact requests
with botocore's Stubber."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

REGION = "us-east-1"


@contextmanager
def in_process_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A DynamoDB client on moto's in-process backend, for the block."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def stubbed_dynamodb() -> tuple[Any, Stubber]:
    """A DynamoDB client that sends nothing, and the Stubber that scripts its answers."""
    client = boto3.client("dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    return client, Stubber(client)


def new_table(client: Any, prefix: str) -> str:
    """A new on-demand table keyed on ``id`` (the idempotency table's shape); its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name
