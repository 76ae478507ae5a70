"""PixelBudget: concurrent pixel work is bounded by the function's memory, never by a constant."""

from __future__ import annotations

import threading

import pytest

from cutout.pixels import RUNTIME_RESERVE_MIB, PixelBudget, jpeg_reduction, working_set

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("memory", "capacity_mib"), [("1024", 1024 - RUNTIME_RESERVE_MIB), ("3008", 3008 - 90)]
)
def test_the_budget_comes_from_the_functions_configured_memory(memory: str, capacity_mib: int) -> None:
    # Given Lambda's variable for the function's memory
    budget = PixelBudget.from_environment({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": memory})
    # Then the budget is that memory less the runtime's reserve
    assert budget.capacity_bytes == capacity_mib * MIB


def test_a_tiny_function_still_gets_a_working_budget() -> None:
    # Given a 128 MB function (less than the reserve plus one camera photo)
    budget = PixelBudget.from_environment({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"})
    # Then the budget is small but positive: big images run one at a time
    assert 16 * MIB <= budget.capacity_bytes <= 128 * MIB


def test_jobs_run_together_only_while_their_estimates_fit() -> None:
    # Given a 100-byte budget and three 40-byte jobs started at once
    budget = PixelBudget(100)
    inside, most_inside, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def job() -> None:
        with budget.reserve(40):
            with lock:
                inside[0] += 1
                most_inside[0] = max(most_inside[0], inside[0])
            release.wait(timeout=5)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=job) for _ in range(3)]
    for thread in threads:
        thread.start()
    # When two are in and the third waits
    for _ in range(500):
        if budget.usage().waited >= 1:
            break
        threading.Event().wait(0.01)
    release.set()
    for thread in threads:
        thread.join(timeout=5)
    # Then never more than two ran at once (80 of 100 bytes), and one had to wait
    usage = budget.usage()
    assert most_inside[0] == 2
    assert usage.peak_reserved_bytes == 80
    assert (usage.jobs, usage.waited) == (3, 1)


def test_a_job_bigger_than_the_whole_budget_runs_alone() -> None:
    # Given a 100-byte budget and a 500-byte job
    budget = PixelBudget(100)
    # When it runs
    with budget.reserve(500) as reserved:
        # Then it got all it asked for, counted as oversized
        assert reserved == 500
    assert budget.usage().oversized == 1


def test_a_zero_reservation_holds_nothing() -> None:
    budget = PixelBudget(100)
    with budget.reserve(0):
        assert budget.usage().jobs == 0


@pytest.mark.parametrize(
    ("size", "reduction"),
    [
        ((6000, 4000), 2),
        ((8256, 5504), 2),
        ((12000, 9000), 4),
        ((4000, 6000), 2),
        ((5000, 4000), 1),
        ((3000, 2000), 1),
        ((24000, 200), 8),
    ],
)
def test_the_jpeg_reduction_keeps_the_long_side_at_least_3000(size: tuple[int, int], reduction: int) -> None:
    # Given a JPEG's size, the reduction is the largest DCT scale that keeps 3000 px on the long side
    assert jpeg_reduction(*size, 3000) == reduction


def test_the_working_set_of_a_reduced_camera_jpeg_is_a_quarter_of_a_full_decode() -> None:
    # Given a 6000x4000 JPEG decoded at 1/2 or at full size
    reduced = working_set(6000, 4000, reduction=2)
    full = working_set(6000, 4000, reduction=1)
    # Then the reduced estimate is far below the full one, and progressive JPEGs cost more
    assert reduced < full / 2
    assert working_set(6000, 4000, reduction=2, progressive=True) > reduced
