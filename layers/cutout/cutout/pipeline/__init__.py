"""The pipeline: one uploaded object version → exactly one outcome (an output, or a DLQ record)."""
