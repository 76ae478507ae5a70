"""Lambda's execution environments, played locally: one pipeline per concurrent invocation.

Lambda runs one invocation at a time in an execution environment and starts another environment for
each concurrent invocation; whatever a process keeps (clients, the pixel budget, the idempotency
context, the spending latch) belongs to one invocation at a time. The local poller runs its batches
on worker threads of one process, so each worker thread is given its own pipeline here: concurrent
batches then share no per-environment state, as on AWS.

A configuration update (a raised budget, ``cutout resume --daily-budget``) starts new execution
environments on Lambda; here it starts a new generation, and each worker builds its pipeline again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any


class ExecutionEnvironments:
    """``pipeline()``: the calling thread's pipeline for the function's current configuration."""

    def __init__(
        self,
        build: Callable[[dict[str, str]], Any],
        environment: dict[str, str],
        *,
        first: Any = None,
        configured: Callable[[], dict[str, str]] | None = None,
        watched: Iterable[str] = (),
        on_change: Callable[[dict[str, str], list[str]], None] | None = None,
    ) -> None:
        self._build = build
        self._environment = dict(environment)
        self._spare = first  # built at start (it validated the settings): the first worker takes it
        self._configured = configured
        self._watched = tuple(watched)
        self._on_change = on_change
        self._generation = 0
        self._lock = threading.Lock()
        self._mine = threading.local()

    @property
    def environment(self) -> dict[str, str]:
        with self._lock:
            return dict(self._environment)

    def pipeline(self) -> Any:
        configured = self._configured() if self._configured is not None else {}
        with self._lock:
            changed = sorted(
                name
                for name in self._watched
                if name in configured and configured[name] != self._environment.get(name)
            )
            if changed:
                self._environment = {**self._environment, **{name: configured[name] for name in changed}}
                self._generation += 1
                self._spare = None
                if self._on_change is not None:
                    self._on_change(dict(self._environment), changed)
            generation, environment, spare = self._generation, dict(self._environment), self._spare
            if getattr(self._mine, "generation", None) == generation:
                return self._mine.pipeline
            self._spare = None
        built = spare if spare is not None else self._build(environment)
        self._mine.pipeline, self._mine.generation = built, generation
        return built
