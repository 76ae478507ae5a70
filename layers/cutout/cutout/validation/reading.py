"""Bounded reads of an object: a growing prefix and one suffix, every byte counted.

Validation reads through a ``RangeReader`` (a ranged S3 GET in production, a slice in tests and
base64 mode), so a 20 MB upload costs a 64 KiB read and a 256-byte read, not a download.
"""

from __future__ import annotations

import io
from collections.abc import Callable

RangeReader = Callable[[int, int | None], bytes]
"""``read_range(start, end_inclusive)`` returns those bytes; ``read_range(-n, None)`` the last n."""


def bytes_reader(data: bytes) -> RangeReader:
    """A ``RangeReader`` over bytes in memory (base64 mode, tests)."""

    def read_range(start: int, end: int | None) -> bytes:
        if start < 0:
            return data[start:]
        return data[start : None if end is None else end + 1]

    return read_range


class BoundedReader:
    """Reads a prefix that only grows, and a suffix; never more than asked, all counted."""

    def __init__(self, read_range: RangeReader, object_size: int) -> None:
        self._read_range = read_range
        self.object_size = object_size
        self.prefix_bytes = b""
        self.bytes_read = 0
        # The object gave fewer bytes than its size says (changed, or a short read): stop growing.
        self.ended_early = False

    @property
    def has_whole_object(self) -> bool:
        return len(self.prefix_bytes) >= self.object_size or self.ended_early

    def prefix(self, length: int) -> bytes:
        """The first ``min(length, object_size)`` bytes, reading only what is not read yet."""
        wanted = min(length, self.object_size)
        have = len(self.prefix_bytes)
        if wanted > have and not self.ended_early:
            chunk = self._read_range(have, wanted - 1)
            self.bytes_read += len(chunk)
            chunk = chunk[: wanted - have]
            if len(chunk) < wanted - have:
                self.ended_early = True
            self.prefix_bytes += chunk
        return self.prefix_bytes

    def suffix(self, length: int) -> bytes:
        """The last ``length`` bytes: from the prefix if it holds the whole object, else one read."""
        if self.has_whole_object:
            return self.prefix_bytes[-length:]
        chunk = self._read_range(-length, None)
        self.bytes_read += len(chunk)
        return chunk[-length:]


class EndTrackingStream(io.BytesIO):
    """A header buffer that remembers whether a parser asked for bytes beyond its end.

    If Pillow fails on a prefix *and* ran off its end, the header may just be longer than the
    prefix (read more); if it failed without running out, the header itself is bad (stop).
    """

    ran_out = False

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        if size is None or size < 0 or len(data) < size:
            self.ran_out = True
        return data
