"""``Deliverables``: store the master, make and store the variants (see the package docs)."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Protocol
from urllib.parse import quote

from PIL import Image

from cutout.engine.port import Cutout
from cutout.failures import FailureReason
from cutout.normalisation.rights import RIGHTS_HEAD_BYTES, Rights, read_rights
from cutout.ordering import Superseded
from cutout.profiles import Profile, SingleProfile, VariantSpec
from cutout.storage.metadata_limit import fit_metadata
from cutout.storage.objects import ObjectHead, ObjectNotFound, ObjectStore, WriteCondition
from cutout.storage.output import METADATA_LIMIT_BYTES, output_key_for
from cutout.variants import RenderedVariant, master_key, render_variant, variant_key
from cutout.variants.shadow import SHADOW_BYTES_PER_PIXEL

# Bytes a pixel of pixel work holds at once, per canvas: the RGBA canvas, its composite and one
# encoder buffer (Pillow stores RGB and RGBA at 4 bytes a pixel).
_WORKING_BYTES_PER_PIXEL = 4 * 4
MASTER_CONTENT_TYPE = "image/png"

PixelReserve = Callable[[int], AbstractContextManager[Any]]


class Render(Protocol):
    """Makes one variant from the decoded master, embedding ``xmp`` (the source's rights) if given."""

    def __call__(
        self, master: Image.Image, spec: VariantSpec, *, xmp: bytes | None = None
    ) -> RenderedVariant: ...


# One PUT, given the condition to send (``None``: unconditional).
Write = Callable[[WriteCondition | None], None]
# Runs ``write`` for ``key`` unless a newer version of the source has won (then says so instead):
# the conductor passes the upload's ``cutout.ordering.OrderedWrites``.
WriteGuard = Callable[[str, Write], Superseded | None]


def unguarded(_key: str, write: Write) -> Superseded | None:
    """The guard of a writer with no upload to order (``cutout rerender``): write unconditionally."""
    write(None)
    return None


class MasterUnreadable(FailureReason):
    """The stored or downloaded master is not a readable image (it passed the download's checks)."""

    code = "master_unreadable"


@contextmanager
def _no_budget(_nbytes: int) -> Iterator[None]:
    yield


@dataclass(frozen=True, slots=True)
class MasterPixels:
    """The master decoded once (RGBA), and whether the stored image had an alpha channel at all."""

    image: Image.Image
    has_alpha: bool


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
    """A master found in the output bucket: its PNG bytes and the metadata it was stored with.

    For a profile whose one output is the master (``SingleProfile``) the bytes are not read
    (``data`` is empty): nothing is made from them, the output is there already.
    """

    data: bytes
    metadata: dict[str, str]
    key: str = ""
    head: ObjectHead | None = None


@dataclass(frozen=True, slots=True)
class StoredOutputs:
    """What ``deliver`` left in the output bucket, and how much of it this call wrote."""

    master_key: str
    outputs: tuple[StoredOutput, ...]
    written: int  # variants written now; the others were already there (checkpoints)
    master_reused: bool
    # Set when a newer version of the source won before every variant was written: the rest stopped.
    superseded: Superseded | None = None


# Fields added after variants were first stored, left out of the digest while they hold the value
# that renders what the spec rendered before them, so no stored variant is made again for nothing.
_DIGEST_NEUTRAL: dict[str, object] = {"shadow": None, "decontaminate": True}


def spec_digest(spec: VariantSpec, *, keep_rights: bool = True) -> str:
    """A short digest of everything that shapes a variant: a changed spec makes a new variant.

    ``clear_margins`` only shapes a shadow, so it counts only with one; a profile that drops the
    source's rights (``keep_rights = false``) makes other files, so it counts too.
    """
    fields = spec.model_dump(mode="json")
    if not keep_rights:
        fields["keep_rights"] = False
    for name, neutral in _DIGEST_NEUTRAL.items():
        if fields.get(name) == neutral:
            fields.pop(name)
    if spec.shadow is None:
        fields.pop("clear_margins", None)
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
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
        render: Render = render_variant,
        reserve_pixels: PixelReserve | None = None,
    ) -> None:
        self._store = store
        self._bucket = bucket
        self._render = render
        self._reserve: PixelReserve = reserve_pixels or _no_budget

    def check_keys(self, source_key: str, profile: Profile) -> None:
        """Raises ``OutputKeyTooLong`` now, before paying, if any output could not be written."""
        self.master_keys(source_key, profile)
        for spec in profile.variants:
            variant_key(source_key, spec.name, spec.format.extension)

    def master_keys(self, source_key: str, profile: Profile) -> tuple[str, ...]:
        """Where ``profile``'s master is stored: ``masters/<key>.png``, or, when the one output is the
        master (``SingleProfile``), the output keys its result may come back at."""
        if isinstance(profile, SingleProfile):
            return tuple(output_key_for(source_key, extension) for extension in profile.returned.extensions)
        return (master_key(source_key),)

    def stored_master(
        self,
        source_key: str,
        match: Mapping[str, str],
        *,
        look: Callable[[str], ObjectHead | None] | None = None,
        profile: Profile | None = None,
    ) -> StoredMaster | None:
        """The master stored for this source (every field of ``match`` equal in its metadata), else None.

        ``look(key)`` HEADs the master's key (``None``: absent): the upload's ``OrderedWrites.output``,
        so that its pre-pay check reuses this HEAD; else the store's own HEAD. With a ``SingleProfile``
        the master is its output (at one of ``master_keys``): found by its HEAD, its bytes not read.
        """
        keys = self.master_keys(source_key, profile) if profile is not None else (master_key(source_key),)
        reads = not isinstance(profile, SingleProfile)
        for key in keys:
            try:
                head = self._store.head(self._bucket, key) if look is None else look(key)
                if head is None or not _same_source(head.metadata, match):
                    continue
                data = self._store.read_range(self._bucket, key, None, 0, None) if reads else b""
            except ObjectNotFound:
                continue
            return StoredMaster(data=data, metadata=head.metadata, key=key, head=head)
        return None

    def store_returned(
        self,
        source_key: str,
        cutout: Cutout,
        metadata: Mapping[str, str],
        *,
        key_prefix: str = "",
        tags: Mapping[str, str] | None = None,
        guard: WriteGuard = unguarded,
    ) -> tuple[str, Superseded | None]:
        """PUT the paid call's result as returned (a ``SingleProfile``'s one variant, which is its
        master too) at the source key plus its extension, under ``key_prefix`` (``review/`` when
        held), unless a newer version has won. Returns the key, and what superseded it if one did."""
        key = key_prefix + output_key_for(source_key, cutout.extension)

        def write(condition: WriteCondition | None) -> None:
            cutout.body.seek(0)
            self._store.put(
                self._bucket,
                key,
                cutout.body,
                cutout.content_type,
                fit_metadata(metadata),  # S3's 2 KB, by the rule of cutout.storage.metadata_limit
                condition=condition,
                tags=dict(tags) if tags else None,  # held for review: the reasons travel as a tag too
            )

        return key, guard(key, write)

    def store_master(
        self,
        source_key: str,
        data: bytes,
        metadata: Mapping[str, str],
        *,
        guard: WriteGuard = unguarded,
    ) -> Superseded | None:
        """PUT the master (the paid call's transparent result) unless a newer version has won."""
        key = master_key(source_key)

        def write(condition: WriteCondition | None) -> None:
            self._store.put(
                self._bucket,
                key,
                io.BytesIO(data),
                MASTER_CONTENT_TYPE,
                fit_metadata(metadata),  # S3's 2 KB, by the rule of cutout.storage.metadata_limit
                condition=condition,
            )

        return guard(key, write)

    @contextmanager
    def decoded(self, master: bytes, profile: Profile) -> Iterator[MasterPixels]:
        """The master decoded once, holding its working set in the pixel budget for the ``with`` block.

        Everything that needs the master's pixels (the quality gate's alpha, every variant) uses
        this one decode, so the budget bounds it like any other decode.
        """
        with ExitStack() as held:
            yield self._decode(master, profile, held)

    def deliver(
        self,
        source_key: str,
        master: bytes | MasterPixels,
        profile: Profile,
        source_metadata: Mapping[str, str],
        *,
        match: Mapping[str, str],
        master_reused: bool = False,
        key_prefix: str = "",
        tags: Mapping[str, str] | None = None,
        guard: WriteGuard = unguarded,
    ) -> StoredOutputs:
        """Every variant of ``profile`` made from ``master`` and stored; those already there are kept.

        ``source_metadata`` is what every output carries (source, engine, score, …); with a master
        reused (``master_reused``), a variant already stored whose metadata has ``match``'s source
        fields and the same spec is kept (a master made now has none stored: none is looked for). Each variant
        adds ``profile``, ``variant``, ``variant-digest``, ``master-key`` and its own size. ``master``
        is the decoded master (``decoded``), or its bytes, then decoded once, inside the pixel
        budget, and only when a variant is missing. Each PUT goes through ``guard``: when a newer
        version of the source has won, nothing more is written and ``superseded`` says so.
        """
        outputs: list[StoredOutput] = []
        written = 0
        with ExitStack() as held:
            pixels = master if isinstance(master, MasterPixels) else None
            encoded = master if isinstance(master, bytes) else b""
            rights: Rights | None = None  # read from the source once, when a variant is first made
            for spec in profile.variants:
                # key_prefix: "review/" when the quality gate holds the upload (never the published keys)
                key = key_prefix + variant_key(source_key, spec.name, spec.format.extension)
                digest = spec_digest(spec, keep_rights=profile.keep_rights)
                # A master made now was not stored before, and it is stored before its variants: so
                # no variant of it is either (no HEAD to find out; a guard's PUT is conditional anyway).
                existing = self._existing(key, match, digest) if master_reused else None
                if existing is not None:
                    outputs.append(_described(spec, key, existing))
                    continue
                if pixels is None:
                    pixels = self._decode(encoded, profile, held)
                if rights is None:
                    rights = (
                        self.source_rights(source_key, source_metadata) if profile.keep_rights else Rights()
                    )
                rendered = self._render(pixels.image, spec, xmp=None if rights.empty else rights.xmp())
                metadata = {
                    **source_metadata,
                    **_variant_metadata(
                        source_key=source_key,
                        profile=profile,
                        spec=spec,
                        digest=digest,
                        rendered=rendered,
                        source=source_metadata,
                        rights="off" if not profile.keep_rights else "none" if rights.empty else "kept",
                    ),
                }
                superseded = guard(key, self._variant_write(key, rendered, metadata, tags))
                if superseded is not None:
                    return StoredOutputs(
                        master_key=master_key(source_key),
                        outputs=tuple(outputs),
                        written=written,
                        master_reused=master_reused,
                        superseded=superseded,
                    )
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

    def source_rights(self, source_key: str, source: Mapping[str, str]) -> Rights:
        """The rights fields of the source the outputs come from (``cutout.normalisation.rights``).

        Read from the source's first ``RIGHTS_HEAD_BYTES``, of the exact version the master was
        made from: by its version id, else only while its ETag is still the one recorded. A source
        deleted or replaced since gives no rights (the outputs are still made); other errors are
        raised, so a transient one is retried like any other read.
        """
        bucket, version = source.get("source-bucket"), source.get("source-version-id")
        if not bucket:
            return Rights()
        try:
            if not version:
                head = self._store.head(bucket, source_key, None)
                if (head.etag or "").strip('"') != source.get("source-etag", "").strip('"'):
                    return Rights()
            data = self._store.read_range(bucket, source_key, version, 0, RIGHTS_HEAD_BYTES - 1)
        except ObjectNotFound:
            return Rights()
        return read_rights(data)

    def _variant_write(
        self,
        key: str,
        rendered: RenderedVariant,
        metadata: dict[str, str],
        tags: Mapping[str, str] | None,
    ) -> Write:
        def write(condition: WriteCondition | None) -> None:
            self._store.put(
                self._bucket,
                key,
                io.BytesIO(rendered.body),
                rendered.content_type,
                fit_metadata(metadata),  # S3's 2 KB, by the rule of cutout.storage.metadata_limit
                condition=condition,
                tags=dict(tags) if tags else None,  # held for review: the reasons travel as a tag too
            )

        return write

    def _existing(self, key: str, source: Mapping[str, str], digest: str) -> ObjectHead | None:
        """The HEAD of ``key`` if it is this source's variant made by this spec, else ``None``."""
        try:
            head = self._store.head(self._bucket, key)
        except ObjectNotFound:
            return None
        if _same_source(head.metadata, source) and head.metadata.get("variant-digest") == digest:
            return head
        return None

    def _decode(self, master: bytes, profile: Profile, held: ExitStack) -> MasterPixels:
        """The master as RGBA, decoded once its working set is reserved in the pixel budget."""
        try:
            opened = held.enter_context(Image.open(io.BytesIO(master), formats=("PNG", "WEBP")))
            width, height = opened.size
            held.enter_context(self._reserve(working_set(width, height, profile)))
            has_alpha = "A" in opened.getbands() or "transparency" in opened.info
            return MasterPixels(image=opened.convert("RGBA"), has_alpha=has_alpha)
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
        per_pixel = _WORKING_BYTES_PER_PIXEL + (SHADOW_BYTES_PER_PIXEL if spec.shadow is not None else 0)
        largest = max(largest, canvas * per_pixel)
    return 2 * width * height * 4 + largest


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
    rights: str,
) -> dict[str, str]:
    metadata = {
        "profile": profile.name,
        "rights": rights,  # kept | none | off: the source's rights fields, written as XMP (or not)
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
