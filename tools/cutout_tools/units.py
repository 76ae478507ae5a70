"""How the local tools write quantities for a person to read."""

from __future__ import annotations


def human_bytes(count: int) -> str:
    """``930 B``, ``412 KB``, ``4.8 MB``: a byte count as the summary table and the report show it."""
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / 1024 / 1024:.1f} MB"


def run_duration(seconds: float) -> str:
    """A whole run's duration, the same in the run's summary line and its report: ``12.3 s``,
    ``5 min 29 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
