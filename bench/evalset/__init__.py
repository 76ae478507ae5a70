"""The studio engine's evaluation set: product-like emoji on generated studio backgrounds, exact alpha."""

from evalset.generate import (
    BACKGROUND_KINDS,
    EVALSET_VERSION,
    GROUPS,
    EvalCase,
    load_group,
    load_or_generate,
)

__all__ = ["BACKGROUND_KINDS", "EVALSET_VERSION", "GROUPS", "EvalCase", "load_group", "load_or_generate"]
