"""``BudgetUsed``, ``BudgetRemaining`` and ``BudgetUsedPercent`` as CloudWatch EMF metrics.

``BudgetUsedPercent`` (the most used cap, in percent of itself) is what the template's 80 % and
cap alarms watch: CloudFormation cannot compute 80 % of a parameter, a metric can.
"""

from __future__ import annotations

import threading

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from cutout.observability import metrics as default_sink
from cutout.spending.ledger import BudgetStatus


class PowertoolsBudgetMetrics:
    def __init__(self, sink: Metrics = default_sink) -> None:
        self._sink = sink
        self._lock = threading.Lock()

    def budget(self, status: BudgetStatus) -> None:
        used = max(status.day_used if status.limits.daily > 0 else 0, 0)
        if status.limits.daily <= 0:
            used = status.month_used
        with self._lock:
            self._sink.add_metric(name="BudgetUsed", unit=MetricUnit.Count, value=used)
            if status.remaining is not None:
                self._sink.add_metric(name="BudgetRemaining", unit=MetricUnit.Count, value=status.remaining)
            if status.used_percent is not None:
                self._sink.add_metric(
                    name="BudgetUsedPercent", unit=MetricUnit.Percent, value=status.used_percent
                )


class PowertoolsPauseMetrics:
    """``PauseFailed`` (a count) and ``Paused`` (1 or 0, from each scheduled run) as EMF metrics."""

    def __init__(self, sink: Metrics = default_sink) -> None:
        self._sink = sink
        self._lock = threading.Lock()

    def pause_failed(self) -> None:
        with self._lock:
            self._sink.add_metric(name="PauseFailed", unit=MetricUnit.Count, value=1)

    def paused(self, paused: bool) -> None:
        with self._lock:
            self._sink.add_metric(name="Paused", unit=MetricUnit.Count, value=1 if paused else 0)
