"""The production adapters: boto3 clients, the DynamoDB idempotency store, the Aidge client.

Built once per Lambda execution environment. Aidge credentials come from Secrets Manager and are
rotated without a deploy (``cutout.engine.aidge.credentials``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from botocore.config import Config

from cutout.announcements import Announcer, EventBridgePublisher, EventPublisher, NoEventPublisher
from cutout.aws_clients import lazy_client
from cutout.checkpoints import (
    IDEMPOTENCY_TTL_SECONDS,
    IdempotencyStores,
    OutcomeCheckpoint,
    checkpoint_config,
)
from cutout.dead_letter import DeadLetterQueue, SqsDeadLetterQueue
from cutout.dead_letter.checkpoint import DeadLetterCheckpoint, DynamoDBDeadLetterCheckpoint
from cutout.dead_letter.record import DeadLetters, engine_name_of
from cutout.deadline import invocation_deadline
from cutout.deliver import ProfileDelivery
from cutout.deliverables import Deliverables, PixelReserve
from cutout.engine.aidge.credentials import AidgeClientFromSecret
from cutout.engine.aidge.seams import AidgeSeams
from cutout.engine.port import Background, CutoutOptions, ResumableBackgroundRemover
from cutout.observability import PipelineMetrics, PowertoolsPipelineMetrics
from cutout.ordering import NewestVersionWins
from cutout.paid_call import PaidCall
from cutout.pipeline.assembly import Pipeline
from cutout.pipeline.process_upload import UploadProcessor
from cutout.pipeline.steps import Steps
from cutout.pixels import PixelBudget, pixel_budget
from cutout.preparation import PreparationSettings, SourcePreparation
from cutout.profiles import ProfileSet, SingleProfile, configured_profiles, single_profile
from cutout.quality_gate import QualityThresholds
from cutout.redelivery import SqsMessageVisibility
from cutout.redelivery.attempts import AttemptCounter, DynamoDBAttemptCounter
from cutout.redelivery.backlog import BacklogRefresher
from cutout.redelivery.concurrency import ConcurrencyGovernor, LambdaMappingConcurrency
from cutout.redelivery.retry import RetryDecision
from cutout.settings import Settings, SourceMode
from cutout.spending import DynamoDbBudget, LambdaEventSourceSwitch, SpendingGuard
from cutout.spending.caps import budget_limits_of
from cutout.spending.metrics import PowertoolsBudgetMetrics, PowertoolsPauseMetrics
from cutout.spending.pause import DynamoDbPauseMarker, PauseController
from cutout.startup_checks import run_startup_checks
from cutout.storage import ObjectStore, S3ObjectStore
from cutout.storage.source_lookup import SourceLookup
from cutout.validation import ImageLimits

# Per-attempt bounds (botocore's defaults are 60 s connect + 60 s read, five attempts): one attempt
# of a DynamoDB/SQS call takes at most 1 + 3 s, of an S3 call 2 + 6 s (a PUT streams megabytes),
# three attempts at most, and none starts that could not end before the invocation does
# (cutout.deadline). After the paid call that keeps the PUT, the idempotency writes and the
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
        build_steps(
            settings,
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
    )
    return Pipeline(
        settings=settings,
        processor=processor,
        dead_letter_queue=dead_letter_queue,
        message_visibility=SqsMessageVisibility(sqs),
        pauser=pauser,
        spending=spending,
        governor=governor,
    )


def build_steps(
    settings: Settings,
    *,
    store: ObjectStore,
    engine: Callable[[], ResumableBackgroundRemover],
    dead_letter_queue: DeadLetterQueue,
    idempotency: IdempotencyStores,
    metrics: PipelineMetrics,
    clock: Callable[[], float] = time.monotonic,
    attempts: AttemptCounter | None = None,
    spending: SpendingGuard | None = None,
    publisher: EventPublisher | None = None,
    quality: QualityThresholds | None = None,
    profiles: ProfileSet | None = None,
    reserve_pixels: PixelReserve | None = None,
    pixels: PixelBudget | None = None,
    dead_letters: DeadLetterCheckpoint | None = None,
) -> Steps:
    """The conductor's steps, from the settings and the ports (the conductor never reads ``settings``)."""
    pixels = pixels or pixel_budget()
    newest = NewestVersionWins(store, settings.output_bucket)
    if profiles is None:  # the single cut-out mode: the built-in profile, the API makes the output
        options = CutoutOptions(
            background=settings.background,
            target_width=settings.target_width or None,
            target_height=settings.target_height or None,
        )
        chosen: ProfileSet | SingleProfile = single_profile(options, quality or QualityThresholds())
    else:  # the one paid call asks for the master: transparent, at the input's own size
        chosen, options = profiles, CutoutOptions(background=Background.TRANSPARENT)
    deliver = ProfileDelivery(
        profiles=chosen,
        deliverables=Deliverables(
            store, settings.output_bucket, reserve_pixels=reserve_pixels or pixels.reserve
        ),
        output_bucket=settings.output_bucket,
        options=options,
        newest=newest,
        metrics=metrics,
        skip_unchanged=settings.skip_unchanged,
        pixels=pixels,
    )
    preparation = SourcePreparation(
        store,
        pixels,
        PreparationSettings(
            limits=ImageLimits(
                max_object_bytes=settings.max_object_bytes, max_source_pixels=settings.max_source_pixels
            ),
            as_url=settings.source_mode is SourceMode.URL,
            presigned_url_ttl_seconds=settings.presigned_url_ttl_seconds,
            staging_bucket=settings.staging_bucket,
            normalise_gps_images=settings.normalise_gps_images,
            passthrough_cutouts=settings.passthrough_cutouts,
            background=options.background,
            resizes=options.target_width is not None or options.target_height is not None,
        ),
    )
    config = checkpoint_config()
    return Steps(
        look_up=SourceLookup(store),
        outcomes=OutcomeCheckpoint(idempotency.outcomes, config),
        prepare=preparation,
        paid_call=PaidCall(
            engine=engine,
            checkpoints=idempotency.paid_calls,
            config=config,
            options=options,
            spending=spending or SpendingGuard(),
            memory=pixels,
            metrics=metrics,
            clock=clock,
        ),
        deliver=deliver,
        retry=RetryDecision(
            attempts, settings.max_attempts, rate_limit_patience_seconds=settings.rate_limit_patience_seconds
        ),
        dead_letters=DeadLetters(dead_letter_queue, metrics, engine_name_of(engine), dead_letters),
        announce=Announcer(publisher or NoEventPublisher(), metrics),
        metrics=metrics,
        checkpoint_config=config,
    )
