"""Deliver a profile's variants from one master: reuse it or store it, gate it, make the variants.

The paid call asked for the master (transparent, at the input's own size); every variant of the
upload's profile is made from it (``cutout.deliverables``). A master already stored for this source
is delivered from again without paying. The gate judges the master once, with the profile's
thresholds and the enlargements its variants would need; held outputs go under ``review/``. Every
PUT is conditional: a newer version of the key wins.

The single cut-out mode is the built-in profile whose one variant is the result as returned
(``cutout.profiles.SingleProfile``): the paid call asked for that output itself, so it is the
master too. It is gated before it is written (nothing else is stored first), and its stored output
is the master a re-upload of the same bytes reuses (looked for with ``skip_unchanged`` only: a
redelivery of the same version pays through the paid call's checkpoint, as before 0.3.0).
"""

from __future__ import annotations

from dataclasses import dataclass

from cutout.announcements.facts import (
    deliverables_announcement,
    stored_announcement,
    unchanged_announcement,
)
from cutout.deliver.plan import Made, Plan, superseded_outcome
from cutout.deliverables import Deliverables, StoredMaster
from cutout.engine.port import CutoutOptions
from cutout.events import UploadedObject
from cutout.observability import PipelineMetrics, logger
from cutout.ordering import NewestVersionWins, SourceStamp
from cutout.outcome import Outcome, Status
from cutout.pixels import PixelBudget
from cutout.profiles import Profile, ProfileSet, SingleProfile
from cutout.quality_gate import judge
from cutout.quality_gate.review import REVIEW_PREFIX, review_metadata, review_tags
from cutout.quality_gate.stats import alpha_stats, alpha_stats_of_stream
from cutout.storage import ObjectHead, output_metadata
from cutout.timings import stage
from cutout.variants.enlargement import enlargements, refuse_if_too_small_for


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfilePlan(Plan):
    """The profile chosen, the source fields an output must carry, and the master if stored."""

    profile: Profile
    match: dict[str, str]
    stored: StoredMaster | None


def _profile_plan(plan: Plan) -> ProfilePlan:
    if not isinstance(plan, ProfilePlan):
        raise TypeError("the profile flow delivers the plans it made")
    return plan


class ProfileDelivery:
    """The deliver step, for every profile (the single mode's built-in one too); thread-safe."""

    def __init__(
        self,
        *,
        profiles: ProfileSet | SingleProfile,
        deliverables: Deliverables,
        output_bucket: str,
        options: CutoutOptions,
        newest: NewestVersionWins,
        metrics: PipelineMetrics,
        skip_unchanged: bool,
        pixels: PixelBudget,
    ) -> None:
        self._profiles = profiles
        self._pixels = pixels
        self._deliverables = deliverables
        self._bucket = output_bucket
        self._options = options
        self._newest = newest
        self._metrics = metrics
        self._skip_unchanged = skip_unchanged

    def plan(self, upload: UploadedObject, head: ObjectHead) -> Plan:
        """The profile (an unknown one is refused before paying, so is a key that could not be
        written) and the master already stored for this source, if any (then nothing is paid)."""
        profile = self._choose(upload, head)
        self._deliverables.check_keys(upload.key, profile)
        match = self.source_match(upload, head)
        writes = self._newest.writes_for(upload, head)  # its HEAD of the master's key is shared
        with stage("unchanged_check"):  # a master (or an output that is one) made from this source
            stored = (
                self._deliverables.stored_master(upload.key, match, look=writes.output, profile=profile)
                if self._looks_for_master(profile, head)
                else None
            )
        if stored is not None:
            logger.info("master already stored for this source: nothing to pay", profile=profile.name)
        return ProfilePlan(
            upload,
            head,
            # a master made from a newer version
            ordering_keys=self._deliverables.master_keys(upload.key, profile),
            pays=stored is None,
            writes=writes,
            profile=profile,
            match=match,
            stored=stored,
        )

    def _choose(self, upload: UploadedObject, head: ObjectHead) -> Profile:
        if isinstance(self._profiles, SingleProfile):
            return self._profiles  # the single cut-out mode: every upload, whatever its metadata
        return self._profiles.choose(upload.key, head.metadata)

    def _looks_for_master(self, profile: Profile, head: ObjectHead) -> bool:
        """Whether a stored master can spare the paid call: always for a master under ``masters/``;
        when the output is the master, only for a byte-identical re-upload (``skip_unchanged``)."""
        if isinstance(profile, SingleProfile):
            return self._skip_unchanged and bool(head.etag)
        return True

    def admit(self, plan: Plan, source_metadata: dict[str, str]) -> None:
        """Refuse before paying when every variant would enlarge the source past the limit (the
        result as returned has the size the API was asked for: nothing to refuse)."""
        profile = _profile_plan(plan).profile
        if not isinstance(profile, SingleProfile):
            refuse_if_too_small_for(source_metadata, profile)

    def source_match(self, upload: UploadedObject, head: ObjectHead) -> dict[str, str]:
        """The source fields an existing output must carry to be this upload's (see ``skip_unchanged``)."""
        match = {"source-bucket": upload.bucket, "source-etag": head.etag or upload.etag or ""}
        version_id = upload.version_id or head.version_id
        if not self._skip_unchanged and version_id and version_id != "null":
            match["source-version-id"] = version_id  # same bytes, new version: made again
        return match

    def deliver(self, plan: Plan, made: Made | None) -> Outcome:
        """Store the master made now (``made``) or take the stored one, then gate and make the variants."""
        plan = _profile_plan(plan)
        upload, head = plan.upload, plan.head
        if isinstance(plan.profile, SingleProfile):
            return self._as_returned(plan, plan.profile, made)
        if made is None:
            if plan.stored is None:
                raise TypeError("nothing to deliver from: no master stored and none made")
            master, metadata = plan.stored.data, plan.stored.metadata
        else:
            cutout = made.cutout
            try:
                metadata = {
                    **output_metadata(upload, head, cutout, self._options),
                    **made.source_metadata,
                    **SourceStamp.of(upload, head).metadata(),
                }
                cutout.body.seek(0)
                master = cutout.body.read()
            finally:
                cutout.body.close()
            with stage("put"):
                superseded = self._deliverables.store_master(
                    upload.key, master, metadata, guard=plan.ordered_writes()
                )
            if superseded is not None:
                return superseded_outcome(upload, superseded, paid=True, request_id=cutout.request_id)
        return self._variants(plan, master, metadata)

    def _as_returned(self, plan: ProfilePlan, profile: SingleProfile, made: Made | None) -> Outcome:
        """The one output that is the master too: gated before it is written, then written as returned."""
        upload, head = plan.upload, plan.head
        if made is None:
            if plan.stored is None or plan.stored.head is None:
                raise TypeError("nothing to deliver from: no output stored and none made")
            logger.info(
                "byte-identical re-upload: its output exists, nothing to pay", output_key=plan.stored.key
            )
            existing = unchanged_announcement(
                upload, head, plan.stored.head, bucket=self._bucket, key=plan.stored.key
            )
            return Outcome(
                status=Status.UNCHANGED,
                identity=upload.identity,
                output_key=plan.stored.key,
                announcement=existing.to_dict(),
            )
        cutout = made.cutout
        try:
            stats = alpha_stats_of_stream(cutout.body, self._pixels.reserve)  # within the pixel budget
            verdict = judge(stats, cutout.score, profile.quality)
            for reason in verdict.reasons:  # the quality gate: never at the published key
                self._metrics.held_for_review(reason)
            metadata = {
                **output_metadata(upload, head, cutout, profile.paid_call),  # what the API was asked
                **made.source_metadata,
                **SourceStamp.of(upload, head).metadata(),
                **(review_metadata(verdict) if verdict.held else {}),
            }
            with stage("put"):
                output_key, superseded = self._deliverables.store_returned(
                    upload.key,
                    cutout,
                    metadata,
                    key_prefix=REVIEW_PREFIX if verdict.held else "",
                    tags=review_tags(verdict) if verdict.held else None,
                    guard=plan.ordered_writes(),  # newest version wins
                )
            event = stored_announcement(
                upload, head, cutout, bucket=self._bucket, key=output_key, review_reasons=verdict.reasons
            )
        finally:
            cutout.body.close()  # may be a spooled temporary file on disk
        if superseded is not None:
            return superseded_outcome(upload, superseded, paid=True, request_id=cutout.request_id)
        logger.info(
            "cut-out stored",
            output_key=output_key,
            request_id=cutout.request_id,
            score=cutout.score,
            width=cutout.width,
            height=cutout.height,
        )
        return Outcome(
            status=Status.REVIEW if verdict.held else Status.DONE,
            identity=upload.identity,
            output_key=output_key,
            request_id=cutout.request_id,
            announcement=event.to_dict(),
        )

    def _variants(self, plan: ProfilePlan, master: bytes, metadata: dict[str, str]) -> Outcome:
        """Gate the master once (decoded inside the pixel budget) and make every variant from it."""
        upload, head, profile, match = plan.upload, plan.head, plan.profile, plan.match
        score = metadata.get("score")
        with self._deliverables.decoded(master, profile) as pixels:
            del master
            stats = alpha_stats(pixels.image) if pixels.has_alpha else None
            scales = enlargements(pixels.image, profile)
            verdict = judge(stats, float(score) if score else None, profile.quality, scales)
            for reason in verdict.reasons:
                self._metrics.held_for_review(reason)
            with stage("variants"):
                result = self._deliverables.deliver(
                    upload.key,
                    pixels,
                    profile,
                    {**metadata, **review_metadata(verdict)} if verdict.held else metadata,
                    match=match,
                    master_reused=plan.stored is not None,
                    key_prefix=REVIEW_PREFIX if verdict.held else "",
                    tags=review_tags(verdict) if verdict.held else None,
                    guard=plan.ordered_writes(),  # newest version wins, for every PUT
                )
        if result.superseded is not None:
            return superseded_outcome(
                upload, result.superseded, paid=plan.stored is None, request_id=metadata.get("request-id")
            )
        event = deliverables_announcement(
            upload,
            head,
            result.outputs,
            bucket=self._bucket,
            profile=profile.name,
            metadata=metadata,
            review_reasons=verdict.reasons,
        )
        logger.info(
            "deliverables stored",
            profile=profile.name,
            variants=len(result.outputs),
            written=result.written,
            master_key=result.master_key,
            request_id=metadata.get("request-id"),
        )
        unchanged = plan.stored is not None and result.written == 0
        return Outcome(
            status=Status.REVIEW if verdict.held else Status.UNCHANGED if unchanged else Status.DONE,
            announcement=event.to_dict(),
            identity=upload.identity,
            output_key=result.outputs[0].key,
            request_id=metadata.get("request-id") or None,
            profile=profile.name,
            master_key=result.master_key,
            outputs=tuple(output.to_dict() for output in result.outputs),
        )
