"""The background-removal port: one interface, value types, one error tree.

Adapters: ``cutout.engine.aidge.AidgeClient`` (the paid API) and, outside the Lambda layer,
``cutout_tools.studio.StudioEngine`` (a local engine for studio photos, used by the emulator).
"""

from cutout.engine.errors import (
    EngineError,
    PermanentEngineError,
    RetryableEngineError,
)
from cutout.engine.port import (
    Background,
    BackgroundRemover,
    Cutout,
    CutoutOptions,
    CutoutReceipt,
    ImageBytes,
    ImageSource,
    ImageUrl,
    ResumableBackgroundRemover,
)

__all__ = [
    "Background",
    "BackgroundRemover",
    "Cutout",
    "CutoutOptions",
    "CutoutReceipt",
    "EngineError",
    "ImageBytes",
    "ImageSource",
    "ImageUrl",
    "PermanentEngineError",
    "ResumableBackgroundRemover",
    "RetryableEngineError",
]
