"""An Aidge-compatible background-removal server for tests, the local stack and the demo.

    from cutout_tools.emulator import AidgeEmulator, FaultPlan

    faults = FaultPlan.parse(["500:0.1", "timeout:0.05"])
    with AidgeEmulator(key_name="512345", key_secret="...", faults=faults, seed=7) as emu:
        ...  # call emu.api_url with a v2-signed POST; emu.stats() says what was called and billed

See ``server.py`` for the contract and the control endpoints, ``cutout emulator --help`` for the CLI.
"""

from cutout_tools.emulator.faults import Fault, FaultPlan
from cutout_tools.emulator.server import API_PATH, AidgeEmulator

__all__ = ["API_PATH", "AidgeEmulator", "Fault", "FaultPlan"]
