"""What an input may be, and how much of it validation may read to find out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cutout.engine.port import TARGET_SIDE_MAX, TARGET_SIDE_MIN
from cutout.settings import MAX_OBJECT_BYTES_DEFAULT, MAX_SOURCE_PIXELS_DEFAULT

KIB = 1024
MIB = 1024 * KIB


def megapixels(pixels: int) -> str:
    """``pixels`` in megapixels, exactly, without trailing zeros (50_000_000: "50"; 1_500_000: "1.5")."""
    return f"{Decimal(pixels).scaleb(-6).normalize():f}"


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Input limits and read budgets. ``min_side``/``max_side`` are the API's (100 to 3000 pixels a
    side): larger images are scaled down by normalisation, so only ``max_source_pixels`` refuses size.

    ``head_bytes`` is the first read; most headers are in it. When a header is not (a JPEG with
    megabytes of EXIF, ICC or XMP before its frame header, a PNG with big text chunks before
    IDAT), the read grows in ``header_growth_steps`` up to ``max_header_bytes``, never further.
    ``tail_bytes`` is the one suffix read that checks the end marker (JPEG, PNG).
    """

    max_object_bytes: int = MAX_OBJECT_BYTES_DEFAULT
    min_side: int = TARGET_SIDE_MIN
    max_side: int = TARGET_SIDE_MAX
    # The pixel ceiling, checked on the declared size before any decode: 50 MP admits a 45 MP camera.
    max_source_pixels: int = MAX_SOURCE_PIXELS_DEFAULT
    head_bytes: int = 64 * KIB
    header_growth_steps: tuple[int, ...] = (512 * KIB,)
    max_header_bytes: int = 4 * MIB
    tail_bytes: int = 256

    def __post_init__(self) -> None:
        if self.max_object_bytes <= 0:
            raise ValueError("max_object_bytes must be positive")
        if not 0 < self.min_side <= self.max_side:
            raise ValueError("need 0 < min_side <= max_side")
        if not 64 <= self.head_bytes <= self.max_header_bytes:
            raise ValueError("need 64 <= head_bytes <= max_header_bytes")
        if self.tail_bytes < 16:
            raise ValueError("tail_bytes must be at least 16 (a PNG IEND chunk is 12)")

    def header_read_sizes(self) -> tuple[int, ...]:
        """The successive prefix lengths a header search may read, ending at the cap."""
        steps = [self.head_bytes]
        steps += [step for step in self.header_growth_steps if self.head_bytes < step < self.max_header_bytes]
        steps.append(self.max_header_bytes)
        return tuple(sorted(set(steps)))
