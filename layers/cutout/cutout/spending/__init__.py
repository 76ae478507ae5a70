"""The "reserve budget" step: a spending cap in API usage units that pauses instead of failing."""

from cutout.spending.guard import SpendingGuard, was_not_billed
from cutout.spending.ledger import (
    Budget,
    BudgetExhausted,
    BudgetLimits,
    BudgetStatus,
    DynamoDbBudget,
    PauseLatch,
    Period,
    Reservation,
    UnlimitedBudget,
)
from cutout.spending.pause import (
    EventSourceSwitch,
    LambdaEventSourceSwitch,
    PipelinePaused,
    SourceState,
)

__all__ = [
    "Budget",
    "BudgetExhausted",
    "BudgetLimits",
    "BudgetStatus",
    "DynamoDbBudget",
    "EventSourceSwitch",
    "LambdaEventSourceSwitch",
    "PauseLatch",
    "Period",
    "PipelinePaused",
    "Reservation",
    "SourceState",
    "SpendingGuard",
    "UnlimitedBudget",
    "was_not_billed",
]
