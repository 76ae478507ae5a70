"""The variants step: every deliverable of a profile, made locally from the master (no paid call)."""

from cutout.variants.keys import master_key, variant_key
from cutout.variants.layout import Box, Layout, LayoutImpossible, plan_layout
from cutout.variants.render import (
    RenderedVariant,
    VariantTooLarge,
    compose,
    decontaminate,
    encode,
    encode_at,
    render_variant,
    subject_box,
)

__all__ = [
    "Box",
    "Layout",
    "LayoutImpossible",
    "RenderedVariant",
    "VariantTooLarge",
    "compose",
    "decontaminate",
    "encode",
    "encode_at",
    "master_key",
    "plan_layout",
    "render_variant",
    "subject_box",
    "variant_key",
]
