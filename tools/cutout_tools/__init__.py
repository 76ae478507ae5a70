"""Development-only tools of cutout: the Aidge emulator, the studio engine, the local stack and the CLI.

Nothing here ships to Lambda; the shipped library is the ``cutout`` package in ``layers/cutout``.
"""
