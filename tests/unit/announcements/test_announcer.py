"""The "announce" step alone: an outcome's event, published; a lost one retried or said loudly."""

from __future__ import annotations

import pytest

from cutout.announcements import Announcer, EventsNotPublished
from cutout.announcements.facts import failed_announcement
from cutout.engine.errors import PermanentEngineError
from cutout.events import UploadedObject
from cutout.redelivery.delivery import Delivery
from tests.fakes import RecordingEventPublisher, RecordingMetrics

UPLOAD = UploadedObject(bucket="in", key="shoes/red.jpg", version_id="v1", etag="e1", size=10)
EVENT = failed_announcement(
    UPLOAD, PermanentEngineError("bad", code="aidge_bad_image"), engine="fake"
).to_dict()


def test_an_outcome_s_event_is_published_once_per_call() -> None:
    # Given a publisher
    publisher, metrics = RecordingEventPublisher(), RecordingMetrics()
    # When an outcome's event is announced
    Announcer(publisher, metrics).announce(EVENT, Delivery(1, 3))
    # Then it is published as built, and nothing is counted as lost
    (published,) = publisher.published
    assert published.to_dict() == EVENT
    assert metrics.events == []


def test_an_outcome_without_an_event_publishes_nothing() -> None:
    publisher = RecordingEventPublisher()
    Announcer(publisher, RecordingMetrics()).announce(None, Delivery(1, 3))
    assert publisher.published == []


@pytest.mark.parametrize(("receive_count", "raises"), [(2, True), (3, False)])
def test_a_lost_event_comes_back_with_the_message_until_its_last_receive(
    receive_count: int, raises: bool
) -> None:
    # Given a publisher that fails
    publisher, metrics = RecordingEventPublisher(fail_times=1), RecordingMetrics()
    announcer = Announcer(publisher, metrics)
    # When an event is announced before or on the last receive
    if raises:
        # Then before it, the message comes back (retryable) ...
        with pytest.raises(EventsNotPublished) as lost:
            announcer.announce(EVENT, Delivery(receive_count, 3))
        assert lost.value.retryable is True
    else:
        # ... and on it, the outcome stands (only its event is lost)
        announcer.announce(EVENT, Delivery(receive_count, 3))
    assert metrics.events == [("processed", "unannounced")]
