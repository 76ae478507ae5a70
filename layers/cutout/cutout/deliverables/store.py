"""``Deliverables``: store the master, make and store the variants (see the package docs)."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import asdict, dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

from PIL import Image

from cutout.failures import FailureReason
from cutout.profiles import Profile, VariantSpec
from cutout.storage.objects import ObjectHead, ObjectNotFound, ObjectStore
from cutout.storage.output import METADATA_LIMIT_BYTES
from cutout.variants import RenderedVariant, master_key, render_variant, variant_key

# Bytes a pixel of pixel work holds at once, per canvas: the RGBA canvas, its composite and one
# encoder buffer (Pillow stores RGB and RGBA at 4 bytes a pixel).
_WORKING_BYTES_PER_PIXEL = 4 * 4
MASTER_CONTENT_TYPE = "image/png"

PixelReserve = Callable[[int], AbstractContextManager[Any]]


class MasterUnreadable(FailureReason):
    """The stored or downloaded master is not a readable image (it passed the download's checks)."""

    code = "master_unreadable"


@contextmanager
def _no_budget(_nbytes: int) -> Iterator[None]:
    yield


@dataclass(frozen=True, slots=True)
class StoredOutput:
    """One deliverable in the output bucket."""

    variant: str
    key: str
    format: str
    width: int
    height: int
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class StoredMaster:
    """A master found in the output bucket: its PNG bytes and the metadata it was stored with."""

    data: bytes
    metadata: dict[str, str]


@dataclass(frozen=True, slots=True)
class StoredOutputs:
    """What ``deliver`` left in the output bucket, and how much of it this call wrote."""

    master_key: str
    outputs: tuple[StoredOutput, ...]
    written: int  # variants written now; the others were already there (checkpoints)
    master_reused: bool


def spec_digest(spec: VariantSpec) -> str:
    """A short digest of everything that shapes a variant: a changed spec makes a new variant."""
    canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


SOURCE_FIELDS = ("source-bucket", "source-etag", "source-version-id")


def _same_source(metadata: Mapping[str, str], match: Mapping[str, str]) -> bool:
    """Whether an output's metadata names the same source as ``match`` (its source fields only)."""
    fields = [name for name in SOURCE_FIELDS if name in match]
    return bool(fields) and all(metadata.get(name) == match[name] for name in fields)


class Deliverables:
    """Stores masters and variants in ``bucket`` through ``store``; safe to share between threads."""

    def __init__(
        self,
        store: ObjectStore,
        bucket: str,
        *,
        render: Callable[[Image.Image, VariantSpec], RenderedVariant] = render_variant,
        reserve_pixels: PixelReserve | None = None,
    ) -> None:
        self._store = store
        self._bucket = bucket
        self._render = render
        self._reserve: PixelReserve = reserve_pixels or _no_budget

    def check_keys(self, source_key: str, profile: Profile) -> None:
        """Raises ``OutputKeyTooLong`` now, before paying, if any output could not be written."""
        master_key(source_key)
        for spec in profile.variants:
            variant_key(source_key, spec.name, spec.format.extension)

    def stored_master(self, source_key: str, match: Mapping[str, str]) -> StoredMaster | None:
        """The master stored for this source (every field of ``match`` equal in its metadata), else None."""
        key = master_key(source_key)
        try:
            head = self._store.head(self._bucket, key)
            if not _same_source(head.metadata, match):
                return None
            return StoredMaster(
                data=self._store.read_range(self._bucket, key, None, 0, None), metadata=head.metadata
            )
        except ObjectNotFound:
            return None

    def store_master(self, source_key: str, body: BinaryIO, metadata: Mapping[str, str]) -> bytes:
        """PUT the master (the paid call's transparent result) and return its bytes for rendering."""
        body.seek(0)
        data = body.read()
        self._store.put(
            self._bucket, master_key(source_key), io.BytesIO(data), MASTER_CONTENT_TYPE, dict(metadata)
        )
        return data

    def deliver(
        self,
        source_key: str,
        master: bytes,
        profile: Profile,
        source_metadata: Mapping[str, str],
        *,
        match: Mapping[str, str],
        master_reused: bool = False,
        key_prefix: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> StoredOutputs:
        """Every variant of ``profile`` made from ``master`` and stored; those already there are kept.

        ``source_metadata`` is what every output carries (source, engine, score, …); a variant
        already stored whose metadata has ``match``'s source fields and the same spec is kept. Each variant
        adds ``profile``, ``variant``, ``variant-digest``, ``master-key`` and its own size. The master
        is decoded once, inside the pixel budget, and only when a variant is missing.
        """
        outputs: list[StoredOutput] = []
        written = 0
        with ExitStack() as held:
            image: Image.Image | None = None
            for spec in profile.variants:
                # key_prefix: "review/" when the quality gate holds the upload (never the published keys)
                key = key_prefix + variant_key(source_key, spec.name, spec.format.extension)
                digest = spec_digest(spec)
                existing = self._existing(key, match, digest)
                if existing is not None:
                    outputs.append(_described(spec, key, existing))
                    continue
                if image is None:
                    image = self._decode(master, profile, held)
                rendered = self._render(image, spec)
                metadata = {
                    **source_metadata,
                    **_variant_metadata(
                        source_key=source_key,
                        profile=profile,
                        spec=spec,
                        digest=digest,
                        rendered=rendered,
                        source=source_metadata,
                    ),
                }
                body = io.BytesIO(rendered.body)
                if tags:  # held for review: the reasons travel as a tag too
                    self._store.put(self._bucket, key, body, rendered.content_type, metadata, tags=dict(tags))
                else:
                    self._store.put(self._bucket, key, body, rendered.content_type, metadata)
                outputs.append(
                    StoredOutput(
                        variant=spec.name,
                        key=key,
                        format=spec.format.value,
                        width=rendered.width,
                        height=rendered.height,
                        bytes=len(rendered.body),
                    )
                )
                written += 1
        return StoredOutputs(
            master_key=master_key(source_key),
            outputs=tuple(outputs),
            written=written,
            master_reused=master_reused,
        )

    def _existing(self, key: str, source: Mapping[str, str], digest: str) -> ObjectHead | None:
        """The HEAD of ``key`` if it is this source's variant made by this spec, else ``None``."""
        try:
            head = self._store.head(self._bucket, key)
        except ObjectNotFound:
            return None
        if _same_source(head.metadata, source) and head.metadata.get("variant-digest") == digest:
            return head
        return None

    def _decode(self, master: bytes, profile: Profile, held: ExitStack) -> Image.Image:
        """The master as RGBA, decoded once its working set is reserved in the pixel budget."""
        try:
            opened = held.enter_context(Image.open(io.BytesIO(master), formats=("PNG", "WEBP")))
            width, height = opened.size
            held.enter_context(self._reserve(working_set(width, height, profile)))
            return opened.convert("RGBA")
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise MasterUnreadable(
                "The master (the paid call's result) cannot be decoded as an image."
            ) from None


def working_set(width: int, height: int, profile: Profile) -> int:
    """Estimated peak bytes to make ``profile``'s variants from a ``width`` x ``height`` master."""
    largest = 0
    for spec in profile.variants:
        fixed = spec.canvas.fixed_size
        side = spec.max_side or max(width, height)
        canvas = fixed[0] * fixed[1] if fixed else side * side
        largest = max(largest, canvas)
    return 2 * width * height * 4 + largest * _WORKING_BYTES_PER_PIXEL


def _described(spec: VariantSpec, key: str, head: ObjectHead) -> StoredOutput:
    def number(name: str) -> int:
        value = head.metadata.get(name, "0")
        return int(value) if value.isdigit() else 0

    return StoredOutput(
        variant=spec.name,
        key=key,
        format=spec.format.value,
        width=number("width"),
        height=number("height"),
        bytes=head.size,
    )


def _variant_metadata(
    *,
    source_key: str,
    profile: Profile,
    spec: VariantSpec,
    digest: str,
    rendered: RenderedVariant,
    source: Mapping[str, str],
) -> dict[str, str]:
    metadata = {
        "profile": profile.name,
        "variant": spec.name,
        "variant-digest": digest,
        "background": spec.background,
        "format": spec.format.value,
        "width": str(rendered.width),
        "height": str(rendered.height),
    }
    if rendered.quality is not None:
        metadata["quality"] = str(rendered.quality)
    # The master's key names the source key again; it goes in only while S3's 2 KiB limit allows
    # (it is always ``masters/<source key>.png``, so a long key loses nothing by its absence).
    master = quote(master_key(source_key), safe="/")
    used = sum(len(name) + len(value) for name, value in {**source, **metadata}.items())
    if used + len("master-key") + len(master) <= METADATA_LIMIT_BYTES:
        metadata["master-key"] = master
    return metadata
