"""Stage a normalised image where the API can fetch it: the step between normalise and the paid call.

URL mode: the image is written to the staging bucket (``STAGING_BUCKET``, the template's
``StagingBucket``) under ``staged/<sha256 of the object identity><.jpg|.png>`` and the API gets a
presigned GET URL for it. That bucket notifies nobody (it never triggers processing), is not the
output bucket (never mistaken for an output) and expires every object after one day by lifecycle
(S3 runs lifecycle once a day, so an object lives one to two days at most). The key is
deterministic, so a retry overwrites rather than adds. base64 mode (or no staging bucket): the
encoded bytes themselves, encoded once by normalisation.
"""

from __future__ import annotations

import hashlib
import io

from cutout.engine.port import ImageBytes, ImageSource, ImageUrl
from cutout.normalisation import NormalisedImage
from cutout.storage import ObjectStore

STAGING_PREFIX = "staged/"
STAGING_EXPIRY_DAYS = 1


def staging_key(identity: str, extension: str) -> str:
    """The staging key for an object version: no trace of the source key (it may be personal)."""
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:40]
    return f"{STAGING_PREFIX}{digest}{extension}"


def stage(
    image: NormalisedImage,
    *,
    store: ObjectStore,
    bucket: str,
    identity: str,
    url_ttl_seconds: int,
    as_url: bool,
) -> ImageSource:
    """The source the engine gets for ``image``: a presigned URL of a staged copy, or its bytes."""
    if not as_url or not bucket:
        return ImageBytes(image.data)
    key = staging_key(identity, image.extension)
    store.put(bucket, key, io.BytesIO(image.data), image.content_type, {"purpose": "cutout-staging"})
    return ImageUrl(store.presigned_get_url(bucket, key, None, url_ttl_seconds))
