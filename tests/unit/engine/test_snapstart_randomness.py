"""SnapStart-safe randomness (issue 24, item 9).

SnapStart restores every new execution environment from one memory snapshot taken after Init: a
generator seeded before it (the module-level ``random``) draws the same sequence in all of them,
so ten environments retrying after one rate limit would all wait the same "random" time. A forked
process is that: a copy of the parent's memory. Two forks drawing the same values from a generator
means restored environments would too. One difference: CPython reseeds the module-level generator
in a forked child (``os.register_at_fork``), which a SnapStart restore does not do; so the stand-in
is a generator instance of our own, and the Aidge client's default is also checked by what it is.
"""

from __future__ import annotations

import inspect
import multiprocessing
import random
from collections.abc import Callable

import pytest

from cutout.engine.aidge.client import AidgeClient
from cutout.redelivery import RetrySchedule

DRAWS = 8


def draws_in_restored_copies(draw: Callable[[], float], copies: int = 2) -> list[tuple[float, ...]]:
    """What ``draw`` yields in ``copies`` forks of this process (each a 'restore' of its memory)."""
    context = multiprocessing.get_context("fork")
    results = []
    for _ in range(copies):
        receiver, sender = context.Pipe(duplex=False)

        def child(pipe: object = sender) -> None:
            pipe.send(tuple(draw() for _ in range(DRAWS)))  # type: ignore[attr-defined]

        process = context.Process(target=child)
        process.start()
        results.append(receiver.recv())
        process.join(timeout=60)
    return results


def test_the_stand_in_shows_what_snapstart_does_to_a_seeded_generator() -> None:
    # Given a seeded generator (seeded once, before the "snapshot")
    seeded = random.Random()
    # When two restored copies draw
    first, second = draws_in_restored_copies(seeded.random)
    # Then they draw alike: the hazard the defaults below avoid (this is what the stand-in detects)
    assert first == second


def test_the_aidge_clients_retry_jitter_differs_in_each_restored_environment() -> None:
    # Given the Aidge client's default jitter source
    jitter = inspect.signature(AidgeClient.__init__).parameters["random"].default
    # When two restored copies draw
    first, second = draws_in_restored_copies(jitter)
    # Then it is the OS's generator (no state in memory), they differ, and stay within [0, 1)
    assert isinstance(jitter.__self__, random.SystemRandom)
    assert first != second
    assert all(0.0 <= value < 1.0 for value in first + second)


def test_the_retry_schedules_jitter_differs_in_each_restored_environment() -> None:
    # Given a retry schedule built before the snapshot (as a warm pipeline holds one)
    schedule = RetrySchedule(steps=(300,), jitter=0.5)
    # When two restored copies schedule a retry each
    first, second = draws_in_restored_copies(lambda: float(schedule.delay_for(1, RuntimeError("boom"))))
    # Then the delays differ (within 300 s ± 50 %)
    assert first != second
    assert all(150 <= value <= 450 for value in first + second)


@pytest.mark.parametrize("factory", [RetrySchedule().rng.__class__])
def test_the_generator_holds_no_state_a_snapshot_could_copy(factory: type[random.Random]) -> None:
    # Given the schedule's generator class; Then it is the OS's (getstate is not implemented)
    with pytest.raises(NotImplementedError):
        factory().getstate()
