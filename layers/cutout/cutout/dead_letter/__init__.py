"""Failures, with their reasons, on the dead-letter queue."""

from cutout.dead_letter.queue import DeadLetterQueue, SqsDeadLetterQueue

__all__ = ["DeadLetterQueue", "SqsDeadLetterQueue"]
