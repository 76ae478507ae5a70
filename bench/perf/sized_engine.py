"""The emulator's engine for the benchmark: instant, and its result has the input's size.

The benchmark measures the function, not the engine: this engine reads only the input's header,
and answers a cut-out-like PNG of that size (encoded once per size, then reused), so the function
downloads and uploads as many bytes as with a real result.
"""

from __future__ import annotations

import io
import threading

from PIL import Image

from cutout.engine.port import Background, Cutout, CutoutOptions, ImageBytes, ImageSource

from .images import cutout_png


class SizedResultEngine:
    """A ``BackgroundRemover`` returning a cached, realistically large RGBA PNG of the right size."""

    engine_name = "bench-sized"

    def __init__(self) -> None:
        self._results: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()

    def result_for(self, width: int, height: int) -> bytes:
        with self._lock:
            if (width, height) not in self._results:
                self._results[(width, height)] = cutout_png(width, height)
            return self._results[(width, height)]

    def remove_background(self, source: ImageSource, options: CutoutOptions) -> Cutout:
        if not isinstance(source, ImageBytes):
            raise TypeError("the emulator hands the engine bytes")
        if options.background is not Background.TRANSPARENT:
            raise ValueError("the benchmark asks for transparent backgrounds only")
        with Image.open(io.BytesIO(source.data)) as image:  # header only: no decode
            width, height = image.size
        size = (options.target_width or width, options.target_height or height)
        return Cutout.from_bytes(
            self.result_for(*size),
            content_type="image/png",
            width=size[0],
            height=size[1],
            score=0.9,
            usage=1,
            request_id=None,
            engine=self.engine_name,
        )
