"""The conductor alone, run with fake steps: the rules it keeps, whatever the steps do.

One outcome per upload, never pay twice, never pay for a bad input, wait rather than fail, a
transient failure back to the queue until the last receive, superseded means nothing paid. The
fakes keep their steps' contracts: the outcome checkpoint stores an outcome only when deciding it
returned (Powertools deletes the in-progress record on an exception), and the paid call keeps its
receipt the moment it pays (a second ``pay`` of the same upload answers from it).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from cutout.checkpoints import checkpoint_config
from cutout.deliver import Made, Plan
from cutout.engine.errors import PermanentEngineError, RetryableEngineError
from cutout.engine.port import Background, Cutout, CutoutReceipt, ImageBytes, ImageSource
from cutout.events import UploadedObject
from cutout.events.identity import ResolvedUpload
from cutout.failures import FailureReason
from cutout.ordering import Superseded
from cutout.outcome import Outcome, Status
from cutout.paid_call import Paid
from cutout.pipeline.process_upload import UploadProcessor
from cutout.pipeline.steps import Steps
from cutout.preparation import PreparedSource
from cutout.redelivery.delivery import Delivery
from cutout.redelivery.retry import attempt_subject
from cutout.spending import PipelinePaused
from cutout.storage import ObjectHead, WriteCondition
from cutout.validation import ImageRejected
from cutout.validation.rejection import RejectionCode
from tests.fakes import RecordingMetrics

UPLOAD = UploadedObject(bucket="in", key="shoes/red.jpg", version_id="v1", etag="e1", size=10)
HEAD = ObjectHead(size=10, etag="e1", version_id="v1", content_type="image/jpeg", metadata={})
LAST_RECEIVE = 3
TRANSIENT = RetryableEngineError("the API is down", code="aidge_500")
PERMANENT = PermanentEngineError("the API refused it", code="aidge_700")
BAD_INPUT = ImageRejected(
    RejectionCode.IMAGE_TOO_SMALL, "the image is 1 pixel wide; the API needs at least 32"
)


class FakeLookUp:
    def identify(self, upload: UploadedObject) -> ResolvedUpload[ObjectHead]:
        return ResolvedUpload(upload, None)

    def head(self, upload: UploadedObject, known: ObjectHead | None) -> ObjectHead:
        return known or HEAD


class FakeOutcomes:
    """The outcome checkpoint: stored when deciding returns, nothing stored when it raises."""

    def __init__(self) -> None:
        self.stored: dict[str, Outcome] = {}
        self.in_progress: set[str] = set()

    def decide(self, upload: UploadedObject, produce: Callable[[], Outcome]) -> Outcome:
        key = f"{upload.identity}|{upload.replay_marker}"
        if key in self.in_progress:
            raise IdempotencyAlreadyInProgressError("Execution already in progress")
        if key in self.stored:
            return self.stored[key]
        outcome = produce()
        self.stored[key] = outcome
        return outcome


class FakePrepare:
    def __init__(self) -> None:
        self.calls = 0
        self.refusal: FailureReason | None = None
        self.passthrough = False

    def prepare(self, upload: UploadedObject, head: ObjectHead) -> PreparedSource:
        self.calls += 1
        if self.refusal is not None:
            raise self.refusal
        if self.passthrough:
            return PreparedSource(None, {"passthrough": "true"}, passthrough=_cutout())
        return PreparedSource(ImageBytes(b"jpeg"), {"prepared": "yes"})


class FakeOrdering:
    """The upload's ordered writes (``cutout.ordering.UploadWrites``), as the deliver step plans them."""

    def __init__(self) -> None:
        self.newer: Superseded | None = None
        self.asked: list[tuple[str, ...]] = []

    def output(self, key: str) -> ObjectHead | None:
        return None

    def superseded(self, output_keys: Sequence[str]) -> Superseded | None:
        self.asked.append(tuple(output_keys))
        return self.newer

    def __call__(self, output_key: str, write: Callable[[WriteCondition], None]) -> Superseded | None:
        raise AssertionError("the conductor never writes: the deliver step does")


class FakePaidCall:
    """Bills at most once per identity: the receipt is kept the moment it pays."""

    def __init__(self) -> None:
        self.billed: list[str] = []
        self.receipts: dict[str, Paid] = {}
        self.refusal: BaseException | None = None

    def pay(self, upload: UploadedObject, source: ImageSource, deadline: float) -> Paid:
        if upload.identity in self.receipts:
            return self.receipts[upload.identity]
        if self.refusal is not None:
            raise self.refusal
        self.billed.append(upload.identity)
        paid = Paid(_receipt(f"req-{len(self.billed)}"))
        self.receipts[upload.identity] = paid
        return paid

    def fetch(self, paid: Paid, deadline: float) -> Cutout:
        return _cutout(paid.receipt.request_id)


class FakeDeliver:
    def __init__(self, writes: FakeOrdering) -> None:
        self.writes = writes
        self.plan_refusal: FailureReason | None = None
        self.admit_refusal: FailureReason | None = None
        self.finished: Outcome | None = None
        self.pays = True
        self.failures: list[BaseException] = []  # raised by the next deliveries, in order
        self.delivered: list[Made | None] = []

    def plan(self, upload: UploadedObject, head: ObjectHead) -> Plan:
        if self.plan_refusal is not None:
            raise self.plan_refusal
        return Plan(
            upload,
            head,
            ordering_keys=("shoes/red.jpg.png",),
            finished=self.finished,
            pays=self.pays,
            writes=self.writes,
        )

    def admit(self, plan: Plan, source_metadata: dict[str, str]) -> None:
        if self.admit_refusal is not None:
            raise self.admit_refusal

    def deliver(self, plan: Plan, made: Made | None) -> Outcome:
        self.delivered.append(made)
        if self.failures:
            raise self.failures.pop(0)
        request_id = made.cutout.request_id if made is not None else None
        return Outcome(
            status=Status.DONE,
            identity=plan.upload.identity,
            output_key="shoes/red.jpg.png",
            request_id=request_id,
            announcement={"detail-type": "Cutout Image Processed", "request": request_id},
        )


class FakeRetry:
    """Back to the queue: a retryable failure before the queue's last receive."""

    def goes_back_to_the_queue(
        self, failure: FailureReason, upload: UploadedObject, delivery: Delivery
    ) -> bool:
        return failure.retryable and delivery.receive_count < delivery.max_receive_count

    def final_failure(self, failure: FailureReason, delivery: Delivery) -> FailureReason:
        return failure


class FakeDeadLetters:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, CutoutReceipt | None]] = []
        self.by_subject: dict[str, dict[str, Any]] = {}

    def recorded(self, subject: str) -> dict[str, Any] | None:
        return self.by_subject.get(subject)

    def record_failure(
        self,
        upload: UploadedObject,
        failure: FailureReason,
        delivery: Delivery,
        receipt: CutoutReceipt | None,
        *,
        subject: str,
    ) -> Outcome:
        self.records.append((subject, failure.code, receipt))
        outcome = Outcome(status=Status.FAILED, identity=upload.identity, error_code=failure.code)
        self.by_subject[subject] = outcome.to_dict()
        return outcome


class FakeAnnounce:
    def __init__(self) -> None:
        self.announced: list[dict[str, Any] | None] = []

    def announce(self, announcement: dict[str, Any] | None, delivery: Delivery) -> None:
        self.announced.append(announcement)


def _receipt(request_id: str) -> CutoutReceipt:
    return CutoutReceipt(
        engine="fake",
        result_url="https://results.invalid/signed",
        width=4,
        height=4,
        score=0.9,
        usage=1,
        request_id=request_id,
        background=Background.TRANSPARENT,
    )


def _cutout(request_id: str | None = None) -> Cutout:
    return Cutout(
        body=io.BytesIO(b"png"),
        size=3,
        content_type="image/png",
        width=4,
        height=4,
        score=0.9,
        usage=1,
        request_id=request_id,
        engine="fake",
    )


class Conductor:
    """The conductor and its fake steps, for one test."""

    def __init__(self) -> None:
        self.outcomes = FakeOutcomes()
        self.prepare = FakePrepare()
        self.ordering = FakeOrdering()
        self.paid_call = FakePaidCall()
        self.deliver = FakeDeliver(self.ordering)
        self.dead_letters = FakeDeadLetters()
        self.announce = FakeAnnounce()
        self.metrics = RecordingMetrics()
        self.processor = UploadProcessor(
            Steps(
                look_up=FakeLookUp(),
                outcomes=self.outcomes,
                prepare=self.prepare,
                paid_call=self.paid_call,
                deliver=self.deliver,
                retry=FakeRetry(),
                dead_letters=self.dead_letters,
                announce=self.announce,
                metrics=self.metrics,
                checkpoint_config=checkpoint_config(),
            )
        )

    def process(self, receive_count: int = 1, upload: UploadedObject = UPLOAD) -> Outcome:
        delivery = Delivery(receive_count=receive_count, max_receive_count=LAST_RECEIVE)
        return self.processor.process(upload, delivery, deadline=10**9)


@pytest.fixture
def conductor() -> Conductor:
    return Conductor()


def test_a_good_upload_is_paid_once_delivered_and_announced(conductor: Conductor) -> None:
    # Given steps that all succeed
    # When an upload is processed
    outcome = conductor.process()
    # Then it was prepared, checked against newer versions, paid once and delivered from that result
    assert outcome.status is Status.DONE
    assert conductor.prepare.calls == 1
    assert conductor.ordering.asked == [("shoes/red.jpg.png",)]
    assert conductor.paid_call.billed == [UPLOAD.identity]
    made = conductor.deliver.delivered[0]
    assert made is not None
    assert made.cutout.request_id == "req-1"
    assert made.source_metadata == {"prepared": "yes"}
    # And its announcement was published once, nothing recorded as failed
    assert conductor.announce.announced == [outcome.announcement]
    assert conductor.dead_letters.records == []
    assert ("processed", "done") in conductor.metrics.events


def test_a_duplicate_gets_the_stored_outcome_and_no_step_runs_again(conductor: Conductor) -> None:
    # Given an upload already processed
    first = conductor.process()
    # When its duplicate arrives
    second = conductor.process()
    # Then it gets the same outcome (announced again, the same event), and nothing was done twice
    assert second == first
    assert conductor.prepare.calls == 1
    assert conductor.paid_call.billed == [UPLOAD.identity]
    assert len(conductor.deliver.delivered) == 1
    assert conductor.announce.announced == [first.announcement, first.announcement]
    assert conductor.metrics.events.count(("processed", "done")) == 1


def test_a_permanent_failure_is_recorded_once_and_its_duplicate_gets_that_outcome(
    conductor: Conductor,
) -> None:
    # Given a delivery that fails for good after paying
    conductor.deliver.failures = [PERMANENT]
    # When the upload and then its duplicate are processed
    first = conductor.process()
    second = conductor.process()
    # Then one DLQ record says why, with the receipt of the call paid, and both get its outcome
    assert first.status is Status.FAILED
    assert first.error_code == "aidge_700"
    assert second == first
    assert [
        (code, receipt.request_id if receipt else None) for _, code, receipt in conductor.dead_letters.records
    ] == [("aidge_700", "req-1")]
    assert conductor.paid_call.billed == [UPLOAD.identity]


def test_a_failure_already_recorded_stands_when_its_outcome_was_lost(conductor: Conductor) -> None:
    # Given a failure recorded for this upload whose outcome was never stored (a crash in between)
    recorded = Outcome(status=Status.FAILED, identity=UPLOAD.identity, error_code="aidge_700")
    conductor.dead_letters.by_subject = {attempt_subject(UPLOAD): recorded.to_dict()}
    # When the upload is processed again
    outcome = conductor.process()
    # Then the recorded failure stands: nothing prepared, paid, delivered or recorded again
    assert outcome == recorded
    assert conductor.prepare.calls == 0
    assert conductor.paid_call.billed == []
    assert conductor.deliver.delivered == []
    assert conductor.dead_letters.records == []


@pytest.mark.parametrize("where", ["prepare", "plan", "admit"])
def test_a_bad_input_is_never_paid_for_and_is_recorded_at_once(conductor: Conductor, where: str) -> None:
    # Given an input refused by inspection, by the deliver step's plan, or as too small for its profile
    if where == "prepare":
        conductor.prepare.refusal = BAD_INPUT
    elif where == "plan":
        conductor.deliver.plan_refusal = BAD_INPUT
    else:
        conductor.deliver.admit_refusal = BAD_INPUT
    # When it is processed on its first receive
    outcome = conductor.process(receive_count=1)
    # Then nothing is paid, nothing delivered, and one record says why, with no receipt
    assert outcome.status is Status.FAILED
    assert outcome.error_code == "image_too_small"
    assert conductor.paid_call.billed == []
    assert conductor.deliver.delivered == []
    assert [(code, receipt) for _, code, receipt in conductor.dead_letters.records] == [
        ("image_too_small", None)
    ]
    assert conductor.prepare.calls == (0 if where == "plan" else 1)


def test_a_crash_after_paying_goes_back_to_the_queue_and_the_redelivery_does_not_pay_again(
    conductor: Conductor,
) -> None:
    # Given a delivery that fails transiently once, after the call was paid
    conductor.deliver.failures = [TRANSIENT]
    # When the upload is processed: the message goes back to the queue
    with pytest.raises(RetryableEngineError):
        conductor.process(receive_count=1)
    assert conductor.outcomes.stored == {}  # no outcome yet: the redelivery decides again
    # And its redelivery is processed
    outcome = conductor.process(receive_count=2)
    # Then it is delivered from the same paid call's result: billed once, nothing recorded
    assert outcome.status is Status.DONE
    assert outcome.request_id == "req-1"
    assert conductor.paid_call.billed == [UPLOAD.identity]
    assert conductor.dead_letters.records == []


@pytest.mark.parametrize(
    ("receive_count", "recorded"), [(1, False), (LAST_RECEIVE - 1, False), (LAST_RECEIVE, True)]
)
def test_a_transient_failure_goes_back_to_the_queue_until_the_last_receive(
    conductor: Conductor, receive_count: int, recorded: bool
) -> None:
    # Given a delivery failing transiently after paying
    conductor.deliver.failures = [TRANSIENT]
    # When it is processed on this receive
    if recorded:
        outcome = conductor.process(receive_count=receive_count)
        # Then on the last receive one record says why, that the call was paid, and with its receipt
        assert outcome.status is Status.FAILED
        assert outcome.error_code == "aidge_500"
        assert [
            (code, receipt.request_id if receipt else None)
            for _, code, receipt in conductor.dead_letters.records
        ] == [("aidge_500", "req-1")]
    else:
        # Then before it the message goes back to the queue, nothing recorded, no outcome stored
        with pytest.raises(RetryableEngineError):
            conductor.process(receive_count=receive_count)
        assert conductor.dead_letters.records == []
        assert conductor.outcomes.stored == {}
    assert conductor.paid_call.billed == [UPLOAD.identity]


def test_an_unforeseen_error_is_retried_then_recorded_as_an_internal_error(conductor: Conductor) -> None:
    # Given a step failing with an error nobody foresaw, on every receive
    conductor.deliver.failures = [RuntimeError("boom\nwith a second line"), RuntimeError("boom")]
    # When it is processed on its first and on its last receive
    with pytest.raises(RuntimeError):
        conductor.process(receive_count=1)
    outcome = conductor.process(receive_count=LAST_RECEIVE)
    # Then it went back to the queue first, and was recorded once at the end, with its type
    assert outcome.status is Status.FAILED
    assert outcome.error_code == "internal_error"
    assert [code for _, code, _ in conductor.dead_letters.records] == ["internal_error"]


@pytest.mark.parametrize(
    "signal",
    [
        PipelinePaused(RetryableEngineError("budget spent", code="budget_exhausted")),
        IdempotencyAlreadyInProgressError("Execution already in progress"),
    ],
)
@pytest.mark.parametrize("receive_count", [1, LAST_RECEIVE])
def test_a_pause_or_the_same_paid_call_under_way_waits_and_is_never_recorded(
    conductor: Conductor, signal: Exception, receive_count: int
) -> None:
    # Given a paid call that cannot be made now (spent budget), or is under way elsewhere
    conductor.paid_call.refusal = signal
    # When the upload is processed, even on its last receive
    with pytest.raises(type(signal)):
        conductor.process(receive_count=receive_count)
    # Then it waits: no record, no outcome stored, nothing paid or announced
    assert conductor.dead_letters.records == []
    assert conductor.outcomes.stored == {}
    assert conductor.paid_call.billed == []
    assert conductor.announce.announced == []


def test_an_upload_decided_elsewhere_right_now_waits_and_runs_no_step(conductor: Conductor) -> None:
    # Given the same upload's outcome being decided by another invocation
    conductor.outcomes.in_progress.add(f"{UPLOAD.identity}|{UPLOAD.replay_marker}")
    # When it is processed on its last receive
    with pytest.raises(IdempotencyAlreadyInProgressError):
        conductor.process(receive_count=LAST_RECEIVE)
    # Then nothing ran and nothing was recorded
    assert conductor.prepare.calls == 0
    assert conductor.paid_call.billed == []
    assert conductor.dead_letters.records == []


def test_a_version_superseded_before_paying_pays_nothing(conductor: Conductor) -> None:
    # Given a newer version of the key already there
    conductor.ordering.newer = Superseded(by="v2")
    # When the older version is processed
    outcome = conductor.process()
    # Then it is superseded: nothing paid, nothing delivered, nothing recorded
    assert outcome.status is Status.SUPERSEDED
    assert conductor.paid_call.billed == []
    assert conductor.deliver.delivered == []
    assert conductor.dead_letters.records == []


def test_an_unchanged_re_upload_pays_nothing_and_prepares_nothing(conductor: Conductor) -> None:
    # Given the deliver step finds the upload's output already there
    conductor.deliver.finished = Outcome(
        status=Status.UNCHANGED, identity=UPLOAD.identity, output_key="x.png"
    )
    # When it is processed
    outcome = conductor.process()
    # Then that is its outcome: nothing prepared or paid
    assert outcome.status is Status.UNCHANGED
    assert conductor.prepare.calls == 0
    assert conductor.paid_call.billed == []
    assert conductor.deliver.delivered == []


def test_a_stored_master_is_delivered_from_without_preparing_or_paying(conductor: Conductor) -> None:
    # Given a master already stored for this source
    conductor.deliver.pays = False
    # When the upload is processed
    outcome = conductor.process()
    # Then the deliver step delivers from it: nothing prepared, checked or paid
    assert outcome.status is Status.DONE
    assert conductor.deliver.delivered == [None]
    assert conductor.prepare.calls == 0
    assert conductor.ordering.asked == []
    assert conductor.paid_call.billed == []


def test_an_input_that_already_is_a_cut_out_is_delivered_without_paying(conductor: Conductor) -> None:
    # Given a prepared source that is a cut-out already (passthrough)
    conductor.prepare.passthrough = True
    # When it is processed
    outcome = conductor.process()
    # Then it is delivered as it is, and nothing is paid
    assert outcome.status is Status.DONE
    made = conductor.deliver.delivered[0]
    assert made is not None
    assert made.source_metadata == {"passthrough": "true"}
    assert conductor.paid_call.billed == []
