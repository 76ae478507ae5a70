"""Paid calls for five versions of one key on the local stack, per order of arrival.

    python bench/newest_version.py                 # the studio engine, as `cutout local up` runs
    python bench/newest_version.py --versions 3 --scenario running --scenario held

Each scenario uploads versions of its own key (each a different picture) to the stack's versioned
input bucket with boto3, one after the other, and controls when their events are processed by
holding the local event source mapping (its workers stopped and joined: nothing is received):

- ``running``: the poller runs while the versions are uploaded (the order is the machine's);
- ``held``: all uploaded before the first is processed, then the poller released;
- ``held+duplicate``: the same, the first version's event delivered a second time;
- ``newest-first`` / ``oldest-first``: all uploaded, then the events run one at a time in that order;
- ``one-by-one``: each version's event processed before the next version is uploaded;
- ``bad-then-good``: a version that is no image, then a good one, both before either is processed.

Events are matched to versions by ETag (each version's bytes differ), so the script measures the
same way whether or not the events name their version. Prints one line per scenario: paid calls
(the emulator's billed count), whether every output is the newest version's, and the DLQ records
with the version their ``source.version_id`` names.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw

from cutout_tools.local_stack import LocalStack

RECEIVE_DEADLINE_SECONDS = 120.0


def picture(number: int) -> bytes:
    """A product-like photo, different for each ``number``."""
    width = 400 + 16 * number
    image = Image.new("RGB", (width, 320), (246, 246, 244))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, 80, 3 * width // 4, 240), fill=(150, 30 + 20 * number % 200, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


@dataclass
class Figures:
    scenario: str
    paid: int = 0
    outputs_newest: bool = False
    outputs: int = 0
    dlq: list[str] = field(default_factory=list)
    notes: str = ""


class Bench:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        facts = stack.describe()
        self.s3, self.sqs = stack.client("s3"), stack.client("sqs")
        self.input, self.output = facts["input_bucket"], facts["output_bucket"]
        self.work_queue, self.dlq_url = facts["work_queue_url"], facts["dead_letter_queue_url"]

    # -- holding the mapping ----------------------------------------------------------------

    def hold(self) -> None:
        assert self.stack.poller is not None
        self.stack.poller.stop(timeout=None)

    def release(self) -> None:
        assert self.stack.poller is not None
        self.stack.poller.start()

    # -- uploads and events -----------------------------------------------------------------

    def upload(self, key: str, body: bytes) -> tuple[str, str]:
        answer = self.s3.put_object(Bucket=self.input, Key=key, Body=body)
        return str(answer["VersionId"]), hashlib.md5(body, usedforsecurity=False).hexdigest()

    def receive(self, etags: set[str]) -> dict[str, dict[str, Any]]:
        """The work queue's events for these ETags (poller held), by ETag; the rest go back."""
        found: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + RECEIVE_DEADLINE_SECONDS
        while len(found) < len(etags):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(found)} of {len(etags)} events came")
            answer = self.sqs.receive_message(
                QueueUrl=self.work_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
            )
            for message in answer.get("Messages", []):
                records = json.loads(message["Body"]).get("Records", [])
                etag = records[0]["s3"]["object"].get("eTag", "").strip('"') if records else ""
                if etag in etags:
                    found[etag] = message
                else:
                    self.visible(message)
        return found

    def visible(self, message: dict[str, Any]) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.work_queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )

    def run_one(self, message: dict[str, Any]) -> None:
        assert self.stack.poller is not None
        outcome = self.stack.poller.run_batch([message])
        if outcome.failures:
            raise RuntimeError(f"a batch failed: {outcome}")

    # -- what happened ----------------------------------------------------------------------

    def billed(self) -> int:
        return int(self.stack.emulator.stats()["billed"])

    def outputs(self, key: str) -> dict[str, dict[str, str]]:
        listed = self.s3.list_objects_v2(Bucket=self.output).get("Contents", [])
        return {
            item["Key"]: self.s3.head_object(Bucket=self.output, Key=item["Key"])["Metadata"]
            for item in listed
            if f"/{key}." in f"/{item['Key']}"
        }

    def dlq_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                records.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])
        return records


def scenario(bench: Bench, name: str, play: Callable[[Bench, str], list[tuple[str, str]]]) -> Figures:
    key = f"{name}/shoe.jpg"
    billed = bench.billed()
    uploaded = play(bench, key)
    bench.stack.wait_until_idle(timeout=600)
    figures = Figures(name, paid=bench.billed() - billed)
    names = {version: f"v{number + 1}" for number, (version, _) in enumerate(uploaded)}
    outputs = bench.outputs(key)
    newest = uploaded[-1][0]
    figures.outputs = len(outputs)
    figures.outputs_newest = bool(outputs) and all(
        m.get("source-version-id") == newest for m in outputs.values()
    )
    made_from = Counter(names.get(m.get("source-version-id", ""), "?") for m in outputs.values())
    figures.notes = ", ".join(f"{count} from {version}" for version, count in sorted(made_from.items()))
    for record in bench.dlq_records():
        version = (record.get("source") or {}).get("version_id")
        code = (record.get("error") or {}).get("code")
        figures.dlq.append(f"{code}: version_id={names.get(version, version)}")
    return figures


def plays(versions: int) -> dict[str, Callable[[Bench, str], list[tuple[str, str]]]]:
    def running(bench: Bench, key: str) -> list[tuple[str, str]]:
        return [bench.upload(key, picture(n)) for n in range(versions)]

    def held(bench: Bench, key: str, duplicate: bool = False) -> list[tuple[str, str]]:
        bench.hold()
        try:
            uploaded = [bench.upload(key, picture(n)) for n in range(versions)]
            if duplicate:
                events = bench.receive({etag for _, etag in uploaded})
                bench.sqs.send_message(QueueUrl=bench.work_queue, MessageBody=events[uploaded[0][1]]["Body"])
                for message in events.values():
                    bench.visible(message)
        finally:
            bench.release()
        return uploaded

    def ordered(newest_first: bool) -> Callable[[Bench, str], list[tuple[str, str]]]:
        def play(bench: Bench, key: str) -> list[tuple[str, str]]:
            bench.hold()
            try:
                uploaded = [bench.upload(key, picture(n)) for n in range(versions)]
                events = bench.receive({etag for _, etag in uploaded})
                order = list(reversed(uploaded)) if newest_first else uploaded
                for _, etag in order:
                    bench.run_one(events[etag])
            finally:
                bench.release()
            return uploaded

        return play

    def one_by_one(bench: Bench, key: str) -> list[tuple[str, str]]:
        bench.hold()
        uploaded = []
        try:
            for n in range(versions):
                uploaded.append(bench.upload(key, picture(n)))
                bench.run_one(bench.receive({uploaded[-1][1]})[uploaded[-1][1]])
        finally:
            bench.release()
        return uploaded

    def bad_then_good(bench: Bench, key: str) -> list[tuple[str, str]]:
        bench.hold()
        try:
            return [bench.upload(key, b"not an image at all"), bench.upload(key, picture(0))]
        finally:
            bench.release()

    return {
        "running": running,
        "held": held,
        "held+duplicate": lambda bench, key: held(bench, key, duplicate=True),
        "newest-first": ordered(newest_first=True),
        "oldest-first": ordered(newest_first=False),
        "one-by-one": one_by_one,
        "bad-then-good": bad_then_good,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=5)
    chosen = plays(1)
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(chosen),
        help="run only this one (repeatable; default: all)",
    )
    arguments = parser.parse_args(argv)
    results: list[Figures] = []
    with LocalStack(port=0, log=None, parameter_overrides={"LogLevel": "WARNING"}) as stack:
        bench = Bench(stack)
        for name, play in plays(arguments.versions).items():
            if arguments.scenario and name not in arguments.scenario:
                continue
            results.append(scenario(bench, name, play))
            figures = results[-1]
            print(
                f"{figures.scenario:15} paid {figures.paid}  outputs {figures.outputs} ({figures.notes}): "
                f"all from the newest version: {'yes' if figures.outputs_newest else 'NO'}  "
                f"DLQ: {'; '.join(figures.dlq) or 'none'}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
