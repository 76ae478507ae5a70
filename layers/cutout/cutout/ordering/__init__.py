"""Newest version wins: an older version of a key never overwrites the output of a newer one."""

from cutout.ordering.newest import (
    SUPERSEDED_CODE,
    NewestVersionWins,
    OrderedWrites,
    SourceStamp,
    Superseded,
    UploadWrites,
    compare_sequencers,
)

__all__ = [
    "SUPERSEDED_CODE",
    "NewestVersionWins",
    "OrderedWrites",
    "SourceStamp",
    "Superseded",
    "UploadWrites",
    "compare_sequencers",
]
