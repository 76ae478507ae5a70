"""The paid call step: "never pay twice" in one place (``cutout.paid_call.step``)."""

from cutout.paid_call.step import PAID_CALL_KEY_PREFIX, Paid, PaidCall, repay_marker

__all__ = ["PAID_CALL_KEY_PREFIX", "Paid", "PaidCall", "repay_marker"]
