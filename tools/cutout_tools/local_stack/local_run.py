"""``cutout local run DIR``: a folder of images through the local stack, and what came out.

Uploads every file under DIR (relative paths as keys; dotfiles, README.md and the output folder
stay home), waits until each upload has its one outcome — its outputs, found by the ``source-key``
metadata that names it, or a dead-letter record for it — downloads the outputs, and writes
``summary.json`` (schema ``cutout.local-run/1``) and ``report.html``. Outcomes are observed from
the outside, through S3 and SQS, exactly as a user of the deployed stack would see them.

With the template's default profiles (the deliverables), an upload is done once its master
(``masters/<key>.png``) and every variant of its profile (``<variant>/<key><ext>``) are in the
output bucket; each item of the summary lists them (``outputs``: variant, key, file, format, size
and bytes; ``master_key``, ``master_file``). ``--background`` runs the single cut-out mode instead
(``ProfilesFile`` empty: one output per upload at the source's key).

The output folder holds one run: the files the previous run wrote there (as its ``summary.json``
lists them) are removed first; files it did not write are left alone. A stop request (Ctrl-C)
uploads nothing more, lets the batches already running finish (their API calls are paid), then
downloads what came out and writes a partial summary that says the run was interrupted.
"""

from __future__ import annotations

import json
import mimetypes
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast
from urllib.parse import unquote, unquote_plus

from cutout.profiles import ProfileSet
from cutout.quality_gate.review import REVIEW_METADATA, REVIEW_PREFIX
from cutout_tools.local_stack.function_output import function_output_to
from cutout_tools.local_stack.run_events import collect_run_events, events_line
from cutout_tools.local_stack.stack import LocalStack
from cutout_tools.progress import Progress, progress
from cutout_tools.shutdown import Interrupted, StopRequest
from cutout_tools.units import human_bytes, run_duration

SUMMARY_SCHEMA = "cutout.local-run/1"
SUMMARY_NAME = "summary.json"
LOG_NAME = "run.log"
REPORT_NAME = "report.html"  # written by cutout_tools.report; named here to clean it up
RUN_FILES = (SUMMARY_NAME, LOG_NAME, REPORT_NAME)
BACKGROUNDS = {"transparent": "TRANSPARENT", "white": "WHITE_BACKGROUND"}
MASTERS_FOLDER = "masters/"
SKIPPED_NAMES = {"readme.md"}
DEFAULT_TIMEOUT_SECONDS = 600.0
POLL_SECONDS = 0.25
DLQ_HIDE_SECONDS = 3600  # a record read once stays hidden for the rest of the run
FORCED_STOP_GRACE_SECONDS = 1.0  # after a second Ctrl-C: how long running batches get before we leave
INTERRUPTED = "interrupted"
HELD = "held"  # every output under review/: the quality gate held it (cutout review approve publishes it)


class RunFolderError(ValueError):
    """DIR or --out cannot be used as given (one line for the user)."""


# --- what to upload ----------------------------------------------------------------------------


def check_folders(input_dir: Path, out_dir: Path) -> None:
    """Refuse an --out that is a file, or DIR itself (the cut-outs would overwrite the inputs)."""
    if not input_dir.is_dir():
        raise RunFolderError(f"{input_dir} is not a folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise RunFolderError(
            f"--out {out_dir} is a file, not a folder: give a folder (it is created if missing)"
        )
    if out_dir.resolve() == input_dir.resolve():
        raise RunFolderError(
            f"--out {out_dir} is DIR itself: the cut-outs would overwrite the inputs; give another folder"
        )


def is_run_output_folder(folder: Path) -> bool:
    """Whether ``folder`` holds the ``summary.json`` of a local run (so it is an output, not an input)."""
    return _read_summary(folder / SUMMARY_NAME) is not None


def input_files(input_dir: Path, out_dir: Path | None = None) -> tuple[list[tuple[str, Path]], list[Path]]:
    """``(key, path)`` for every file to upload, sorted by key, and the folders left out.

    Left out: dotfiles and dot-folders, README.md, ``out_dir`` when it lies inside ``input_dir``,
    and any folder holding a local run's ``summary.json`` (the output of an earlier run).
    """
    root = input_dir.resolve()
    out = out_dir.resolve() if out_dir is not None else None
    found: list[tuple[str, Path]] = []
    skipped: list[Path] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            if path.is_dir():
                if path.resolve() == out or is_run_output_folder(path):
                    skipped.append(path)
                else:
                    pending.append(path)
            elif path.is_file() and path.name.lower() not in SKIPPED_NAMES:
                found.append((PurePosixPath(*path.relative_to(root).parts).as_posix(), path))
    return sorted(found), sorted(skipped)


# --- one run per output folder -----------------------------------------------------------------


def _read_summary(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("schema") != SUMMARY_SCHEMA:
        return None
    return document


def remove_previous_run(out_dir: Path, input_dir: Path) -> int:
    """Delete what the previous run wrote to ``out_dir`` (its summary lists it); return how many files.

    Only files inside ``out_dir`` are touched, never one inside ``input_dir`` when DIR lies inside
    --out (those are inputs), and folders are removed only when that left them empty.
    """
    root = out_dir.resolve()
    inputs = input_dir.resolve()
    summary = _read_summary(root / SUMMARY_NAME)
    if summary is None:
        return 0
    items = summary.get("items")
    named = (
        [name for item in items if isinstance(item, dict) for name in _files_of(item)]
        if isinstance(items, list)
        else []
    )
    candidates = [root / name for name in named if isinstance(name, str) and name]
    candidates += [root / name for name in RUN_FILES]
    removed = 0
    folders: set[Path] = set()
    inputs_inside_out = inputs.is_relative_to(root)  # then files under DIR are inputs, never outputs
    for candidate in candidates:
        path = candidate.resolve()
        if not path.is_relative_to(root) or path == root or not path.is_file():
            continue
        if inputs_inside_out and path.is_relative_to(inputs):
            continue
        path.unlink()
        removed += 1
        folders.update(parent for parent in path.parents if parent.is_relative_to(root) and parent != root)
    for folder in sorted(folders, key=lambda folder: len(folder.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed


def _files_of(item: dict[str, Any]) -> list[object]:
    """Every file a summary item names: its output, its master and each variant's."""
    outputs = item.get("outputs")
    variants = (
        [output.get("file") for output in outputs if isinstance(output, dict)]
        if isinstance(outputs, list)
        else []
    )
    return [item.get("output_file"), item.get("master_file"), *variants]


# --- dead letters ------------------------------------------------------------------------------


def _source_keys_of_dead_letter(body: str) -> tuple[list[str], dict[str, Any] | None]:
    """The upload(s) a DLQ message is about: a ``cutout.failure/1`` record, or a redriven S3 event."""
    try:
        document = json.loads(body)
    except ValueError:
        return [], None
    if not isinstance(document, dict):
        return [], None
    source = document.get("source")
    if isinstance(source, dict) and isinstance(source.get("key"), str):
        return [source["key"]], document
    records = document.get("Records") or []
    keys = [
        unquote_plus(record["s3"]["object"]["key"])
        for record in records
        if isinstance(record, dict) and isinstance(record.get("s3"), dict)
    ]
    return keys, {"redriven_message": document}


def _inside(out_dir: Path, key: str) -> Path:
    """Where an output key goes under ``out_dir``; refuses keys that would land outside it."""
    target = (out_dir / key).resolve()
    if not target.is_relative_to(out_dir.resolve()):
        raise ValueError(f"output key {key!r} would be written outside {out_dir}")
    return target


def engine_backend(stack: LocalStack) -> str:
    """Who answered the API calls of a local run: the emulator, and the engine behind it."""
    engine = stack.emulator.engine
    name = getattr(engine, "engine_name", None) or type(engine).__name__
    return f"local Aidge emulator ({name} engine)"


# --- the run -----------------------------------------------------------------------------------


def run_directory(
    input_dir: Path,
    out_dir: Path,
    *,
    background: str | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    port: int = 0,
    progress_stream: IO[str] | None = None,
    stack_factory: Callable[..., LocalStack] = LocalStack,
    stop: StopRequest | None = None,
    while_up: Callable[[LocalStack, list[dict[str, Any]]], None] | None = None,
) -> dict[str, Any]:
    """Bring the stack up, process ``input_dir``, write ``out_dir``; return the summary written.

    ``background`` (``transparent`` or ``white``) runs the single cut-out mode; ``None`` (the
    default) runs the template's deliverables: every variant of each upload's profile.
    ``while_up(stack, items)``, if given, runs once every upload has its outcome, before the stack
    stops (the review page of the held uploads); a stop requested meanwhile does not make the run
    interrupted. Raises ``RunFolderError`` (a ``ValueError``) for folders it cannot use, before
    starting anything.
    """
    check_folders(input_dir, out_dir)
    input_dir = input_dir.resolve()
    stream = progress_stream or sys.stderr  # the real stderr, before the function's output is redirected
    files, skipped = input_files(input_dir, out_dir)
    if not files:
        raise RunFolderError(f"{input_dir} has no files to upload")

    def say(line: str) -> None:
        print(f"cutout local run: {line}", file=stream, flush=True)

    for folder in skipped:
        say(f"not uploading {folder.relative_to(input_dir)}/: it holds the output of a run")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file on the way, no permission, a read-only disk
        raise RunFolderError(f"cannot create --out {out_dir}: {error.strerror or error}") from None
    removed = remove_previous_run(out_dir, input_dir)
    if removed:
        say(f"removed the previous run's {removed} files from {out_dir} (as its {SUMMARY_NAME} listed them)")
    stop = stop or StopRequest()
    started = time.monotonic()
    finished: float | None = None
    interrupted: bool | None = None  # whether the run itself was (not a review after it)
    backend = ""
    with (out_dir / LOG_NAME).open("w", encoding="utf-8") as log_file, function_output_to(log_file):

        def log(line: str) -> None:
            log_file.write(f"cutout local: {line}\n")
            log_file.flush()

        stack = stack_factory(port=port, parameter_overrides=_stack_parameters(background), log=log)
        run = _Run(stack, files=files, out_dir=out_dir, timeout_seconds=timeout_seconds, stop=stop)
        emulator: dict[str, Any] = {}
        events: dict[str, Any] | None = None
        say(f"starting the local stack for {len(files)} files (its log: {out_dir / LOG_NAME})…")
        try:
            try:
                with stop.interruptible():
                    stack.start()
            except Interrupted:
                run.give_up(None)  # stopped while the stack came up: nothing was uploaded
            else:
                backend = engine_backend(stack)
                with progress("cutout local run", len(files), stream=cast("Any", stream)) as bar:
                    run.process(bar)
                emulator, events, interrupted, finished = _finish(stack, run, stop, while_up)
        finally:
            stack.stop(grace_seconds=FORCED_STOP_GRACE_SECONDS if stop.forced.is_set() else None)
    summary = _summary(
        run.items(),
        input_dir=input_dir,
        background=background,
        backend=backend,
        wall_seconds=(finished or time.monotonic()) - started,
        interrupted=stop.requested.is_set() if interrupted is None else interrupted,
        emulator=emulator,
        events=events,
    )
    (out_dir / SUMMARY_NAME).write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return summary


def _finish(
    stack: LocalStack,
    run: _Run,
    stop: StopRequest,
    while_up: Callable[[LocalStack, list[dict[str, Any]]], None] | None,
) -> tuple[dict[str, Any], dict[str, Any] | None, bool, float]:
    """Once every upload has its outcome: download the outputs, read the emulator's figures and the
    events, then run ``while_up`` (unless the run was interrupted). Returns (emulator figures,
    events, whether the run was interrupted, when it finished: before ``while_up``)."""
    run.download_outputs()
    emulator = stack.emulator.stats()
    events = collect_run_events(stack)
    interrupted, finished = stop.requested.is_set(), time.monotonic()
    if while_up is not None and not interrupted:
        while_up(stack, run.items())
    return emulator, events, interrupted, finished


def _summary(
    items: list[dict[str, Any]],
    *,
    input_dir: Path,
    background: str | None,
    backend: str,
    wall_seconds: float,
    interrupted: bool,
    emulator: dict[str, Any],
    events: dict[str, Any] | None,
) -> dict[str, Any]:
    """The run's ``summary.json`` (schema ``SUMMARY_SCHEMA``)."""
    return {
        "schema": SUMMARY_SCHEMA,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input_dir": str(input_dir),
        "background": BACKGROUNDS[background] if background is not None else None,
        # "deliverables": each upload's master and every variant of its profile; "single": one cut-out
        "mode": "single" if background is not None else "deliverables",
        "engine_backend": backend,
        "wall_seconds": round(wall_seconds, 2),
        "interrupted": interrupted,
        "totals": {
            "inputs": len(items),
            "done": sum(item["status"] == "done" for item in items),
            HELD: sum(item["status"] == HELD for item in items),
            "failed": sum(item["status"] == "failed" for item in items),
            INTERRUPTED: sum(item["status"] == INTERRUPTED for item in items),
            "variants": sum(len(item.get("outputs") or []) for item in items),
        },
        "emulator": {"calls": emulator.get("calls", 0), "billed": emulator.get("billed", 0)},
        "events": events,  # counted per detail-type from the stack's events queue (run_events.py)
        "items": items,
    }


def _stack_parameters(background: str | None) -> dict[str, str]:
    """The template's defaults (the deliverables), or the single cut-out mode with ``background``."""
    if background is None:
        return {}
    return {"ProfilesFile": "", "BackgroundType": BACKGROUNDS[background]}


class _Run:
    """The uploads of one run and what became of each, observed through S3 and SQS."""

    def __init__(
        self,
        stack: LocalStack,
        *,
        files: list[tuple[str, Path]],
        out_dir: Path,
        timeout_seconds: float,
        stop: StopRequest,
    ) -> None:
        self._stack = stack
        self._files = files
        self._out_dir = out_dir
        self._timeout_seconds = timeout_seconds
        self._stop = stop
        self._items: dict[str, dict[str, Any]] = {
            key: {
                "key": key,
                "input_file": str(path),
                "status": "pending",
                "output_key": None,
                "output_file": None,
                "metadata": None,
                "dlq_record": None,
                "seconds": None,
                "profile": None,
                "master_key": None,
                "master_file": None,
                "outputs": [],
            }
            for key, path in files
        }
        self._uploaded_at: dict[str, float] = {}
        self._seen_outputs: set[str] = set()
        self._profiles: ProfileSet | None = None
        # Deliverables seen so far, by source key: its master's key and metadata, its variants by name.
        self._masters: dict[str, tuple[str, dict[str, str]]] = {}
        self._variants: dict[str, dict[str, dict[str, Any]]] = {}

    def items(self) -> list[dict[str, Any]]:
        return list(self._items.values())

    def process(self, bar: Progress) -> None:
        self._profiles = self._stack.function_profiles()  # None: the single cut-out mode
        facts = self._stack.describe()
        s3, sqs = self._stack.client("s3"), self._stack.client("sqs")
        deadline = time.monotonic() + self._timeout_seconds
        for key, path in self._files:
            if self._stop.requested.is_set():
                break
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            s3.put_object(
                Bucket=facts["input_bucket"], Key=key, Body=path.read_bytes(), ContentType=content_type
            )
            self._uploaded_at[key] = time.monotonic()
        stopping = waiting_noted = False
        while True:
            self._settle(bar, self._collect(s3, sqs, facts))
            if not self._pending():
                return
            if time.monotonic() >= deadline:
                self.give_up(f"no outcome within {self._timeout_seconds:g} s")
                return
            if self._stop.requested.is_set():
                if not stopping:
                    stopping = True
                    self._stack.drain()
                in_flight = self._in_flight()
                if self._stop.forced.is_set() or in_flight == 0:
                    self._settle(bar, self._collect(s3, sqs, facts))  # what the last batches made
                    self.give_up(None)
                    return
                if not waiting_noted:
                    waiting_noted = True
                    bar.note(
                        f"cutout local run: waiting for {in_flight} batch(es) in flight: the API calls "
                        "under way finish and are stored, the rest stay unsent"
                    )
            time.sleep(POLL_SECONDS)

    @staticmethod
    def _settle(bar: Progress, settled: list[dict[str, Any]]) -> None:
        for item in settled:
            bar.advance()
            if item["status"] == "failed":
                bar.note(f"failed: {item['key']} ({_failure_code(item)})")

    def _in_flight(self) -> int:
        poller = self._stack.poller
        return poller.in_flight if poller is not None else 0

    def _pending(self) -> list[dict[str, Any]]:
        return [item for item in self._items.values() if item["status"] == "pending"]

    def give_up(self, error: str | None) -> None:
        """Every input still without an outcome: failed after a timeout, or interrupted."""
        for item in self._pending():
            if error is not None:
                item.update(status="failed", error=error)
            elif item["key"] in self._uploaded_at:
                item.update(status=INTERRUPTED, error="interrupted before this upload had an outcome")
            else:
                item.update(status=INTERRUPTED, error="interrupted before this file was uploaded")

    def _collect(self, s3: Any, sqs: Any, facts: dict[str, Any]) -> list[dict[str, Any]]:
        """Look for new outcomes; return the items that got one."""
        settled = self._collect_outputs(s3, facts["output_bucket"])
        settled += self._collect_dead_letters(sqs, facts["dead_letter_queue_url"])
        now = time.monotonic()
        for item in settled:
            uploaded = self._uploaded_at.get(item["key"])
            item["seconds"] = None if uploaded is None else round(now - uploaded, 1)
        return settled

    def _collect_outputs(self, s3: Any, bucket: str) -> list[dict[str, Any]]:
        settled: list[dict[str, Any]] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for listed in page.get("Contents", []):
                output_key = listed["Key"]
                if output_key in self._seen_outputs:
                    continue
                self._seen_outputs.add(output_key)
                metadata = s3.head_object(Bucket=bucket, Key=output_key).get("Metadata", {})
                item = self._items.get(unquote(metadata.get("source-key", "")))
                if item is None or item["status"] != "pending":
                    continue
                if self._profiles is None:  # single cut-out mode: the one output is the outcome
                    item.update(status="done", output_key=output_key, metadata=metadata)
                    settled.append(item)
                elif self._deliverable_seen(item, output_key, int(listed.get("Size", 0)), metadata):
                    settled.append(item)
        return settled

    def _deliverable_seen(
        self, item: dict[str, Any], output_key: str, size: int, metadata: dict[str, str]
    ) -> bool:
        """Note a master or a variant of ``item``; True once its master and every variant are there."""
        source = item["key"]
        variant = metadata.get("variant")
        if variant is None:
            if output_key.startswith(MASTERS_FOLDER):
                self._masters[source] = (output_key, metadata)
        else:
            self._variants.setdefault(source, {})[variant] = {
                "variant": variant,
                "key": output_key,
                "file": None,
                "format": metadata.get("format"),
                "width": _number(metadata.get("width")),
                "height": _number(metadata.get("height")),
                "bytes": size,
                "metadata": metadata,
            }
        variants = self._variants.get(source, {})
        if source not in self._masters or not variants:
            return False
        profile_name = next(iter(variants.values()))["metadata"].get("profile", "")
        profile = self._profiles.profiles.get(profile_name) if self._profiles is not None else None
        names = [spec.name for spec in profile.variants] if profile is not None else list(variants)
        if any(name not in variants for name in names):
            return False
        master, master_metadata = self._masters[source]
        outputs = [variants[name] for name in names]
        review = {
            name: value
            for output in outputs
            for name, value in output["metadata"].items()
            if name.startswith("review")
        }
        item.update(
            # held: the quality gate kept every output under review/ (not published): never "done"
            status=HELD if review else "done",
            profile=profile_name,
            master_key=master,
            output_key=outputs[0]["key"],
            metadata={**master_metadata, **review},  # the paid call's facts, and the gate's verdict
            outputs=[{name: value for name, value in one.items() if name != "metadata"} for one in outputs],
        )
        return True

    def _collect_dead_letters(self, sqs: Any, queue_url: str) -> list[dict[str, Any]]:
        settled: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                VisibilityTimeout=DLQ_HIDE_SECONDS,
            ).get("Messages", [])
            if not messages:
                return settled
            for message in messages:
                keys, record = _source_keys_of_dead_letter(message["Body"])
                for key in keys:
                    item = self._items.get(key)
                    if item is not None and item["status"] == "pending":
                        item.update(status="failed", dlq_record=record)
                        settled.append(item)

    def download_outputs(self) -> None:
        facts = self._stack.describe()
        s3 = self._stack.client("s3")

        def download(key: str) -> str:
            target = _inside(self._out_dir, key)
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(facts["output_bucket"], key, str(target))
            return target.relative_to(self._out_dir.resolve()).as_posix()

        for item in self._items.values():
            if item["status"] not in ("done", HELD):
                continue
            item["output_file"] = download(item["output_key"])
            if item["master_key"]:
                item["master_file"] = download(item["master_key"])
            for output in item["outputs"]:
                output["file"] = (
                    item["output_file"] if output["key"] == item["output_key"] else download(output["key"])
                )


def held_for_review(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items the quality gate held (status ``held``, or a done item whose outputs are under
    ``review/``)."""
    return [
        item
        for item in items
        if item.get("status") in ("done", HELD)
        and (
            (item.get("metadata") or {}).get(REVIEW_METADATA)
            or str(item.get("output_key", "")).startswith(REVIEW_PREFIX)
        )
    ]


def _number(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _failure_code(item: dict[str, Any]) -> str:
    record: dict[str, Any] = item.get("dlq_record") or {}
    error = record.get("error")
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") else "dead-lettered"


def summary_table(summary: dict[str, Any]) -> str:
    """A short plain-text table: one line per input, then the totals."""
    rows = []
    for item in summary["items"]:
        if item["status"] in ("done", HELD) and item.get("outputs"):
            outputs = item["outputs"]
            detail = f"-> {len(outputs)} variants: " + ", ".join(map(_described_output, outputs))
            metadata = item.get("metadata") or {}
            score = metadata.get("score")
            if score:
                detail += f"  (score {score})"
            if item["status"] == HELD:
                reasons = str(metadata.get(REVIEW_METADATA) or "").replace(",", ", ")
                detail += f"  held for review under review/: {reasons}"
        elif item["status"] == "done":
            detail = f"-> {item['output_key']}"
            score = (item.get("metadata") or {}).get("score")
            if score:
                detail += f"  (score {score})"
        elif item["status"] == INTERRUPTED:
            detail = str(item.get("error") or INTERRUPTED)
        else:
            record: dict[str, Any] = item.get("dlq_record") or {}
            found = record.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            detail = str(error.get("code") or item.get("error") or "dead-lettered")
            if error.get("message"):
                detail += f": {error['message']}"
        rows.append((item["key"], item["status"], detail))
    width = max([len(key) for key, _, _ in rows] + [5])
    status_width = max([len(status) for _, status, _ in rows] + [6])
    lines = [f"{'input':<{width}}  {'status':<{status_width}}  outcome"]
    lines += [f"{key:<{width}}  {status:<{status_width}}  {detail}" for key, status, detail in rows]
    totals = summary["totals"]
    interrupted = totals.get(INTERRUPTED, 0)
    lines.append(
        f"{totals['inputs']} inputs: {totals['done']} done"
        + (f", {totals[HELD]} held for review" if totals.get(HELD) else "")
        + f", {totals['failed']} failed"
        + (f", {interrupted} interrupted" if interrupted else "")
        + (f"; {totals['variants']} variants" if totals.get("variants") else "")
        + f"; {summary['emulator']['billed']} billed API calls"
        + (f", answered by the {summary['engine_backend']}" if summary.get("engine_backend") else "")
        + f"; {run_duration(summary['wall_seconds'])} in all (the stack's start and stop included)"
    )
    if events_line(summary):
        lines.append(str(events_line(summary)))
    if summary.get("interrupted"):
        lines.append("the run was interrupted: this summary is partial")
    return "\n".join(lines)


def _described_output(output: dict[str, Any]) -> str:
    """``amazon-main 2000×2000 412 KB``: a variant's name, size and bytes (its key: in the summary)."""
    size = f" {output['width']}×{output['height']}" if output.get("width") and output.get("height") else ""
    return f"{output['variant']}{size} {human_bytes(int(output.get('bytes') or 0))}"
