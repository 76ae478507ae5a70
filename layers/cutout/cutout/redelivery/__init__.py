"""When a failed message comes back: the retry schedule and the queue-visibility port.

A transient failure is reported to the event source mapping (``batchItemFailures``) and the
message stays in the queue. Left alone it would come back after the queue's whole visibility
timeout (1,020 s with the template's defaults); instead its visibility is set from its receive
count and the failure's kind (``RetrySchedule``), through ``MessageVisibility``.
"""

from cutout.redelivery.delivery import Delivery
from cutout.redelivery.schedule import RetrySchedule, is_rate_limit
from cutout.redelivery.visibility import MessageVisibility, Redelivery, SqsMessageVisibility

__all__ = [
    "Delivery",
    "MessageVisibility",
    "Redelivery",
    "RetrySchedule",
    "SqsMessageVisibility",
    "is_rate_limit",
]
