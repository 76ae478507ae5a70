"""The DynamoDB ledger on moto: one conditional update per reservation, no overspend under concurrency."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from cutout.spending import BudgetExhausted, BudgetLimits, DynamoDbBudget, LambdaEventSourceSwitch
from tests.moto_dynamodb import new_table

THREADS = 32
DAILY_CAP = 150


@pytest.fixture
def atomic_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies a conditional update atomically per item (its documented guarantee); moto
    evaluates the condition and writes without a lock, so under a loaded machine moto itself lets two
    conditional updates both pass. Give moto (in this process) the atomicity DynamoDB has, one
    update at a time: what is tested is our use of it. Reads and other writes stay unserialised."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original = DynamoDBBackend.update_item

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", update_item)


@pytest.fixture
def table(aws_environment: str, atomic_updates: None) -> Iterator[tuple[Any, str]]:
    client = boto3.client("dynamodb")
    name = new_table(client, "budget")
    yield client, name
    client.delete_table(TableName=name)


def at(day: int, month: int = 12) -> datetime:
    return datetime(2026, month, day, 12, 0, tzinfo=UTC)


def test_many_concurrent_callers_never_overspend_the_daily_cap(table: tuple[Any, str]) -> None:
    # Given a daily cap of 150 units and 32 threads that reserve until refused, each giving back
    # every third unit it got (a call that was not billed) and trying again
    client, name = table
    budget = DynamoDbBudget(client, name, BudgetLimits(daily=DAILY_CAP), now=lambda: at(1))
    granted, refused, released = [0] * THREADS, [0] * THREADS, [0] * THREADS
    start = threading.Barrier(THREADS)

    def caller(number: int) -> None:
        start.wait()
        while True:
            try:
                reservation = budget.reserve(1)
            except BudgetExhausted:
                refused[number] += 1
                return
            assert reservation is not None
            granted[number] += 1
            if granted[number] % 3 == 0:
                budget.release(reservation)
                released[number] += 1

    threads = [threading.Thread(target=caller, args=(number,)) for number in range(THREADS)]
    # When they all run at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    status = budget.status()
    # Then exactly the cap is spent: granted minus released is the cap, never more; every caller
    # ended refused; the stored counters agree with what the callers saw
    kept = sum(granted) - sum(released)
    print(
        f"\nbudget concurrency: {THREADS} threads, cap {DAILY_CAP}: granted {sum(granted)}, "
        f"released {sum(released)}, kept {kept}, refused {sum(refused)}, stored {status.day_used}"
    )
    assert kept == DAILY_CAP
    assert status.day_used == status.month_used == DAILY_CAP
    assert sum(refused) == THREADS
    assert status.calls == sum(granted)
    assert status.released == sum(released)


def test_the_daily_counter_starts_again_each_utc_day_while_the_month_accumulates(
    table: tuple[Any, str],
) -> None:
    # Given a daily cap of 2 and a monthly cap of 3
    client, name = table
    today = [at(1)]
    budget = DynamoDbBudget(client, name, BudgetLimits(daily=2, monthly=3), now=lambda: today[0])
    # When two units are spent on the 1st, then the 2nd day starts
    budget.reserve(1)
    budget.reserve(1)
    with pytest.raises(BudgetExhausted, match="daily budget of 2"):
        budget.reserve(1)
    today[0] = at(2)
    budget.reserve(1)
    # Then the 2nd day has room, but the month is spent after three
    with pytest.raises(BudgetExhausted, match="monthly budget of 3"):
        budget.reserve(1)
    status = budget.status()
    assert (status.day_used, status.month_used, status.remaining) == (1, 3, 0)


def test_the_per_month_item_expires_by_ttl(table: tuple[Any, str]) -> None:
    # Given one reservation in December 2026
    client, name = table
    DynamoDbBudget(client, name, BudgetLimits(daily=5), now=lambda: at(9)).reserve(1)
    # When the item is read
    item = client.get_item(TableName=name, Key={"id": {"S": "cutout-budget#2026-12"}})["Item"]
    # Then its TTL (the idempotency table's "expiration") is 62 days after the month began
    assert int(item["expiration"]["N"]) == int(datetime(2026, 12, 1, tzinfo=UTC).timestamp()) + 62 * 86400
    assert item["day-09"]["N"] == "1"


def test_the_switch_disables_and_enables_the_functions_own_mapping(aws_environment: str) -> None:
    # Given a function fed by a queue through an event source mapping (in moto)
    iam, lambdas, sqs = boto3.client("iam"), boto3.client("lambda"), boto3.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    role = iam.create_role(RoleName=f"role-{suffix}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = lambdas.create_function(
        FunctionName=f"cutout-{suffix}",
        Runtime="python3.13",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip()},
    )
    queue_url = sqs.create_queue(QueueName=f"work-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    mapping = lambdas.create_event_source_mapping(
        EventSourceArn=queue_arn, FunctionName=function["FunctionArn"]
    )
    switch = LambdaEventSourceSwitch(lambdas, mapping_id=mapping["UUID"])
    # When it is paused twice, then resumed
    try:
        first, second = switch.disable(), switch.disable()
        paused = switch.state()
        resumed = switch.enable()
        state = lambdas.get_event_source_mapping(UUID=mapping["UUID"])["State"]
    finally:  # moto is shared by this worker's tests: leave no mapping behind
        lambdas.delete_event_source_mapping(UUID=mapping["UUID"])
        lambdas.delete_function(FunctionName=function["FunctionName"])
    # Then the first pause changed it, the second found it paused, and resuming enabled it again
    assert (first, second, paused.paused, resumed) == (True, False, True, True)
    assert state == "Enabled"


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


class CheckThenWriteBudget:
    """The racy pattern public samples use (read, compare, write): the harness above must catch it."""

    def __init__(self, client: Any, table: str, cap: int, key: str) -> None:
        self._client, self._table, self._cap, self._key = client, table, cap, key

    def reserve(self, units: int) -> None:
        key = {"id": {"S": self._key}}
        item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item", {})
        used = int(item.get("used", {}).get("N", 0))
        if used + units > self._cap:
            raise BudgetExhausted("spent")
        self._client.update_item(
            TableName=self._table,
            Key=key,
            UpdateExpression="ADD used :units",
            ExpressionAttributeValues={":units": {"N": str(units)}},
        )


def test_the_same_harness_catches_the_check_then_write_race(table: tuple[Any, str]) -> None:
    # Given the read-compare-write pattern and the same 32 concurrent callers (up to three rounds:
    # a race needs an unlucky interleaving, which 32 threads find almost every time)
    client, name = table
    totals = []
    for round_number in range(3):
        totals.append(_race(CheckThenWriteBudget(client, name, DAILY_CAP, f"naive-{round_number}")))
        if totals[-1] > DAILY_CAP:
            break
    # Then it grants more than the cap: the concurrency test above would have failed on it
    print(f"\ncheck-then-write: {THREADS} threads, cap {DAILY_CAP}: granted {totals}")
    assert max(totals) > DAILY_CAP


def _race(naive: CheckThenWriteBudget) -> int:
    granted = [0] * THREADS
    start = threading.Barrier(THREADS)

    def caller(number: int) -> None:
        start.wait()
        while True:
            try:
                naive.reserve(1)
            except BudgetExhausted:
                return
            granted[number] += 1

    threads = [threading.Thread(target=caller, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sum(granted)


def test_caps_raised_in_ssm_take_effect_at_once_for_a_reservation_the_cached_caps_would_refuse(
    table: tuple[Any, str],
) -> None:
    # Given caps read at run time from an SSM parameter (daily 2), cached, and a spent day
    from cutout.spending.caps import caps_text, ssm_budget_caps
    from cutout.spending.pause import DynamoDbPauseMarker, PauseMark

    client, name = table
    ssm = boto3.client("ssm")
    parameter = f"/stack-{uuid.uuid4().hex[:6]}/cutout/budget"
    ssm.put_parameter(Name=parameter, Value=caps_text(BudgetLimits(daily=2)), Type="String")
    budget = DynamoDbBudget(
        client, name, ssm_budget_caps(ssm, parameter, fallback=BudgetLimits()), now=lambda: at(3)
    )
    budget.reserve(1)
    budget.reserve(1)
    with pytest.raises(BudgetExhausted):
        budget.reserve(1)
    # When `cutout resume --daily-budget 5` writes the parameter (within the cache's 30 s)
    ssm.put_parameter(Name=parameter, Value=caps_text(BudgetLimits(daily=5)), Type="String", Overwrite=True)
    # Then the next reservation is granted against the new cap, and status shows it
    assert budget.reserve(1) is not None
    assert (budget.status().limits.daily, budget.status().day_used) == (5, 3)
    # And the pause marker round-trips through the same table
    marker = DynamoDbPauseMarker(client, name)
    mark = PauseMark("budget_exhausted", "spent", at(3), "cutout")
    marker.write(mark)
    assert marker.read() == mark
    marker.clear()
    assert marker.read() is None


def test_without_a_cap_every_billed_call_is_still_counted(table: tuple[Any, str]) -> None:
    # Given no daily and no monthly cap (the template's default, 0)
    client, name = table
    budget = DynamoDbBudget(client, name, BudgetLimits(daily=0, monthly=0), now=lambda: at(1))
    # When three calls are billed and a fourth is given back (it was certainly not billed)
    reservations = [budget.reserve(1) for _ in range(4)]
    assert all(reservation is not None for reservation in reservations)
    last = reservations[-1]
    assert last is not None
    budget.release(last)
    # Then the status shows three units used today and this month, and no cap to run out of
    status = budget.status()
    assert (status.day_used, status.month_used, status.calls, status.released) == (3, 3, 4, 1)
    assert status.remaining is None
    assert status.used_percent is None


def test_budget_status_shows_the_units_used_without_a_cap(
    table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack with no cap whose function has reserved three billed calls today
    client, name = table
    budget = DynamoDbBudget(client, name, BudgetLimits(daily=0, monthly=0))
    for _ in range(3):
        budget.reserve(1)
    from cutout_tools.cli import main
    from cutout_tools.unattended import command, control

    monkeypatch.setattr(command, "_target", lambda _args: (None, None))
    monkeypatch.setattr(control, "budget_status", lambda _session, _stack: (budget.status(), "Enabled"))
    monkeypatch.setattr(control, "pause_mark", lambda _session, _stack: None)  # not paused: no marker
    # When `cutout budget status` runs
    assert main(["budget", "status", "--stack-name", "shop"]) == 0
    # Then it shows the units used, and that there is no cap
    out = capsys.readouterr().out
    assert "today             3 units (no daily cap)" in out
    assert "this month        3 units (no monthly cap)" in out
    assert "remaining         unlimited" in out
