"""One uploaded object version → exactly one outcome, paying at most once.

The flow follows the data: look the object up → skip a byte-identical re-upload → validate the
image (reading as little as possible) → the paid call → download the result → one PUT of the
cut-out with its metadata. Any permanent failure, or a transient one on the last allowed
receive, becomes a DLQ record and the message is acknowledged; other transient failures are
raised, so the message returns to the queue.

Two idempotency checkpoints make "never pay twice" hold across duplicates, crashes and replays:

- **outcome** (keyed on the object version, plus the replayed record for DLQ replays): the final
  outcome, success or recorded failure. A duplicate event gets the stored outcome: no second
  output, no second DLQ record.
- **paid call** (``cutout.paid_call``; keyed on the object version only): the receipt of the
  successful API call, saved the moment the API answers. It outlives a failed download: the DLQ
  record then says the call was paid (``paid``, ``receipt``: never the signed URL), and a replay
  fetches it again for free.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from cutout.announcements import Announcer, EventPublisher, NoEventPublisher
from cutout.announcements.facts import (
    deliverables_announcement,
    failed_announcement,
    stored_announcement,
    unchanged_announcement,
)
from cutout.checkpoints import checkpoint_config
from cutout.dead_letter import DeadLetterQueue
from cutout.dead_letter.checkpoint import DeadLetterCheckpoint
from cutout.dead_letter.record import DeadLetters
from cutout.deliverables import Deliverables, PixelReserve
from cutout.engine.port import (
    Background,
    Cutout,
    CutoutOptions,
    CutoutReceipt,
    ResumableBackgroundRemover,
)
from cutout.events import UploadedObject
from cutout.events.identity import resolve_upload
from cutout.failures import FailureReason
from cutout.observability import PipelineMetrics, logger
from cutout.ordering import NewestVersionWins, SourceStamp, Superseded
from cutout.paid_call import Paid, PaidCall
from cutout.pipeline.outcome import Outcome, Status
from cutout.pixels import PixelBudget, pixel_budget
from cutout.preparation import PreparationSettings, PreparedSource, SourcePreparation
from cutout.profiles import ProfileSet
from cutout.quality_gate import QualityThresholds, alpha_stats_of_stream, judge, review_key
from cutout.quality_gate.review import REVIEW_PREFIX, review_metadata, review_tags
from cutout.quality_gate.stats import alpha_stats
from cutout.redelivery.attempts import AttemptCounter
from cutout.redelivery.delivery import Delivery
from cutout.redelivery.retry import RetryDecision, attempt_subject
from cutout.settings import Settings, SourceMode
from cutout.spending import PipelinePaused, SpendingGuard
from cutout.storage import (
    ObjectHead,
    ObjectStore,
    WriteCondition,
    output_key_for,
    output_metadata,
)
from cutout.storage.metadata_limit import check_metadata_room, fit_metadata  # issue 24
from cutout.storage.output import existing_output_for
from cutout.timings import report_upload, stage, upload_timings
from cutout.validation import (
    ImageLimits,
)
from cutout.variants import master_key
from cutout.variants.enlargement import enlargements, refuse_if_too_small_for

# The outcome checkpoint's record key prefix (see cutout.checkpoints); the paid call's is
# cutout.paid_call.PAID_CALL_KEY_PREFIX.
OUTCOME_KEY_PREFIX = "cutout/outcome/v1"
# The extension each background is expected to come back as (checked again on the real bytes).
_EXPECTED_EXTENSIONS = {Background.TRANSPARENT: (".png",), Background.WHITE: (".jpg", ".png")}


@dataclass(frozen=True, slots=True)
class IdempotencyStores:
    """One persistence layer per idempotent step (Powertools binds a layer to one function)."""

    outcomes: BasePersistenceLayer
    paid_calls: BasePersistenceLayer


@dataclass(slots=True)
class Spent:
    """Whether this attempt's upload is paid for: the paid call's result, once it has one."""

    paid: Paid | None = None


class UnexpectedFailure(FailureReason):
    """Anything we did not foresee (an AWS outage, a bug): retried, then recorded with its type."""

    code = "internal_error"
    retryable = True

    @classmethod
    def from_error(cls, error: BaseException) -> UnexpectedFailure:
        # The exception's type and first line only: enough to triage, nothing from request parameters.
        first_line = (str(error).splitlines() or [""])[0][:300]
        return cls(f"{type(error).__name__}: {first_line}")


class UploadProcessor:
    """Processes one object version at a time; safe to call from several threads at once."""

    def __init__(
        self,
        *,
        settings: Settings,
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
    ) -> None:
        self._settings = settings
        self._pixels = pixels or pixel_budget()
        self._retry = RetryDecision(
            attempts, settings.max_attempts, rate_limit_patience_seconds=settings.rate_limit_patience_seconds
        )
        self._store = store
        self._engine = engine
        self._dlq = dead_letter_queue
        self._metrics = metrics
        self._clock = clock
        self._quality = quality or QualityThresholds()
        self._limits = ImageLimits(
            max_object_bytes=settings.max_object_bytes, max_source_pixels=settings.max_source_pixels
        )
        self._newest = NewestVersionWins(store, settings.output_bucket)
        # With profiles, the one paid call asks for the master: transparent, at the input's own size
        # (the best the API gives); every deliverable is made from it (cutout.deliverables).
        self._profiles = profiles
        self._deliverables = (
            None
            if profiles is None
            else Deliverables(
                store, settings.output_bucket, reserve_pixels=reserve_pixels or self._pixels.reserve
            )
        )
        self.options = (
            CutoutOptions(
                background=settings.background,
                target_width=settings.target_width or None,
                target_height=settings.target_height or None,
            )
            if profiles is None
            else CutoutOptions(background=Background.TRANSPARENT)
        )
        self._preparation = SourcePreparation(
            store,
            self._pixels,
            PreparationSettings(
                limits=self._limits,
                as_url=settings.source_mode is SourceMode.URL,
                presigned_url_ttl_seconds=settings.presigned_url_ttl_seconds,
                staging_bucket=settings.staging_bucket,
                normalise_gps_images=settings.normalise_gps_images,
                passthrough_cutouts=settings.passthrough_cutouts,
                background=self.options.background,
                resizes=self.options.target_width is not None or self.options.target_height is not None,
            ),
        )
        self._announcer = Announcer(publisher or NoEventPublisher(), metrics)
        self._dead_letters = DeadLetters(dead_letter_queue, metrics, self._engine_name, dead_letters)
        self._idempotency_config = checkpoint_config()
        self._decide_outcome = idempotent_function(
            data_keyword_argument="request",
            persistence_store=idempotency.outcomes,
            config=self._idempotency_config,
            key_prefix=OUTCOME_KEY_PREFIX,
        )(self._decide_outcome_once)
        self._paid_call = PaidCall(
            engine=engine,
            checkpoints=idempotency.paid_calls,
            config=self._idempotency_config,
            options=self.options,
            spending=spending or SpendingGuard(),
            memory=self._pixels,
            metrics=metrics,
            clock=clock,
        )

    def register_lambda_context(self, context: Any) -> None:
        """Let the idempotency records expire no earlier than this invocation can still run."""
        self._idempotency_config.register_lambda_context(context)

    def process(self, upload: UploadedObject, delivery: Delivery, deadline: float) -> Outcome:
        """The outcome of ``upload`` (stored or new). Raises only to ask for a later redelivery."""
        # One identity per object version whichever way it came (event, backfill, replay...):
        # settled from the object's HEAD when the message names no version (cutout.events.identity).
        resolved = resolve_upload(upload, self._store.head)
        upload = resolved.upload
        # a DLQ replay gets its own outcome (the failure is re-attempted); the paid call stays shared
        request = {"identity": upload.identity, "replay": upload.replay_marker}
        result: dict[str, Any] = self._decide_outcome(
            request=request, upload=upload, delivery=delivery, deadline=deadline, head=resolved.head
        )
        outcome = Outcome.from_dict(result)
        self._announcer.announce(outcome.announcement, delivery)
        return outcome

    # -- the outcome, decided once per object version (and per replay) -----------------------

    def _decide_outcome_once(
        self,
        *,
        request: dict[str, Any],
        upload: UploadedObject,
        delivery: Delivery,
        deadline: float,
        head: ObjectHead | None = None,
    ) -> dict[str, Any]:
        logger.thread_safe_append_keys(object_key=upload.key, object_identity=upload.identity)
        subject = attempt_subject(upload)  # == the outcome's key: the version, and the replay
        recorded = self._dead_letters.recorded(subject)
        if recorded is not None:  # decided before, its outcome lost since: the recorded failure stands
            logger.thread_safe_clear_keys()
            return recorded
        spent = Spent()  # the paid call's result, once it has one: what a failure record says
        outcome: Outcome | None = None
        failure: FailureReason | None = None
        with upload_timings() as timings:
            try:
                outcome = self._produce_output(upload, deadline, spent, head)
            except (IdempotencyAlreadyInProgressError, PipelinePaused):
                raise  # the same paid call is under way elsewhere, or we cannot pay: come back later
            except Exception as error:
                failure = error if isinstance(error, FailureReason) else UnexpectedFailure.from_error(error)
                if self._retry.goes_back_to_the_queue(failure, upload, delivery):
                    logger.warning(
                        "transient failure, the message goes back to the queue",
                        reason=failure.code,
                        receive_count=delivery.receive_count,
                        request_id=failure.request_id,
                    )
                    raise
                failure = self._retry.final_failure(failure, delivery)  # a rate limit past the patience
                receipt = spent.paid.receipt if spent.paid is not None else None
                outcome = self._record_failure(upload, failure, delivery, receipt, subject=subject)
            finally:
                report_upload(
                    self._metrics,
                    timings,
                    object_key=upload.key,
                    status=outcome.status.value if outcome is not None else "retry",
                    reason=(outcome.error_code if outcome is not None else None)
                    or (failure.code if failure else None),
                    request_id=(outcome.request_id if outcome is not None else None)
                    or (failure.request_id if failure is not None else None),
                )
                logger.thread_safe_clear_keys()
        self._metrics.processed(outcome.status.value)
        return outcome.to_dict()

    def _produce_output(
        self,
        upload: UploadedObject,
        deadline: float,
        spent: Spent,
        head: ObjectHead | None = None,
    ) -> Outcome:
        if head is None:  # else the HEAD that resolved the identity (cutout.events.identity), reused
            with stage("head"):
                head = self._store.head(upload.bucket, upload.key, upload.version_id)
        if self._profiles is not None and self._deliverables is not None:
            return self._produce_deliverables(
                upload, head, self._profiles, self._deliverables, deadline, spent=spent
            )
        with stage("unchanged_check"):
            unchanged = (
                existing_output_for(
                    self._store,
                    self._settings.output_bucket,
                    upload,
                    head.etag,
                    _EXPECTED_EXTENSIONS[self.options.background],
                )
                if self._settings.skip_unchanged and head.etag
                else None
            )
        if unchanged is not None:
            logger.info("byte-identical re-upload: its output exists, nothing to pay", output_key=unchanged)
            existing = self._store.head(self._settings.output_bucket, unchanged)
            event = unchanged_announcement(
                upload, head, existing, bucket=self._settings.output_bucket, key=unchanged
            )
            return Outcome(
                status=Status.UNCHANGED,
                identity=upload.identity,
                output_key=unchanged,
                announcement=event.to_dict(),
            )

        output_keys = [
            output_key_for(upload.key, extension)
            for extension in _EXPECTED_EXTENSIONS[self.options.background]
        ]
        # (an output that cannot be written is refused before paying, by output_key_for)
        prepared = self._preparation.prepare(upload, head)
        writes = self._newest.writes_for(upload, head)  # newest version wins: the check, then the PUT
        with stage("ordering"):
            superseded = writes.superseded(output_keys)
        if superseded is not None:
            return self._superseded(upload, superseded, paid=False)
        cutout = self._cutout_of(upload, prepared, deadline, spent)
        try:
            output_key = output_key_for(upload.key, cutout.extension)
            stats = alpha_stats_of_stream(cutout.body, self._pixels.reserve)  # within the pixel budget
            verdict = judge(stats, cutout.score, self._quality)
            if verdict.held:  # the quality gate: never at the published key
                output_key = review_key(output_key)
                for reason in verdict.reasons:
                    self._metrics.held_for_review(reason)
            stamp = SourceStamp.of(upload, head).metadata()

            def write(condition: WriteCondition) -> None:
                cutout.body.seek(0)
                metadata = fit_metadata(
                    {  # S3's 2 KB (issue 24: cutout.storage.metadata_limit)
                        **output_metadata(upload, head, cutout, self.options),
                        **prepared.metadata,
                        **stamp,
                        **(review_metadata(verdict) if verdict.held else {}),
                    }
                )
                self._store.put(
                    self._settings.output_bucket,
                    output_key,
                    cutout.body,
                    cutout.content_type,
                    metadata,
                    condition=condition,
                    # held for review: the reasons travel as a tag too
                    tags=review_tags(verdict) if verdict.held else None,
                )

            with stage("put"):
                superseded = writes(output_key, write)
            event = stored_announcement(
                upload,
                head,
                cutout,
                bucket=self._settings.output_bucket,
                key=output_key,
                review_reasons=verdict.reasons,
            )
        finally:
            cutout.body.close()  # may be a spooled temporary file on disk
        if superseded is not None:
            return self._superseded(upload, superseded, paid=True, request_id=cutout.request_id)
        logger.info(
            "cut-out stored",
            output_key=output_key,
            request_id=cutout.request_id,
            score=cutout.score,
            width=cutout.width,
            height=cutout.height,
        )
        return Outcome(
            status=Status.REVIEW if verdict.held else Status.DONE,
            identity=upload.identity,
            output_key=output_key,
            request_id=cutout.request_id,
            announcement=event.to_dict(),
        )

    def _cutout_of(
        self, upload: UploadedObject, prepared: PreparedSource, deadline: float, spent: Spent
    ) -> Cutout:
        """The cut-out of the prepared source: the paid call (once per object version, its receipt
        stored) and the result's download, or the input itself when it is already a cut-out."""
        if prepared.passthrough is not None or prepared.source is None:
            return _passthrough(prepared)  # already a cut-out: nothing to pay
        check_metadata_room(
            bucket=upload.bucket, key=upload.key, etag=upload.etag, version_id=upload.version_id
        )
        with stage("paid_call"):
            spent.paid = self._paid_call.pay(upload, prepared.source, deadline)
        with stage("result_download"):
            return self._paid_call.fetch(spent.paid, deadline)

    def _superseded(
        self, upload: UploadedObject, superseded: Superseded, *, paid: bool, request_id: str | None = None
    ) -> Outcome:
        logger.info(
            "superseded by a newer version of the key: no output written"
            + ("" if paid else ", nothing paid"),
            reason=superseded.code,
            superseded_by=superseded.by,
            request_id=request_id,
        )
        return Outcome(
            status=Status.SUPERSEDED,
            identity=upload.identity,
            request_id=request_id,
            error_code=superseded.code,
        )

    def _produce_deliverables(
        self,
        upload: UploadedObject,
        head: ObjectHead,
        profiles: ProfileSet,
        deliverables: Deliverables,
        deadline: float,
        *,
        spent: Spent,
    ) -> Outcome:
        """The profile's variants from one paid call's master (or from the master already stored)."""
        profile = profiles.choose(upload.key, head.metadata)  # an unknown profile is refused before paying
        deliverables.check_keys(upload.key, profile)  # so is an output that could not be written
        match = self._source_match(upload, head)
        guard = self._newest.writes_for(upload, head)  # newest version wins, for every PUT (and its HEADs)
        stored = deliverables.stored_master(upload.key, match, look=guard.output)
        if stored is not None:
            logger.info("master already stored for this source: nothing to pay", profile=profile.name)
            master, metadata = stored.data, stored.metadata
        else:
            prepared = self._preparation.prepare(upload, head)
            refuse_if_too_small_for(prepared.metadata, profile)  # every variant over the limit: no call
            with stage("ordering"):  # the key's current version, and a master made from a newer one
                superseded = guard.superseded([master_key(upload.key)])
            if superseded is not None:
                return self._superseded(upload, superseded, paid=False)
            cutout = self._cutout_of(upload, prepared, deadline, spent)  # the master
            try:
                metadata = {
                    **output_metadata(upload, head, cutout, self.options),
                    **prepared.metadata,
                    **SourceStamp.of(upload, head).metadata(),
                }
                cutout.body.seek(0)
                master = cutout.body.read()
            finally:
                cutout.body.close()
            with stage("put"):
                superseded = deliverables.store_master(upload.key, master, metadata, guard=guard)
            if superseded is not None:
                return self._superseded(upload, superseded, paid=True, request_id=cutout.request_id)
        score = metadata.get("score")
        # The master is decoded once, inside the pixel budget, for the gate and every variant.
        with deliverables.decoded(master, profile) as pixels:
            del master
            stats = alpha_stats(pixels.image) if pixels.has_alpha else None
            scales = enlargements(pixels.image, profile)
            verdict = judge(stats, float(score) if score else None, profile.quality, scales)
            for reason in verdict.reasons:
                self._metrics.held_for_review(reason)
            with stage("variants"):
                result = deliverables.deliver(
                    upload.key,
                    pixels,
                    profile,
                    {**metadata, **review_metadata(verdict)} if verdict.held else metadata,
                    match=match,
                    master_reused=stored is not None,
                    key_prefix=REVIEW_PREFIX if verdict.held else "",
                    tags=review_tags(verdict) if verdict.held else None,
                    guard=guard,
                )
        if result.superseded is not None:
            return self._superseded(
                upload, result.superseded, paid=stored is None, request_id=metadata.get("request-id")
            )
        event = deliverables_announcement(
            upload,
            head,
            result.outputs,
            bucket=self._settings.output_bucket,
            profile=profile.name,
            metadata=metadata,
            review_reasons=verdict.reasons,
        )
        logger.info(
            "deliverables stored",
            profile=profile.name,
            variants=len(result.outputs),
            written=result.written,
            master_key=result.master_key,
            request_id=metadata.get("request-id"),
        )
        unchanged = stored is not None and result.written == 0
        return Outcome(
            status=Status.REVIEW if verdict.held else Status.UNCHANGED if unchanged else Status.DONE,
            announcement=event.to_dict(),
            identity=upload.identity,
            output_key=result.outputs[0].key,
            request_id=metadata.get("request-id") or None,
            profile=profile.name,
            master_key=result.master_key,
            outputs=tuple(output.to_dict() for output in result.outputs),
        )

    def _source_match(self, upload: UploadedObject, head: ObjectHead) -> dict[str, str]:
        """The source fields an existing output must carry to be this upload's (see ``skip_unchanged``)."""
        match = {"source-bucket": upload.bucket, "source-etag": head.etag or upload.etag or ""}
        version_id = upload.version_id or head.version_id
        if not self._settings.skip_unchanged and version_id and version_id != "null":
            match["source-version-id"] = version_id  # same bytes, new version: made again
        return match

    # -- failures ------------------------------------------------------------------------------

    def _record_failure(
        self,
        upload: UploadedObject,
        failure: FailureReason,
        delivery: Delivery,
        receipt: CutoutReceipt | None,
        *,
        subject: str,
    ) -> Outcome:
        outcome = Outcome(
            status=Status.FAILED,
            identity=upload.identity,
            request_id=failure.request_id,
            error_code=failure.code,
            announcement=failed_announcement(upload, failure, engine=self._engine_name()).to_dict(),
        )
        # Kept, then sent, then marked sent: one record per upload (an earlier decision's stands).
        return Outcome.from_dict(
            self._dead_letters.record(
                upload, failure, delivery, receipt, subject=subject, outcome=outcome.to_dict()
            )
        )

    def _engine_name(self) -> str:
        try:
            return self._engine().engine_name
        except Exception:  # noqa: BLE001  (the engine could not even be built: say so, don't fail twice)
            return "unknown"


def _passthrough(prepared: PreparedSource) -> Cutout:
    """The input itself, when it already is a cut-out (``PreparedSource`` holds it or a source)."""
    if prepared.passthrough is None:
        raise TypeError("a prepared source holds a source to pay for or a passthrough cut-out")
    return prepared.passthrough
