"""The "announce" step: completion events on EventBridge, after the outputs exist."""

from cutout.announcements.announce import Announcer
from cutout.announcements.events import (
    DETAIL_TYPES,
    FAILED,
    NEEDS_REVIEW,
    PAUSED,
    PROCESSED,
    RESUMED,
    SCHEMA_VERSION,
    SOURCE,
    Announcement,
    ImageFacts,
    OutputFacts,
    SourceFacts,
    image_announcement,
    pause_announcement,
    stable_id,
)
from cutout.announcements.publisher import (
    EventBridgePublisher,
    EventPublisher,
    EventsNotPublished,
    NoEventPublisher,
)

__all__ = [
    "DETAIL_TYPES",
    "FAILED",
    "NEEDS_REVIEW",
    "PAUSED",
    "PROCESSED",
    "RESUMED",
    "SCHEMA_VERSION",
    "SOURCE",
    "Announcement",
    "Announcer",
    "EventBridgePublisher",
    "EventPublisher",
    "EventsNotPublished",
    "ImageFacts",
    "NoEventPublisher",
    "OutputFacts",
    "SourceFacts",
    "image_announcement",
    "pause_announcement",
    "stable_id",
]
