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

from cutout.dead_letter import SqsDeadLetterQueue
from cutout.engine.aidge.client import AidgeClient
from cutout.engine.aidge.config import AidgeConfig
from cutout.engine.aidge.seams import AidgeSeams
from cutout.engine.errors import PermanentEngineError
from cutout.entrypoint import Pipeline
from cutout.observability import PowertoolsPipelineMetrics
from cutout.pipeline.process_upload import IdempotencyStores, UploadProcessor
from cutout.profiles import configured_profiles
from cutout.settings import Settings
from cutout.storage import S3ObjectStore

SECRET_MAX_AGE_SECONDS = 300
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=50)
# Presigned URLs name the regional virtual-hosted endpoint, https://<bucket>.s3.<region>.amazonaws.com/:
# the global one answers 400 in regions launched after March 2019, and a 307 (which a SigV4-signed
# fetch cannot follow) for a new bucket in older ones. The region is the session's (AWS_REGION).
S3_CONFIG = Config(
    signature_version="s3v4", s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"}
)


def s3_client(session: boto3.session.Session) -> Any:
    """The S3 client of the pipeline (its presigned URLs go to the Aidge API)."""
    return session.client("s3", config=_BOTO_CONFIG.merge(S3_CONFIG))


class AidgeClientFromSecret:
    """A callable returning the Aidge client for the current credentials (the engine port's factory)."""

    def __init__(
        self,
        settings: Settings,
        secrets: parameters.SecretsProvider | None = None,
        seams: AidgeSeams | None = None,
    ) -> None:
        self._settings = settings
        self._seams = seams or AidgeSeams()
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
                self._client = AidgeClient(config, **self._seams.client_kwargs())
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


def aws_pipeline(settings: Settings, *, aidge_seams: AidgeSeams | None = None) -> Pipeline:
    """The production pipeline. ``aidge_seams``: the local stack's resolver and test CA (else none)."""
    session = boto3.session.Session()
    s3 = s3_client(session)
    sqs = session.client("sqs", config=_BOTO_CONFIG)
    dead_letter_queue = SqsDeadLetterQueue(sqs, settings.dead_letter_queue_url)
    dynamodb = session.client("dynamodb", config=_BOTO_CONFIG)  # one client for both layers
    stores = IdempotencyStores(
        outcomes=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb),
        paid_calls=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb),
    )
    processor = UploadProcessor(
        settings=settings,
        store=S3ObjectStore(s3),
        engine=AidgeClientFromSecret(
            settings, parameters.SecretsProvider(boto3_session=session), aidge_seams
        ),
        dead_letter_queue=dead_letter_queue,
        idempotency=stores,
        metrics=PowertoolsPipelineMetrics(),
        profiles=configured_profiles(settings.profiles_file),  # validated at start: a bad file fails init
    )
    return Pipeline(settings=settings, processor=processor, dead_letter_queue=dead_letter_queue)
