"""Normalisation, the step between inspection and the paid call.

- ``decide_fast_path(facts, limits)``: whether an input goes to the API as it is (presigned URL,
  no pixel decoded) or is normalised; a pure function of the header facts.
- ``normalise(data, budget, limits)``: any accepted input → ``NormalisedImage`` (JPEG, or PNG with
  alpha; sRGB; upright; long side <= 3000; no metadata) with a ``NormalisationReport``.
- ``is_already_cutout(image.alpha)``: the passthrough decision (``passthrough.py`` defines it).
"""

from cutout.normalisation.alpha import AlphaFacts, alpha_facts
from cutout.normalisation.fast_path import FastPathDecision, decide_fast_path
from cutout.normalisation.normalise import NormalisationReport, NormalisedImage, normalise
from cutout.normalisation.passthrough import PASSTHROUGH_ENGINE, is_already_cutout, passthrough_cutout
from cutout.normalisation.report import fast_path_metadata, normalised_metadata

__all__ = [
    "PASSTHROUGH_ENGINE",
    "AlphaFacts",
    "FastPathDecision",
    "NormalisationReport",
    "NormalisedImage",
    "alpha_facts",
    "decide_fast_path",
    "fast_path_metadata",
    "is_already_cutout",
    "normalise",
    "normalised_metadata",
    "passthrough_cutout",
]
