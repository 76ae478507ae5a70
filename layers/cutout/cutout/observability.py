"""Logs, metrics and traces: the Powertools instances, and the pipeline's metrics port.

One ``Logger``, ``Metrics`` and ``Tracer`` per process (service ``cutout``, namespace ``Cutout``,
both also settable through POWERTOOLS_* variables). Records of a batch are processed on worker
threads, so per-object log keys are thread-local and metric writes are serialised.
"""

from __future__ import annotations

import threading
import warnings
from typing import Protocol

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "cutout"
NAMESPACE = "Cutout"

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)
# An invocation whose events are all dropped (S3's s3:TestEvent when the notification is set up,
# folder placeholders) adds no metric, and Powertools warns about it every time: expected, not news.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
# Patch only what the function uses (AWS calls and the Aidge client): patching every module the
# X-Ray SDK supports imports each one that happens to be installed, which slows every cold start.
TRACED_MODULES = ("botocore", "httpx")
tracer = Tracer(service=SERVICE, patch_modules=TRACED_MODULES)


class PipelineMetrics(Protocol):
    def processed(self, status: str) -> None: ...

    def failed(self, reason: str, *, rejected_before_call: bool) -> None: ...

    def api_call(self, latency_ms: float, usage: int) -> None: ...

    def held_for_review(self, reason: str) -> None: ...


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
