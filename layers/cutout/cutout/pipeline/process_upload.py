"""The conductor: one uploaded object version → exactly one outcome, paying at most once.

It runs the steps (``cutout.pipeline.steps.Steps``, built by ``cutout.wiring``) and keeps the rules:

- **one outcome per upload**: the outcome checkpoint stores it (a duplicate gets the stored one); a
  failure already recorded for this upload stands (``DeadLetters.recorded``);
- **never pay twice**: the paid call keeps its receipt the moment the API answers (``cutout.paid_call``);
  a failure after paying says so in its DLQ record (``paid``, ``receipt``);
- **never pay for a bad input**: the deliver step plans and the source is prepared (inspected)
  before paying, and a newer version of the key already there means nothing is paid;
- **wait rather than fail**: a spent budget (``PipelinePaused``) or the same upload under way
  elsewhere is raised, never recorded; a transient failure goes back to the queue until its last
  receive (``RetryDecision``); anything else becomes one DLQ record and the message is acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from cutout.deliver import Made, superseded_outcome
from cutout.engine.port import Cutout
from cutout.events import UploadedObject
from cutout.failures import FailureReason, UnexpectedFailure
from cutout.observability import logger
from cutout.outcome import Outcome
from cutout.paid_call import Paid
from cutout.pipeline.steps import Steps
from cutout.preparation import PreparedSource
from cutout.redelivery.delivery import Delivery
from cutout.redelivery.retry import attempt_subject
from cutout.spending import PipelinePaused
from cutout.storage import ObjectHead
from cutout.storage.metadata_limit import check_metadata_room  # issue 24
from cutout.timings import report_upload, stage, upload_timings


@dataclass(slots=True)
class Spent:
    """Whether this attempt's upload is paid for: the paid call's result, once it has one."""

    paid: Paid | None = None


class UploadProcessor:
    """Processes one object version at a time; safe to call from several threads at once."""

    def __init__(self, steps: Steps) -> None:
        self.steps = steps

    def register_lambda_context(self, context: Any) -> None:
        """Let the checkpoints' records expire no earlier than this invocation can still run."""
        self.steps.checkpoint_config.register_lambda_context(context)

    def process(self, upload: UploadedObject, delivery: Delivery, deadline: float) -> Outcome:
        """The outcome of ``upload`` (stored or new). Raises only to ask for a later redelivery."""
        resolved = self.steps.look_up.identify(upload)  # one identity per object version
        upload = resolved.upload
        outcome = self.steps.outcomes.decide(
            upload, lambda: self._decide(upload, delivery, deadline, resolved.head)
        )
        self.steps.announce.announce(outcome.announcement, delivery)
        return outcome

    def _decide(
        self, upload: UploadedObject, delivery: Delivery, deadline: float, head: ObjectHead | None
    ) -> Outcome:
        steps = self.steps
        logger.thread_safe_append_keys(object_key=upload.key, object_identity=upload.identity)
        subject = attempt_subject(upload)  # == the outcome's key: the version, and the replay
        recorded = steps.dead_letters.recorded(subject)
        if recorded is not None:  # decided before, its outcome lost since: the recorded failure stands
            logger.thread_safe_clear_keys()
            return Outcome.from_dict(recorded)
        spent = Spent()  # the paid call's result, once it has one: what a failure record says
        outcome: Outcome | None = None
        failure: FailureReason | None = None
        with upload_timings() as timings:
            try:
                outcome = self._produce(upload, head, deadline, spent)
            except (IdempotencyAlreadyInProgressError, PipelinePaused):
                raise  # the same upload is under way elsewhere, or we cannot pay: come back later
            except Exception as error:
                failure = UnexpectedFailure.from_error(error)
                if steps.retry.goes_back_to_the_queue(failure, upload, delivery):
                    logger.warning(
                        "transient failure, the message goes back to the queue",
                        reason=failure.code,
                        receive_count=delivery.receive_count,
                        request_id=failure.request_id,
                    )
                    raise
                failure = steps.retry.final_failure(failure, delivery)  # a rate limit past the patience
                receipt = spent.paid.receipt if spent.paid is not None else None
                outcome = steps.dead_letters.record_failure(
                    upload, failure, delivery, receipt, subject=subject
                )
            finally:
                report_upload(
                    steps.metrics,
                    timings,
                    object_key=upload.key,
                    status=outcome.status.value if outcome is not None else "retry",
                    reason=(outcome.error_code if outcome is not None else None)
                    or (failure.code if failure else None),
                    request_id=(outcome.request_id if outcome is not None else None)
                    or (failure.request_id if failure is not None else None),
                )
                logger.thread_safe_clear_keys()
        steps.metrics.processed(outcome.status.value)
        return outcome

    def _produce(
        self, upload: UploadedObject, known_head: ObjectHead | None, deadline: float, spent: Spent
    ) -> Outcome:
        steps = self.steps
        head = steps.look_up.head(upload, known_head)
        plan = steps.deliver.plan(upload, head)  # what it could not deliver is refused before paying
        if plan.finished is not None:  # a byte-identical re-upload: its output exists
            return plan.finished
        if not plan.pays:  # the master is stored already
            return steps.deliver.deliver(plan, None)
        prepared = steps.prepare.prepare(upload, head)  # a bad input is refused here, before paying
        steps.deliver.admit(plan, prepared.metadata)
        with stage("ordering"):
            superseded = plan.superseded_before_paying()
        if superseded is not None:
            return superseded_outcome(upload, superseded, paid=False)
        cutout = self._cutout_of(upload, prepared, deadline, spent)
        return steps.deliver.deliver(plan, Made(cutout, prepared.metadata))

    def _cutout_of(
        self, upload: UploadedObject, prepared: PreparedSource, deadline: float, spent: Spent
    ) -> Cutout:
        """The paid call (once per object version) and its result, or the input when already a cut-out."""
        if prepared.passthrough is not None:
            return prepared.passthrough  # already a cut-out: nothing to pay
        if prepared.source is None:
            raise TypeError("a prepared source holds a source to pay for or a passthrough cut-out")
        check_metadata_room(
            bucket=upload.bucket, key=upload.key, etag=upload.etag, version_id=upload.version_id
        )
        with stage("paid_call"):
            spent.paid = self.steps.paid_call.pay(upload, prepared.source, deadline)
        with stage("result_download"):
            return self.steps.paid_call.fetch(spent.paid, deadline)
