"""The spending cap: reserve API usage units before each paid call, release them if not billed.

One DynamoDB item per UTC month (``id = "cutout-budget#2026-12"``) holds the month's counter and one
counter per day (``day-01`` … ``day-31``). A reservation is **one** atomic, conditional
``UpdateItem`` on that item: it adds the units to the day's and the month's counters only if
neither would then exceed its cap, so no race between concurrent invocations can overspend
(DynamoDB applies the condition and the update as one step). A refused condition means the
budget is spent: the caller pauses instead of calling the API. Keeping both counters in one item
is what lets the daily and the monthly cap be checked in one update, without a transaction.

``release`` gives units back (``ADD -units``, unconditional) when the call was certainly not billed
(refused before the API did any work, quota exhausted, connection never made). When the call *may*
have been billed (the answer was lost), the units stay reserved: the ledger errs on the side of
counting a call that might not have cost anything, never the other way round. For the same reason
an SDK retry of a reservation whose answer was lost can count it twice (``ADD`` is not idempotent):
it can make the pipeline pause a little early, never spend more than the cap.

The item expires (TTL attribute ``expiration``, the idempotency table's) 62 days after its month began.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cutout.failures import FailureReason

BUDGET_ITEM_PREFIX = "cutout-budget#"
TTL_ATTRIBUTE = "expiration"  # the idempotency table's TTL attribute (template.yaml)
ITEM_LIFETIME_SECONDS = 62 * 24 * 3600


class BudgetExhausted(FailureReason):
    """The daily or monthly budget would be exceeded by this call: pause, never fail the upload."""

    code = "budget_exhausted"
    retryable = True


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    """Caps in API usage units; ``0`` means no cap for that period."""

    daily: int = 0
    monthly: int = 0

    @property
    def unlimited(self) -> bool:
        return self.daily <= 0 and self.monthly <= 0


@dataclass(frozen=True, slots=True)
class Period:
    """The UTC day and month a reservation counts against."""

    month: str  # 2026-12
    day: str  # 01

    @classmethod
    def at(cls, moment: datetime) -> Period:
        moment = moment.astimezone(UTC)
        return cls(month=moment.strftime("%Y-%m"), day=moment.strftime("%d"))

    @property
    def item_id(self) -> str:
        return BUDGET_ITEM_PREFIX + self.month

    @property
    def day_attribute(self) -> str:
        return f"day-{self.day}"

    @property
    def started_at(self) -> datetime:
        return datetime.strptime(self.month + "-01", "%Y-%m-%d").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Reservation:
    """Units held for one paid call, and the counters right after reserving them."""

    units: int
    period: Period
    day_used: int
    month_used: int


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """What ``cutout budget status`` and the metrics show."""

    limits: BudgetLimits
    period: Period
    day_used: int
    month_used: int
    calls: int = 0
    released: int = 0

    @property
    def day_remaining(self) -> int | None:
        return None if self.limits.daily <= 0 else max(0, self.limits.daily - self.day_used)

    @property
    def month_remaining(self) -> int | None:
        return None if self.limits.monthly <= 0 else max(0, self.limits.monthly - self.month_used)

    @property
    def remaining(self) -> int | None:
        """The tighter of the two caps' remainders (``None`` if no cap)."""
        left = [value for value in (self.day_remaining, self.month_remaining) if value is not None]
        return min(left) if left else None

    @property
    def used_percent(self) -> float | None:
        """The most used cap, as a percentage of itself (what the 80 % and cap alarms watch)."""
        shares = [
            100.0 * used / limit
            for used, limit in ((self.day_used, self.limits.daily), (self.month_used, self.limits.monthly))
            if limit > 0
        ]
        return max(shares) if shares else None


class Budget(Protocol):
    """The spending-cap port."""

    @property
    def limits(self) -> BudgetLimits: ...

    def reserve(self, units: int) -> Reservation | None:
        """Hold (count) ``units`` for one call (``None``: nothing counted); raises ``BudgetExhausted``."""
        ...

    def release(self, reservation: Reservation) -> None:
        """Give the units back: the call was not billed."""
        ...

    def status(self) -> BudgetStatus: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class DynamoDbBudget:
    """``Budget`` on a DynamoDB table keyed on ``id`` (the idempotency table)."""

    def __init__(
        self,
        client: Any,  # a boto3 DynamoDB client
        table: str,
        limits: BudgetLimits | Callable[[], BudgetLimits],
        *,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._dynamodb = client
        self._table = table
        # Fixed, or read at run time (``cutout.spending.caps``: an SSM parameter, cached briefly).
        self._caps = limits if callable(limits) else (lambda: limits)
        self._now = now

    @property
    def limits(self) -> BudgetLimits:
        return self._caps()

    def reserve(self, units: int) -> Reservation | None:
        limits = self.limits  # one reading for the whole reservation
        try:
            return self._reserve(units, limits)
        except BudgetExhausted:
            # Caps read at run time are cached: confirm the refusal against caps read now, so a cap
            # raised a moment ago (`cutout resume --daily-budget`) does not pause the pipeline again.
            refresh = getattr(self._caps, "refresh", None)
            if refresh is None:
                raise
            fresh: BudgetLimits = refresh()
            if fresh == limits:
                raise
            return self._reserve(units, fresh)

    def _reserve(self, units: int, limits: BudgetLimits) -> Reservation | None:
        if units < 1:
            raise ValueError("a reservation is at least one unit")
        # Without a cap the units are counted all the same (one unconditional ADD): `cutout budget
        # status` shows what was used, and a cap set later starts from the truth.
        period = Period.at(self._now())
        for name, limit in (("daily", limits.daily), ("monthly", limits.monthly)):
            if 0 < limit < units:
                raise BudgetExhausted(
                    f"One call needs {units} units, more than the whole {name} budget ({limit})."
                )
        names = {"#day": period.day_attribute, "#month": "month", "#calls": "calls", "#ttl": TTL_ATTRIBUTE}
        values: dict[str, Any] = {
            ":units": {"N": str(units)},
            ":one": {"N": "1"},
            ":ttl": {"N": str(int(period.started_at.timestamp()) + ITEM_LIFETIME_SECONDS)},
        }
        conditions = []
        if limits.daily > 0:
            conditions.append("(attribute_not_exists(#day) OR #day <= :day_room)")
            values[":day_room"] = {"N": str(limits.daily - units)}
        if limits.monthly > 0:
            conditions.append("(attribute_not_exists(#month) OR #month <= :month_room)")
            values[":month_room"] = {"N": str(limits.monthly - units)}
        condition = {"ConditionExpression": " AND ".join(conditions)} if conditions else {}
        try:
            answer = self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": period.item_id}},
                UpdateExpression=(
                    "ADD #day :units, #month :units, #calls :one SET #ttl = if_not_exists(#ttl, :ttl)"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_NEW",
                **condition,
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            raise BudgetExhausted(self._exhausted_sentence(period, limits)) from None
        attributes = answer.get("Attributes", {})
        return Reservation(
            units=units,
            period=period,
            day_used=int(attributes.get(period.day_attribute, {}).get("N", units)),
            month_used=int(attributes.get("month", {}).get("N", units)),
        )

    def release(self, reservation: Reservation) -> None:
        period = reservation.period
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"id": {"S": period.item_id}},
            UpdateExpression="ADD #day :minus, #month :minus, #released :one",
            ExpressionAttributeNames={
                "#day": period.day_attribute,
                "#month": "month",
                "#released": "released",
            },
            ExpressionAttributeValues={":minus": {"N": str(-reservation.units)}, ":one": {"N": "1"}},
        )

    def status(self) -> BudgetStatus:
        period = Period.at(self._now())
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": period.item_id}}, ConsistentRead=True
        ).get("Item", {})

        def number(name: str) -> int:
            return int(item.get(name, {}).get("N", 0))

        return BudgetStatus(
            limits=self.limits,
            period=period,
            day_used=number(period.day_attribute),
            month_used=number("month"),
            calls=number("calls"),
            released=number("released"),
        )

    def _exhausted_sentence(self, period: Period, limits: BudgetLimits) -> str:
        caps = []
        if limits.daily > 0:
            caps.append(f"daily budget of {limits.daily} units for {period.month}-{period.day} (UTC)")
        if limits.monthly > 0:
            caps.append(f"monthly budget of {limits.monthly} units for {period.month}")
        return (
            "The "
            + " or the ".join(caps)
            + " is spent: the pipeline pauses until the next period or `cutout resume`."
        )


class UnlimitedBudget:
    """No cap (both template parameters 0): nothing is reserved, nothing is written."""

    limits = BudgetLimits()

    def __init__(self, now: Callable[[], datetime] = utc_now) -> None:
        self._now = now

    def reserve(self, units: int) -> Reservation | None:
        return None

    def release(self, reservation: Reservation) -> None:
        return None

    def status(self) -> BudgetStatus:
        return BudgetStatus(limits=self.limits, period=Period.at(self._now()), day_used=0, month_used=0)


class PauseLatch:
    """Remembers, for a short while, that this process saw the pipeline pause.

    While set, the next records of the batch (and of batches already on their way before the event
    source mapping stopped) pause at once: no more refused reservations, no more unbilled calls that
    Aidge would answer "quota exhausted" to.
    """

    def __init__(self, hold_seconds: float = 60.0, clock: Callable[[], float] | None = None) -> None:
        import time

        self._hold = hold_seconds
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._until = 0.0
        self._reason: FailureReason | None = None

    def set(self, reason: FailureReason) -> None:
        with self._lock:
            self._reason = reason
            self._until = self._clock() + self._hold

    def clear(self) -> None:
        with self._lock:
            self._reason = None  # current() answers None without it, whatever the hold left

    def current(self) -> FailureReason | None:
        with self._lock:
            if self._reason is not None and self._clock() < self._until:
                return self._reason
            return None
