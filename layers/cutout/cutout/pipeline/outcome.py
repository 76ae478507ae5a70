"""What happened to one uploaded object version (defined in ``cutout.outcome``, shared by the steps)."""

from cutout.outcome import Outcome, Status

__all__ = ["Outcome", "Status"]
