"""The deliverables step: the master and every variant of a profile, stored with checkpoints.

After the one paid call, ``Deliverables.deliver`` stores the transparent master under
``masters/<key>.png``, then makes each variant of the upload's profile from it (``cutout.variants``)
and stores it under ``<variant>/<key><ext>``. Every object carries the source version it came from
and a digest of the spec that made it, so the stored objects are the checkpoints:

- a master already stored for this source version is reused (no download, no call): a crash after
  it, a redelivery or a DLQ replay starts from it, even after the result URL has expired;
- a variant already stored for this source version and this spec is not made again: a crash after
  two of three variants finishes the third on redelivery.
"""

from cutout.deliverables.store import (
    Deliverables,
    PixelReserve,
    StoredMaster,
    StoredOutput,
    StoredOutputs,
    spec_digest,
)

__all__ = ["Deliverables", "PixelReserve", "StoredMaster", "StoredOutput", "StoredOutputs", "spec_digest"]
