"""Deliver one cut-out (the single cut-out mode, ``ProfilesFile: ""``): gate it, write it once.

The paid call asked for the settings' background and target size, so the API's result is the
output: judged by the quality gate (held ones go under ``review/``), written with a conditional PUT
unless a newer version of the key has won. A byte-identical re-upload whose output exists is not
paid again (``skip_unchanged``).
"""

from __future__ import annotations

from cutout.announcements.facts import stored_announcement, unchanged_announcement
from cutout.deliver.plan import Made, Plan, superseded_outcome
from cutout.engine.port import Background, CutoutOptions
from cutout.events import UploadedObject
from cutout.observability import PipelineMetrics, logger
from cutout.ordering import NewestVersionWins, SourceStamp
from cutout.outcome import Outcome, Status
from cutout.pixels import PixelBudget
from cutout.quality_gate import QualityThresholds, alpha_stats_of_stream, judge, review_key
from cutout.quality_gate.review import review_metadata, review_tags
from cutout.storage import ObjectHead, ObjectStore, WriteCondition, output_key_for, output_metadata
from cutout.storage.metadata_limit import fit_metadata  # issue 24
from cutout.storage.output import existing_output_for
from cutout.timings import stage

# The extension each background is expected to come back as (checked again on the real bytes).
EXPECTED_EXTENSIONS = {Background.TRANSPARENT: (".png",), Background.WHITE: (".jpg", ".png")}


class SingleCutoutDelivery:
    """The deliver step of the single cut-out mode; safe to share between threads."""

    def __init__(
        self,
        *,
        store: ObjectStore,
        output_bucket: str,
        options: CutoutOptions,
        newest: NewestVersionWins,
        quality: QualityThresholds,
        pixels: PixelBudget,
        metrics: PipelineMetrics,
        skip_unchanged: bool,
    ) -> None:
        self._store = store
        self._bucket = output_bucket
        self._options = options
        self._newest = newest
        self._quality = quality
        self._pixels = pixels
        self._metrics = metrics
        self._skip_unchanged = skip_unchanged

    def plan(self, upload: UploadedObject, head: ObjectHead) -> Plan:
        """The unchanged check; else the output keys (one that cannot be written is refused here)."""
        extensions = EXPECTED_EXTENSIONS[self._options.background]
        with stage("unchanged_check"):
            unchanged = (
                existing_output_for(self._store, self._bucket, upload, head.etag, extensions)
                if self._skip_unchanged and head.etag
                else None
            )
        if unchanged is None:
            keys = tuple(output_key_for(upload.key, extension) for extension in extensions)
            return Plan(upload, head, ordering_keys=keys, writes=self._newest.writes_for(upload, head))
        logger.info("byte-identical re-upload: its output exists, nothing to pay", output_key=unchanged)
        existing = self._store.head(self._bucket, unchanged)
        event = unchanged_announcement(upload, head, existing, bucket=self._bucket, key=unchanged)
        finished = Outcome(
            status=Status.UNCHANGED,
            identity=upload.identity,
            output_key=unchanged,
            announcement=event.to_dict(),
        )
        return Plan(upload, head, finished=finished)

    def admit(self, plan: Plan, source_metadata: dict[str, str]) -> None:
        """Nothing to refuse: the API makes the output at the size asked for."""

    def deliver(self, plan: Plan, made: Made | None) -> Outcome:
        """Gate the cut-out and write it (under ``review/`` when held) unless a newer version won."""
        if made is None:
            raise TypeError("the single cut-out mode delivers a cut-out it was given")
        upload, head, cutout = plan.upload, plan.head, made.cutout
        try:
            output_key = output_key_for(upload.key, cutout.extension)
            stats = alpha_stats_of_stream(cutout.body, self._pixels.reserve)  # within the pixel budget
            verdict = judge(stats, cutout.score, self._quality)
            if verdict.held:  # the quality gate: never at the published key
                output_key = review_key(output_key)
                for reason in verdict.reasons:
                    self._metrics.held_for_review(reason)
            stamp = SourceStamp.of(upload, head).metadata()

            def write(condition: WriteCondition) -> None:
                cutout.body.seek(0)
                metadata = fit_metadata(
                    {  # S3's 2 KB (issue 24: cutout.storage.metadata_limit)
                        **output_metadata(upload, head, cutout, self._options),
                        **made.source_metadata,
                        **stamp,
                        **(review_metadata(verdict) if verdict.held else {}),
                    }
                )
                self._store.put(
                    self._bucket,
                    output_key,
                    cutout.body,
                    cutout.content_type,
                    metadata,
                    condition=condition,
                    # held for review: the reasons travel as a tag too
                    tags=review_tags(verdict) if verdict.held else None,
                )

            with stage("put"):
                superseded = plan.ordered_writes()(output_key, write)
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
