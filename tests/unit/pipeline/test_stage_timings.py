"""Where the time of one upload went: per-stage timings in its log line and its EMF record."""

from __future__ import annotations

import json

import pytest

from cutout.engine.errors import RetryableEngineError
from cutout.observability import PowertoolsPipelineMetrics, stage_metric_name
from cutout.timings import StageTimings, stage, upload_timings
from tests.fakes import FakeEngine
from tests.unit.pipeline.harness import build_harness


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_stage_adds_up_and_stages_come_in_pipeline_order() -> None:
    # Given an upload's timings on a fake clock
    clock = Clock()
    with upload_timings(clock) as timings:
        # When a step added later ("variants") and the paid call are timed, the paid call twice
        with stage("variants"):
            clock.now += 0.004
        with stage("paid_call"):
            clock.now += 0.010
        with stage("paid_call"):
            clock.now += 0.002
    # Then each stage is its sum in ms, in pipeline order, and outside an upload nothing is kept
    assert timings.stages_ms() == {"paid_call": 12.0, "variants": 4.0}
    assert timings.total_ms() == 16.0
    with stage("head"):
        pass
    assert StageTimings(clock).stages_ms() == {}


def test_each_upload_logs_one_line_with_its_stages_key_and_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a valid upload
    harness = build_harness()
    upload = harness.upload("shoes/red.jpg")
    # When it is processed
    harness.process(upload)
    # Then one "upload finished" line carries its key, request id and the stages that ran
    [finished] = [vars(r) for r in caplog.records if r.getMessage() == "upload finished"]
    assert finished["object_key"] == "shoes/red.jpg"
    assert finished["request_id"] == "req-1"
    assert finished["status"] == "done"
    assert list(finished["stages_ms"]) == [
        "head", "unchanged_check", "validation", "ordering", "paid_call", "result_download", "put",
    ]  # fmt: skip
    assert finished["total_ms"] >= sum(finished["stages_ms"].values()) - 0.5
    # ... and the metrics port got the same timings
    [(_, (key, request_id, stages))] = [e for e in harness.metrics.events if e[0] == "upload_finished"]
    assert (key, request_id, stages) == ("shoes/red.jpg", "req-1", tuple(finished["stages_ms"]))


def test_a_transient_failure_still_reports_where_its_time_went(caplog: pytest.LogCaptureFixture) -> None:
    # Given an API failing transiently
    harness = build_harness(FakeEngine(fail_with=RetryableEngineError("down", code="aidge_500")))
    # When the upload is tried on its first receive
    with pytest.raises(RetryableEngineError):
        harness.process(harness.upload("a.jpg"))
    # Then its line says it goes back to the queue, with the reason and the stages up to the call
    [finished] = [vars(r) for r in caplog.records if r.getMessage() == "upload finished"]
    assert (finished["status"], finished["reason"]) == ("retry", "aidge_500")
    assert "paid_call" in finished["stages_ms"]
    assert "put" not in finished["stages_ms"]


def test_the_emf_record_of_an_upload_names_each_stage_and_keeps_key_and_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the production metrics adapter
    sink = PowertoolsPipelineMetrics()
    # When one upload's timings are reported
    sink.upload_finished(
        {"head": 3.5, "paid_call": 2100.0}, total_ms=2200.0, object_key="a/b.jpg", request_id="r-9"
    )
    # Then one EMF record holds a duration per stage, the total, the key and the request id
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    names = [m["Name"] for m in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["HeadDuration", "PaidCallDuration", "UploadDuration"]
    assert record["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Milliseconds"
    assert (record["PaidCallDuration"], record["object_key"], record["request_id"]) == (
        [2100.0],
        "a/b.jpg",
        "r-9",
    )
    assert stage_metric_name("result_download") == "ResultDownloadDuration"
