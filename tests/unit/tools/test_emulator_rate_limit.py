"""The emulator's account rate limit: a token bucket, as an API's QPS limit behaves."""

from __future__ import annotations

from cutout_tools.emulator.server import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_no_limit_admits_everything() -> None:
    # Given no rate limit, When a thousand calls come at once, Then all are admitted
    limit = RateLimit(0.0, clock=Clock())
    assert all(limit.admit() for _ in range(1000))


def test_a_limit_admits_one_seconds_worth_at_once_then_the_rate() -> None:
    # Given 4 calls a second
    clock = Clock()
    limit = RateLimit(4.0, clock=clock)
    # When 6 come at once: 4 admitted (the burst), 2 refused
    assert [limit.admit() for _ in range(6)] == [True] * 4 + [False] * 2
    # When a quarter second passes: exactly one more
    clock.now += 0.25
    assert [limit.admit() for _ in range(2)] == [True, False]
    # When it is lifted: everything again
    limit.set_rate(0)
    assert all(limit.admit() for _ in range(100))


def test_a_slow_limit_still_admits_one_call_then_waits_for_its_token() -> None:
    # Given one call every two seconds
    clock = Clock()
    limit = RateLimit(0.5, clock=clock)
    assert [limit.admit(), limit.admit()] == [True, False]
    clock.now += 1.9
    assert limit.admit() is False
    clock.now += 0.2
    assert limit.admit() is True
