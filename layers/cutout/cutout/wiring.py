"""The production adapters: boto3 clients, the DynamoDB idempotency store, the Aidge client.

Built once per Lambda execution environment. Aidge credentials come from Secrets Manager through
Powertools Parameters (cached for five minutes, so a rotated secret is picked up without a deploy);
the Aidge client, with its one ``httpx.Client``, is rebuilt only when the credentials change.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from botocore.config import Config

from cutout.announcements import EventBridgePublisher, EventPublisher, NoEventPublisher
from cutout.budget import BudgetLimits, DynamoDbBudget, LambdaEventSourceSwitch, SpendingGuard
from cutout.budget.metrics import PowertoolsBudgetMetrics
from cutout.budget.pause import PauseController
from cutout.dead_letter import SqsDeadLetterQueue
from cutout.engine.aidge.client import AidgeClient
from cutout.engine.aidge.config import AidgeConfig
from cutout.engine.errors import PermanentEngineError
from cutout.entrypoint import Pipeline
from cutout.observability import PowertoolsPipelineMetrics
from cutout.pipeline.process_upload import IdempotencyStores, UploadProcessor
from cutout.profiles import configured_profiles
from cutout.settings import Settings
from cutout.storage import S3ObjectStore

SECRET_MAX_AGE_SECONDS = 300
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=50)


class AidgeClientFromSecret:
    """A callable returning the Aidge client for the current credentials (the engine port's factory)."""

    def __init__(self, settings: Settings, secrets: parameters.SecretsProvider | None = None) -> None:
        self._settings = settings
        # Pass a provider on the pipeline's boto3 session: Powertools' default one opens a session
        # of its own, whose first use re-reads botocore's endpoint data (tens of MB, ~0.2 s).
        self._secrets = secrets
        self._lock = threading.Lock()
        self._client: AidgeClient | None = None
        self._credentials: tuple[str, str] | None = None

    def __call__(self) -> AidgeClient:
        credentials = self._read_credentials()
        with self._lock:
            if self._client is None or credentials != self._credentials:
                if self._client is not None:
                    self._client.close()
                app_key, app_secret = credentials
                config = AidgeConfig.from_settings(self._settings, app_key=app_key, app_secret=app_secret)
                self._client = AidgeClient(config)
                self._credentials = credentials
            return self._client

    def _read_credentials(self) -> tuple[str, str]:
        name, age = self._settings.aidge_secret_name, SECRET_MAX_AGE_SECONDS
        secret: Any = (
            parameters.get_secret(name, transform="json", max_age=age)
            if self._secrets is None
            else self._secrets.get(name, transform="json", max_age=age)
        )
        app_key = str(secret.get("app_key", "")) if isinstance(secret, dict) else ""
        app_secret = str(secret.get("app_secret", "")) if isinstance(secret, dict) else ""
        if not app_key or not app_secret or "REPLACE_ME" in (app_key, app_secret):
            raise PermanentEngineError(
                'The Aidge credentials are not set: put {"app_key": ..., "app_secret": ...} in the '
                "secret named by AIDGE_SECRET_NAME (see the README, 'Deploying').",
                code="aidge_credentials_missing",
            )
        return app_key, app_secret


def aws_pipeline(settings: Settings) -> Pipeline:
    session = boto3.session.Session()
    s3 = session.client("s3", config=_BOTO_CONFIG.merge(Config(signature_version="s3v4")))
    sqs = session.client("sqs", config=_BOTO_CONFIG)
    dead_letter_queue = SqsDeadLetterQueue(sqs, settings.dead_letter_queue_url)
    dynamodb = session.client("dynamodb", config=_BOTO_CONFIG)  # one client for both layers
    stores = IdempotencyStores(
        outcomes=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb),
        paid_calls=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb),
    )
    limits = BudgetLimits(daily=settings.daily_budget, monthly=settings.monthly_budget)
    spending = SpendingGuard(
        DynamoDbBudget(dynamodb, settings.idempotency_table, limits),
        metrics=PowertoolsBudgetMetrics(),
        units_per_call=settings.budget_units_per_call,
    )
    publisher: EventPublisher = (
        EventBridgePublisher(session.client("events", config=_BOTO_CONFIG), settings.event_bus_name)
        if settings.event_bus_name
        else NoEventPublisher()
    )
    switch = None
    if settings.event_source_mapping_parameter:
        ssm = session.client("ssm", config=_BOTO_CONFIG)
        parameter = settings.event_source_mapping_parameter

        def mapping_id() -> str:
            return str(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])

        switch = LambdaEventSourceSwitch(session.client("lambda", config=_BOTO_CONFIG), mapping_id=mapping_id)
    work_queue_url = settings.work_queue_url

    def requeue(body: str) -> None:
        sqs.send_message(QueueUrl=work_queue_url, MessageBody=body)

    pauser = PauseController(switch, publisher, requeue if work_queue_url else None)
    processor = UploadProcessor(
        settings=settings,
        store=S3ObjectStore(s3),
        engine=AidgeClientFromSecret(settings, parameters.SecretsProvider(boto3_session=session)),
        dead_letter_queue=dead_letter_queue,
        idempotency=stores,
        metrics=PowertoolsPipelineMetrics(),
        spending=spending,
        publisher=publisher,
        profiles=configured_profiles(settings.profiles_file),  # validated at start: a bad file fails init
    )
    return Pipeline(
        settings=settings, processor=processor, dead_letter_queue=dead_letter_queue, pauser=pauser
    )
