"""The local studio engine: a real background remover for product photos on studio backgrounds.

Rules and a small learned prior (``prior``, 0.3 MB of weights, numpy), nothing downloaded: see
``segmentation`` for how it works and ``engine`` for the adapter.
"""

from cutout_tools.studio.engine import StudioEngine
from cutout_tools.studio.segmentation import Segmentation, estimate_alpha, segment

__all__ = ["Segmentation", "StudioEngine", "estimate_alpha", "segment"]
