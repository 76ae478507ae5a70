"""The production clients against moto: an attempt that cannot end in time is never sent."""

from __future__ import annotations

import io

import pytest

from cutout.deadline import OutOfTime, invocation_deadline
from cutout.storage.source_lookup import SourceLookup
from tests.functional.pipeline.world import World


def test_a_put_is_not_sent_when_the_invocation_has_no_time_left_for_it(world: World) -> None:
    # Given the production wiring's store, and an invocation with 3 s left (an S3 attempt may take 8 s)
    look_up = world.pipeline.processor.steps.look_up
    assert isinstance(look_up, SourceLookup)
    store = look_up.store
    invocation_deadline.start(3.0)
    try:
        # When an output is written
        with pytest.raises(OutOfTime):
            store.put(world.output_bucket, "late.png", io.BytesIO(b"png"), "image/png", {})
        # Then nothing reached S3; with time enough, the same PUT goes through
        assert world.outputs() == {}
        invocation_deadline.start(60.0)
        store.put(world.output_bucket, "late.png", io.BytesIO(b"png"), "image/png", {})
        assert list(world.outputs()) == ["late.png"]
    finally:
        invocation_deadline.start(None)
