"""The one place pixels are decoded, resized, composited and encoded, within a memory budget.

Every step that touches full-size pixels (normalisation today; variants and the quality gate
later) asks the process's ``PixelBudget`` for a ``PixelJob`` sized by an estimate of the image's
working set, and does its pixel work through that job::

    budget = pixel_budget()                        # one per process, sized from the function's memory
    with budget.job(working_set(width, height, compressed=len(data)), "normalise") as job:
        image = job.open(stream)                   # header only
        job.decode(image, reduce_to=(3000, 2000))  # JPEG DCT reduction, then load
        ...
        data = job.encode_jpeg(image, quality=92)

The budget lets jobs run at once while their estimates fit the function's memory (minus what the
runtime itself needs) and makes the rest wait; a job bigger than the whole budget runs alone.
``budget.usage()`` reports what was reserved, at most at once, and how often a job had to wait.
"""

from cutout.pixels.codecs import DECODABLE_FORMATS, PixelJob, heif_available, jpeg_reduction, open_header
from cutout.pixels.memory import (
    RUNTIME_RESERVE_MIB,
    BudgetUsage,
    PixelBudget,
    pixel_budget,
    request_body_working_set,
    working_set,
)

__all__ = [
    "DECODABLE_FORMATS",
    "RUNTIME_RESERVE_MIB",
    "BudgetUsage",
    "PixelBudget",
    "PixelJob",
    "heif_available",
    "jpeg_reduction",
    "open_header",
    "pixel_budget",
    "request_body_working_set",
    "working_set",
]
