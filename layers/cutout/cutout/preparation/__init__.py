"""The "prepare the source" step: inspect, then the original or its normalised copy, staged."""

from cutout.preparation.prepare import PreparationSettings, PreparedSource, SourcePreparation

__all__ = ["PreparationSettings", "PreparedSource", "SourcePreparation"]
