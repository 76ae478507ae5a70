"""Why an image is refused before anything is paid for: stable codes and human sentences."""

from __future__ import annotations

from enum import StrEnum

from cutout.failures import FailureReason


class RejectionCode(StrEnum):
    """The reason codes of ``ImageRejected`` (``error.code`` in DLQ records; never renamed)."""

    EMPTY_OBJECT = "empty_object"
    OBJECT_TOO_LARGE = "object_too_large"
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    CORRUPT_HEADER = "corrupt_header"
    IMAGE_TOO_SMALL = "image_too_small"
    IMAGE_TOO_LARGE = "image_too_large"
    TRUNCATED_IMAGE = "truncated_image"
    ANIMATED_IMAGE = "animated_image"
    UNSUPPORTED_COLOR_MODE = "unsupported_color_mode"
    CORRUPT_COLOR_PROFILE = "corrupt_color_profile"
    CORRUPT_IMAGE = "corrupt_image"


class ImageRejected(FailureReason):
    """The input will never be accepted as it is: permanent, recorded with its reason.

    ``message`` is a sentence a person understands, with the numbers; it never holds file bytes.
    """

    retryable = False

    def __init__(self, code: RejectionCode, message: str) -> None:
        super().__init__(message, code=RejectionCode(code).value)
        self.rejection = RejectionCode(code)
