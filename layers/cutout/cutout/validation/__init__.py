"""Validate an image before paying for it: size, type, dimensions, completeness; no pixel decode.

- ``inspect_image(read_range, object_size, limits)``: reads a bounded prefix and suffix of an
  object through ``read_range`` (a ranged GET) and returns ``ImageFacts`` or raises
  ``ImageRejected`` (``code`` is a ``RejectionCode``).
- ``validate_bytes(data, limits)``: the same on bytes in memory (base64 mode).
- ``sniff_format(head)``: the format the first bytes say, or ``None``.
"""

from cutout.validation.formats import MIME_BY_FORMAT, SUPPORTED_FORMATS, sniff_format
from cutout.validation.inspection import ImageFacts, check_object_size, inspect_image, validate_bytes
from cutout.validation.limits import ImageLimits
from cutout.validation.reading import RangeReader, bytes_reader
from cutout.validation.rejection import ImageRejected, RejectionCode

__all__ = [
    "MIME_BY_FORMAT",
    "SUPPORTED_FORMATS",
    "ImageFacts",
    "ImageLimits",
    "ImageRejected",
    "RangeReader",
    "RejectionCode",
    "bytes_reader",
    "check_object_size",
    "inspect_image",
    "sniff_format",
    "validate_bytes",
]
