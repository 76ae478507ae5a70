"""Fault soak: N uploads through the local stack while the emulator fails 30 % of the calls.

    python bench/soak.py --uploads 1000        # `make soak`
    python bench/soak.py --uploads 100         # the suite's size (tests/reliability/test_fault_soak.py)

The local stack is template.yaml deployed into moto, the Aidge emulator and the real handler
behind a local event source mapping. The emulator injects 500, 501, 801, 1001, timeouts,
malformed bodies and result 404s (30 % of calls in total) plus the permanent 700 and 1000 (2 %).
The output bucket is versioned for the run, so an output written twice shows as two versions.

The emulator bills its ``timeout`` and ``malformed`` faults, as the real service would bill work
whose answer was lost or garbled on the way back, and records each such answer as undelivered;
it also records a billed answer the client had stopped waiting for (``client_gone``).

With the template's default profiles, an upload's output is its master and every variant of its
profile (``masters/<key>.png``, ``<variant>/<key><ext>``): all of them, or a DLQ record.

Afterwards the rules are checked: every upload has exactly one outcome (all its outputs xor a DLQ
record), no output object was written twice, every bill is accounted for (an upload delivered,
a DLQ record that says it was paid, or an answer the emulator records as undelivered), an object is
billed twice
only when the emulator recorded an undelivered answer for it, and no answer was lost because the
client gave up (our own deadline). Prints the figures, lost answers included, and exits 1 if a
rule is broken.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote

from PIL import Image, ImageDraw

from cutout.profiles import ProfileSet
from cutout.quality_gate.review import REVIEW_PREFIX
from cutout.redelivery.concurrency import CHANGED_MESSAGE
from cutout.variants import master_key, variant_key
from cutout_tools.local_stack import LocalStack
from cutout_tools.local_stack.function_output import FUNCTION_LOGGER

TRANSIENT_FAULTS = {
    "500": 0.06,
    "501": 0.05,
    "801": 0.04,
    "1001": 0.04,
    "timeout": 0.04,
    "malformed": 0.04,
    "result404": 0.03,
}  # 30 % in total
PERMANENT_FAULTS = {"700": 0.01, "1000": 0.01}
TIMEOUT_HOLD_SECONDS = 0.5  # the emulator's "timeout" fault holds the call this long, then hangs up
IMAGE_SIDE = 300


@dataclass
class SoakResult:
    uploads: int
    outputs: int
    output_versions: int
    dlq_records: int
    dlq_by_reason: dict[str, int]
    api_calls: int
    billed_calls: int
    faults: dict[str, int]
    wall_seconds: float
    violations: list[str] = field(default_factory=list)
    # Billed answers the client never got intact, by why (timeout/malformed faults, client_gone).
    lost_answers: dict[str, int] = field(default_factory=dict)
    objects_billed_twice: int = 0  # each explained by an undelivered answer, or a violation
    paid_dlq_records: int = 0
    objects: int = 0  # output objects stored: each delivered upload's master and variants
    object_versions: int = 0  # their versions (the output bucket is versioned): more = a rewrite
    dlq_transport_duplicates: int = 0  # identical copies of one DLQ record (same record_id)
    # The event source mapping's MaximumConcurrency over the run: (seconds, value) at each change.
    concurrency: list[tuple[float, int | None]] = field(default_factory=list)
    # Each change the governor made, from its log line: (seconds, before, after).
    concurrency_changes: list[tuple[float, int, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def product_photo(number: int) -> bytes:
    """A distinct small product photo per upload (so no two share an ETag)."""
    shade = (number * 37) % 200
    image = Image.new("RGB", (IMAGE_SIDE, IMAGE_SIDE), (235, 235, 235))
    box = (60 + number % 40, 70, 240, 230 - number % 50)
    ImageDraw.Draw(image).rectangle(box, fill=(150, 20 + shade // 4, 30 + shade // 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def fault_specs(transient_rate: float = 0.30, *, permanent: bool = True) -> list[str]:
    scale = transient_rate / sum(TRANSIENT_FAULTS.values())
    faults = {kind: share * scale for kind, share in TRANSIENT_FAULTS.items()}
    if permanent:
        faults |= PERMANENT_FAULTS
    return [f"{kind}:{probability:.4f}" for kind, probability in faults.items() if probability > 0]


def _dlq_records(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=300
    ).get("Messages", []):
        records.extend(json.loads(message["Body"]) for message in messages)
    return records


def _output_versions(s3: Any, bucket: str) -> dict[str, list[dict[str, str]]]:
    """Output key -> the metadata of each stored version."""
    versions: dict[str, list[dict[str, str]]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            head = s3.head_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
            versions.setdefault(version["Key"], []).append(head["Metadata"])
    return versions


class ConcurrencyChanges(logging.Handler):
    """Every change the function's governor made to the mapping's concurrency, from its own log line
    (``event source concurrency changed``): a sample once a second misses a lowering that another
    environment raised again within the second."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._started = time.monotonic()
        self.changes: list[tuple[float, int, int]] = []  # (seconds, before, after)

    def emit(self, record: logging.LogRecord) -> None:
        before, after = getattr(record, "before", None), getattr(record, "after", None)
        if record.getMessage() == CHANGED_MESSAGE and isinstance(before, int) and isinstance(after, int):
            self.changes.append((round(time.monotonic() - self._started, 1), before, after))

    def __enter__(self) -> ConcurrencyChanges:
        logging.getLogger(FUNCTION_LOGGER).addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        logging.getLogger(FUNCTION_LOGGER).removeHandler(self)


class ConcurrencySampler:
    """Reads the event source mapping's MaximumConcurrency once a second: how the pipeline moved it."""

    def __init__(self, lambdas: Any, mapping_uuid: str | None) -> None:
        self._lambdas = lambdas
        self._uuid = mapping_uuid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="concurrency-sampler", daemon=True)
        self._started = time.monotonic()
        self.changes: list[tuple[float, int | None]] = []

    def _read(self) -> int | None:
        answer = self._lambdas.get_event_source_mapping(UUID=self._uuid)
        value = (answer.get("ScalingConfig") or {}).get("MaximumConcurrency")
        return None if value is None else int(value)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            with contextlib.suppress(Exception):  # a sample missed is a sample missed
                value = self._read()
                if not self.changes or self.changes[-1][1] != value:
                    self.changes.append((round(time.monotonic() - self._started, 1), value))

    def start(self) -> ConcurrencySampler:
        if self._uuid:
            self._thread.start()
        return self

    def stop(self) -> list[tuple[float, int | None]]:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        return self.changes


def run_soak(
    uploads: int,
    *,
    seed: int = 11,
    transient_rate: float = 0.30,
    timeout: float = 1800.0,
    calls_per_second: float | None = None,
    permanent_faults: bool = True,
) -> SoakResult:
    """Run the soak and check the rules; the result lists any violation. ``calls_per_second``: the
    API account's rate limit (the emulator answers 501 past it), for the throttled soak."""
    stack = LocalStack(
        port=0,
        faults=fault_specs(transient_rate, permanent=permanent_faults),
        seed=seed,
        retry_delay_seconds=1,  # reported failures come back after 1 s instead of the queue's 1020 s
        # The template's own BatchSize and MaxConcurrency: what a deployed stack runs with.
        parameter_overrides={"LogLevel": "WARNING"},
        log=None,
    )
    stack.start()
    try:
        with ConcurrencyChanges() as changes:
            stack.emulator.configure(timeout_seconds=TIMEOUT_HOLD_SECONDS, calls_per_second=calls_per_second)
            facts = stack.describe()
            sampler = ConcurrencySampler(
                stack.client("lambda"), facts["outputs"].get("WorkQueueEventSourceMappingId")
            ).start()
            s3, sqs = stack.client("s3"), stack.client("sqs")
            s3.put_bucket_versioning(
                Bucket=facts["output_bucket"], VersioningConfiguration={"Status": "Enabled"}
            )
            keys = [f"soak/{number:05d}.jpg" for number in range(uploads)]
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(
                    pool.map(
                        lambda n: s3.put_object(
                            Bucket=facts["input_bucket"], Key=keys[n], Body=product_photo(n)
                        ),
                        range(uploads),
                    )
                )
            try:
                stack.wait_until_idle(timeout=timeout)
            finally:
                concurrency = sampler.stop()
            wall = time.monotonic() - started
            stats = stack.emulator.stats()
            records = _dlq_records(sqs, facts["dead_letter_queue_url"])
            versions = _output_versions(s3, facts["output_bucket"])
            profiles = stack.function_profiles()  # the template's default: the shipped profiles
    finally:
        stack.stop()
    result = _checked(keys, records, versions, stats, wall, profiles=profiles)
    result.concurrency = concurrency
    result.concurrency_changes = changes.changes
    return result


def _expected_objects(key: str, profiles: ProfileSet | None) -> set[str]:
    """The output keys one upload's outcome consists of: its master and every variant of its profile
    (the template's default, the shipped profiles file), or its one cut-out in single cut-out mode."""
    if profiles is None:
        return {key.rsplit(".", 1)[0] + ".png"}
    profile = profiles.choose(key)
    return {master_key(key)} | {
        variant_key(key, spec.name, spec.format.extension) for spec in profile.variants
    }


def _checked(
    keys: list[str],
    records: list[dict[str, Any]],
    versions: dict[str, list[dict[str, str]]],
    stats: dict[str, Any],
    wall: float,
    *,
    profiles: ProfileSet | None = None,
) -> SoakResult:
    violations: list[str] = []
    objects_by_source: dict[str, set[str]] = {}
    for output_key, stored in versions.items():
        for metadata in stored:
            objects_by_source.setdefault(unquote(metadata["source-key"]), set()).add(output_key)
    # A record sent twice by the transport (a resend after a lost answer; SQS standard queues may
    # also deliver one message twice) is the same body with the same record_id: one outcome, counted
    # apart. Two *different* records for one upload are two outcomes: a violation.
    distinct = list({json.dumps(record, sort_keys=True): record for record in records}.values())
    transport_duplicates = len(records) - len(distinct)
    records = distinct
    record_sources = Counter((record.get("source") or {}).get("key") for record in records)
    delivered = 0
    for key in keys:
        expected, found = _expected_objects(key, profiles), objects_by_source.get(key, set())
        # a held upload's outcome is its master and its variants under review/ (the quality gate)
        held = (
            {name if name == master_key(key) else REVIEW_PREFIX + name for name in expected}
            if profiles is not None
            else {REVIEW_PREFIX + name for name in expected}
        )
        complete = found in (expected, held)
        delivered += complete
        if complete + record_sources[key] != 1:
            violations.append(
                f"{key}: {len(found)} of its {len(expected)} output object(s) and "
                f"{record_sources[key]} DLQ record(s)"
            )
        elif record_sources[key] and found - {master_key(key)}:
            violations.append(f"{key}: a DLQ record and variants {sorted(found)}")
    strangers = (set(objects_by_source) | set(record_sources)) - set(keys)
    violations += [f"an outcome for an unknown key: {key!r}" for key in sorted(map(str, strangers))]
    violations += [
        f"{key}: written {len(stored)} times" for key, stored in versions.items() if len(stored) > 1
    ]
    # A second bill may only follow an answer the emulator could not deliver (rule 2 under load).
    billed_twice = {obj: entry for obj, entry in stats["by_object"].items() if entry["billed"] > 1}
    violations += [
        f"{obj}: billed {entry['billed']} times, only {entry.get('undelivered', 0)} answer(s) undelivered"
        for obj, entry in billed_twice.items()
        if entry["billed"] - entry.get("undelivered", 0) > 1
    ]
    lost = dict(stats.get("undelivered", {}))
    ours = {why: count for why, count in lost.items() if why in ("client_gone", "write_failed")}
    violations += [
        f"{count} billed answer(s) lost because the client had stopped waiting ({why}): our own deadline"
        for why, count in ours.items()
    ]
    paid_records = sum(1 for record in records if record.get("paid") is True)
    # Billed calls = object versions delivered (however many variants each) + paid failures + lost answers.
    accounted = delivered + paid_records + sum(lost.values())
    if stats["billed"] != accounted:
        violations.append(
            f"billed calls ({stats['billed']}) differ from uploads delivered ({delivered}) + paid DLQ "
            f"records ({paid_records}) + undelivered answers ({sum(lost.values())})"
        )
    return SoakResult(
        uploads=len(keys),
        outputs=delivered,
        output_versions=delivered if not any(len(stored) > 1 for stored in versions.values()) else -1,
        dlq_records=len(records),
        dlq_by_reason=dict(Counter(record["error"]["code"] for record in records).most_common()),
        api_calls=stats["calls"],
        billed_calls=stats["billed"],
        faults=dict(sorted(stats["faults"].items())),
        wall_seconds=round(wall, 1),
        violations=violations,
        lost_answers=lost,
        objects_billed_twice=len(billed_twice),
        paid_dlq_records=paid_records,
        objects=len(versions),
        object_versions=sum(len(stored) for stored in versions.values()),
        dlq_transport_duplicates=transport_duplicates,
    )


def describe(result: SoakResult) -> str:
    lines = [
        f"uploads {result.uploads}  delivered {result.outputs} (their master and every variant: "
        f"{result.objects} objects, {result.object_versions} versions)  DLQ records {result.dlq_records} "
        f"(+{result.dlq_transport_duplicates} identical copies sent twice by the transport)",
        f"DLQ by reason {result.dlq_by_reason}",
        f"API calls {result.api_calls}  billed {result.billed_calls}  faults injected {result.faults}",
        f"lost answers {sum(result.lost_answers.values())} {result.lost_answers}  objects billed twice "
        f"{result.objects_billed_twice} (each after an undelivered answer)  paid DLQ records "
        f"{result.paid_dlq_records}",
        f"wall time {result.wall_seconds} s",
        "event source concurrency (s: value) "
        + (", ".join(f"{at:g}: {value}" for at, value in result.concurrency) or "not sampled"),
        "changes made by the function (s: before -> after) "
        + (", ".join(f"{at:g}: {a} -> {b}" for at, a, b in result.concurrency_changes) or "none"),
        "rules hold" if not result.violations else f"RULES BROKEN ({len(result.violations)}):",
    ]
    return "\n".join(lines + [f"  {violation}" for violation in result.violations[:30]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--fault-rate", type=float, default=0.30, help="share of transient faults (default 0.30)"
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        metavar="CALLS_PER_SECOND",
        help="the API account's rate limit: the emulator answers 501 past it (the throttled soak)",
    )
    parser.add_argument(
        "--no-permanent-faults",
        action="store_true",
        help="inject no permanent refusals (700, 1000): every upload can be delivered",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args(argv)
    result = run_soak(
        args.uploads,
        seed=args.seed,
        transient_rate=args.fault_rate,
        calls_per_second=args.rate_limit,
        permanent_faults=not args.no_permanent_faults,
    )
    print(describe(result))
    if args.json:
        print(json.dumps(result.to_dict()))
    return 1 if result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
