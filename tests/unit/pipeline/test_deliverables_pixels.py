"""The deliverables' pixel work: the master decoded once, inside the pixel budget, for gate and variants."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from cutout.pipeline.outcome import Status
from cutout.pixels import PixelBudget
from tests.unit.pipeline.harness import build_harness
from tests.unit.pipeline.test_deliverables_flow import PROFILES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_master_is_decoded_once_for_the_quality_gate_and_every_variant_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a pipeline with profiles, its own pixel budget, and a count of the PNGs Pillow opens
    budget = PixelBudget(64 * 1024 * 1024)
    harness = build_harness(profiles=PROFILES, pixels=budget)
    real_open = Image.open
    png_opens: list[int] = []

    def counting_open(fp: Any, *args: Any, **kwargs: Any) -> Any:
        if hasattr(fp, "getvalue") and fp.getvalue().startswith(PNG_SIGNATURE):
            png_opens.append(len(fp.getvalue()))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    # When a photo gets its three variants (the fake engine's master is a 400x300 PNG)
    outcome = harness.process(harness.upload("shoes/red.jpg"))
    # Then the master was opened once (the gate's alpha and the three variants share that decode)
    assert outcome.status is Status.DONE
    assert len(outcome.outputs) == 3
    assert len(png_opens) == 1
    # and that decode held its working set in the budget (the decoded RGBA and one copy at least)
    usage = budget.usage()
    assert usage.jobs >= 1
    assert usage.peak_reserved_bytes >= 2 * 400 * 300 * 4


def test_the_single_cutout_gate_decodes_within_the_pixel_budget() -> None:
    # Given the single cut-out mode (no profiles) with its own pixel budget
    budget = PixelBudget(64 * 1024 * 1024)
    harness = build_harness(pixels=budget)
    # When a photo is cut out
    outcome = harness.process(harness.upload("shoes/red.jpg"))
    # Then the quality gate's decode of the result reserved its working set there
    assert outcome.status is Status.DONE
    assert budget.usage().jobs >= 1
    assert budget.usage().peak_reserved_bytes >= 2 * 400 * 300 * 4
