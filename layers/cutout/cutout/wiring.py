"""The production adapters: boto3 clients, the DynamoDB idempotency store, the Aidge client.

Built once per Lambda execution environment. Aidge credentials come from Secrets Manager through
Powertools Parameters (cached for five minutes, so a rotated secret is picked up without a deploy);
the Aidge client, with its one ``httpx.Client``, is rebuilt only when the credentials change, and
the old one is closed only after the calls in flight on it have ended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from botocore.config import Config

from cutout.announcements import EventBridgePublisher, EventPublisher, NoEventPublisher
from cutout.aws_clients import lazy_client
from cutout.budget import DynamoDbBudget, LambdaEventSourceSwitch, SpendingGuard
from cutout.budget.caps import budget_limits_of
from cutout.budget.metrics import PowertoolsBudgetMetrics, PowertoolsPauseMetrics
from cutout.budget.pause import DynamoDbPauseMarker, PauseController
from cutout.dead_letter import SqsDeadLetterQueue
from cutout.dead_letter.checkpoint import DynamoDBDeadLetterCheckpoint
from cutout.engine.aidge.client import AidgeClient
from cutout.engine.aidge.config import AidgeConfig
from cutout.engine.aidge.seams import AidgeSeams
from cutout.engine.errors import PermanentEngineError
from cutout.engine.port import Cutout, CutoutOptions, CutoutReceipt, ImageSource, ResumableBackgroundRemover
from cutout.entrypoint import Pipeline
from cutout.observability import PowertoolsPipelineMetrics
from cutout.pipeline.process_upload import IDEMPOTENCY_TTL_SECONDS, IdempotencyStores, UploadProcessor
from cutout.profiles import configured_profiles
from cutout.redelivery import SqsMessageVisibility
from cutout.redelivery.attempts import DynamoDBAttemptCounter
from cutout.redelivery.backlog import BacklogRefresher
from cutout.redelivery.concurrency import ConcurrencyGovernor, LambdaMappingConcurrency
from cutout.settings import Settings
from cutout.startup_checks import run_startup_checks
from cutout.storage import S3ObjectStore
from cutout.time_budget import invocation_deadline

SECRET_MAX_AGE_SECONDS = 300
# Per-attempt bounds (botocore's defaults are 60 s connect + 60 s read, five attempts): one attempt
# of a DynamoDB/SQS call takes at most 1 + 3 s, of an S3 call 2 + 6 s (a PUT streams megabytes),
# three attempts at most, and none starts that could not end before the invocation does
# (cutout.time_budget). After the paid call that keeps the PUT, the idempotency writes and the
# DLQ sends inside the Lambda timeout, so the batch's partial response is never lost.
AWS_CONNECT_TIMEOUT_SECONDS = 1.0
AWS_READ_TIMEOUT_SECONDS = 3.0
S3_CONNECT_TIMEOUT_SECONDS = 2.0
S3_READ_TIMEOUT_SECONDS = 6.0
AWS_TOTAL_MAX_ATTEMPTS = 3
# A DLQ record's SendMessage waits longer for its answer. A SendMessage is not idempotent: botocore
# sends it again after a read timeout, and if the first one had arrived that is a second DLQ record
# for one upload (seen on a loaded machine, where moto answered after 3 s). SQS answers in
# milliseconds, so the longer wait costs nothing on AWS; a resend only follows real silence, and a
# resent record carries the same record_id (cutout.dead_letter.checkpoint).
DEAD_LETTER_READ_TIMEOUT_SECONDS = 15.0
_BOTO_CONFIG = Config(
    connect_timeout=AWS_CONNECT_TIMEOUT_SECONDS,
    read_timeout=AWS_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": AWS_TOTAL_MAX_ATTEMPTS},
    max_pool_connections=50,
)
# Presigned URLs name the regional virtual-hosted endpoint, https://<bucket>.s3.<region>.amazonaws.com/:
# the global one answers 400 in regions launched after March 2019, and a 307 (which a SigV4-signed
# fetch cannot follow) for a new bucket in older ones. The region is the session's (AWS_REGION).
_S3_CONFIG = _BOTO_CONFIG.merge(
    Config(
        connect_timeout=S3_CONNECT_TIMEOUT_SECONDS,
        read_timeout=S3_READ_TIMEOUT_SECONDS,
        signature_version="s3v4",
        s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"},
    )
)


def dead_letter_sqs_config() -> Config:
    """The DLQ client's configuration: the longer read timeout of a send that must not be repeated."""
    return _BOTO_CONFIG.merge(Config(read_timeout=DEAD_LETTER_READ_TIMEOUT_SECONDS))


def s3_client(session: boto3.session.Session) -> Any:
    """The S3 client of the pipeline (its presigned URLs go to the Aidge API)."""
    return session.client("s3", config=_S3_CONFIG)


class _CountedAidgeClient:
    """One ``AidgeClient`` and the calls in flight on it: closed once retired *and* idle.

    A thread may hold this object while the credentials change: once retired, a new call is handed
    to the current client instead (``current``), and the calls already under way end on the old
    one (their paid answers are not lost), which is closed when the last of them returns.
    """

    def __init__(self, client: AidgeClient, current: Callable[[], ResumableBackgroundRemover]) -> None:
        self.client = client
        self._current = current
        self._lock = threading.Lock()
        self._in_flight = 0
        self._retired = False
        self._closed = False

    @property
    def engine_name(self) -> str:
        return self.client.engine_name

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            close = self._in_flight == 0 and not self._closed
            self._closed = self._closed or close
        if close:
            self.client.close()

    @contextmanager
    def _call(self) -> Iterator[ResumableBackgroundRemover | None]:
        """This client for one call (counted), or None once retired: use the current one then."""
        with self._lock:
            usable = not self._retired
            if usable:
                self._in_flight += 1
        if not usable:
            yield None
            return
        try:
            yield self.client
        finally:
            with self._lock:
                self._in_flight -= 1
                close = self._retired and self._in_flight == 0 and not self._closed
                self._closed = self._closed or close
            if close:
                self.client.close()

    def submit(
        self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
    ) -> CutoutReceipt:
        with self._call() as client:
            return (client or self._current()).submit(source, options, deadline=deadline)

    def fetch(self, receipt: CutoutReceipt, *, deadline: float | None = None) -> Cutout:
        with self._call() as client:
            return (client or self._current()).fetch(receipt, deadline=deadline)

    def remove_background(self, source: ImageSource, options: CutoutOptions) -> Cutout:
        with self._call() as client:
            return (client or self._current()).remove_background(source, options)


class AidgeClientFromSecret:
    """A callable returning the Aidge client for the current credentials (the engine port's factory).

    When the credentials change, the old client is retired, not closed under the calls still using
    it: it closes its ``httpx.Client`` when the last of them ends (reference counting).
    """

    def __init__(
        self,
        settings: Settings,
        secrets: parameters.SecretsProvider | None = None,
        client_factory: Callable[[AidgeConfig], AidgeClient] | None = None,
        seams: AidgeSeams | None = None,
    ) -> None:
        self._settings = settings
        self._seams = seams or AidgeSeams()
        # Pass a provider on the pipeline's boto3 session: Powertools' default one opens a session
        # of its own, whose first use re-reads botocore's endpoint data (tens of MB, ~0.2 s).
        self._secrets = secrets
        self._client_factory = client_factory
        self._lock = threading.Lock()
        self._client: _CountedAidgeClient | None = None
        self._credentials: tuple[str, str] | None = None

    def _build_client(self, config: AidgeConfig) -> AidgeClient:
        if self._client_factory is not None:
            return self._client_factory(config)
        return AidgeClient(config, **self._seams.client_kwargs())

    def __call__(self) -> _CountedAidgeClient:
        credentials = self._read_credentials()
        retired: _CountedAidgeClient | None = None
        with self._lock:
            if self._client is None or credentials != self._credentials:
                retired = self._client
                app_key, app_secret = credentials
                config = AidgeConfig.from_settings(self._settings, app_key=app_key, app_secret=app_secret)
                self._client = _CountedAidgeClient(self._build_client(config), self)
                self._credentials = credentials
            client = self._client
        if retired is not None:
            retired.retire()  # closes now if idle, else when its last call ends
        return client

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
                "secret named by AIDGE_SECRET_NAME (README, 'Deploy in five steps', step 4).",
                code="aidge_credentials_missing",
            )
        return app_key, app_secret


def aws_pipeline(settings: Settings, *, aidge_seams: AidgeSeams | None = None) -> Pipeline:
    """The production pipeline. ``aidge_seams``: the local stack's resolver and test CA (else none)."""
    session = boto3.session.Session()
    s3 = s3_client(session)
    # SQS serves failures only (DLQ records, retry delays, re-enqueueing): built on its first call.
    sqs = lazy_client(
        session,
        "sqs",
        config=_BOTO_CONFIG,
        attempt_seconds=AWS_CONNECT_TIMEOUT_SECONDS + AWS_READ_TIMEOUT_SECONDS,
    )
    # The DLQ's own client: its sends wait longer for an answer (a resend is a duplicate record);
    # retry delays and re-enqueueing are safe to repeat and keep the short bound.
    dead_letter_sqs = lazy_client(
        session,
        "sqs",
        config=dead_letter_sqs_config(),
        attempt_seconds=AWS_CONNECT_TIMEOUT_SECONDS + DEAD_LETTER_READ_TIMEOUT_SECONDS,
    )
    dead_letter_queue = SqsDeadLetterQueue(dead_letter_sqs, settings.dead_letter_queue_url)
    dynamodb = session.client("dynamodb", config=_BOTO_CONFIG)  # one client for both layers
    invocation_deadline.attach(s3, S3_CONNECT_TIMEOUT_SECONDS + S3_READ_TIMEOUT_SECONDS)
    invocation_deadline.attach(dynamodb, AWS_CONNECT_TIMEOUT_SECONDS + AWS_READ_TIMEOUT_SECONDS)
    stores = IdempotencyStores(
        outcomes=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb),
        paid_calls=DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb),
    )
    ssm = lazy_client(session, "ssm", config=_BOTO_CONFIG)  # pausing, the caps: built on its first call
    limits = budget_limits_of(settings, ssm)  # issue 24: the caps read at run time (SSM, cached 30 s)
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
    lambdas = lazy_client(session, "lambda", config=_BOTO_CONFIG)
    run_startup_checks(settings, s3=s3, ssm=ssm, lambdas=lambdas)  # issue 24: fail Init, pay nothing
    switch = None
    if settings.event_source_mapping_parameter:
        parameter = settings.event_source_mapping_parameter

        def mapping_id() -> str:
            return str(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])

        switch = LambdaEventSourceSwitch(lambdas, mapping_id=mapping_id)
    work_queue_url = settings.work_queue_url
    metrics = PowertoolsPipelineMetrics()

    def requeue(body: str) -> None:
        sqs.send_message(QueueUrl=work_queue_url, MessageBody=body)

    pauser = PauseController(
        switch,
        publisher,
        requeue if work_queue_url else None,
        marker=DynamoDbPauseMarker(dynamodb, settings.idempotency_table),  # issue 24: pause marker
        metrics=PowertoolsPauseMetrics(),
        latch=spending.latch,
        backlog=BacklogRefresher(sqs, work_queue_url) if work_queue_url else None,  # issue 24
    )
    governor = None
    if switch is not None and settings.max_concurrency:
        governor = ConcurrencyGovernor(
            LambdaMappingConcurrency(lambdas, uuid=switch.mapping_uuid),
            ceiling=settings.max_concurrency,
            metrics=metrics,
        )
    processor = UploadProcessor(
        settings=settings,
        store=S3ObjectStore(s3),
        engine=AidgeClientFromSecret(
            settings, parameters.SecretsProvider(boto3_session=session), seams=aidge_seams
        ),
        dead_letter_queue=dead_letter_queue,
        idempotency=stores,
        metrics=metrics,
        spending=spending,
        publisher=publisher,
        profiles=configured_profiles(settings.profiles_file),  # validated at start: a bad file fails init
        attempts=DynamoDBAttemptCounter(
            dynamodb, settings.idempotency_table, ttl_seconds=IDEMPOTENCY_TTL_SECONDS
        ),
        dead_letters=DynamoDBDeadLetterCheckpoint(
            dynamodb, settings.idempotency_table, ttl_seconds=IDEMPOTENCY_TTL_SECONDS
        ),
    )
    return Pipeline(
        settings=settings,
        processor=processor,
        dead_letter_queue=dead_letter_queue,
        message_visibility=SqsMessageVisibility(sqs),
        pauser=pauser,
        governor=governor,
    )
