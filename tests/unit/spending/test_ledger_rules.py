"""The budget ledger's rules, each from both sides (rule 6: when we cannot pay, we wait).

What the status says (remaining, share used) over a range of caps and counters, with no cap, a
cap reached and one overrun; which UTC day and month a call counts against, whatever the offset
of the clock; that the ledger item expires 62 days after its month began; what a reservation and
a release write; that a refusal is confirmed against caps read again (a cap raised a moment ago
grants the call) and only then; what the exhausted sentence names; how long a pause latch holds.
The DynamoDB ledger runs on moto in this process (``mock_aws``: no server, no socket).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.failures import FailureReason
from cutout.spending import (
    BudgetExhausted,
    BudgetLimits,
    BudgetStatus,
    DynamoDbBudget,
    PauseLatch,
    Period,
    Reservation,
    UnlimitedBudget,
)
from cutout.spending.caps import caps_text, parse_caps
from cutout.spending.ledger import ITEM_LIFETIME_SECONDS
from tests.moto_dynamodb import in_process_dynamodb, stubbed_dynamodb
from tests.moto_dynamodb import new_table as new_dynamodb_table

PROPERTY = settings(max_examples=100, deadline=None)
DAY = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with in_process_dynamodb(monkeypatch) as client:
        yield client


def new_table(client: Any) -> str:
    return new_dynamodb_table(client, "ledger")


def item(client: Any, table: str, item_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get_item(TableName=table, Key={"id": {"S": item_id}}, ConsistentRead=True)
    return found.get("Item", {})


# --- what the status says ----------------------------------------------------------------------


def expected_remaining(cap: int, used: int) -> int | None:
    return None if cap <= 0 else max(0, cap - used)


@PROPERTY
@given(
    daily=st.integers(-2, 50),
    monthly=st.integers(-2, 500),
    day_used=st.integers(0, 80),
    month_used=st.integers(0, 600),
)
def test_the_status_reports_what_is_left_under_each_cap_and_the_tighter_one(
    daily: int, monthly: int, day_used: int, month_used: int
) -> None:
    # Given any caps (0 or less: no cap for that period) and any counters, under, at or over the caps
    status = BudgetStatus(BudgetLimits(daily, monthly), Period("2026-12", "05"), day_used, month_used)
    # When its remainders and its share are read
    # Then each cap's remainder is what is left of it (never below 0, none without a cap), the
    # remainder is the tighter one, and the share is the most used cap's, in percent
    day_left, month_left = expected_remaining(daily, day_used), expected_remaining(monthly, month_used)
    assert (status.day_remaining, status.month_remaining) == (day_left, month_left)
    lefts = [left for left in (day_left, month_left) if left is not None]
    assert status.remaining == (min(lefts) if lefts else None)
    shares = [100.0 * used / cap for used, cap in ((day_used, daily), (month_used, monthly)) if cap > 0]
    assert status.used_percent == (max(shares) if shares else None)


@pytest.mark.parametrize(
    ("caps", "used", "remaining", "percent"),
    [
        ((10, 0), (9, 9), 1, 90.0),  # one unit under the daily cap
        ((10, 0), (10, 10), 0, 100.0),  # at the cap
        ((10, 0), (11, 11), 0, 110.0),  # over it (an SDK retry counted twice): nothing left, not -1
        ((1, 0), (0, 0), 1, 0.0),  # the smallest cap, untouched
        ((0, 0), (7, 7), None, None),  # no cap at all: nothing to run out of
        ((-1, 0), (7, 7), None, None),  # a negative cap is no cap either
        ((0, -5), (7, 7), None, None),
        ((-1, -1), (7, 7), None, None),
        ((-1, 10), (7, 5), 5, 50.0),  # only the real cap counts
        ((0, 100), (7, 99), 1, 99.0),  # only a monthly cap
        ((5, 100), (4, 10), 1, 80.0),  # the daily cap binds
    ],
)
def test_the_status_from_both_sides_of_a_cap(
    caps: tuple[int, int], used: tuple[int, int], remaining: int | None, percent: float | None
) -> None:
    # Given counters just under, at and over a cap
    status = BudgetStatus(BudgetLimits(*caps), Period("2026-12", "05"), *used)
    # When it is read, Then it says what is left and how much is used
    assert (status.remaining, status.used_percent) == (remaining, percent)


@pytest.mark.parametrize(
    ("daily", "monthly", "unlimited"),
    [(0, 0, True), (-1, 0, True), (0, -1, True), (1, 0, False), (0, 1, False), (1, 1, False), (-1, 1, False)],
)
def test_a_budget_is_unlimited_only_without_any_cap(daily: int, monthly: int, unlimited: bool) -> None:
    # Given caps, When asked whether they limit anything, Then only no cap at all (0 or less) is unlimited
    assert BudgetLimits(daily, monthly).unlimited is unlimited


# --- which day and month a call counts against ---------------------------------------------------


@PROPERTY
@given(
    moment=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(-14 * 60, 14 * 60),
)
def test_a_call_counts_against_its_utc_day_and_month_whatever_the_clock_s_offset(
    moment: datetime, minutes: int
) -> None:
    # Given an instant, read on a clock with any UTC offset
    local = moment.astimezone(timezone(timedelta(minutes=minutes)))
    # When its period is taken
    period = Period.at(local)
    # Then it is the UTC day and month, the item and attribute named after them, starting at 00:00 UTC
    assert (period.month, period.day) == (moment.strftime("%Y-%m"), moment.strftime("%d"))
    assert period.item_id == f"cutout-budget#{moment:%Y-%m}"
    assert period.day_attribute == f"day-{moment:%d}"
    assert period.started_at == datetime(moment.year, moment.month, 1, tzinfo=UTC)


def test_the_ledger_item_expires_62_days_after_its_month_began(dynamodb: Any) -> None:
    # Given a budget on the 20th of December
    table = new_table(dynamodb)
    budget = DynamoDbBudget(dynamodb, table, BudgetLimits(daily=5), now=lambda: DAY + timedelta(days=15))
    # When a call reserves, and another one later
    budget.reserve(1)
    budget.reserve(1)
    # Then the month's item expires 62 days after the 1st of December, 00:00 UTC (set once)
    expires = int(item(dynamodb, table, "cutout-budget#2026-12")["expiration"]["N"])
    assert expires == int(datetime(2026, 12, 1, tzinfo=UTC).timestamp()) + 62 * 24 * 3600
    assert ITEM_LIFETIME_SECONDS == 62 * 24 * 3600


# --- what a reservation and a release write -----------------------------------------------------


def test_a_reservation_reports_the_day_and_month_counters_it_left(dynamodb: Any) -> None:
    # Given a budget of 2 units per call, used on the 5th and then on the 6th of December
    table = new_table(dynamodb)
    today = [DAY]
    budget = DynamoDbBudget(dynamodb, table, BudgetLimits(daily=10, monthly=100), now=lambda: today[0])
    budget.reserve(2)
    budget.reserve(2)
    today[0] = DAY + timedelta(days=1)
    # When a call reserves on the 6th
    reservation = budget.reserve(2)
    # Then it holds 2 units of the 6th, and reports the day's and the month's counters apart
    assert reservation is not None
    assert (reservation.units, reservation.period, reservation.day_used, reservation.month_used) == (
        2,
        Period("2026-12", "06"),
        2,
        6,
    )


@pytest.mark.parametrize("units", [0, -1, -5])
def test_a_reservation_of_less_than_one_unit_is_refused_as_a_bug(dynamodb: Any, units: int) -> None:
    # Given a budget
    budget = DynamoDbBudget(dynamodb, new_table(dynamodb), BudgetLimits(daily=5), now=lambda: DAY)
    # When a call reserves less than one unit, Then it is a programming error, and nothing is written
    with pytest.raises(ValueError, match="at least one unit"):
        budget.reserve(units)
    assert budget.status().calls == 0
    # And one unit (the smallest real call) is taken
    assert budget.reserve(1) is not None


def test_a_release_gives_back_exactly_the_call_s_units_and_is_counted(dynamodb: Any) -> None:
    # Given three calls of 3 units on a monthly and daily budget
    table = new_table(dynamodb)
    budget = DynamoDbBudget(dynamodb, table, BudgetLimits(daily=30, monthly=300), now=lambda: DAY)
    held = [budget.reserve(3) for _ in range(3)]
    # When the second one was not billed and gives its units back
    assert held[1] is not None
    budget.release(held[1])
    # Then both counters lost exactly those units, three calls and one release are counted
    status = budget.status()
    assert (status.day_used, status.month_used, status.calls, status.released) == (6, 6, 3, 1)


def test_a_release_counts_against_the_reservation_s_day_not_today(dynamodb: Any) -> None:
    # Given a call reserved on the 5th that fails after midnight (the 6th)
    table = new_table(dynamodb)
    today = [DAY]
    budget = DynamoDbBudget(dynamodb, table, BudgetLimits(daily=10), now=lambda: today[0])
    reservation = budget.reserve(1)
    today[0] = DAY + timedelta(days=1)
    budget.reserve(1)
    # When its units are given back
    assert reservation is not None
    budget.release(reservation)
    # Then the 5th's counter is back to 0, the 6th's keeps its own call
    stored = item(dynamodb, table, "cutout-budget#2026-12")
    assert (stored["day-05"]["N"], stored["day-06"]["N"], stored["month"]["N"]) == ("0", "1", "1")


# --- a refusal is confirmed against caps read again ----------------------------------------------


class CachedCaps:
    """Caps read at run time and cached; ``refresh`` reads them again (``cutout.spending.caps``)."""

    def __init__(self, cached: BudgetLimits, fresh: BudgetLimits) -> None:
        self.cached, self.fresh = cached, fresh
        self.refreshes = 0

    def __call__(self) -> BudgetLimits:
        return self.cached

    def refresh(self) -> BudgetLimits:
        self.refreshes += 1
        self.cached = self.fresh
        return self.fresh


def test_a_cap_raised_a_moment_ago_grants_the_call_the_cached_cap_refused(dynamodb: Any) -> None:
    # Given a daily cap of 1 spent, cached, and raised to 2 since (`cutout resume --daily-budget 2`)
    caps = CachedCaps(BudgetLimits(daily=1), BudgetLimits(daily=2))
    budget = DynamoDbBudget(dynamodb, new_table(dynamodb), caps, now=lambda: DAY)
    budget.reserve(1)
    # When the next call reserves
    reservation = budget.reserve(1)
    # Then the refusal was checked against the caps read again, and the call is granted
    assert reservation is not None
    assert (reservation.day_used, caps.refreshes) == (2, 1)


def test_caps_read_again_unchanged_still_refuse(dynamodb: Any) -> None:
    # Given a daily cap of 1 spent, and the same cap when read again
    caps = CachedCaps(BudgetLimits(daily=1), BudgetLimits(daily=1))
    budget = DynamoDbBudget(dynamodb, new_table(dynamodb), caps, now=lambda: DAY)
    budget.reserve(1)
    # When the next call reserves, Then it is refused (we wait), after one fresh reading
    with pytest.raises(BudgetExhausted):
        budget.reserve(1)
    assert caps.refreshes == 1
    assert budget.status().day_used == 1


def test_fixed_caps_refuse_without_reading_again(dynamodb: Any) -> None:
    # Given fixed caps (no run-time parameter), spent
    budget = DynamoDbBudget(dynamodb, new_table(dynamodb), BudgetLimits(monthly=1), now=lambda: DAY)
    budget.reserve(1)
    # When the next call reserves, Then it is refused
    with pytest.raises(BudgetExhausted):
        budget.reserve(1)
    assert budget.limits == BudgetLimits(monthly=1)


# --- the sentence a pause carries ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "names", "absent"),
    [
        (BudgetLimits(daily=1), ["daily budget of 1 units for 2026-12-05 (UTC)"], ["monthly"]),
        (BudgetLimits(monthly=1), ["monthly budget of 1 units for 2026-12"], ["daily"]),
        # a negative cap is no cap: it is never named
        (BudgetLimits(daily=-1, monthly=1), ["monthly budget of 1 units for 2026-12"], ["daily", "of -1"]),
        (
            BudgetLimits(daily=1, monthly=-1),
            ["daily budget of 1 units for 2026-12-05 (UTC)"],
            ["monthly", "of -1"],
        ),
        (
            BudgetLimits(daily=1, monthly=1),
            ["The daily budget of 1 units for 2026-12-05 (UTC) or the monthly budget of 1 units for 2026-12"],
            [],
        ),
    ],
)
def test_a_spent_budget_says_which_cap_and_which_period(
    dynamodb: Any, limits: BudgetLimits, names: list[str], absent: list[str]
) -> None:
    # Given a budget whose cap (daily, monthly, or both) is spent
    budget = DynamoDbBudget(dynamodb, new_table(dynamodb), limits, now=lambda: DAY)
    budget.reserve(1)
    # When the next call is refused
    with pytest.raises(BudgetExhausted) as refused:
        budget.reserve(1)
    # Then its sentence names the cap(s) and period spent, and how the pipeline goes on
    sentence = str(refused.value)
    for name in names:
        assert name in sentence
    for word in absent:
        assert word not in sentence
    assert sentence.endswith("is spent: the pipeline pauses until the next period or `cutout resume`.")


@pytest.mark.parametrize(
    ("limits", "name"), [(BudgetLimits(daily=2), "daily"), (BudgetLimits(monthly=2), "monthly")]
)
def test_a_call_over_a_whole_cap_says_so(dynamodb: Any, limits: BudgetLimits, name: str) -> None:
    # Given a cap of 2 units, When a call needing 3 reserves, Then the refusal says why, naming the cap
    budget = DynamoDbBudget(dynamodb, new_table(dynamodb), limits, now=lambda: DAY)
    with pytest.raises(
        BudgetExhausted, match=f"One call needs 3 units, more than the whole {name} budget \\(2\\)"
    ):
        budget.reserve(3)


# --- no cap, and the pause latch -----------------------------------------------------------------


def test_an_unlimited_budget_holds_nothing_and_reports_its_period() -> None:
    # Given no cap at all, When a call reserves and the status is read
    budget = UnlimitedBudget(now=lambda: DAY)
    # Then nothing is held, the status is empty for today's period and nothing is left to run out
    assert budget.reserve(1) is None
    status = budget.status()
    assert (status.period, status.day_used, status.month_used, status.remaining) == (
        Period("2026-12", "05"),
        0,
        0,
        None,
    )
    assert budget.limits.unlimited


class Paused(FailureReason):
    code = "budget_exhausted"
    retryable = True


@pytest.mark.parametrize("hold", [1.0, 60.0, 300.0])
def test_a_pause_latch_holds_for_its_time_and_not_a_moment_longer(hold: float) -> None:
    # Given a latch set at t=1000 on a clock the test moves
    now = [1000.0]
    latch = PauseLatch(hold_seconds=hold, clock=lambda: now[0])
    reason = Paused("spent")
    latch.set(reason)
    # When it is read just before, and at, the end of its hold
    now[0] = 1000.0 + hold - 0.001
    before_the_end = latch.current()
    now[0] = 1000.0 + hold
    at_the_end = latch.current()
    now[0] = 1000.0 + hold + 0.001
    after_the_end = latch.current()
    # Then it pauses until then, and no longer
    assert before_the_end is reason
    assert at_the_end is None
    assert after_the_end is None


def test_a_cleared_latch_no_longer_pauses_and_its_default_hold_is_a_minute() -> None:
    # Given a latch with its default hold, set at t=0
    now = [0.0]
    latch = PauseLatch(clock=lambda: now[0])
    latch.set(Paused("spent"))
    # When 59.9 s pass, Then it still pauses; when 60 s pass it does not
    now[0] = 59.9
    assert latch.current() is not None
    now[0] = 60.0
    assert latch.current() is None
    # And once set again and cleared, it does not pause
    latch.set(Paused("spent"))
    latch.clear()
    assert latch.current() is None


@pytest.mark.parametrize(
    ("daily", "monthly", "granted"), [(-1, -1, 6), (-1, 0, 6), (0, -3, 6), (2, -1, 2), (-1, 3, 3)]
)
def test_a_negative_cap_is_no_cap_when_reserving(
    dynamodb: Any, daily: int, monthly: int, granted: int
) -> None:
    # Given caps where a negative value means no cap for that period (like 0)
    budget = DynamoDbBudget(dynamodb, new_table(dynamodb), BudgetLimits(daily, monthly), now=lambda: DAY)
    # When six calls of one unit reserve
    results = []
    for _ in range(6):
        try:
            results.append(budget.reserve(1))
        except BudgetExhausted:
            break
    # Then only a positive cap refuses: the others grant every call
    assert len(results) == granted


def test_a_status_and_its_limits_cannot_be_changed_in_place() -> None:
    # Given a status and its caps, When something tries to change them, Then they refuse
    status = BudgetStatus(BudgetLimits(daily=5), Period("2026-12", "05"), 1, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.day_used = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.limits.daily = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.period.day = "06"  # type: ignore[misc]
    reservation = Reservation(units=1, period=Period("2026-12", "05"), day_used=1, month_used=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        reservation.units = 0  # type: ignore[misc]


def test_a_status_without_counters_says_no_call_and_no_release() -> None:
    # Given a budget that counts nothing (no cap), When its status is read, Then no call and no release
    status = UnlimitedBudget(now=lambda: DAY).status()
    assert (status.calls, status.released) == (0, 0)


def test_a_spent_budget_is_a_wait_not_a_failure() -> None:
    # Given the reason a spent budget gives (rule 6: when we cannot pay, we wait)
    reason = BudgetExhausted("The daily budget is spent.")
    # Then it is retryable, under its own code: the upload stays queued, never a dead letter
    assert (reason.code, reason.retryable) == ("budget_exhausted", True)


def test_the_default_caps_are_none_and_survive_the_parameter_round_trip() -> None:
    # Given the caps of a deployment that set none
    limits = BudgetLimits()
    # Then they are 0 (no cap) for both periods, and the parameter text written for them reads back
    assert (limits.daily, limits.monthly, limits.unlimited) == (0, 0, True)
    assert parse_caps(caps_text(limits)) == limits


def test_the_ledger_takes_its_clock_by_name_only(dynamodb: Any) -> None:
    # Given the ledger's collaborators in signature order, When the clock is passed by position,
    # Then it is refused (a clock is never mistaken for a cap)
    with pytest.raises(TypeError):
        DynamoDbBudget(dynamodb, new_table(dynamodb), BudgetLimits(daily=1), lambda: DAY)  # type: ignore[misc]


def test_the_status_reads_the_counters_strongly_consistent() -> None:
    # Given the ledger on DynamoDB (scripted with botocore's Stubber: moto keeps no stale replica)
    client, stubber = stubbed_dynamodb()
    stubber.add_response(
        "get_item",
        {"Item": {"id": {"S": "cutout-budget#2026-12"}, "month": {"N": "7"}, "day-05": {"N": "3"}}},
        {"TableName": "ledger", "Key": {"id": {"S": "cutout-budget#2026-12"}}, "ConsistentRead": True},
    )
    budget = DynamoDbBudget(client, "ledger", BudgetLimits(daily=10), now=lambda: DAY)
    # When its status is read
    with stubber:
        status = budget.status()
    # Then the read was strongly consistent (a call reserved a moment ago is counted), and it counts
    stubber.assert_no_pending_responses()
    assert (status.day_used, status.month_used) == (3, 7)
