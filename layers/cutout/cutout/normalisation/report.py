"""What the output's metadata says about the source and what normalisation did to it.

Keys (``x-amz-meta-*``, printable ASCII): ``source-format``, ``source-width``, ``source-height``,
``orientation-applied`` (the EXIF orientation undone, 1 for none), ``colour-conversion``
(``none``, ``Display P3 -> sRGB``, ...), ``scale-factor`` (output long side / upright source long
side) and ``fast-path`` (``true``: the original went to the API as it is).
"""

from __future__ import annotations

from cutout.normalisation.normalise import NormalisationReport
from cutout.validation import ImageFacts


def fast_path_metadata(facts: ImageFacts) -> dict[str, str]:
    return {
        "source-format": facts.format,
        "source-width": str(facts.width),
        "source-height": str(facts.height),
        "orientation-applied": "1",
        "colour-conversion": "none",
        "scale-factor": "1",
        "fast-path": "true",
    }


def normalised_metadata(report: NormalisationReport) -> dict[str, str]:
    return {
        "source-format": report.source_format,
        "source-width": str(report.source_width),
        "source-height": str(report.source_height),
        "orientation-applied": str(report.orientation_applied),
        "colour-conversion": report.colour_conversion.encode("ascii", "replace").decode("ascii")[:80],
        "scale-factor": f"{report.scale_factor:g}",
        "fast-path": "false",
    }
