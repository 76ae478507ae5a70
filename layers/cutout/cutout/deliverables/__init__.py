"""The deliverables step: the master and every variant of a profile, stored with checkpoints.

After the one paid call, ``Deliverables.deliver`` stores the transparent master under
``masters/<key>.png``, then makes each variant of the upload's profile from it (``cutout.variants``)
and stores it under ``<variant>/<key><ext>``. Every object carries the source version it came from
and a digest of the spec that made it, so the stored objects are the checkpoints:

- a master already stored for this source version is reused (no download, no call): a crash after
  it, a redelivery or a DLQ replay starts from it, even after the result URL has expired;
- a variant already stored for this source version and this spec is not made again: a crash after
  two of three variants finishes the third on redelivery.

The single cut-out mode's built-in profile (``cutout.profiles.SingleProfile``) has one variant,
the paid call's result as returned, which is its master too: ``store_returned`` writes it at the
source key plus its extension, nothing goes under ``masters/``, and ``stored_master`` finds it by
its HEAD at the output keys (``master_keys``) without reading it.

Newest version wins here too (``cutout.ordering``): the conductor passes a ``WriteGuard`` that
makes the master's and each variant's PUT conditional and refuses to write over an output made
from a newer version of the source; the older version's outcome is then *superseded*.
"""

from cutout.deliverables.store import (
    Deliverables,
    MasterPixels,
    PixelReserve,
    StoredMaster,
    StoredOutput,
    StoredOutputs,
    WriteGuard,
    spec_digest,
    unguarded,
)

__all__ = [
    "Deliverables",
    "MasterPixels",
    "PixelReserve",
    "StoredMaster",
    "StoredOutput",
    "StoredOutputs",
    "WriteGuard",
    "spec_digest",
    "unguarded",
]
