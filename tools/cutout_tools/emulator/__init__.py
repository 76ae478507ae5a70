"""An Aidge-compatible background-removal server for tests, the local stack and the demo.

    from cutout_tools.emulator import AidgeEmulator, FaultPlan

    faults = FaultPlan.parse(["500:0.1", "timeout:0.05"])
    with AidgeEmulator(key_name="512345", key_secret="...", faults=faults, seed=7) as emu:
        ...  # call emu.api_url with a v2-signed POST; emu.stats() says what was called and billed

See ``server.py`` for the contract and the control endpoints, ``cutout emulator --help`` for the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cutout_tools.emulator.faults import Fault, FaultPlan

if TYPE_CHECKING:
    from cutout_tools.emulator.server import API_PATH, AidgeEmulator

# The server needs the developer install (cryptography, the studio engine): imported when used, so
# `cutout --help` and the operations commands run on the operator's install.
_LAZY = {"API_PATH": "cutout_tools.emulator.server", "AidgeEmulator": "cutout_tools.emulator.server"}

__all__ = ["API_PATH", "AidgeEmulator", "Fault", "FaultPlan"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
