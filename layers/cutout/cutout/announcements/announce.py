"""The "announce" step's verb: publish an outcome's event, after its outputs exist."""

from __future__ import annotations

from typing import Any

from cutout.announcements.events import Announcement
from cutout.announcements.publisher import EventPublisher, EventsNotPublished
from cutout.observability import PipelineMetrics, logger
from cutout.redelivery.delivery import Delivery


class Announcer:
    """Publishes an outcome's event; a redelivery publishes it again (consumers dedupe on its id)."""

    def __init__(self, publisher: EventPublisher, metrics: PipelineMetrics) -> None:
        self._publisher = publisher
        self._metrics = metrics

    def announce(self, announcement: dict[str, Any] | None, delivery: Delivery) -> None:
        """Publish ``announcement`` (the outcome's, ``None``: nothing to say).

        Raises ``EventsNotPublished`` (retryable) when it could not be published and the message
        can still come back; on its last receive the outcome stands and the loss is logged as an error.
        """
        if announcement is None:
            return
        try:
            self._publisher.publish([Announcement.from_dict(announcement)])
        except Exception as error:
            self._metrics.processed("unannounced")
            if delivery.is_last_attempt:  # the outcome stands; only its event is lost: say so loudly
                logger.error(
                    "outcome event not published", reason=getattr(error, "code", type(error).__name__)
                )
                return
            if isinstance(error, EventsNotPublished):
                raise
            raise EventsNotPublished(
                f"the outcome event was not published ({type(error).__name__})"
            ) from error
