"""Where the function's logs go when it runs in-process: away from the command's own output.

In Lambda the function's Powertools logs and EMF metrics go to stdout (CloudWatch reads them). Run
in-process by ``cutout local up`` or ``cutout local run``, they would land in the middle of what
the command prints for a person, so they go to a stream of their own: stderr or a log file.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import IO

FUNCTION_LOGGER = "cutout"  # Powertools' Logger(service="cutout") is the standard logger of this name


@contextlib.contextmanager
def function_output_to(stream: IO[str]) -> Iterator[None]:
    """The function's logs and metrics (its stdout in Lambda) and warnings go to ``stream``.

    ``sys.stdout`` and ``sys.stderr`` are redirected for the whole process while the block runs:
    whatever the command itself prints must go to streams it took before entering the block.
    """
    handlers = [
        handler
        for handler in logging.getLogger(FUNCTION_LOGGER).handlers
        if isinstance(handler, logging.StreamHandler)
    ]
    previous = [handler.setStream(stream) for handler in handlers]
    try:
        with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
            yield
    finally:
        for handler, old in zip(handlers, previous, strict=True):
            if old is not None:
                handler.setStream(old)
