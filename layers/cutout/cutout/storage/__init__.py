"""Where objects come from and where cut-outs go: the object-store port and its S3 adapter."""

from cutout.storage.objects import (
    ObjectAccessDenied,
    ObjectHead,
    ObjectNotFound,
    ObjectStore,
    S3ObjectStore,
    WriteCondition,
    WriteConflict,
    survives_url_normalisation,
)
from cutout.storage.output import output_key_for, output_metadata

__all__ = [
    "ObjectAccessDenied",
    "ObjectHead",
    "ObjectNotFound",
    "ObjectStore",
    "S3ObjectStore",
    "WriteCondition",
    "WriteConflict",
    "output_key_for",
    "output_metadata",
    "survives_url_normalisation",
]
