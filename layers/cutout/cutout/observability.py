"""Logs and metrics: the Powertools instances, and the pipeline's metrics port.

One ``Logger`` and one ``Metrics`` per process (service ``cutout``, namespace ``Cutout``, both also
settable through POWERTOOLS_* variables). Records of a batch are processed on worker threads, so
per-object log keys are thread-local and metric writes are serialised.

No tracing SDK: Lambda's active tracing (``Tracing: Active`` in the template) traces each
invocation by itself, and where the time of one upload went is in its log line and EMF metrics
(per-stage timings, ``cutout.timings``). The X-Ray SDK, which Powertools' Tracer is built on, is in
maintenance and loses support on 25 February 2027; see docs/observability.md.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from typing import Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit, single_metric

SERVICE = "cutout"
NAMESPACE = "Cutout"

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)
# An invocation whose events are all dropped (S3's s3:TestEvent when the notification is set up,
# folder placeholders) adds no metric, and Powertools warns about it every time: expected, not news.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


class PipelineMetrics(Protocol):
    def processed(self, status: str) -> None: ...

    def failed(self, reason: str, *, rejected_before_call: bool) -> None: ...

    def api_call(self, latency_ms: float, usage: int) -> None: ...

    def upload_finished(
        self, stages_ms: Mapping[str, float], *, total_ms: float, object_key: str, request_id: str | None
    ) -> None:
        """One upload's per-stage timings (``cutout.timings``)."""
        ...

    def count(self, name: str) -> None:
        """One occurrence of a named event (``PossiblyBilledTwice``, ``RepaidOnPurpose``, ...)."""
        ...

    def held_for_review(self, reason: str) -> None: ...


def stage_metric_name(stage: str) -> str:
    """``paid_call`` → ``PaidCallDuration``."""
    return "".join(part.capitalize() for part in stage.split("_")) + "Duration"


class PowertoolsPipelineMetrics:
    """``PipelineMetrics`` as CloudWatch EMF metrics through Powertools."""

    def __init__(self, sink: Metrics = metrics) -> None:
        self._sink = sink
        self._lock = threading.Lock()

    def processed(self, status: str) -> None:
        with self._lock:
            self._sink.add_metric(name=f"Images{status.capitalize()}", unit=MetricUnit.Count, value=1)

    def failed(self, reason: str, *, rejected_before_call: bool) -> None:
        # By-reason counts need their own dimension, so they go out as a separate EMF blob.
        name = "ImagesRejected" if rejected_before_call else "ImagesFailed"
        with (
            self._lock,
            single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as single,
        ):
            single.add_dimension(name="service", value=SERVICE)
            single.add_dimension(name="reason", value=reason)

    def api_call(self, latency_ms: float, usage: int) -> None:
        with self._lock:
            self._sink.add_metric(name="ApiLatency", unit=MetricUnit.Milliseconds, value=latency_ms)
            self._sink.add_metric(name="ApiUsage", unit=MetricUnit.Count, value=usage)

    def upload_finished(
        self, stages_ms: Mapping[str, float], *, total_ms: float, object_key: str, request_id: str | None
    ) -> None:
        # One EMF record per upload (its own, not the invocation's aggregate), so that its timings
        # keep their object key and request id: CloudWatch Logs Insights finds one slow upload.
        record = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        for stage, ms in stages_ms.items():
            record.add_metric(name=stage_metric_name(stage), unit=MetricUnit.Milliseconds, value=ms)
        record.add_metric(name="UploadDuration", unit=MetricUnit.Milliseconds, value=total_ms)
        record.add_metadata(key="object_key", value=object_key)
        if request_id:
            record.add_metadata(key="request_id", value=request_id)
        record.flush_metrics()

    def count(self, name: str) -> None:
        with self._lock:
            self._sink.add_metric(name=name, unit=MetricUnit.Count, value=1)

    def held_for_review(self, reason: str) -> None:
        """``ImagesHeldForReview`` by gate reason (low_score, empty_mask, …)."""
        with (
            self._lock,
            single_metric(
                name="ImagesHeldForReview", unit=MetricUnit.Count, value=1, namespace=NAMESPACE
            ) as single,
        ):
            single.add_dimension(name="service", value=SERVICE)
            single.add_dimension(name="reason", value=reason)
