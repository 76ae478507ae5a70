"""Hostile and malformed uploads: each gets the outcome the rules say, none costs an API call
unless it is a valid image, nothing crashes, and memory stays bounded.

Two runs of the same generated corpus (``hostile_corpus.py``, 60 inputs): through the real
handler against moto and the emulator (what S3 and the API really see), and in a fresh process
on the in-memory fakes, to measure its peak memory.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from PIL import Image

from cutout.storage import output_key_for
from tests.functional.pipeline.world import World
from tests.reliability.hostile_corpus import IGNORED, PROCESSED, HostileInput, hostile_corpus

REPO_ROOT = Path(__file__).resolve().parents[2]
PRINTABLE_ASCII = {chr(code) for code in range(0x20, 0x7F)}
# A safety net, not a benchmark: the figure is printed (and reported); the run peaks near 140 MiB.
PEAK_RSS_LIMIT_MIB = 400
# moto's HTTP server answers 404 to PUTs of keys holding CR, LF or TAB (real S3 stores them);
# those keys are covered by the in-memory run below.
MOTO_CANNOT_STORE = ("\n", "\r", "\t")


def _storable_in_moto(entry: HostileInput) -> bool:
    return not any(character in entry.key for character in MOTO_CANNOT_STORE)


def test_the_corpus_covers_every_kind_of_hostile_input() -> None:
    # Given the generated corpus
    corpus = hostile_corpus()
    # When its expectations are counted
    expected = {entry.expected for entry in corpus}
    # Then it has at least 40 inputs and covers every rejection reason, the valid and the ignored
    assert len(corpus) >= 40
    assert len({entry.key for entry in corpus}) == len(corpus)
    assert {
        "empty_object",
        "object_too_large",
        "not_an_image",
        "unsupported_format",
        "corrupt_header",
        "image_too_small",
        "image_too_large",
        "truncated_image",
        "animated_image",
        "unsupported_color_mode",
        "corrupt_color_profile",
        "output_key_too_long",
        PROCESSED,
        IGNORED,
    } <= expected


def _assert_safe_output(entry: HostileInput, output: dict[str, Any], input_bucket: str) -> None:
    """The output sits under the source's own key (extension swapped), with header-safe metadata."""
    metadata = output["metadata"]
    assert all(set(value) <= PRINTABLE_ASCII for value in metadata.values()), entry.key
    assert metadata["source-bucket"] == input_bucket
    assert entry.key.startswith(_source_key(metadata))
    assert (_source_key(metadata) == entry.key) != ("source-key-truncated" in metadata)
    assert Image.open(io.BytesIO(output["body"])).format == "PNG"


def _source_key(metadata: dict[str, str]) -> str:
    """The source key the metadata names (percent-encoded, maybe cut to fit S3's 2 KiB)."""
    return unquote(metadata["source-key"])


@pytest.mark.slow
def test_hostile_uploads_get_their_outcome_and_only_valid_images_are_paid_for(world: World) -> None:
    # Given every hostile input moto can store, uploaded to the input bucket
    corpus = [entry for entry in hostile_corpus() if _storable_in_moto(entry)]
    for entry in corpus:
        world.upload(entry.key, entry.data)

    # When the event source mapping delivers everything
    world.drain(timeout_seconds=240)

    # Then each refused input has exactly one DLQ record with its reason and no output,
    records = world.dlq_records()
    codes_by_key: dict[str, list[str]] = {}
    for record in records:
        codes_by_key.setdefault(record["source"]["key"], []).append(record["error"]["code"])
    outputs = world.outputs()
    output_sources = {_source_key(output["metadata"]) for output in outputs.values()}
    refused = [entry for entry in corpus if entry.refused]
    for entry in refused:
        assert codes_by_key.get(entry.key) == [entry.expected], entry.key
        assert entry.key not in output_sources
    assert len(records) == len(refused)
    # ... each valid image has its output under its own key with safe metadata,
    processed = [entry for entry in corpus if entry.expected == PROCESSED]
    for entry in processed:
        _assert_safe_output(entry, outputs[output_key_for(entry.key, ".png")], world.input_bucket)
    assert len(outputs) == len(processed)
    # ... placeholders left nothing behind, and only the valid images cost a (single) call
    stats = world.emulator.stats()
    print(
        f"\nhostile corpus via moto: {len(corpus)} inputs, {len(processed)} outputs, "
        f"{len(records)} DLQ records, {stats['calls']} API calls, {stats['billed']} billed"
    )
    assert (stats["calls"], stats["billed"]) == (len(processed), len(processed))


@pytest.mark.slow
def test_the_whole_corpus_runs_in_bounded_memory_with_the_same_outcomes(tmp_path: Path) -> None:
    # Given the whole corpus (CR/LF/TAB keys included), run by the handler in a fresh process
    summary_path = tmp_path / "summary.json"

    # When the process has looked at every input
    completed = subprocess.run(
        [sys.executable, "-m", "tests.reliability.hostile_memory_run", str(summary_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = json.loads(summary_path.read_text(encoding="utf-8"))

    # Then every input got its outcome, a refused one without any API call, ...
    results = summary["results"]
    for entry in hostile_corpus():
        result = results[entry.key]
        assert result["outcome"] == entry.expected, entry.key
        assert result["api_calls"] == (1 if entry.expected == PROCESSED else 0), entry.key
        for output in result["outputs"]:
            assert output["key"] == output_key_for(entry.key, ".png")
            assert all(set(value) <= PRINTABLE_ASCII for value in output["metadata"].values())
            assert entry.key.startswith(_source_key(output["metadata"]))
        for record in result["dlq_records"]:
            assert record["source"]["key"] == entry.key
            assert record["error"]["message"]
    # ... and the peak memory stayed far below a Lambda's
    print(
        f"\nhostile corpus in-process: {summary['inputs']} inputs ({summary['corpus_mib']} MiB), peak RSS "
        f"{summary['peak_rss_mib']} MiB "
        f"(after generating the corpus: {summary['peak_rss_mib_before_run']} MiB)"
    )
    assert summary["peak_rss_mib"] < PEAK_RSS_LIMIT_MIB
