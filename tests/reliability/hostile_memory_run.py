"""Run the whole hostile corpus through the handler in a fresh process and report what happened,
with the process's peak memory (``python -m tests.reliability.hostile_memory_run`` prints JSON).

A subprocess, so ``ru_maxrss`` is this run's peak and nothing else's. The ports are the in-memory
fakes (no moto, whose own memory would drown the figure): what is measured is the library's cost
of looking at hostile inputs (parsing events, validation, output naming, DLQ records).
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from cutout.entrypoint import Pipeline, handle_event
from cutout_tools.local_stack.lambda_runtime import LocalLambdaContext
from tests.reliability.hostile_corpus import PROCESSED, hostile_corpus
from tests.unit.pipeline.harness import INPUT, OUTPUT, build_harness


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB.

    ``VmHWM`` (Linux) first: ``ru_maxrss`` of a process started by fork + exec also counts the
    parent's memory at the fork (a pytest process of some hundred MiB), which is not ours.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def s3_event(key: str, size: int, version_id: str | None, etag: str) -> dict[str, Any]:
    """A direct S3 notification for one object, its key form-encoded as S3 sends it."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2025-11-20T09:14:27.512Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": INPUT, "arn": f"arn:aws:s3:::{INPUT}"},
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag,
                        "versionId": version_id,
                    },
                },
            }
        ]
    }


def run() -> dict[str, Any]:
    corpus = hostile_corpus()
    harness = build_harness()
    pipeline = Pipeline(
        settings=harness.settings,
        processor=harness.processor,
        dead_letter_queue=harness.dlq,
        spending=harness.spending,
    )
    before_rss = peak_rss_mib()
    results: dict[str, Any] = {}
    for entry in corpus:
        stored = harness.store.add(INPUT, entry.key, entry.data)
        submits_before = len(harness.engine.submits)
        records_before = len(harness.dlq.records)
        puts_before = len(harness.store.puts)
        response = handle_event(
            s3_event(entry.key, len(entry.data), stored.version_id, stored.etag),
            LocalLambdaContext(),  # type: ignore[arg-type]
            pipeline,
        )
        new_records = [json.loads(record) for record in harness.dlq.records[records_before:]]
        new_puts = harness.store.puts[puts_before:]
        if response["ignored"]:
            outcome = "ignored"
        elif new_records:
            outcome = new_records[0]["error"]["code"]
        else:
            outcome = PROCESSED
        results[entry.key] = {
            "outcome": outcome,
            "api_calls": len(harness.engine.submits) - submits_before,
            "dlq_records": new_records,
            "outputs": [{"bucket": b, "key": k, "content_type": t, "metadata": m} for b, k, t, m in new_puts],
        }
    return {
        "inputs": len(corpus),
        "corpus_mib": round(sum(len(entry.data) for entry in corpus) / 2**20, 1),
        "peak_rss_mib_before_run": round(before_rss, 1),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "output_bucket": OUTPUT,
        "results": results,
    }


if __name__ == "__main__":
    summary = run()
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(summary, out)
