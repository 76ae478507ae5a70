"""In Lambda the handler module builds the pipeline during Init, with the collector paused, then frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cutout import cold_start, entrypoint


@pytest.fixture
def collector() -> Iterator[None]:
    """Whatever a test does to the collector is undone."""
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def test_in_lambda_the_collector_waits_and_the_pipeline_is_built_at_init(
    monkeypatch: pytest.MonkeyPatch, collector: None
) -> None:
    # Given the Lambda runtime's environment and a pipeline builder that records its calls
    monkeypatch.setenv(cold_start.RUNTIME_API_VARIABLE, "127.0.0.1:9001")
    built: list[bool] = []
    monkeypatch.setattr(entrypoint, "default_pipeline", lambda: built.append(gc.isenabled()))
    # When the handler module's first import pauses and its last statement finishes
    cold_start.pause()
    paused = not gc.isenabled()
    cold_start.finish()
    # Then the collector was off while loading, the pipeline was built then, and it is back on
    assert paused
    assert built == [False]
    assert gc.isenabled()
    # And what init made is frozen: later collections skip it
    assert gc.get_freeze_count() > 0


def test_a_bad_configuration_fails_init_and_the_collector_comes_back(
    monkeypatch: pytest.MonkeyPatch, collector: None
) -> None:
    # Given the Lambda runtime's environment and a pipeline that cannot be built
    monkeypatch.setenv(cold_start.RUNTIME_API_VARIABLE, "127.0.0.1:9001")

    def broken() -> None:
        raise ValueError("OUTPUT_BUCKET: field required")

    monkeypatch.setattr(entrypoint, "default_pipeline", broken)
    cold_start.pause()
    # When init finishes, then the error fails it, and the collector is on again
    with pytest.raises(ValueError, match="OUTPUT_BUCKET"):
        cold_start.finish()
    assert gc.isenabled()


def test_outside_lambda_nothing_is_paused_built_or_frozen(
    monkeypatch: pytest.MonkeyPatch, collector: None
) -> None:
    # Given no Lambda runtime (tests, tools, the local stack's in-process functions)
    monkeypatch.delenv(cold_start.RUNTIME_API_VARIABLE, raising=False)
    built: list[bool] = []
    monkeypatch.setattr(entrypoint, "default_pipeline", lambda: built.append(True))
    gc.unfreeze()
    # When the handler module's hooks run
    cold_start.pause()
    enabled_after_pause = gc.isenabled()
    cold_start.finish()
    # Then the collector was never paused, no pipeline was built, nothing was frozen
    assert enabled_after_pause
    assert built == []
    assert gc.get_freeze_count() == 0
